// The report page: checks the report exists and may be seen, opens its live document
// (the same y-websocket session as canvases), and reopens it when the server refuses one
// of our updates (a locked report, a value the model does not take) saying why.

import { enc, get } from '../api/http';
import { loadDamageTerms } from './terms';
import type { Workspace } from '../api/types';
import { roleIn, type AppContext, type PageView } from '../app/context';
import { errorDetail, errorPage, troubleOf } from '../app/errors';
import { connectionBadge, endings, meOf, type LivePage } from '../app/live';
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

  const live: LivePage = { session: null, disposed: false, role: null };
  let screen: ReportScreen | null = null;
  let workspace: Workspace | null = null;
  let terms: DamageTerm[] = CURATED;
  let waiting: LiveSession | null = null;

  const titled = (title: string) => {
    ctx.crumbs([{ label: workspace?.title || ws, href: workspacePath(ws) }, { label: title }]);
    document.title = `${title} · Sinopia`;
  };

  const build = (current: LiveSession) => {
    if (screen || live.disposed || live.session !== current) return;
    if (!workspace) {
      waiting = current;
      return;
    }
    const made = new ReportScreen(current, {
      ws,
      id,
      role: live.role,
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
    const current: LiveSession = new LiveSession(`${ws}/report/${id}`, {
      connection: badge.show,
      synced: () => build(current),
      ...endings(live, () => current, {
        ctx,
        ws,
        host,
        back,
        missing: 'not-found',
        refusedMessage: (reason) => t('report.refusedLive', { reason }),
        drop: () => {
          screen?.destroy();
          screen = null;
        },
        reopen: () => open(),
      }),
    });
    return current;
  };

  try {
    // 404 before a socket is opened for a report that does not exist.
    const [w] = await Promise.all([get<Workspace>(`/api/workspaces/${enc(ws)}`), get(`/api/reports/${enc(ws)}/${enc(id)}`)]);
    workspace = w;
    live.role = w.role ?? roleIn(ctx.me, ws);
  } catch (error) {
    const trouble = troubleOf(error, 'not-found');
    return errorPage(trouble, { detail: errorDetail(error), back });
  }
  live.session = open();
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
      live.disposed = true;
      screen?.destroy();
      live.session?.destroy();
    },
  };
};
