// Owners: the workspace's members and their roles; invite by user name or email.

import { ApiError, del, enc, get, post, put } from '../api/http';
import type { Member } from '../api/types';
import type { AppContext } from '../app/context';
import { roleLabel } from '../home/page';
import { t } from '../i18n';
import { ROLES } from '../roles/rules';
import { h, replace, uid } from '../ui/dom';

const roleSelect = (id: string, value: string, label?: string) =>
  h(
    'select',
    { id, ...(label ? { 'aria-label': label } : {}) },
    ROLES.map((r) => h('option', { value: r, selected: r === value }, roleLabel(r))),
  );

export const membersPanel = (ctx: AppContext, ws: string): HTMLElement => {
  const body = h('tbody');
  const message = h('p', { class: 'form-message', role: 'status', 'aria-live': 'polite' });
  const base = `/api/workspaces/${enc(ws)}/members`;
  const say = (text: string, error = false) => {
    message.textContent = text;
    message.classList.toggle('error', error);
  };

  const load = async () => {
    try {
      const { members } = await get<{ members: Member[] }>(base);
      replace(
        body,
        members.map((m) => {
          const select = roleSelect(uid('role'), m.role, t('members.roleOf', { name: m.user }));
          select.addEventListener('change', async () => {
            try {
              await put(`${base}/${enc(m.user)}`, { role: select.value });
              say(t('members.changed', { name: m.user, role: roleLabel(select.value) }));
            } catch (error) {
              select.value = m.role;
              say(t('error.saveFailed', { detail: (error as ApiError).detail ?? '' }), true);
            }
          });
          return h(
            'tr',
            null,
            h('th', { scope: 'row' }, m.display_name ? `${m.display_name} (${m.user})` : m.user),
            h('td', null, m.email ?? ''),
            h('td', null, select),
            h(
              'td',
              null,
              h(
                'button',
                {
                  type: 'button',
                  class: 'quiet danger',
                  'aria-label': t('members.remove', { name: m.user }),
                  onclick: async () => {
                    if (!confirm(t('members.removeConfirm', { name: m.user }))) return;
                    try {
                      await del(`${base}/${enc(m.user)}`);
                      say(t('members.removed', { name: m.user }));
                      void load();
                    } catch (error) {
                      say(t('error.saveFailed', { detail: (error as ApiError).detail ?? '' }), true);
                    }
                  },
                },
                t('members.removeShort'),
              ),
            ),
          );
        }),
      );
    } catch (error) {
      say(t('members.failed', { detail: (error as ApiError).detail ?? '' }), true);
    }
  };

  const whoId = uid('invite-who');
  const roleId = uid('invite-role');
  const who = h('input', { id: whoId, required: true, autocomplete: 'off' });
  const role = roleSelect(roleId, 'editor');
  const invite = h(
    'form',
    {
      class: 'inline-form',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        const value = who.value.trim();
        if (!value) return;
        try {
          await post(base, value.includes('@') ? { email: value, role: role.value } : { user: value, role: role.value });
          say(t('members.invited', { name: value, role: roleLabel(role.value) }));
          ctx.toast(t('members.invited', { name: value, role: roleLabel(role.value) }));
          who.value = '';
          void load();
        } catch (error) {
          say(
            error instanceof ApiError && error.status === 404
              ? t('members.noSuchUser', { name: value })
              : t('error.saveFailed', { detail: (error as ApiError).detail ?? '' }),
            true,
          );
        }
      },
    },
    h('div', { class: 'field' }, h('label', { for: whoId }, t('members.who')), who),
    h('div', { class: 'field' }, h('label', { for: roleId }, t('members.role')), role),
    h('button', { type: 'submit', class: 'primary' }, t('members.invite')),
  );
  void load();
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'members-title' },
    h('h2', { id: 'members-title' }, t('members.title')),
    h(
      'table',
      { class: 'members' },
      h('caption', { class: 'visually-hidden' }, t('members.title')),
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('members.user')), h('th', { scope: 'col' }, t('members.email')), h('th', { scope: 'col' }, t('members.role')), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, t('members.actions'))))),
      body,
    ),
    invite,
    message,
  );
};
