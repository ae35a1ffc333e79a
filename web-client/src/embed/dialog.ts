// The app's "Embed" action on a subject (owners): makes a share link for a museum's
// website (the sites allowed to show it, how long it lasts) and gives the code to paste:
// the element for pages that allow scripts, the iframe for those that do not, the link for
// oEmbed (WordPress, Drupal), with a live preview of what visitors will see. Part of the
// app (its catalogues, its API client), not of the element's build.

import { ApiError, del, enc, post } from '../api/http';
import { t, language } from '../i18n';
import { h, uid } from '../ui/dom';

interface ShareCreated {
  id: string;
  token: string;
}

// How long an embed link lasts, as the API spells it; "never" only when chosen.
const EXPIRIES = [
  ['30d', 'embed.dialog.days30'],
  ['90d', 'embed.dialog.days90'],
  ['365d', 'embed.dialog.year'],
  ['never', 'embed.dialog.never'],
] as const;

const copyable = (label: string, value: string, rows: number): HTMLElement => {
  const id = uid('embed-code');
  const area = h('textarea', { id, class: 'embed-code', readonly: true, rows, spellcheck: 'false' });
  area.value = value;
  const said = h('span', { class: 'embed-copied', role: 'status' });
  const copy = h('button', { type: 'button' }, t('embed.dialog.copy'));
  copy.addEventListener('click', async () => {
    area.select();
    try {
      await navigator.clipboard.writeText(value);
      said.textContent = t('embed.dialog.copied');
    } catch {
      area.focus(); // selected: the person copies it by hand
    }
  });
  return h('div', { class: 'field' }, h('label', { for: id }, label), area, h('div', { class: 'embed-copy-row' }, copy, said));
};

export const embedDialog = (document_: string, subjectLabel: string): HTMLDialogElement => {
  const [ws] = document_.split('/');
  const server = location.origin;
  const originsId = uid('embed-origins');
  const expiresId = uid('embed-expires');
  const origins = h('textarea', { id: originsId, rows: 3, placeholder: 'https://www.museum.org', spellcheck: 'false' });
  const expires = h(
    'select',
    { id: expiresId },
    EXPIRIES.map(([value, key]) => h('option', { value, selected: value === '365d' }, t(key))),
  );
  const message = h('p', { class: 'form-message error', role: 'alert' });
  const make = h('button', { type: 'submit', class: 'primary' }, t('embed.dialog.make'));
  const result = h('div', { class: 'embed-result' });
  const form = h(
    'form',
    { class: 'form compact' },
    h('div', { class: 'field' }, h('label', { for: originsId }, t('embed.dialog.origins')), origins, h('p', { class: 'hint' }, t('embed.dialog.originsHelp'))),
    h('div', { class: 'field' }, h('label', { for: expiresId }, t('embed.dialog.expires')), expires),
    message,
    make,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.textContent = '';
    make.disabled = true;
    make.textContent = t('embed.dialog.making');
    const wanted = origins.value
      .split(/[\s,]+/)
      .map((o) => o.trim())
      .filter(Boolean);
    try {
      const made = await post<ShareCreated>(`/api/workspaces/${enc(ws!)}/shares`, {
        subject: document_.split('/').slice(1).join('/'),
        origins: wanted,
        expires: expires.value,
        label: subjectLabel,
      });
      form.hidden = true;
      showResult(made);
    } catch (error) {
      message.textContent = t('embed.dialog.failed', { detail: error instanceof ApiError ? error.detail : '' });
    } finally {
      make.disabled = false;
      make.textContent = t('embed.dialog.make');
    }
  });

  const showResult = (made: ShareCreated) => {
    const token = made.token;
    const lang = language();
    const element =
      `<script type="module" src="${server}/embed/sinopia-viewer.js"></script>\n` +
      `<sinopia-viewer server="${server}" document="${document_}" share="${token}" lang="${lang}"></sinopia-viewer>`;
    const page = `${server}/embed/${document_}?token=${encodeURIComponent(token)}`;
    const iframe = `<iframe src="${page}" width="800" height="600" title="${subjectLabel.replace(/"/g, '&quot;')}" loading="lazy" allow="fullscreen; clipboard-write" referrerpolicy="no-referrer" style="border:0;max-width:100%"></iframe>`;
    const preview = h('iframe', { class: 'embed-preview', src: `${page}&lang=${lang}`, title: t('embed.dialog.preview') });
    const revoked = h('p', { class: 'notice', role: 'status', hidden: true }, t('embed.dialog.revoked'));
    const revoke = h('button', { type: 'button', class: 'danger' }, t('embed.dialog.revoke'));
    revoke.addEventListener('click', async () => {
      revoke.disabled = true;
      try {
        await del(`/api/workspaces/${enc(ws!)}/shares/${enc(made.id)}`);
        revoked.hidden = false;
      } catch (error) {
        revoke.disabled = false;
        message.textContent = t('embed.dialog.failed', { detail: error instanceof ApiError ? error.detail : '' });
      }
    });
    result.replaceChildren(
      h('p', { class: 'hint' }, t('embed.dialog.once')),
      copyable(t('embed.dialog.snippet'), element, 4),
      copyable(t('embed.dialog.iframe'), iframe, 3),
      copyable(t('embed.dialog.link'), page, 2),
      h('h3', null, t('embed.dialog.preview')),
      preview,
      h('div', { class: 'embed-copy-row' }, revoke),
      revoked,
    );
  };

  const titleId = uid('embed-title');
  const dialog = h(
    'dialog',
    { class: 'dialog embed-dialog', 'aria-labelledby': titleId },
    h('h2', { id: titleId }, t('embed.dialog.title')),
    h('p', null, t(document_.split('/')[1] === 'model' ? 'embed.dialog.introModel' : 'embed.dialog.intro')),
    form,
    result,
    h('form', { method: 'dialog' }, h('button', { value: 'close' }, t('dialog.close'))),
  );
  dialog.addEventListener('close', () => dialog.remove());
  return dialog;
};
