// The subject page of a canvas: checks the subject exists and may be seen, opens its live
// document, and reopens it when the server refuses one of our updates.

import { enc, get } from '../api/http';
import type { Workspace } from '../api/types';
import { roleIn, type AppContext, type PageView } from '../app/context';
import { errorDetail, errorPage, troubleOf, type Trouble } from '../app/errors';
import { workspacePath } from '../app/routes';
import { t, type Key } from '../i18n';
import { h, replace } from '../ui/dom';
import { loadTags } from '../workspace/tags';
import { LiveSession, type Connection } from './session';
import { CanvasView } from './view';

const CONNECTION: Record<Connection, Key> = {
  connecting: 'connection.connecting',
  live: 'connection.live',
  reconnecting: 'connection.reconnecting',
  offline: 'connection.offline',
};

const CLOSED: Record<number, Trouble> = { 4401: 'forbidden', 4403: 'forbidden', 4404: 'no-subject' };

export const canvasPage = async (ctx: AppContext, ws: string, id: string): Promise<PageView> => {
  const back = { href: workspacePath(ws), label: t('error.backToWorkspace') };
  let workspace: Workspace;
  try {
    workspace = await get<Workspace>(`/api/workspaces/${enc(ws)}`);
    await get(`/api/history/${enc(ws)}/canvas/${enc(id)}?limit=1`);
  } catch (error) {
    const trouble = troubleOf(error, 'no-subject');
    return errorPage(trouble, { detail: errorDetail(error), ...(trouble === 'no-subject' ? { back } : {}) });
  }
  let role = workspace.role ?? roleIn(ctx.me, ws);
  const tags = await loadTags(ws);
  const agent = ctx.me.agent ?? { id: `urn:sinopia:user:${ctx.me.user?.name ?? 'unknown'}`, name: ctx.me.principal };
  ctx.crumbs([{ label: workspace.title || ws, href: workspacePath(ws) }, { label: id }]);

  const badge = h('span', { class: 'connection connection-connecting', role: 'status', 'aria-live': 'polite' }, t(CONNECTION.connecting));
  ctx.status(badge);
  const title = h('h1', { id: 'canvas-title', class: 'canvas-title' }, id);
  const host = h('div', { class: 'canvas-host' }, h('p', { class: 'loading' }, t('canvas.opening')));
  const node = h('section', { class: 'page page-canvas', 'aria-labelledby': 'canvas-title' }, title, host);

  let session: LiveSession | null = null;
  let view: CanvasView | null = null;
  let disposed = false;

  const showConnection = (state: Connection) => {
    badge.className = `connection connection-${state}`;
    badge.textContent = t(CONNECTION[state]);
  };

  const open = (keepViewport: ReturnType<CanvasView['currentViewport']> = null) => {
    const current = new LiveSession(`${ws}/canvas/${id}`, {
      connection: showConnection,
      synced: () => {
        if (view || disposed || session !== current) return;
        const made = new CanvasView(current, { ws, id, role, me: { id: agent.id, name: agent.name }, tags, toast: ctx.toast }, keepViewport);
        if (!made.start()) {
          made.destroy();
          replace(host, errorPage('no-subject', { back }).node);
          return;
        }
        view = made;
        const meta = current.doc.getMap('meta');
        title.textContent = String(meta.get('label') || id);
        ctx.crumbs([{ label: workspace.title || ws, href: workspacePath(ws) }, { label: title.textContent }]);
        document.title = `${title.textContent} · Sinopia`;
        replace(host, made.node);
      },
      refused: (reason) => {
        if (session !== current) return;
        ctx.toast(t('canvas.refusedByServer', { reason }), 'error');
        const viewport = view?.currentViewport() ?? null;
        view?.destroy();
        view = null;
        current.destroy();
        replace(host, h('p', { class: 'loading' }, t('canvas.reloading')));
        // A refusal often means our role changed: ask again before reopening.
        void get<Workspace>(`/api/workspaces/${enc(ws)}`)
          .then((w) => (role = w.role ?? roleIn(ctx.me, ws)))
          .catch(() => undefined)
          .finally(() => {
            if (!disposed) session = open(viewport);
          });
      },
      closed: (code, reason) => {
        if (session !== current || disposed) return;
        const trouble = CLOSED[code];
        if (!trouble) return;
        view?.destroy();
        view = null;
        replace(host, errorPage(trouble, { detail: reason, back }).node);
      },
    });
    return current;
  };
  session = open();

  return {
    title: id,
    node,
    dispose: () => {
      disposed = true;
      view?.destroy();
      session?.destroy();
    },
  };
};
