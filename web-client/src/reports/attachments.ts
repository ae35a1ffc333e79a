// Legacy reports attached to this one: a scanned PDF, a photograph of a handwritten
// report. Sent to POST /api/reports/{ws}/{id}/attachments with a progress bar while it
// goes (as images are added to a workspace); the server keeps the file in the
// workspace's blob store and lists it in the report's `attachments`, so everyone sees it
// arrive. Files are offered only as downloads, never shown inline (a PDF from elsewhere
// is not opened inside the app).

import type * as Y from 'yjs';
import { ApiError, enc, upload } from '../api/http';
import { readAttachments, removeEntry, updateEntry, type AttachmentView } from '../binding/report';
import { ATTACHMENT_FIELDS as AT, REPORT_LIMITS, REPORT_LIST } from '../generated/schema';
import { t, tn } from '../i18n';
import { h, replace, uid } from '../ui/dom';

export interface AttachmentOptions {
  ws: string;
  id: string;
  doc: Y.Doc;
  origin: object;
  editable: () => boolean;
  toast: (message: string, kind?: 'info' | 'error') => void;
  focus: (field: string | null) => void;
}

// What the server takes (server/api/media.py ATTACHABLE): PDFs and images.
const ACCEPT = 'application/pdf,image/jpeg,image/png,image/tiff,image/webp,.pdf,.jpg,.jpeg,.png,.tif,.tiff,.webp';

const kindOf = (a: AttachmentView): string => (a.media_type === 'application/pdf' ? 'PDF' : a.media_type.startsWith('image/') ? a.media_type.slice(6).toUpperCase() : a.media_type || '?');

export class Attachments {
  readonly node: HTMLElement;
  private readonly listEl = h('ul', { class: 'attachment-list' });
  private readonly uploadEl = h('div', { class: 'attachment-upload' });
  private drawn = '';
  private busy = false;
  private readonly progress = h('progress', { max: 1, hidden: true, 'aria-label': t('report.attach.progress') });
  private readonly status = h('p', { class: 'upload-status', role: 'status', 'aria-live': 'polite' });
  private readonly messages = h('ul', { class: 'upload-messages' });

  constructor(private readonly o: AttachmentOptions) {
    this.node = h(
      'section',
      { class: 'report-section report-attachments', 'aria-labelledby': 'sec-attachments', id: 'report-attachments' },
      h('h2', { id: 'sec-attachments' }, t('report.attach.title')),
      h('p', { class: 'hint' }, t('report.attach.hint')),
      this.listEl,
      this.uploadEl,
    );
  }

  show(): void {
    const items = readAttachments(this.o.doc);
    const editable = this.o.editable();
    const key = JSON.stringify([items, editable]);
    if (key === this.drawn) return;
    const typing = document.activeElement instanceof HTMLInputElement && this.listEl.contains(document.activeElement);
    if (typing) return; // a caption being typed is not swept away; drawn when it is left
    this.drawn = key;
    replace(
      this.listEl,
      items.length ? items.map((a) => this.item(a, editable)) : h('li', { class: 'hint empty' }, t('report.attach.none')),
    );
    replace(this.uploadEl, editable ? this.form(items.length) : null);
  }

  private item(a: AttachmentView, editable: boolean): HTMLLIElement {
    const href = `/api/media/${enc(this.o.ws)}/files/${enc(a.blob)}`;
    const captionId = uid('attach-caption');
    const caption = h('input', { id: captionId, value: a.caption, maxlength: REPORT_LIMITS.SHORT, autocomplete: 'off', readonly: !editable });
    caption.addEventListener('focus', () => this.o.focus(`attachments.${a.id}`));
    caption.addEventListener('blur', () => {
      this.o.focus(null);
      setTimeout(() => this.show(), 0);
    });
    caption.addEventListener('change', () => editable && updateEntry(this.o.doc, REPORT_LIST.ATTACHMENTS, a.id, { [AT.CAPTION]: caption.value }, this.o.origin));
    const name = a.filename || a.blob;
    return h(
      'li',
      { class: 'attachment', 'data-entry': a.id },
      h('span', { class: 'attachment-kind', 'aria-hidden': 'true' }, kindOf(a)),
      h(
        'div',
        { class: 'attachment-body' },
        // Downloaded, never opened in the page: the server sends it as an attachment.
        h('a', { href, download: name, class: 'attachment-name' }, name),
        h('span', { class: 'hint' }, t('report.attach.kind', { kind: kindOf(a) })),
        h('div', { class: 'field' }, h('label', { for: captionId }, t('report.attach.caption')), caption),
      ),
      editable
        ? h(
            'button',
            {
              type: 'button',
              class: 'quiet danger',
              onclick: () => {
                if (confirm(t('report.attach.removeConfirm', { name }))) removeEntry(this.o.doc, REPORT_LIST.ATTACHMENTS, a.id, this.o.origin);
              },
            },
            t('report.attach.remove'),
          )
        : null,
    );
  }

  private form(count: number): HTMLElement {
    const inputId = uid('attach-file');
    const captionId = uid('attach-new-caption');
    const input = h('input', { id: inputId, type: 'file', accept: ACCEPT });
    const caption = h('input', { id: captionId, maxlength: 200, autocomplete: 'off' });
    const full = count >= REPORT_LIMITS.MAX_ATTACHMENTS;
    const button = h('button', { type: 'button', disabled: full || this.busy, onclick: () => void this.send(input, caption, button) }, t('report.attach.send'));
    return h(
      'div',
      { class: 'attach-form' },
      h('div', { class: 'inline-form' }, h('div', { class: 'field' }, h('label', { for: inputId }, t('report.attach.file')), input), h('div', { class: 'field' }, h('label', { for: captionId }, t('report.attach.newCaption')), caption), button),
      full ? h('p', { class: 'hint' }, tn('report.attach.full', REPORT_LIMITS.MAX_ATTACHMENTS)) : null,
      this.progress,
      this.status,
      this.messages,
    );
  }

  private async send(input: HTMLInputElement, caption: HTMLInputElement, button: HTMLButtonElement): Promise<void> {
    const file = input.files?.[0];
    if (!file) {
      this.o.toast(t('report.attach.chooseFirst'), 'error');
      input.focus();
      return;
    }
    if (this.busy) return;
    this.busy = true;
    button.disabled = true;
    replace(this.messages);
    const form = new FormData();
    form.append('file', file, file.name);
    if (caption.value.trim()) form.append('caption', caption.value.trim());
    this.progress.hidden = false;
    this.progress.value = 0;
    this.status.textContent = t('report.attach.sending', { name: file.name, percent: 0 });
    const say = (text: string, error: boolean) => this.messages.append(h('li', { class: error ? 'notice notice-error' : 'notice', role: error ? 'alert' : null }, text));
    try {
      await upload(`/api/reports/${enc(this.o.ws)}/${enc(this.o.id)}/attachments`, form, (fraction) => {
        if (fraction >= 1) {
          this.progress.removeAttribute('value');
          this.status.textContent = t('report.attach.storing', { name: file.name });
        } else {
          this.progress.value = fraction;
          this.status.textContent = t('report.attach.sending', { name: file.name, percent: Math.round(fraction * 100) });
        }
      });
      say(t('report.attach.done', { name: file.name }), false);
      input.value = '';
      caption.value = '';
    } catch (error) {
      const e = error instanceof ApiError ? error : new ApiError(0, '');
      if (e.status === 0) say(t('upload.network', { name: file.name }), true);
      else if (e.status === 415) say(t('report.attach.wrongKind', { name: file.name }), true);
      else say(t('upload.failed', { name: file.name, detail: e.detail || String(e.status) }), true);
    } finally {
      this.busy = false;
      button.disabled = false;
      this.progress.hidden = true;
      this.status.textContent = '';
      // The list may have been redrawn (with the button disabled) while the file went.
      this.drawn = '';
      this.show();
    }
  }
}
