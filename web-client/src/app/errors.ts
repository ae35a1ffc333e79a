// Clear pages for what went wrong: what happened, and where to go from here.

import { ApiError } from '../api/http';
import { t, type Key } from '../i18n';
import { h } from '../ui/dom';
import type { PageView } from './context';

export type Trouble = 'not-found' | 'no-subject' | 'forbidden' | 'server' | 'network' | 'unsupported';

const TEXT: Record<Trouble, [Key, Key]> = {
  'not-found': ['error.notFound.title', 'error.notFound.body'],
  'no-subject': ['error.noSubject.title', 'error.noSubject.body'],
  forbidden: ['error.forbidden.title', 'error.forbidden.body'],
  server: ['error.server.title', 'error.server.body'],
  network: ['error.network.title', 'error.network.body'],
  unsupported: ['error.unsupported.title', 'error.unsupported.body'],
};

export const troubleOf = (error: unknown, missing: Trouble = 'not-found'): Trouble => {
  if (!(error instanceof ApiError)) return 'server';
  if (error.status === 0) return 'network';
  if (error.status === 404) return missing;
  if (error.status === 403) return 'forbidden';
  return 'server';
};

export const errorPage = (
  trouble: Trouble,
  options: { detail?: string; back?: { href: string; label: string } } = {},
): PageView => {
  const [title, body] = TEXT[trouble];
  return {
    title: t(title),
    node: h(
      'section',
      { class: 'page page-error', 'aria-labelledby': 'error-title' },
      h('h1', { id: 'error-title' }, t(title)),
      h('p', null, t(body)),
      options.detail ? h('p', { class: 'server-said' }, t('error.detail', { detail: options.detail })) : null,
      h(
        'p',
        { class: 'actions' },
        options.back ? h('a', { href: options.back.href, class: 'button' }, options.back.label) : null,
        h('a', { href: '/', class: 'button' }, t('error.home')),
        trouble === 'server' || trouble === 'network'
          ? h('button', { type: 'button', onclick: () => location.reload() }, t('error.retry'))
          : null,
      ),
    ),
  };
};

export const errorDetail = (error: unknown): string | undefined =>
  error instanceof ApiError && error.detail ? error.detail : undefined;
