// The workspace's tag list: shared labels with a colour, offered in every subject's tag
// picker. Editors change it; everyone sees it.

import { ApiError, enc, get, put } from '../api/http';
import type { Tag } from '../api/types';
import { t } from '../i18n';
import { h, replace, uid } from '../ui/dom';

// As the server: labels up to 64 characters, colours #rrggbb, at most 500 tags.
export const MAX_TAG_LABEL = 64;
export const MAX_TAGS = 500;

export const loadTags = async (ws: string): Promise<Tag[]> => {
  try {
    return (await get<{ tags: Tag[] }>(`/api/workspaces/${enc(ws)}/tags`)).tags;
  } catch {
    return [];
  }
};

export const tagsPanel = (ws: string, editable: boolean): HTMLElement => {
  const list = h('ul', { class: 'tag-list' });
  const message = h('p', { class: 'form-message', role: 'status', 'aria-live': 'polite' });
  let tags: Tag[] = [];

  const draw = () => {
    replace(
      list,
      tags.length === 0 ? h('li', { class: 'empty' }, t('tags.none')) : null,
      tags.map((tag, i) => {
        if (!editable) {
          const chip = h('span', { class: 'chip' }, h('span', { class: 'swatch' }), tag.label);
          (chip.firstChild as HTMLElement).style.background = tag.color;
          return h('li', null, chip);
        }
        const labelId = uid('tag');
        const label = h('input', { id: labelId, value: tag.label, maxlength: MAX_TAG_LABEL, 'aria-label': t('tags.label') });
        const color = h('input', { type: 'color', value: tag.color, 'aria-label': t('tags.colorOf', { label: tag.label }) });
        label.addEventListener('input', () => (tags[i] = { ...tags[i]!, label: label.value }));
        color.addEventListener('input', () => (tags[i] = { ...tags[i]!, color: color.value }));
        return h(
          'li',
          { class: 'tag-row' },
          color,
          label,
          h(
            'button',
            { type: 'button', class: 'quiet danger', 'aria-label': t('tags.remove', { label: tag.label }), onclick: () => (tags.splice(i, 1), draw()) },
            t('members.removeShort'),
          ),
        );
      }),
    );
  };

  const save = async () => {
    const cleaned = tags.map((tag) => ({ ...tag, label: tag.label.trim() })).filter((tag) => tag.label);
    const labels = new Set<string>();
    for (const tag of cleaned) {
      if (labels.has(tag.label.toLowerCase())) {
        message.textContent = t('tags.duplicate', { label: tag.label });
        return;
      }
      labels.add(tag.label.toLowerCase());
    }
    try {
      tags = (await put<{ tags: Tag[] }>(`/api/workspaces/${enc(ws)}/tags`, { tags: cleaned })).tags ?? cleaned;
      message.textContent = t('tags.saved');
      draw();
    } catch (error) {
      message.textContent = t('error.saveFailed', { detail: (error as ApiError).detail ?? '' });
    }
  };

  void loadTags(ws).then((loaded) => {
    tags = loaded;
    draw();
  });

  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'tags-title' },
    h('h2', { id: 'tags-title' }, t('tags.title')),
    h('p', { class: 'hint' }, editable ? t('tags.hintEdit') : t('tags.hint')),
    list,
    editable
      ? h(
          'p',
          { class: 'actions' },
          h(
            'button',
            {
              type: 'button',
              onclick: () => {
                if (tags.length >= MAX_TAGS) return;
                tags.push({ label: '', color: '#d1495b' });
                draw();
                (list.querySelector('li:last-child input:not([type=color])') as HTMLInputElement | null)?.focus();
              },
            },
            t('tags.add'),
          ),
          h('button', { type: 'button', class: 'primary', onclick: () => void save() }, t('tags.save')),
        )
      : null,
    message,
  );
};
