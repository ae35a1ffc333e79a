// The tag picker: free tags, the workspace's tag list, and (later) controlled vocabularies
// such as the damage types of condition reports, which plug in as another TagSource.

import type { NewBody } from '../binding/document';
import { t } from '../i18n';
import { h, uid } from '../ui/dom';

export interface TagOption {
  label: string;
  color?: string;
  /** A vocabulary term: stored as a SpecificResource body with this source. */
  source?: { id: string; label: string };
}

export interface TagSource {
  name: string; // shown as the group's heading
  options(): TagOption[];
}

/** The body a chosen tag is stored as (purpose tagging). */
export const tagBody = (option: TagOption, language: string): NewBody =>
  option.source
    ? { kind: 'resource', source: { ...option.source }, purpose: 'tagging' }
    : { kind: 'text', value: option.label, purpose: 'tagging', language };

export const tagPicker = (sources: TagSource[], onPick: (option: TagOption) => void): HTMLElement => {
  const inputId = uid('tag-input');
  const listId = uid('tag-options');
  const input = h('input', { id: inputId, list: listId, autocomplete: 'off', maxlength: 64 });
  const datalist = h('datalist', { id: listId });
  const refresh = () => {
    datalist.replaceChildren(
      ...sources.flatMap((s) => s.options().map((o) => h('option', { value: o.label, label: `${o.label} · ${s.name}` }))),
    );
  };
  const pick = () => {
    const label = input.value.trim();
    if (!label) return;
    const known = sources.flatMap((s) => s.options()).find((o) => o.label.toLowerCase() === label.toLowerCase());
    onPick(known ?? { label });
    input.value = '';
  };
  input.addEventListener('focus', refresh);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      pick();
    }
  });
  refresh();
  return h(
    'div',
    { class: 'tag-picker' },
    h('label', { for: inputId }, t('canvas.tags.add')),
    h('div', { class: 'inline-form' }, input, datalist, h('button', { type: 'button', onclick: pick }, t('canvas.tags.addButton'))),
  );
};
