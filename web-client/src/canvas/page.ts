// The subject page of a canvas: checks the subject exists and may be seen, opens its live
// document, and reopens it when the server refuses one of our updates.

import { enc, get } from '../api/http';
import type { Tag, Workspace } from '../api/types';
import { roleIn, type AppContext, type PageView } from '../app/context';
import { errorDetail, errorPage, troubleOf } from '../app/errors';
import { closedTrouble, connectionBadge, embedAction, meOf, roleNow } from '../app/live';
import { workspacePath } from '../app/routes';
import { t } from '../i18n';
import { h, replace } from '../ui/dom';
import { readSubject } from '../binding/document';
import { loadTags } from '../workspace/tags';
import { loadPicture, type Picture } from './image';
import { parseRoute } from '../app/routes';
import { LiveSession, type Connection, type SessionEvents } from '../binding/session';
import type { CanvasView } from './view';

// The viewer's code (OpenSeadragon, Annotorious, PixiJS: most of the page's JavaScript) is
// fetched and compiled while the document syncs, not after.
let viewCode: Promise<typeof import('./view')> | null = null;
const loadView = () => (viewCode ??= import('./view').catch((error: unknown) => {
  viewCode = null;
  throw error;
}));
void loadView().catch(() => undefined);

/** Session events kept until the page takes them (the session may open before it). */
class Relay implements SessionEvents {
  target: SessionEvents | null = null;
  private state: Connection | null = null;
  private happened: ((to: SessionEvents) => void)[] = [];
  private pass(event: (to: SessionEvents) => void): void {
    if (this.target) event(this.target);
    else this.happened.push(event);
  }
  connection(state: Connection) {
    this.state = state;
    this.target?.connection(state);
  }
  synced() {
    this.pass((to) => to.synced());
  }
  refused(reason: string) {
    this.pass((to) => to.refused(reason));
  }
  closed(code: number, reason: string) {
    this.pass((to) => to.closed(code, reason));
  }
  attach(target: SessionEvents): void {
    this.target = target;
    if (this.state) target.connection(this.state);
    for (const event of this.happened.splice(0)) event(target);
  }
}

type Answers = [Workspace, unknown, Tag[]];
const ask = (ws: string, id: string): Promise<Answers> =>
  Promise.all([
    get<Workspace>(`/api/workspaces/${enc(ws)}`),
    // Cheap, and 404 for a subject that does not exist, 403 for one we may not see.
    get(`/api/history/${enc(ws)}/canvas/${enc(id)}/versions`),
    loadTags(ws),
  ]);

// A subject page opened from its address: the shell loads this module while it asks who
// is signed in (/api/me), and the document and the page's REST calls start meanwhile. Not
// taken by a page within this long (nobody signed in, say): closed.
const EARLY_UNUSED_MS = 15_000;
let early: { ws: string; id: string; session: LiveSession; relay: Relay; answers: Promise<Answers> } | null = null;
{
  const route = parseRoute(location.pathname);
  if (route.name === 'subject' && route.kind === 'canvas') {
    const relay = new Relay();
    const answers = ask(route.ws, route.id);
    answers.catch(() => undefined); // the page reads the error
    early = { ws: route.ws, id: route.id, relay, answers, session: new LiveSession(`${route.ws}/canvas/${route.id}`, relay) };
    const mine = early;
    setTimeout(() => {
      if (early !== mine) return;
      early = null;
      mine.session.destroy();
    }, EARLY_UNUSED_MS);
  }
}

export const canvasPage = async (ctx: AppContext, ws: string, id: string): Promise<PageView> => {
  const back = { href: workspacePath(ws), label: t('error.backToWorkspace') };
  const me = meOf(ctx);
  const badge = connectionBadge();
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
  let picture: Promise<Picture> | null = null; // asked for once the document says where

  const build = (current: LiveSession, keepViewport: ReturnType<CanvasView['currentViewport']>) => {
    if (view || disposed || session !== current) return;
    if (!workspace || !node.isConnected) {
      waiting = current;
      return;
    }
    const meta = readSubject(current.doc);
    picture ??= meta ? loadPicture(meta) : null;
    void loadView().then(
      ({ CanvasView }) => {
        if (view || disposed || session !== current || !workspace) return;
        const made = new CanvasView(
          current,
          { ws, id, role, me, tags, toast: ctx.toast, picture: picture ?? Promise.resolve({ kind: 'refused', origin: '', why: 'bad' }) },
          keepViewport,
        );
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
      },
      () => replace(host, errorPage('network', { back }).node),
    );
  };

  const open = (keepViewport: ReturnType<CanvasView['currentViewport']> = null, adopted?: { session: LiveSession; relay: Relay }) => {
    let current: LiveSession;
    const events: SessionEvents = {
      connection: badge.show,
      synced: () => {
        performance.mark('sinopia:synced');
        // The picture is asked for at once: its server answers while the rest is built.
        const meta = readSubject(current.doc);
        if (meta && !picture) picture = loadPicture(meta);
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
        void roleNow(ctx, ws, role).then((now) => {
          role = now;
          if (!disposed) session = open(viewport);
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
    };
    if (adopted) {
      current = adopted.session;
      session = current; // before the relay replays what happened
      adopted.relay.attach(events);
    } else current = new LiveSession(`${ws}/canvas/${id}`, events);
    return current;
  };
  // The live document opens at once (or opened already); what the page needs from REST
  // comes meanwhile.
  const taken = early && early.ws === ws && early.id === id ? early : null;
  if (early) {
    if (!taken) early.session.destroy();
    early = null;
  }
  session = open(null, taken ?? undefined);
  try {
    const [w, , t2] = await (taken?.answers ?? ask(ws, id));
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
  if (role === 'owner') title.after(embedAction(`${ws}/canvas/${id}`, () => title.textContent || id));
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
