// History of a subject, through /api/history: who changed what and when, the canvas as it
// was at a chosen change (a read-only overlay), named versions, and restore (leads). Loaded
// only when opened, to keep the subject page light.

import { ApiError, enc, get, post } from '../api/http';
import { formatTime, t } from '../i18n';
import { h, replace, uid } from '../ui/dom';
import { runs, type Change, type Run } from './runs';
import { who } from './who';


interface Version {
  name: string;
  seq: number;
  time: string;
  principal: string;
  principal_name?: string | null;
  note: string;
}

type Content = { annotations?: Record<string, { target?: unknown; motivation?: string }> };

export interface HistoryOptions {
  ws: string;
  id: string;
  canName: boolean;
  canRestore: boolean;
  toast: (message: string, kind?: 'info' | 'error') => void;
  preview: (past: { label: string; annotations: Content['annotations'] & object } | null) => void;
}

const PAGE = 60;



export const historyPanel = (o: HistoryOptions) => {
  const base = `/api/history/${enc(o.ws)}/canvas/${enc(o.id)}`;
  const timeline = h('ol', { class: 'timeline', 'aria-label': t('history.timeline') });
  const versions = h('ul', { class: 'versions' });
  const message = h('p', { class: 'form-message', role: 'status', 'aria-live': 'polite' });
  const more = h('button', { type: 'button', hidden: true }, t('history.older'));
  let next: string | null = null;
  let chosen: HTMLElement | null = null;

  const fail = (error: unknown) => {
    message.textContent = t('history.failed', { detail: (error as ApiError).detail || String((error as ApiError).status ?? '') });
  };

  const choose = (button: HTMLElement | null) => {
    chosen?.setAttribute('aria-pressed', 'false');
    chosen = button;
    chosen?.setAttribute('aria-pressed', 'true');
  };

  const restore = async (body: { seq: number } | { version: string }, label: string) => {
    if (!confirm(t('history.restoreConfirm', { what: label }))) return;
    try {
      await post(`${base}/restore`, body);
      o.toast(t('history.restored', { what: label }));
      o.preview(null);
      choose(null);
      void loadChanges(false);
    } catch (error) {
      fail(error);
    }
  };

  const show = async (button: HTMLElement, label: string, load: () => Promise<Content>) => {
    if (chosen === button) {
      choose(null);
      o.preview(null);
      return;
    }
    try {
      const content = await load();
      choose(button);
      o.preview({ label, annotations: content.annotations ?? {} });
    } catch (error) {
      fail(error);
    }
  };

  const changeItem = ({ change: c, earlier }: Run): HTMLElement => {
    const label = t('history.atChange', { seq: c.seq, when: formatTime(c.time) });
    const view = h(
      'button',
      { type: 'button', class: 'quiet change', 'aria-pressed': 'false' },
      h('span', { class: 'when' }, formatTime(c.time)),
      h('span', { class: 'who' }, who(c)),
      h('span', { class: 'what' }, c.summary.join('; ') || t('history.noSummary')),
      earlier ? h('span', { class: 'note' }, t('history.earlierEdits', { count: earlier })) : null,
    );
    view.addEventListener('click', () =>
      void show(view, label, async () => (await get<{ content: Content }>(`${base}/state?seq=${c.seq}`)).content),
    );
    return h(
      'li',
      null,
      view,
      o.canRestore
        ? h('button', { type: 'button', class: 'quiet', onclick: () => void restore({ seq: c.seq }, label) }, t('history.restoreHere'))
        : null,
    );
  };

  const loadChanges = async (append: boolean) => {
    try {
      const url = append && next ? next : `${base}?limit=${PAGE}`;
      const page = await get<{ changes: Change[]; next: string | null; head: number }>(url.replace(/^https?:\/\/[^/]+/, ''));
      next = page.next;
      more.hidden = !next;
      if (!append) replace(timeline);
      timeline.append(...runs(page.changes).map(changeItem));
      if (!append && page.changes.length === 0) timeline.append(h('li', { class: 'hint' }, t('history.none')));
    } catch (error) {
      fail(error);
    }
  };

  const loadVersions = async () => {
    try {
      const { versions: list } = await get<{ versions: Version[] }>(`${base}/versions`);
      replace(
        versions,
        list.length === 0 ? h('li', { class: 'hint' }, t('history.noVersions')) : null,
        list.map((v) => {
          const label = t('history.version', { name: v.name });
          const view = h(
            'button',
            { type: 'button', class: 'quiet change', 'aria-pressed': 'false' },
            h('span', { class: 'what' }, v.name),
            h('span', { class: 'when' }, formatTime(v.time)),
            h('span', { class: 'who' }, who(v)),
            v.note ? h('span', { class: 'note' }, v.note) : null,
          );
          view.addEventListener('click', () =>
            void show(view, label, async () => (await get<{ content: Content }>(`${base}/versions/${enc(v.name)}`)).content),
          );
          return h(
            'li',
            null,
            view,
            o.canRestore
              ? h('button', { type: 'button', class: 'quiet', onclick: () => void restore({ version: v.name }, label) }, t('history.restoreVersion'))
              : null,
          );
        }),
      );
    } catch (error) {
      fail(error);
    }
  };

  const nameId = uid('version-name');
  const noteId = uid('version-note');
  const name = h('input', { id: nameId, required: true, maxlength: 200 });
  const note = h('input', { id: noteId, maxlength: 2000 });
  const nameForm = o.canName
    ? h(
        'form',
        {
          class: 'form compact',
          onsubmit: async (e: Event) => {
            e.preventDefault();
            if (!name.value.trim()) return;
            try {
              await post(`${base}/versions`, { name: name.value.trim(), note: note.value });
              o.toast(t('history.named', { name: name.value.trim() }));
              name.value = '';
              note.value = '';
              void loadVersions();
            } catch (error) {
              message.textContent =
                error instanceof ApiError && error.status === 409 ? t('history.nameTaken', { name: name.value }) : t('history.failed', { detail: (error as ApiError).detail ?? '' });
            }
          },
        },
        h('label', { for: nameId }, t('history.versionName')),
        name,
        h('label', { for: noteId }, t('history.versionNote')),
        note,
        h('button', { type: 'submit' }, t('history.nameNow')),
      )
    : null;

  more.addEventListener('click', () => void loadChanges(true));
  void loadChanges(false);
  void loadVersions();

  return {
    node: h(
      'div',
      { class: 'history-panel' },
      h('h2', { id: 'history-title' }, t('history.title')),
      h('p', { class: 'hint' }, o.canRestore ? t('history.hintLead') : t('history.hint')),
      message,
      h('h3', null, t('history.versions')),
      versions,
      nameForm,
      h('h3', null, t('history.changes')),
      timeline,
      more,
    ),
    clearSelection: () => choose(null),
  };
};
