// What the three live subject pages (canvas, 3D model, report) share around their live
// document: the connection badge, who we are in it, what the server's closing codes mean,
// our role asked again after a refusal, and the owners' Embed action. Each page keeps its
// own control flow (the canvas page opens its document before the page exists).

import { enc, get } from '../api/http';
import type { Workspace } from '../api/types';
import type { Connection } from '../binding/session';
import { embedDialog } from '../embed/dialog';
import { t, type Key } from '../i18n';
import { h } from '../ui/dom';
import { roleIn, type AppContext } from './context';
import type { Trouble } from './errors';

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
export const closedTrouble = (code: number, missing: Trouble): Trouble | undefined =>
  code === 4401 || code === 4403 ? 'forbidden' : code === 4404 ? missing : undefined;

/** Who we are in a document: our agent (a pseudonymous id; names are looked up). */
export const meOf = (ctx: AppContext): { id: string; name: string } => {
  const agent = ctx.me.agent ?? { id: `urn:sinopia:user:${ctx.me.user?.id ?? 'unknown'}`, name: ctx.me.principal };
  return { id: agent.id, name: agent.name };
};

/** Our role in `ws` as the server says now: a refused update often means it changed. */
export const roleNow = (ctx: AppContext, ws: string, fallback: string | null): Promise<string | null> =>
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
