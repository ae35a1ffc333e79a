// Form controls bound to report fields: each shows the live value (unless the person is
// typing in it), checks what is typed against what the report model accepts, and writes
// it to the document only then — an invalid value would be refused by the server.

import type * as Y from 'yjs';
import type { Agent } from '../binding/document';
import { setField, setPart, type ReportView } from '../binding/report';
import { bindTextarea, type TextBinding } from '../binding/text';
import { textOf, type TextName } from '../binding/report';
import { REPORT_LIMITS } from '../generated/schema';
import { t, type Key } from '../i18n';
import { h, uid } from '../ui/dom';
import { label, valuesOf, type Vocabulary } from './labels';
import { personOf, shownName, type PersonOptions } from './people';

export interface FormContext {
  doc: Y.Doc;
  origin: object;
  editable: () => boolean;
  toast: (message: string, kind?: 'info' | 'error') => void;
  /** The person moved into (or out of, with null) a field: published as presence. */
  focus: (field: string | null) => void;
}

export interface Control {
  /** The presence name of the field (`object.title`, `summary`). */
  name: string;
  node: HTMLElement;
  /** Show the document's value (skipped while the person is typing in it). */
  show(view: ReportView): void;
  /** Mark who else is in this field. */
  others(names: { name: string; color: string }[]): void;
  destroy(): void;
}

type Input = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

const get = (view: ReportView, key: string, part?: string): unknown => {
  const value = view.fields[key];
  if (part === undefined) return value;
  return value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
};

const wrap = (ctx: FormContext, name: string, input: Input, text: string, hint?: string): { node: HTMLElement; marks: HTMLElement; error: HTMLElement } => {
  const id = input.id || uid('f');
  input.id = id;
  const marks = h('span', { class: 'editing-marks', 'aria-live': 'polite' });
  const error = h('span', { class: 'field-error', id: `${id}-error`, role: 'alert' });
  const hintEl = hint ? h('span', { class: 'hint', id: `${id}-hint` }, hint) : null;
  if (hintEl) input.setAttribute('aria-describedby', `${id}-hint`);
  input.addEventListener('focus', () => ctx.focus(name));
  input.addEventListener('blur', () => ctx.focus(null));
  return { node: h('div', { class: 'field', 'data-field': name }, h('label', { for: id }, text, marks), input, hintEl, error), marks, error };
};

const showMarks = (marks: HTMLElement, names: { name: string; color: string }[]) => {
  marks.replaceChildren(
    ...names.map((p) => {
      const chip = h('span', { class: 'editing-mark' }, p.name);
      chip.style.borderColor = p.color;
      return chip;
    }),
  );
};

const setEditable = (input: Input, editable: boolean) => {
  if (input instanceof HTMLSelectElement) input.disabled = !editable;
  else input.readOnly = !editable;
};

export interface FieldSpec {
  key: string;
  part?: string;
  label: Key;
  hint?: Key;
  // People (checker, recorder, ...) have their own control: people.ts.
  kind?: 'text' | 'date' | 'number' | 'textarea' | 'list';
  max?: number;
  min?: number;
  maxValue?: number;
  step?: string;
  /** A value the object needs first (object members need its identifier). */
  needs?: { key: string; part: string; message: Key };
  vocabulary?: Vocabulary;
  /** Options of a vocabulary with an empty choice ("not given"). */
  optional?: boolean;
  /** A list of people (the conservators): members' names are stored as their ids. */
  people?: PersonOptions;
}

/** A control for one plain field (or one member of an object field). */
export const fieldControl = (ctx: FormContext, spec: FieldSpec): Control => {
  const name = spec.part ? `${spec.key}.${spec.part}` : spec.key;
  const kind = spec.kind ?? 'text';
  let input: Input;
  if (spec.vocabulary) {
    input = h(
      'select',
      null,
      spec.optional ? h('option', { value: '' }, t('report.notGiven')) : null,
      valuesOf(spec.vocabulary).map((v) => h('option', { value: v }, label(spec.vocabulary!, v))),
    );
  } else if (kind === 'textarea') {
    input = h('textarea', { rows: 3, maxlength: spec.max ?? REPORT_LIMITS.NOTE });
  } else {
    input = h('input', {
      type: kind === 'date' ? 'date' : kind === 'number' ? 'number' : 'text',
      maxlength: kind === 'text' || kind === 'list' ? (spec.max ?? REPORT_LIMITS.SHORT) : null,
      min: spec.min ?? null,
      max: spec.maxValue ?? null,
      step: spec.step ?? (kind === 'number' ? 'any' : null),
      autocomplete: 'off',
    });
  }
  const { node, marks, error } = wrap(ctx, name, input, t(spec.label), spec.hint ? t(spec.hint) : undefined);
  let view: ReportView | null = null;

  const fromDoc = (v: ReportView): string => {
    const value = get(v, spec.key, spec.part);
    if (value === undefined || value === null) return '';
    if (kind === 'list')
      return Array.isArray(value)
        ? value.map((x) => (typeof x === 'string' ? x : spec.people ? shownName(spec.people, x as Agent) : (x as Agent).name ?? '')).join('; ')
        : '';
    return String(value);
  };

  const toDoc = (text: string): unknown => {
    const trimmed = text.trim();
    if (!trimmed) return undefined;
    if (kind === 'number') return Number(trimmed);
    if (kind === 'list') {
      const items = trimmed.split(';').map((s) => s.trim()).filter(Boolean);
      if (!spec.people) return items;
      // Each name a member's (stored by id) or someone's from outside; unchanged names
      // keep what they were.
      const people = spec.people;
      const before = view ? ((get(view, spec.key, spec.part) as Agent[] | undefined) ?? []) : [];
      return items.map((n) => personOf(people, n, before.find((a) => a && typeof a === 'object' && shownName(people, a) === n)));
    }
    return kind === 'text' || kind === 'textarea' ? text : trimmed;
  };

  const write = () => {
    if (!view || !ctx.editable()) return;
    error.textContent = '';
    input.removeAttribute('aria-invalid');
    if (!input.checkValidity()) {
      error.textContent = input.validationMessage;
      input.setAttribute('aria-invalid', 'true');
      return;
    }
    if (spec.needs && !String(get(view, spec.needs.key, spec.needs.part) ?? '').trim() && input.value.trim()) {
      error.textContent = t(spec.needs.message);
      input.setAttribute('aria-invalid', 'true');
      return;
    }
    const value = toDoc(input.value);
    if (spec.part) setPart(ctx.doc, spec.key, spec.part, value, ctx.origin);
    else setField(ctx.doc, spec.key, value, ctx.origin);
  };
  let timer: ReturnType<typeof setTimeout> | null = null;
  input.addEventListener(input instanceof HTMLSelectElement ? 'change' : 'input', () => {
    if (timer) clearTimeout(timer);
    // Colleagues see the words arrive, but one write per pause, not per keystroke.
    timer = setTimeout(write, input instanceof HTMLSelectElement ? 0 : 400);
  });
  input.addEventListener('change', () => {
    if (timer) clearTimeout(timer);
    write();
  });
  return {
    name,
    node,
    show(v) {
      view = v;
      setEditable(input, ctx.editable());
      if (document.activeElement === input && ctx.editable()) return;
      const value = fromDoc(v);
      if (input.value !== value) input.value = value;
    },
    others: (names) => showMarks(marks, names),
    destroy: () => timer && clearTimeout(timer),
  };
};

/** A co-written text (Y.Text): two people typing in it merge, as comments on canvases. */
export const textControl = (ctx: FormContext, name: TextName, text: Key, hint?: Key): Control => {
  const area = h('textarea', { rows: 5, class: 'report-text' });
  const { node, marks } = wrap(ctx, name, area, t(text), hint ? t(hint) : undefined);
  const binding: TextBinding = bindTextarea(area, textOf(ctx.doc, name), ctx.origin, {
    limit: REPORT_LIMITS.MAX_TEXT_BYTES,
    onTooLong: () => ctx.toast(t('report.tooLong', { kb: REPORT_LIMITS.MAX_TEXT_BYTES / 1024 }), 'error'),
  });
  // A locked report (or a viewer) reads; the binding keeps showing colleagues' edits.
  area.addEventListener('beforeinput', (e) => {
    if (!ctx.editable()) e.preventDefault();
  });
  return {
    name,
    node,
    show: () => {
      area.readOnly = !ctx.editable();
    },
    others: (names) => showMarks(marks, names),
    destroy: () => binding.destroy(),
  };
};
