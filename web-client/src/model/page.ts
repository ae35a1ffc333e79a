// The subject page of a 3D model: checks the subject exists and may be seen, opens its live
// document (the canvas page's session), and reopens it when the server refuses one of our
// updates. Loaded as its own chunk, with three.js, only when a model is opened.

import { enc, get } from '../api/http';
import type { Tag, Workspace } from '../api/types';
import { roleIn, type AppContext, type PageView } from '../app/context';
import { errorDetail, errorPage, troubleOf, type Trouble } from '../app/errors';
import { embedDialog } from '../embed/dialog';
import { workspacePath } from '../app/routes';
import { LiveSession, type Connection } from '../canvas/session';
import { t, type Key } from '../i18n';
import { h, replace } from '../ui/dom';
import { loadTags } from '../workspace/tags';
import { ModelView } from './view';

const CONNECTION: Record<Connection, Key> = {
  connecting: 'connection.connecting',
  live: 'connection.live',
  reconnecting: 'connection.reconnecting',
  offline: 'connection.offline',
};

const CLOSED: Record<number, Trouble> = { 4401: 'forbidden', 4403: 'forbidden', 4404: 'no-subject' };

export const modelPage = async (ctx: AppContext, ws: string, id: string): Promise<PageView> => {
  const back = { href: workspacePath(ws), label: t('error.backToWorkspace') };
  const agent = ctx.me.agent ?? { id: `urn:sinopia:user:${ctx.me.user?.id ?? 'unknown'}`, name: ctx.me.principal };
  const badge = h('span', { class: 'connection connection-connecting', role: 'status', 'aria-live': 'polite' }, t(CONNECTION.connecting));
  const title = h('h1', { id: 'canvas-title', class: 'canvas-title' }, id);
  const host = h('div', { class: 'canvas-host' }, h('p', { class: 'loading' }, t('model.opening')));
  const node = h('section', { class: 'page page-canvas page-model', 'aria-labelledby': 'canvas-title' }, title, host);

  let session: LiveSession | null = null;
  let view: ModelView | null = null;
  let disposed = false;
  let workspace: Workspace | null = null;
  let role: string | null = null;
  let tags: Tag[] = [];
  let waiting: LiveSession | null = null;

  const showConnection = (state: Connection) => {
    badge.className = `connection connection-${state}`;
    badge.textContent = t(CONNECTION[state]);
  };

  const build = (current: LiveSession) => {
    if (view || disposed || session !== current) return;
    if (!workspace || !node.isConnected) {
      waiting = current;
      return;
    }
    const made = new ModelView(current, { ws, id, role, me: { id: agent.id, name: agent.name }, tags, toast: ctx.toast });
    replace(host, made.node);
    if (!made.start()) {
      made.destroy();
      replace(host, errorPage('no-subject', { back }).node);
      return;
    }
    view = made;
    title.textContent = String(current.doc.getMap('meta').get('label') || id);
    ctx.crumbs([{ label: workspace.title || ws, href: workspacePath(ws) }, { label: title.textContent }]);
    document.title = `${title.textContent} · Sinopia`;
  };

  const open = (): LiveSession => {
    const current = new LiveSession(`${ws}/model/${id}`, {
      connection: showConnection,
      synced: () => build(current),
      refused: (reason) => {
        if (session !== current) return;
        ctx.toast(t('canvas.refusedByServer', { reason }), 'error');
        view?.destroy();
        view = null;
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
        view?.destroy();
        view = null;
        replace(host, errorPage(trouble, { detail: reason, back }).node);
      },
    });
    return current;
  };
  session = open();
  try {
    const [w, , t2] = await Promise.all([
      get<Workspace>(`/api/workspaces/${enc(ws)}`),
      get(`/api/history/${enc(ws)}/model/${enc(id)}/versions`),
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
      const dialog = embedDialog(`${ws}/model/${id}`, title.textContent || id);
      document.body.append(dialog);
      dialog.showModal();
    });
    title.after(embed);
  }
  if (waiting) {
    const ready = waiting;
    setTimeout(() => build(ready), 0);
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
