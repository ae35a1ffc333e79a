// Shown when /api/me says 401: how to sign in here, and what went wrong with a sign-in
// link the server sent back (?signin=used|expired|invalid).

import { get } from '../api/http';
import type { Providers } from '../api/types';
import type { PageView } from '../app/context';
import { t, type Key } from '../i18n';
import { h } from '../ui/dom';

const LINK_TROUBLE: Record<string, Key> = {
  used: 'signin.used',
  expired: 'signin.expired',
  invalid: 'signin.invalid',
};

export const signInPage = async (): Promise<PageView> => {
  let providers: Providers = { oidc: false, login_url: '/api/auth/login' };
  try {
    providers = await get<Providers>('/api/auth/providers');
  } catch {
    // An older server without the providers endpoint: no identity provider.
  }
  const params = new URLSearchParams(location.search);
  const trouble = LINK_TROUBLE[params.get('signin') ?? ''];
  const next = location.pathname + (params.has('signin') ? '' : location.search);
  const login = `${providers.login_url}?next=${encodeURIComponent(next)}`;
  return {
    title: t('signin.title'),
    node: h(
      'section',
      { class: 'page page-signin', 'aria-labelledby': 'signin-title' },
      h('h1', { id: 'signin-title' }, t('signin.title')),
      trouble ? h('p', { class: 'notice notice-error', role: 'alert' }, t(trouble)) : null,
      providers.oidc
        ? h('p', null, h('a', { class: 'button primary', href: login }, t('signin.oidc')))
        : [h('p', null, t('signin.askAdmin')), h('pre', { class: 'command' }, 'sinopia admin login-link NAME')],
      h('p', { class: 'hint' }, t('signin.hint')),
    ),
  };
};
