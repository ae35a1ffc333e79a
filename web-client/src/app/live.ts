// What the three live subject pages (canvas, 3D model, report) share around their live
// document: the connection badge, who we are in it, what the server's closing codes mean,
// our role asked again after a refusal, and the owners' Embed action. Each page keeps its
// own control flow (the canvas page opens its document before the page exists).

import { enc, get } from '../api/http';
import type { Workspace } from '../api/types';
import type { Connection, LiveSession, SessionEvents } from '../binding/session';
import { embedDialog } from '../embed/dialog';
import { t, type Key } from '../i18n';
import { h, replace } from '../ui/dom';
import { roleIn, type AppContext } from './context';
import { errorPage, type Trouble } from './errors';

const CONNECTION: Record<Connection, Key> = {
  connecting: 'connection.connecting',
  live: 'connection.live',
  reconnecting: 'connection.reconnecting',
  offline: 'connection.offline',
};

/** The badge in the top bar that says whether edits are live, and its setter. */
export const connectionBadge = (): { node: HTMLElement; show: (state: Connection) => void } => {
  const node = h('span', { class: 'connection connection-connecting', role: 'status', 'aria-live': 'polite' }, t(CONNECTION.connecting));
  return {
    node,
    show: (state) => {
      node.className = `connection connection-${state}`;
      node.textContent = t(CONNECTION[state]);
    },
  };
};

/** Closing codes that end the page (the others reconnect): what to tell the reader. */
const closedTrouble = (code: number, missing: Trouble): Trouble | undefined =>
  code === 4401 || code === 4403 ? 'forbidden' : code === 4404 ? missing : undefined;

/** Who we are in a document: our agent (a pseudonymous id; names are looked up). */
export const meOf = (ctx: AppContext): { id: string; name: string } => {
  const agent = ctx.me.agent ?? { id: `urn:sinopia:user:${ctx.me.user?.id ?? 'unknown'}`, name: ctx.me.principal };
  return { id: agent.id, name: agent.name };
};

/** Our role in `ws` as the server says now: a refused update often means it changed. */
const roleNow = (ctx: AppContext, ws: string, fallback: string | null): Promise<string | null> =>
  get<Workspace>(`/api/workspaces/${enc(ws)}`)
    .then((w) => w.role ?? roleIn(ctx.me, ws))
    .catch(() => fallback);

/** Owners make the share links a museum's website embeds (a live, read-only view). */
export const embedAction = (doc: string, title: () => string): HTMLButtonElement => {
  const embed = h('button', { type: 'button', class: 'embed-action', 'aria-haspopup': 'dialog' }, t('embed.action'));
  embed.addEventListener('click', () => {
    const dialog = embedDialog(doc, title());
    document.body.append(dialog);
    dialog.showModal();
  });
  return embed;
};

/** What a live page holds that the endings below read and change. */
export interface LivePage {
  session: LiveSession | null;
  disposed: boolean;
  role: string | null;
}

/**
 * The two ways a live page's document ends. A refused update (the server said no: a
 * locked report, a role that changed) shows why, drops the view, and opens the document
 * afresh once our role has been asked again (Yjs would hold back everything after the
 * refused update). A closing code that ends the page (forbidden, gone) shows its error;
 * the others reconnect by themselves.
 */
export const endings = (
  page: LivePage,
  current: () => LiveSession,
  o: {
    ctx: AppContext;
    ws: string;
    host: HTMLElement;
    back: { href: string; label: string };
    missing: Trouble;
    refusedMessage: (reason: string) => string;
    drop: () => void;
    reopen: () => LiveSession;
  },
): Pick<SessionEvents, 'refused' | 'closed'> => ({
  refused: (reason) => {
    if (page.session !== current()) return;
    o.ctx.toast(o.refusedMessage(reason), 'error');
    o.drop();
    current().destroy();
    replace(o.host, h('p', { class: 'loading' }, t('canvas.reloading')));
    void roleNow(o.ctx, o.ws, page.role).then((now) => {
      page.role = now;
      if (!page.disposed) page.session = o.reopen();
    });
  },
  closed: (code, reason) => {
    if (page.session !== current() || page.disposed) return;
    const trouble = closedTrouble(code, o.missing);
    if (!trouble) return;
    o.drop();
    replace(o.host, errorPage(trouble, { detail: reason, back: o.back }).node);
  },
});
