// Import a IIIF manifest by URL or from a file, with progress and the server's reasons
// when it cannot.

import { ApiError, enc, post, upload } from '../api/http';
import type { ImportResult } from '../api/types';
import { t, tn } from '../i18n';
import { h, replace, uid } from '../ui/dom';

// The server's limit on a manifest (server MAX_MANIFEST_BYTES is larger still); a file
// bigger than this is almost surely not a manifest.
const MAX_FILE_BYTES = 16 * 1024 * 1024;

export const importPanel = (ws: string, done: () => void): HTMLElement => {
  const urlId = uid('import-url');
  const fileId = uid('import-file');
  const url = h('input', { id: urlId, type: 'url', placeholder: 'https://…/manifest.json', autocomplete: 'off' });
  const file = h('input', { id: fileId, type: 'file', accept: '.json,.jsonld,application/json,application/ld+json' });
  const progress = h('progress', { max: 1, hidden: true, 'aria-label': t('import.progress') });
  const message = h('div', { class: 'form-message', role: 'status', 'aria-live': 'polite' });
  const button = h('button', { type: 'submit', class: 'primary' }, t('import.submit'));

  const fail = (error: unknown) => {
    const e = error instanceof ApiError ? error : new ApiError(0, '');
    replace(
      message,
      h('p', { class: 'notice notice-error', role: 'alert' }, e.status === 0 ? t('error.network.title') : t('import.failed', { detail: e.detail || String(e.status) })),
      e.problems.length
        ? h('ul', { class: 'problems' }, e.problems.slice(0, 20).map((p) => h('li', null, p.path ? `${p.path}: ${p.message}` : p.message)))
        : null,
    );
  };

  const run = async () => {
    replace(message);
    const chosen = file.files?.[0];
    if (!chosen && !url.value.trim()) {
      replace(message, h('p', { class: 'notice notice-error', role: 'alert' }, t('import.nothing')));
      url.focus();
      return;
    }
    button.disabled = true;
    progress.hidden = false;
    progress.removeAttribute('value'); // indeterminate while the server works
    try {
      let result: ImportResult;
      const path = `/api/iiif/${enc(ws)}/import`;
      if (chosen) {
        if (chosen.size > MAX_FILE_BYTES) throw new ApiError(413, t('import.tooLarge', { mb: MAX_FILE_BYTES / 1048576 }));
        const text = await chosen.text();
        try {
          JSON.parse(text);
        } catch {
          throw new ApiError(400, t('import.notJson', { name: chosen.name }));
        }
        result = await upload<ImportResult>(path, text, (fraction) => {
          progress.value = fraction;
          if (fraction >= 1) progress.removeAttribute('value');
        });
      } else {
        result = await post<ImportResult>(path, { url: url.value.trim() });
      }
      const carried = result.subjects.reduce((n, s) => n + (s.annotations_imported ?? 0), 0);
      const warnings = result.warnings ?? [];
      replace(
        message,
        h(
          'p',
          { class: 'notice' },
          tn('import.done', result.subjects.length, { label: result.label || result.manifest }),
          carried ? ` ${tn('import.annotations', carried)}` : '',
        ),
        // What the manifest carries that did not come along: said, never dropped quietly.
        warnings.length
          ? h(
              'div',
              { class: 'notice notice-warning' },
              h('p', null, tn('import.warnings', warnings.length)),
              h('ul', { class: 'problems' }, warnings.slice(0, 20).map((w) => h('li', null, `${w.where}: ${w.message}`))),
              warnings.length > 20 ? h('p', null, t('import.more', { count: warnings.length - 20 })) : null,
            )
          : null,
      );
      url.value = '';
      file.value = '';
      done();
    } catch (error) {
      fail(error);
    } finally {
      button.disabled = false;
      progress.hidden = true;
    }
  };

  return h(
    'form',
    { class: 'panel form', 'aria-labelledby': 'import-title', onsubmit: (e: Event) => (e.preventDefault(), void run()) },
    h('h2', { id: 'import-title' }, t('import.title')),
    h('label', { for: urlId }, t('import.url')),
    url,
    h('label', { for: fileId }, t('import.file')),
    file,
    button,
    progress,
    message,
  );
};
