// Add images to a workspace by drag and drop (or choosing files): each is sent to
// POST /api/media/{ws} in turn, with a progress bar while it goes and the server's reason
// when it is refused; every image (or page) becomes a subject in the list.

import { ApiError, enc, upload } from '../api/http';
import { t, tn } from '../i18n';
import { h, replace, uid } from '../ui/dom';

interface UploadResult {
  subjects: { document: string; id: string; label: string }[];
}

// What the file chooser offers: what the server takes (it decides by the bytes, not these).
const ACCEPT = [
  'image/jpeg,image/png,image/tiff,image/webp,image/jp2,.jpg,.jpeg,.png,.tif,.tiff,.webp,.jp2,.j2k,.jpf',
  'model/gltf-binary,model/gltf+json,.glb,.gltf',
].join(',');

export const uploadPanel = (ws: string, done: () => void): HTMLElement => {
  const inputId = uid('upload-files');
  const input = h('input', { id: inputId, type: 'file', multiple: true, accept: ACCEPT, class: 'visually-hidden' });
  const progress = h('progress', { max: 1, hidden: true, 'aria-label': t('upload.progress') });
  const status = h('p', { class: 'upload-status', role: 'status', 'aria-live': 'polite' });
  const messages = h('ul', { class: 'upload-messages' });
  const zone = h(
    'div',
    { class: 'drop-zone', role: 'button', tabindex: 0, 'aria-describedby': `${inputId}-hint` },
    h('strong', null, t('upload.drop')),
    h('span', { id: `${inputId}-hint`, class: 'hint' }, t('upload.hint')),
  );
  let busy = false;

  // The alert inside the item: an item that is itself an alert is no list item any more
  // (axe: a list must hold list items only).
  const say = (text: string, error: boolean) =>
    messages.append(h('li', { class: error ? 'notice notice-error' : 'notice' }, h('span', { role: error ? 'alert' : null }, text)));

  const send = async (files: File[]) => {
    if (busy || !files.length) return;
    busy = true;
    zone.classList.add('busy');
    replace(messages);
    progress.hidden = false;
    let added = 0;
    for (const [index, file] of files.entries()) {
      const form = new FormData();
      form.append('file', file, file.name);
      progress.value = 0;
      status.textContent = t('upload.sending', { current: index + 1, total: files.length, name: file.name, percent: 0 });
      try {
        const result = await upload<UploadResult>(`/api/media/${enc(ws)}`, form, (fraction) => {
          if (fraction >= 1) {
            // Sent: the server now converts it (indeterminate until it answers).
            progress.removeAttribute('value');
            status.textContent = t('upload.converting', { name: file.name });
          } else {
            progress.value = fraction;
            status.textContent = t('upload.sending', {
              current: index + 1,
              total: files.length,
              name: file.name,
              percent: Math.round(fraction * 100),
            });
          }
        });
        added += result.subjects.length;
        say(tn('upload.done', result.subjects.length, { name: file.name }), false);
      } catch (error) {
        const e = error instanceof ApiError ? error : new ApiError(0, '');
        if (e.status === 0) say(t('upload.network', { name: file.name }), true);
        else if (e.status === 415) say(t('upload.notImage', { name: file.name }), true);
        else say(t('upload.failed', { name: file.name, detail: e.detail || String(e.status) }), true);
      }
    }
    progress.hidden = true;
    status.textContent = '';
    zone.classList.remove('busy');
    busy = false;
    input.value = '';
    if (added) done();
  };

  input.addEventListener('change', () => void send(Array.from(input.files ?? [])));
  zone.addEventListener('click', () => input.click());
  zone.addEventListener('keydown', (e: KeyboardEvent) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      input.click();
    }
  });
  zone.addEventListener('dragover', (e: DragEvent) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e: DragEvent) => {
    e.preventDefault();
    zone.classList.remove('over');
    void send(Array.from(e.dataTransfer?.files ?? []));
  });

  return h(
    'section',
    { class: 'panel form upload', 'aria-labelledby': `${inputId}-title` },
    h('h2', { id: `${inputId}-title` }, t('upload.title')),
    zone,
    h('label', { for: inputId, class: 'visually-hidden' }, t('upload.choose')),
    input,
    progress,
    status,
    messages,
  );
};
