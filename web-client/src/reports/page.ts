// The report page: checks the report exists and may be seen, opens its live document
// (the same y-websocket session as canvases), and reopens it when the server refuses one
// of our updates (a locked report, a value the model does not take) saying why.

import { enc, get } from '../api/http';
import type { Workspace } from '../api/types';
import { roleIn, type AppContext, type PageView } from '../app/context';
import { errorDetail, errorPage, troubleOf, type Trouble } from '../app/errors';
import { workspacePath } from '../app/routes';
import { LiveSession, type Connection } from '../canvas/session';
import { language, t, type Key } from '../i18n';
import { h, replace } from '../ui/dom';
import { CURATED, type DamageTerm } from './labels';
import { ReportScreen } from './view';
import './reports.css';

const CONNECTION: Record<Connection, Key> = {
  connecting: 'connection.connecting',
  live: 'connection.live',
  reconnecting: 'connection.reconnecting',
  offline: 'connection.offline',
};

const CLOSED: Record<number, Trouble> = { 4401: 'forbidden', 4403: 'forbidden', 4404: 'not-found' };

/** The workspace's damage vocabulary (curated terms and its own), labelled in `lang`. */
export const loadDamageTerms = async (ws: string): Promise<DamageTerm[]> => {
  try {
    const answer = await get<{ terms: DamageTerm[] }>(`/api/vocabularies/${enc(ws)}/damage?lang=${language()}`);
    return answer.terms.map((term) => ({ value: term.value, label: term.label, ...(term.labels ? { labels: term.labels } : {}) }));
  } catch {
    return CURATED;
  }
};

export const reportPage = async (ctx: AppContext, ws: string, id: string): Promise<PageView> => {
  const back = { href: workspacePath(ws), label: t('error.backToWorkspace') };
  const agent = ctx.me.agent ?? { id: `urn:sinopia:user:${ctx.me.user?.name ?? 'unknown'}`, name: ctx.me.principal };
  const badge = h('span', { class: 'connection connection-connecting', role: 'status', 'aria-live': 'polite' }, t(CONNECTION.connecting));
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
      me: { id: agent.id, name: agent.name },
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
      connection: (state) => {
        badge.className = `connection connection-${state}`;
        badge.textContent = t(CONNECTION[state]);
      },
      synced: () => build(current),
      refused: (reason) => {
        if (session !== current) return;
        ctx.toast(t('report.refusedLive', { reason }), 'error');
        screen?.destroy();
        screen = null;
        current.destroy();
        replace(host, h('p', { class: 'loading' }, t('canvas.reloading')));
        void get<Workspace>(`/api/workspaces/${enc(ws)}`)
          .then((w) => (role = w.role ?? roleIn(ctx.me, ws)))
          .catch(() => undefined)
          .finally(() => {
            if (!disposed) session = open();
          });
      },
      closed: (code, reason) => {
        if (session !== current || disposed) return;
        const trouble = CLOSED[code];
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
  ctx.status(badge);
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
