// Home: the workspaces you are a member of; administrators create workspaces here.

import { ApiError, get, post } from '../api/http';
import type { Workspace } from '../api/types';
import type { AppContext, PageView } from '../app/context';
import { errorDetail, errorPage, troubleOf } from '../app/errors';
import { workspacePath } from '../app/routes';
import { t, type Key } from '../i18n';
import { h, uid } from '../ui/dom';

const ROLE: Record<string, Key> = {
  viewer: 'role.viewer',
  commenter: 'role.commenter',
  editor: 'role.editor',
  lead: 'role.lead',
  owner: 'role.owner',
};
export const roleLabel = (role: string | null | undefined): string => (role && ROLE[role] ? t(ROLE[role]) : '');

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const homePage = async (ctx: AppContext): Promise<PageView> => {
  let workspaces: Workspace[];
  try {
    workspaces = (await get<{ workspaces: Workspace[] }>('/api/workspaces')).workspaces;
  } catch (error) {
    return errorPage(troubleOf(error, 'server'), { detail: errorDetail(error) });
  }
  const list = h(
    'ul',
    { class: 'cards' },
    workspaces.map((w) =>
      h(
        'li',
        { class: 'card' },
        h('a', { href: workspacePath(w.name), class: 'card-link' }, h('span', { class: 'card-title' }, w.title || w.name)),
        h('span', { class: 'card-meta' }, w.name, w.role ? ` · ${roleLabel(w.role)}` : ''),
      ),
    ),
  );
  const admin = Boolean(ctx.me.user?.admin);
  return {
    title: t('home.title'),
    node: h(
      'section',
      { class: 'page page-home', 'aria-labelledby': 'home-title' },
      h('h1', { id: 'home-title' }, t('home.title')),
      workspaces.length
        ? list
        : h('p', { class: 'empty' }, admin ? t('home.emptyAdmin') : t('home.empty')),
      admin ? createForm(ctx) : null,
    ),
  };
};

const createForm = (ctx: AppContext): HTMLElement => {
  const nameId = uid('ws-name');
  const titleId = uid('ws-title');
  const name = h('input', { id: nameId, name: 'name', required: true, maxlength: 128, autocomplete: 'off', 'aria-describedby': `${nameId}-hint` });
  const title = h('input', { id: titleId, name: 'title', maxlength: 200 });
  const message = h('p', { class: 'form-message', role: 'alert' });
  const form = h(
    'form',
    {
      class: 'panel form',
      'aria-labelledby': 'create-ws',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        message.textContent = '';
        if (!NAME.test(name.value)) {
          message.textContent = t('home.create.badName');
          name.focus();
          return;
        }
        try {
          await post('/api/workspaces', { name: name.value, title: title.value || name.value });
          ctx.toast(t('home.create.done', { name: name.value }));
          ctx.navigate(workspacePath(name.value));
        } catch (error) {
          message.textContent =
            error instanceof ApiError && error.status === 409 ? t('home.create.taken') : t('error.saveFailed', { detail: errorDetail(error) ?? '' });
        }
      },
    },
    h('h2', { id: 'create-ws' }, t('home.create.title')),
    h('label', { for: nameId }, t('home.create.name')),
    name,
    h('p', { id: `${nameId}-hint`, class: 'hint' }, t('home.create.nameHint')),
    h('label', { for: titleId }, t('home.create.label')),
    title,
    h('button', { type: 'submit', class: 'primary' }, t('home.create.submit')),
    message,
  );
  return form;
};
