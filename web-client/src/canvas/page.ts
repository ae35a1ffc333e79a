// The subject page of a canvas: checks the subject exists and may be seen, opens its live
// document, and reopens it when the server refuses one of our updates.

import { enc, get } from '../api/http';
import type { Tag, Workspace } from '../api/types';
import { roleIn, type AppContext, type PageView } from '../app/context';
import { errorDetail, errorPage, troubleOf, type Trouble } from '../app/errors';
import { workspacePath } from '../app/routes';
import { embedDialog } from '../embed/dialog';
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
  const agent = ctx.me.agent ?? { id: `urn:sinopia:user:${ctx.me.user?.name ?? 'unknown'}`, name: ctx.me.principal };
  const badge = h('span', { class: 'connection connection-connecting', role: 'status', 'aria-live': 'polite' }, t(CONNECTION.connecting));
  const title = h('h1', { id: 'canvas-title', class: 'canvas-title' }, id);
  const host = h('div', { class: 'canvas-host' }, h('p', { class: 'loading' }, t('canvas.opening')));
  const node = h('section', { class: 'page page-canvas', 'aria-labelledby': 'canvas-title' }, title, host);

  let session: LiveSession | null = null;
  let view: CanvasView | null = null;
  let disposed = false;
  // Filled by the REST calls below, which run while the document syncs.
  let workspace: Workspace | null = null;
  let role: string | null = null;
  let tags: Tag[] = [];
  let waiting: LiveSession | null = null; // synced before the REST answers came

  const showConnection = (state: Connection) => {
    badge.className = `connection connection-${state}`;
    badge.textContent = t(CONNECTION[state]);
  };

  const build = (current: LiveSession, keepViewport: ReturnType<CanvasView['currentViewport']>) => {
    if (view || disposed || session !== current) return;
    if (!workspace || !node.isConnected) {
      waiting = current;
      return;
    }
    const made = new CanvasView(current, { ws, id, role, me: { id: agent.id, name: agent.name }, tags, toast: ctx.toast }, keepViewport);
    if (!made.start()) {
      made.destroy();
      replace(host, errorPage('no-subject', { back }).node);
      return;
    }
    view = made;
    title.textContent = String(current.doc.getMap('meta').get('label') || id);
    ctx.crumbs([{ label: workspace.title || ws, href: workspacePath(ws) }, { label: title.textContent }]);
    document.title = `${title.textContent} · Sinopia`;
    replace(host, made.node);
  };

  const open = (keepViewport: ReturnType<CanvasView['currentViewport']> = null) => {
    const current = new LiveSession(`${ws}/canvas/${id}`, {
      connection: showConnection,
      synced: () => {
        performance.mark('sinopia:synced');
        build(current, keepViewport);
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
  // The live document opens at once; what the page needs from REST comes meanwhile.
  session = open();
  try {
    const [w, , t2] = await Promise.all([
      get<Workspace>(`/api/workspaces/${enc(ws)}`),
      // Cheap, and 404 for a subject that does not exist, 403 for one we may not see.
      get(`/api/history/${enc(ws)}/canvas/${enc(id)}/versions`),
      loadTags(ws),
    ]);
    workspace = w;
    role = w.role ?? roleIn(ctx.me, ws);
    tags = t2;
  } catch (error) {
    disposed = true;
    session.destroy();
    const trouble = troubleOf(error, 'no-subject');
    return errorPage(trouble, { detail: errorDetail(error), ...(trouble === 'no-subject' ? { back } : {}) });
  }
  ctx.status(badge);
  ctx.crumbs([{ label: workspace.title || ws, href: workspacePath(ws) }, { label: id }]);
  if (role === 'owner') {
    // Owners make the share links a museum's website embeds (a live, read-only view).
    const embed = h('button', { type: 'button', class: 'embed-action', 'aria-haspopup': 'dialog' }, t('embed.action'));
    embed.addEventListener('click', () => {
      const dialog = embedDialog(`${ws}/canvas/${id}`, title.textContent || id);
      document.body.append(dialog);
      dialog.showModal();
    });
    title.after(embed);
  }
  // Built once the shell has put the page in the document (OpenSeadragon measures it).
  if (waiting) {
    const ready = waiting;
    setTimeout(() => build(ready, null), 0);
  }

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
