// The "Here now" panel of the live pages (canvas, 3D model, report): you first, then
// everyone else present in their colour; each page adds what it knows of a person (a
// button to follow their view, the field they are in).

import { t, tn } from '../i18n';
import { h } from '../ui/dom';
import type { Peer } from './model';

/** A person's colour as a dot beside their name. */
export const presenceDot = (color: string): HTMLElement => {
  const el = h('span', { class: 'dot', 'aria-hidden': 'true' });
  el.style.background = color;
  return el;
};

/** The panel's heading, list and count, for `present` (people, not connections). */
export const presenceList = (
  me: { name: string },
  myColor: string,
  present: Peer[],
  extra: (p: Peer) => HTMLElement | null = () => null,
): HTMLElement[] => [
  h('h2', { id: 'presence-title' }, t('presence.title')),
  h(
    'ul',
    { class: 'people' },
    h('li', { class: 'person me' }, presenceDot(myColor), t('presence.you', { name: me.name })),
    present.map((p) => h('li', { class: 'person' }, presenceDot(p.color), h('span', { class: 'name' }, p.name || t('presence.anonymous')), extra(p))),
  ),
  present.length === 0 ? h('p', { class: 'hint' }, t('presence.alone')) : h('p', { class: 'visually-hidden' }, tn('presence.count', present.length)),
];

/** Follow a person's view (or stop following them). */
export const followButton = (p: Peer, following: number | null, follow: (clientId: number | null) => void): HTMLElement =>
  h(
    'button',
    {
      type: 'button',
      class: 'quiet follow',
      'aria-pressed': following === p.clientId ? 'true' : 'false',
      onclick: () => follow(following === p.clientId ? null : p.clientId),
    },
    following === p.clientId ? t('presence.stop') : t('presence.follow', { name: p.name || t('presence.anonymous') }),
  );
