// The report page: checks the report exists and may be seen, opens its live document
// (the same y-websocket session as canvases), and reopens it when the server refuses one
// of our updates (a locked report, a value the model does not take) saying why.

import { enc, get } from '../api/http';
import { loadDamageTerms } from './terms';
import type { Workspace } from '../api/types';
import { roleIn, type AppContext, type PageView } from '../app/context';
import { errorDetail, errorPage, troubleOf } from '../app/errors';
import { closedTrouble, connectionBadge, meOf, roleNow } from '../app/live';
import { workspacePath } from '../app/routes';
import { LiveSession } from '../binding/session';
import { t } from '../i18n';
import { h, replace } from '../ui/dom';
import { CURATED, type DamageTerm } from './labels';
import { ReportScreen } from './view';
import './reports.css';

export const reportPage = async (ctx: AppContext, ws: string, id: string): Promise<PageView> => {
  const back = { href: workspacePath(ws), label: t('error.backToWorkspace') };
  const me = meOf(ctx);
  const badge = connectionBadge();
  const host = h('div', { class: 'report-host' }, h('p', { class: 'loading' }, t('report.opening')));
  const node = h('section', { class: 'page page-report', 'aria-labelledby': 'report-title' }, host);

  let session: LiveSession | null = null;
  let screen: ReportScreen | null = null;
  let disposed = false;
  let workspace: Workspace | null = null;
  let role: string | null = null;
  let terms: DamageTerm[] = CURATED;
  let waiting: LiveSession | null = null;

  const titled = (title: string) => {
    ctx.crumbs([{ label: workspace?.title || ws, href: workspacePath(ws) }, { label: title }]);
    document.title = `${title} · Sinopia`;
  };

  const build = (current: LiveSession) => {
    if (screen || disposed || session !== current) return;
    if (!workspace) {
      waiting = current;
      return;
    }
    const made = new ReportScreen(current, {
      ws,
      id,
      role,
      me,
      terms,
      toast: (message, kind) => ctx.toast(message, kind),
      navigate: (path) => ctx.navigate(path),
      titled,
    });
    if (!made.start()) {
      made.destroy();
      replace(host, errorPage('not-found', { back }).node);
      return;
    }
    screen = made;
    replace(host, made.node);
  };

  const open = (): LiveSession => {
    const current = new LiveSession(`${ws}/report/${id}`, {
      connection: badge.show,
      synced: () => build(current),
      refused: (reason) => {
        if (session !== current) return;
        ctx.toast(t('report.refusedLive', { reason }), 'error');
        screen?.destroy();
        screen = null;
        current.destroy();
        replace(host, h('p', { class: 'loading' }, t('canvas.reloading')));
        void roleNow(ctx, ws, role).then((now) => {
          role = now;
          if (!disposed) session = open();
        });
      },
      closed: (code, reason) => {
        if (session !== current || disposed) return;
        const trouble = closedTrouble(code, 'not-found');
        if (!trouble) return;
        screen?.destroy();
        screen = null;
        replace(host, errorPage(trouble, { detail: reason, back }).node);
      },
    });
    return current;
  };

  try {
    // 404 before a socket is opened for a report that does not exist.
    const [w] = await Promise.all([get<Workspace>(`/api/workspaces/${enc(ws)}`), get(`/api/reports/${enc(ws)}/${enc(id)}`)]);
    workspace = w;
    role = w.role ?? roleIn(ctx.me, ws);
  } catch (error) {
    const trouble = troubleOf(error, 'not-found');
    return errorPage(trouble, { detail: errorDetail(error), back });
  }
  session = open();
  terms = await loadDamageTerms(ws);
  ctx.status(badge.node);
  titled(id);
  if (waiting) {
    const ready = waiting;
    setTimeout(() => build(ready), 0);
  }
  return {
    title: id,
    node,
    dispose: () => {
      disposed = true;
      screen?.destroy();
      session?.destroy();
    },
  };
};
