// The subjects of a workspace as a grid of thumbnails (from each canvas's IIIF image
// service), searched by label and filtered by manifest and by who last changed it.

import { ApiError, enc, get } from '../api/http';
import type { SubjectItem, SubjectsPage } from '../api/types';
import type { AppContext } from '../app/context';
import { subjectPath } from '../app/routes';
import { formatTime, t, tn } from '../i18n';
import { h, replace, uid } from '../ui/dom';
import { who } from '../history/who';

const PAGE = 48;
const THUMB = 240;

export const thumbnailUrl = (service: string): string => `${service.replace(/\/$/, '')}/full/!${THUMB},${THUMB}/0/default.jpg`;

// An image service that cannot scale (IIIF level 0) has no !240,240: say so instead of
// showing a broken image.
const thumbnail = (service: string): HTMLElement => {
  const img = h('img', { src: thumbnailUrl(service), alt: '', loading: 'lazy', width: THUMB, height: THUMB, class: 'thumb' });
  img.addEventListener('error', () => img.replaceWith(h('span', { class: 'thumb thumb-none' }, t('subjects.noThumbnail'))), { once: true });
  return img;
};

export const subjectsPanel = (_ctx: AppContext, ws: string) => {
  const qId = uid('q');
  const mId = uid('manifest');
  const cId = uid('changed');
  const q = h('input', { id: qId, type: 'search', autocomplete: 'off' });
  const manifest = h('select', { id: mId }, h('option', { value: '' }, t('subjects.allManifests')));
  const changedBy = h('input', { id: cId, type: 'search', autocomplete: 'off' });
  const grid = h('ul', { class: 'grid', 'aria-live': 'polite', 'aria-busy': 'false' });
  const count = h('p', { class: 'count' });
  const more = h('button', { type: 'button', hidden: true }, t('subjects.more'));
  const manifests = new Map<string, string>();
  let next: string | null = null;
  let controller: AbortController | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const card = (s: SubjectItem): HTMLElement => {
    const service = s.thumbnail?.service ?? s.image?.service;
    return h(
      'li',
      { class: 'subject' },
      h(
        'a',
        { href: subjectPath(ws, s.kind, s.id), class: 'subject-link' },
        service
          ? thumbnail(service)
          : h('span', { class: 'thumb thumb-none' }, t(s.kind === 'model' ? 'model.thumb' : 'subjects.noImage')),
        h('span', { class: 'subject-label' }, s.label || s.id),
      ),
      s.manifest_label ? h('span', { class: 'subject-meta' }, s.manifest_label) : null,
      h('span', { class: 'subject-meta' }, tn('subjects.annotations', s.annotations)),
      s.changed
        ? h('span', { class: 'subject-meta' }, t('subjects.changed', { when: formatTime(s.changed), who: s.changed_by ? who({ principal: s.changed_by, principal_name: s.changed_by_name }) : '?' }))
        : null,
    );
  };

  const load = async (append: boolean) => {
    controller?.abort();
    controller = new AbortController();
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (q.value.trim()) params.set('q', q.value.trim());
    if (manifest.value) params.set('manifest', manifest.value);
    if (changedBy.value.trim()) params.set('changed_by', changedBy.value.trim());
    if (append && next) params.set('cursor', next);
    grid.setAttribute('aria-busy', 'true');
    try {
      const page = await get<SubjectsPage>(`/api/workspaces/${enc(ws)}/subjects?${params}`, controller.signal);
      for (const s of page.subjects)
        if (s.manifest && !manifests.has(s.manifest)) {
          manifests.set(s.manifest, s.manifest_label || s.manifest);
          manifest.append(h('option', { value: s.manifest }, s.manifest_label || s.manifest));
        }
      next = page.next;
      if (!append) replace(grid);
      grid.append(...page.subjects.map(card));
      more.hidden = !next;
      const filtered = Boolean(q.value.trim() || manifest.value || changedBy.value.trim());
      count.textContent =
        page.total === 0
          ? filtered
            ? t('subjects.noMatch')
            : t('subjects.none')
          : tn('subjects.total', page.total);
    } catch (error) {
      if ((error as Error).name === 'AbortError') return;
      count.textContent =
        error instanceof ApiError && error.status === 0 ? t('error.network.title') : t('subjects.failed', { detail: (error as ApiError).detail ?? '' });
    } finally {
      grid.setAttribute('aria-busy', 'false');
    }
  };

  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void load(false), 250);
  };
  q.addEventListener('input', soon);
  changedBy.addEventListener('input', soon);
  manifest.addEventListener('change', () => void load(false));
  more.addEventListener('click', () => void load(true));
  void load(false);

  const node = h(
    'section',
    { class: 'subjects', 'aria-labelledby': 'subjects-title' },
    h('h2', { id: 'subjects-title' }, t('subjects.title')),
    h(
      'form',
      { class: 'filters', role: 'search', onsubmit: (e: Event) => (e.preventDefault(), void load(false)) },
      h('div', { class: 'field' }, h('label', { for: qId }, t('subjects.search')), q),
      h('div', { class: 'field' }, h('label', { for: mId }, t('subjects.manifest')), manifest),
      h('div', { class: 'field' }, h('label', { for: cId }, t('subjects.changedBy')), changedBy),
    ),
    count,
    grid,
    more,
  );
  return {
    node,
    reload: () => void load(false),
    dispose: () => {
      clearTimeout(timer);
      controller?.abort();
    },
  };
};
