// The subject page of a 3D model: checks the subject exists and may be seen, opens its live
// document (the canvas page's session), and reopens it when the server refuses one of our
// updates. Loaded as its own chunk, with three.js, only when a model is opened.

import { enc, get } from '../api/http';
import type { Tag, Workspace } from '../api/types';
import { roleIn, type AppContext, type PageView } from '../app/context';
import { errorDetail, errorPage, troubleOf } from '../app/errors';
import { closedTrouble, connectionBadge, embedAction, meOf, roleNow } from '../app/live';
import { workspacePath } from '../app/routes';
import { LiveSession } from '../binding/session';
import { t } from '../i18n';
import { h, replace } from '../ui/dom';
import { loadTags } from '../workspace/tags';
import { ModelView } from './view';

export const modelPage = async (ctx: AppContext, ws: string, id: string): Promise<PageView> => {
  const back = { href: workspacePath(ws), label: t('error.backToWorkspace') };
  const me = meOf(ctx);
  const badge = connectionBadge();
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

  const build = (current: LiveSession) => {
    if (view || disposed || session !== current) return;
    if (!workspace || !node.isConnected) {
      waiting = current;
      return;
    }
    const made = new ModelView(current, { ws, id, role, me, tags, toast: ctx.toast });
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
      connection: badge.show,
      synced: () => build(current),
      refused: (reason) => {
        if (session !== current) return;
        ctx.toast(t('canvas.refusedByServer', { reason }), 'error');
        view?.destroy();
        view = null;
        current.destroy();
        replace(host, h('p', { class: 'loading' }, t('canvas.reloading')));
        void roleNow(ctx, ws, role).then((now) => {
          role = now;
          if (!disposed) session = open();
        });
      },
      closed: (code, reason) => {
        if (session !== current || disposed) return;
        const trouble = closedTrouble(code, 'no-subject');
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
  ctx.status(badge.node);
  ctx.crumbs([{ label: workspace.title || ws, href: workspacePath(ws) }, { label: id }]);
  if (role === 'owner') title.after(embedAction(`${ws}/model/${id}`, () => title.textContent || id));
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
