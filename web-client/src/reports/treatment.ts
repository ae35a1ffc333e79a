// The treatment record's lists, bound live to the report document: dated steps with the
// methods used and the materials added or removed, analyses and samples, and images
// (before, during, after, general) chosen from the workspace's canvases as IIIF regions,
// as a damage entry's photographs are. Every name comes from the generated schema; each
// entry is one Map, matched by id, so two people editing different entries (or fields)
// both keep their work.
//
// Steps need the lead's approval of the proposal first (the model refuses them before):
// until then the page says so instead of offering a form the server would refuse.

import type * as Y from 'yjs';
import type { Agent } from '../binding/document';
import {
  addEntry,
  readAnalyses,
  readImages,
  readSteps,
  removeEntry,
  updateEntry,
  type AnalysisView,
  type ImageView,
  type ListName,
  type StepView,
} from '../binding/report';
import { ANALYSIS_FIELDS as AN, IMAGE_FIELDS as IM, REGION_PATTERN, REPORT_LIMITS, REPORT_LIST, STEP_FIELDS as S } from '../generated/schema';
import { t, type Key } from '../i18n';
import { h, replace, svg, uid } from '../ui/dom';
import type { SubjectInfo } from './damage';
import { label, valuesOf } from './labels';
import { personControl, type PersonOptions } from './people';

export interface RecordOptions {
  doc: Y.Doc;
  origin: object;
  editable: () => boolean;
  /** The report's type: steps belong to treatment records only. */
  type: () => string;
  proposalApproved: () => boolean;
  me: Agent;
  /** Canvases whose image and annotations have been loaded. */
  subjects: () => SubjectInfo[];
  /** The workspace's canvases, for the image picker. */
  canvases: () => { ref: string; label: string }[];
  people: PersonOptions;
  toast: (message: string, kind?: 'info' | 'error') => void;
  focus: (field: string | null) => void;
}

const REGION = new RegExp(`^(?:${REGION_PATTERN})$`);
const THUMB = 240;
/** A IIIF region as x, y, w, h in the image's pixels (null for the whole image). */
export const regionBox = (region: string, width?: number, height?: number): [number, number, number, number] | null => {
  if (region === 'full' || !REGION.test(region)) return null;
  if (region === 'square') {
    if (!width || !height) return null;
    const side = Math.min(width, height);
    return [(width - side) / 2, (height - side) / 2, side, side];
  }
  const pct = region.startsWith('pct:');
  const [x, y, w, h] = region.replace('pct:', '').split(',').map(Number) as [number, number, number, number];
  if (!pct) return [x, y, w, h];
  if (!width || !height) return null;
  return [(x * width) / 100, (y * height) / 100, (w * width) / 100, (h * height) / 100];
};

const today = (): string => new Date().toISOString().slice(0, 10);

type Input = HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;

interface Entry<T> {
  node: HTMLElement;
  update: (item: T, index: number) => void;
  context?: string;
  key?: string;
}

/** Show a value in a control unless the person is typing in it. */
const put = (el: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement, value: string): void => {
  if (document.activeElement !== el && el.value !== value) el.value = value;
};

/** One list of the record: its heading, its entries (one li each, keyed by id) and the
 * form that adds one (kept as it is while nothing it depends on changes, so a
 * colleague's edit does not reset what is being chosen in it). */
class Part {
  readonly heading: HTMLHeadingElement;
  readonly list: HTMLElement;
  readonly empty: HTMLElement;
  readonly adder = h('div', { class: 'record-adder' });
  readonly node: HTMLElement;
  adderKey = '';

  constructor(id: string, headingId: string, ordered: boolean, cls: string, emptyText: Key) {
    this.heading = h('h2', { id: headingId });
    this.list = ordered ? h('ol', { class: `record-entries ${cls}` }) : h('ul', { class: `record-entries ${cls}` });
    this.empty = h('p', { class: 'hint' }, t(emptyText));
    this.node = h('section', { class: 'report-section record-list', 'aria-labelledby': headingId, id }, this.heading, this.list, this.empty, this.adder);
  }

  private entries = new Map<string, Entry<never>>();

  /** Show `items`: an entry that is already shown (in the same `context`: editable, the
   * people and images known) is updated in place, each control but the one being typed
   * in, so nobody loses the focus or a word to a colleague's edit. */
  sync<T extends { id: string }>(items: T[], context: string, make: (item: T, index: number) => Entry<T>): void {
    const next = new Map<string, Entry<never>>();
    const wanted = items.map((item, index) => {
      const key = JSON.stringify([item, index]);
      let entry = this.entries.get(item.id) as Entry<T> | undefined;
      if (entry && entry.context !== context && !entry.node.contains(document.activeElement)) entry = undefined;
      if (!entry) {
        entry = make(item, index);
        entry.context = context;
        entry.key = key;
        entry.node.dataset.entry = item.id;
      } else if (entry.key !== key) {
        entry.key = key;
        entry.update(item, index);
      }
      next.set(item.id, entry as Entry<never>);
      return entry.node;
    });
    this.entries = next;
    // Entries that went first, then the rest in order: an element already in its place is
    // not moved (moving it would take the focus from the person typing in it).
    const keep = new Set<Element>(wanted);
    for (const el of Array.from(this.list.children)) if (!keep.has(el)) el.remove();
    wanted.forEach((el, i) => {
      if (this.list.children[i] !== el) this.list.insertBefore(el, this.list.children[i] ?? null);
    });
    this.list.hidden = !items.length;
    this.empty.hidden = Boolean(items.length);
  }

  /** Rebuild the adding form only when what it depends on changed. */
  form(key: string, make: () => HTMLElement | null): void {
    if (key === this.adderKey) return;
    this.adderKey = key;
    replace(this.adder, make());
  }
}

export class TreatmentRecord {
  readonly node: HTMLElement;
  private readonly steps = new Part('report-steps', 'sec-steps', true, 'steps', 'report.record.noSteps');
  private readonly analyses = new Part('report-analyses', 'sec-analyses', true, 'analyses', 'report.record.noAnalyses');
  private readonly images = new Part('report-images', 'sec-record-images', false, 'images', 'report.record.noImages');
  constructor(private readonly o: RecordOptions) {
    this.steps.heading.textContent = t('report.record.steps');
    this.analyses.heading.textContent = t('report.record.analyses');
    this.node = h('div', { class: 'treatment-record' }, this.steps.node, this.analyses.node, this.images.node);
  }

  show(): void {
    const editable = this.o.editable();
    const approved = this.o.proposalApproved();
    const treatment = this.o.type() === 'treatment';
    const context = JSON.stringify([editable, this.o.subjects().map((s) => [s.ref, s.service]), this.o.people.members().length]);
    this.steps.node.hidden = !treatment;
    if (treatment) {
      const steps = readSteps(this.o.doc);
      this.steps.sync(steps, context, (s, i) => this.step(s, i));
      this.steps.form(JSON.stringify([editable, approved, steps.length >= REPORT_LIMITS.MAX_STEPS]), () =>
        !approved ? h('p', { class: 'notice', role: 'note' }, t('report.record.stepsAfterApproval')) : editable ? this.stepAdder(steps.length) : null,
      );
    }
    const analyses = readAnalyses(this.o.doc);
    this.analyses.sync(analyses, context, (a, i) => this.analysis(a, i));
    this.analyses.form(JSON.stringify([editable, analyses.length >= REPORT_LIMITS.MAX_ANALYSES]), () => (editable ? this.analysisAdder(analyses.length) : null));
    const images = readImages(this.o.doc);
    this.images.heading.textContent = t(treatment ? 'report.record.imagesTreatment' : 'report.record.images');
    this.images.sync(images, context, (im) => this.image(im));
    this.images.form(JSON.stringify([editable, this.o.canvases(), images.length >= REPORT_LIMITS.MAX_IMAGES]), () => (editable ? this.imageAdder(images.length) : null));
  }

  // ---------------------------------------------------------------- shared controls

  /** Read only unless editable; presence while in it; `slot`: which control of its entry
   * this is (`data-slot`, for the stylesheet and the tests). */
  private bind<T extends Input>(el: T, field: string, slot: string): T {
    el.dataset.slot = slot;
    const editable = this.o.editable();
    if (el instanceof HTMLSelectElement) el.disabled = !editable;
    else el.readOnly = !editable;
    el.addEventListener('focus', () => this.o.focus(field));
    el.addEventListener('blur', () => this.o.focus(null));
    return el;
  }

  /** Write after a pause in typing (and at once when the field is left). */
  private later(el: HTMLInputElement | HTMLTextAreaElement, write: () => void): void {
    let timer: ReturnType<typeof setTimeout> | null = null;
    el.addEventListener('input', () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(write, 400);
    });
    el.addEventListener('change', () => {
      if (timer) clearTimeout(timer);
      write();
    });
  }

  private field(text: Key, control: HTMLElement, error?: HTMLElement, wide = false): HTMLElement {
    return h('div', { class: wide ? 'field wide' : 'field' }, h('label', { for: control.id }, t(text)), control, error ?? null);
  }

  private vocab(vocabulary: 'image-role' | 'lighting' | 'analysis-kind', value: string, onChange: (v: string) => void): HTMLSelectElement {
    const select = h('select', { id: uid(vocabulary) }, valuesOf(vocabulary).map((v) => h('option', { value: v, selected: v === value }, label(vocabulary, v))));
    select.value = value;
    select.addEventListener('change', () => onChange(select.value));
    return select;
  }

  private update(list: ListName, id: string, patch: Record<string, unknown>, keep: readonly string[] = []): void {
    if (this.o.editable()) updateEntry(this.o.doc, list, id, patch, this.o.origin, keep);
  }

  private removeButton(list: ListName, id: string, what: string): HTMLElement | null {
    if (!this.o.editable()) return null;
    return h(
      'p',
      { class: 'actions' },
      h(
        'button',
        {
          type: 'button',
          class: 'quiet danger',
          onclick: () => {
            if (confirm(t('report.record.removeConfirm', { what }))) removeEntry(this.o.doc, list, id, this.o.origin);
          },
        },
        t('report.record.remove'),
      ),
    );
  }

  /** Methods or materials: a short list of names, added one at a time, removed by ×. */
  private items(title: Key, first: string[], write: (next: string[]) => void, field: string): { node: HTMLElement; update: (values: string[]) => void } {
    const editable = this.o.editable();
    let values = first;
    const id = uid('item');
    const input = this.bind(h('input', { id, maxlength: REPORT_LIMITS.SHORT, autocomplete: 'off' }), field, `items-${title}`);
    const add = () => {
      const value = input.value.trim();
      if (!value) return;
      if (values.length >= REPORT_LIMITS.MAX_STEP_ITEMS) {
        this.o.toast(t('report.record.tooMany', { n: REPORT_LIMITS.MAX_STEP_ITEMS }), 'error');
        return;
      }
      if (!values.includes(value)) write([...values, value]);
      input.value = '';
    };
    input.addEventListener('keydown', (e: KeyboardEvent) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        add();
      }
    });
    const heading = t(title);
    const chips = h('div', { class: 'chip-slot' });
    const update = (next: string[]) => {
      values = next;
      replace(
        chips,
        values.length
          ? h(
              'ul',
              { class: 'chips', 'aria-label': heading },
              values.map((v) =>
                h(
                  'li',
                  { class: 'chip' },
                  h('span', null, v),
                  editable
                    ? h('button', { type: 'button', class: 'chip-remove', 'aria-label': t('report.record.removeItem', { item: v, list: heading }), onclick: () => write(values.filter((x) => x !== v)) }, '×')
                    : null,
                ),
              ),
            )
          : h('p', { class: 'hint' }, t('report.record.noItems')),
      );
    };
    update(values);
    const node = h(
      'div',
      { class: 'field wide step-items' },
      h('span', { class: 'label' }, heading),
      chips,
      editable
        ? h(
            'div',
            { class: 'inline-form' },
            h('label', { for: id, class: 'visually-hidden' }, t('report.record.addTo', { list: heading })),
            input,
            h('button', { type: 'button', 'aria-label': t('report.record.addTo', { list: heading }), onclick: add }, t('report.record.add')),
          )
        : null,
    );
    return { node, update };
  }

  // ---------------------------------------------------------------- steps

  private step(s: StepView, index: number): Entry<StepView> {
    const list = REPORT_LIST.STEPS;
    const field = `steps.${s.id}`;
    const date = this.bind(h('input', { id: uid('step-date'), type: 'date', value: s.date, required: true }), field, 'date');
    const dateError = h('span', { class: 'field-error', role: 'alert' });
    date.addEventListener('change', () => {
      dateError.textContent = '';
      // A step has a date: an empty or impossible one is not written (the model refuses it).
      if (!date.value || !date.checkValidity()) {
        dateError.textContent = t('report.record.dateNeeded');
        return;
      }
      this.update(list, s.id, { [S.DATE]: date.value });
    });
    const description = this.bind(h('textarea', { id: uid('step-text'), rows: 2, maxlength: REPORT_LIMITS.NOTE }), field, 'description');
    description.value = s.description;
    this.later(description, () => this.update(list, s.id, { [S.DESCRIPTION]: description.value }, [S.DESCRIPTION]));
    const by = personControl(this.o.people, {
      label: 'report.record.by',
      value: s.by,
      editable: this.o.editable(),
      write: (agent) => this.update(list, s.id, { [S.BY]: agent }),
      focus: (on) => this.o.focus(on ? field : null),
    });
    const items = (key: string, title: Key, values: string[]) => this.items(title, values, (next) => this.update(list, s.id, { [key]: next }), field);
    const methods = items(S.METHODS, 'report.record.methods', s.methods);
    const added = items(S.MATERIALS_ADDED, 'report.record.materialsAdded', s.materials_added);
    const removed = items(S.MATERIALS_REMOVED, 'report.record.materialsRemoved', s.materials_removed);
    const title = h('h3', { class: 'entry-title' });
    const update = (v: StepView, i: number) => {
      title.textContent = t('report.record.stepN', { n: i + 1 }) + (v.date ? ` · ${v.date}` : '');
      put(date, v.date);
      put(description, v.description);
      by.show(v.by, this.o.editable());
      methods.update(v.methods);
      added.update(v.materials_added);
      removed.update(v.materials_removed);
    };
    update(s, index);
    const node = h(
      'li',
      { class: 'record-entry step' },
      title,
      h('div', { class: 'entry-grid' }, this.field('report.record.date', date, dateError), by.node),
      this.field('report.record.description', description, undefined, true),
      methods.node,
      added.node,
      removed.node,
      this.removeButton(list, s.id, t('report.record.stepN', { n: index + 1 })),
    );
    return { node, update };
  }

  private stepAdder(count: number): HTMLElement {
    const date = h('input', { id: uid('new-step-date'), type: 'date', value: today(), required: true });
    const description = h('textarea', { id: uid('new-step-text'), rows: 2, maxlength: REPORT_LIMITS.NOTE });
    const error = h('span', { class: 'field-error', role: 'alert' });
    const add = () => {
      error.textContent = '';
      if (!date.value || !date.checkValidity()) {
        error.textContent = t('report.record.dateNeeded');
        date.focus();
        return;
      }
      addEntry(
        this.o.doc,
        REPORT_LIST.STEPS,
        { [S.DATE]: date.value, [S.DESCRIPTION]: description.value, [S.BY]: { type: 'Person', ...this.o.me } },
        this.o.origin,
      );
      description.value = '';
    };
    return h(
      'div',
      { class: 'record-add' },
      h('h3', null, t('report.record.newStep')),
      h('div', { class: 'entry-grid' }, this.field('report.record.date', date, error), this.field('report.record.description', description, undefined, true)),
      h('p', { class: 'actions' }, h('button', { type: 'button', class: 'primary', disabled: count >= REPORT_LIMITS.MAX_STEPS, onclick: add }, t('report.record.addStep'))),
    );
  }

  // ---------------------------------------------------------------- analyses and samples

  private analysisAdder(count: number): HTMLElement {
    let kind = 'analysis';
    const kindSelect = this.vocab('analysis-kind', kind, (v) => (kind = v));
    return h(
      'div',
      { class: 'inline-form record-add' },
      this.field('report.record.kind', kindSelect),
      h(
        'button',
        {
          type: 'button',
          disabled: count >= REPORT_LIMITS.MAX_ANALYSES,
          onclick: () => addEntry(this.o.doc, REPORT_LIST.ANALYSES, { [AN.KIND]: kind, [AN.DATE]: today(), [AN.BY]: { type: 'Person', ...this.o.me } }, this.o.origin),
        },
        t('report.record.addAnalysis'),
      ),
    );
  }

  private analysis(a: AnalysisView, index: number): Entry<AnalysisView> {
    const list = REPORT_LIST.ANALYSES;
    const field = `analyses.${a.id}`;
    const kind = this.bind(this.vocab('analysis-kind', a.kind, (v) => this.update(list, a.id, { [AN.KIND]: v })), field, 'kind');
    const date = this.bind(h('input', { id: uid('an-date'), type: 'date', value: a.date }), field, 'date');
    date.addEventListener('change', () => date.checkValidity() && this.update(list, a.id, { [AN.DATE]: date.value }));
    const text = (key: string, max: number, area = false) => {
      const el = this.bind(area ? h('textarea', { id: uid('an'), rows: 2, maxlength: max }) : h('input', { id: uid('an'), maxlength: max, autocomplete: 'off' }), field, key);
      this.later(el, () => this.update(list, a.id, { [key]: el.value }));
      return el;
    };
    const method = text(AN.METHOD, REPORT_LIMITS.SHORT);
    const location = text(AN.LOCATION, REPORT_LIMITS.SHORT);
    const sample = text(AN.SAMPLE, 200);
    const result = text(AN.RESULT, REPORT_LIMITS.NOTE, true);
    const title = h('h3', { class: 'entry-title' });
    const update = (v: AnalysisView, i: number) => {
      title.textContent = `${i + 1}. ${label('analysis-kind', v.kind)}${v.method ? ` · ${v.method}` : ''}`;
      put(kind, v.kind);
      put(date, v.date);
      put(method, v.method);
      put(location, v.location);
      put(sample, v.sample);
      put(result, v.result);
    };
    update(a, index);
    const node = h(
      'li',
      { class: 'record-entry analysis' },
      title,
      h(
        'div',
        { class: 'entry-grid' },
        this.field('report.record.kind', kind),
        this.field('report.record.date', date),
        this.field('report.record.method', method),
        this.field('report.record.where', location),
        this.field('report.record.sample', sample),
      ),
      this.field('report.record.result', result, undefined, true),
      this.removeButton(list, a.id, `${index + 1}. ${label('analysis-kind', a.kind)}`),
    );
    return { node, update };
  }

  // ---------------------------------------------------------------- images

  private subjectLabel(ref: string | undefined): string {
    if (!ref) return '';
    return this.o.subjects().find((s) => s.ref === ref)?.label ?? this.o.canvases().find((c) => c.ref === ref)?.label ?? ref;
  }

  /** The whole picture, small, with the region outlined on it: a level 0 image service
   * (a museum's static tiles) cannot crop, and the outline shows where the detail is. */
  private thumb(image: ImageView): HTMLElement {
    const subject = this.o.subjects().find((s) => s.ref === image.subject);
    const service = image.service ?? subject?.service;
    const alt = t('report.record.imageAlt', { role: label('image-role', image.role), subject: this.subjectLabel(image.subject) || image.service || '' });
    if (!service) return h('span', { class: 'thumb thumb-none' }, t('subjects.noImage'));
    const img = h('img', { class: 'record-thumb', alt, loading: 'lazy', src: `${service.replace(/\/$/, '')}/full/!${THUMB},${THUMB}/0/default.jpg` });
    img.addEventListener('error', () => img.replaceWith(h('span', { class: 'thumb thumb-none' }, t('subjects.noImage'))), { once: true });
    const frame = h('div', { class: 'thumb-frame' }, img);
    const box = regionBox(image.region, subject?.width, subject?.height);
    if (box && subject?.width && subject.height) {
      const outline = svg('svg', { class: 'thumb-region', viewBox: `0 0 ${subject.width} ${subject.height}`, preserveAspectRatio: 'none', 'aria-hidden': 'true' });
      outline.append(svg('rect', { x: box[0], y: box[1], width: box[2], height: box[3], class: 'region-outline' }));
      frame.append(outline);
    }
    return frame;
  }

  private regionInput(value: string, write: (region: string) => void, field: string): { input: HTMLInputElement; error: HTMLElement } {
    const input = this.bind(h('input', { id: uid('region'), value, maxlength: 100, autocomplete: 'off', spellcheck: 'false' }), field, 'region');
    const error = h('span', { class: 'field-error', role: 'alert' });
    input.addEventListener('change', () => {
      error.textContent = '';
      input.removeAttribute('aria-invalid');
      const region = input.value.trim() || 'full';
      if (!REGION.test(region)) {
        error.textContent = t('report.record.badRegion');
        input.setAttribute('aria-invalid', 'true');
        return;
      }
      write(region);
    });
    return { input, error };
  }

  private image(im: ImageView): Entry<ImageView> {
    const list = REPORT_LIST.IMAGES;
    const field = `images.${im.id}`;
    const role = this.bind(this.vocab('image-role', im.role, (v) => this.update(list, im.id, { [IM.ROLE]: v })), field, 'role');
    const lighting = this.bind(this.vocab('lighting', im.lighting, (v) => this.update(list, im.id, { [IM.LIGHTING]: v })), field, 'lighting');
    const region = this.regionInput(im.region, (v) => this.update(list, im.id, { [IM.REGION]: v }), field);
    const caption = this.bind(h('input', { id: uid('caption'), maxlength: REPORT_LIMITS.SHORT, autocomplete: 'off' }), field, 'caption');
    this.later(caption, () => this.update(list, im.id, { [IM.CAPTION]: caption.value }));
    const figure = h('figure');
    const node = h(
      'li',
      { class: 'record-entry image' },
      figure,
      h(
        'div',
        { class: 'entry-grid' },
        this.field('report.record.role', role),
        this.field('report.damage.lighting', lighting),
        this.field('report.record.region', region.input, region.error),
        this.field('report.record.caption', caption),
      ),
      this.removeButton(list, im.id, `${label('image-role', im.role)} · ${this.subjectLabel(im.subject)}`),
    );
    let shown = '';
    const update = (v: ImageView) => {
      node.className = `record-entry image role-${v.role}`;
      const picture = JSON.stringify([v.subject, v.service, v.region, v.role]);
      if (picture !== shown) {
        shown = picture;
        replace(figure, this.thumb(v), h('figcaption', null, h('strong', { class: 'image-role' }, label('image-role', v.role)), ' · ', this.subjectLabel(v.subject) || v.service || ''));
      }
      put(role, v.role);
      put(lighting, v.lighting);
      put(region.input, v.region);
      put(caption, v.caption);
    };
    update(im);
    return { node, update };
  }

  private imageAdder(count: number): HTMLElement {
    const canvases = this.o.canvases();
    if (!canvases.length) return h('p', { class: 'hint' }, t('report.damage.noSubjects'));
    const subject = h('select', { id: uid('image-subject') }, canvases.map((c) => h('option', { value: c.ref }, c.label)));
    let role = 'before';
    let lighting = 'normal';
    const roleSelect = this.vocab('image-role', role, (v) => (role = v));
    const lightSelect = this.vocab('lighting', lighting, (v) => (lighting = v));
    const region = h('input', { id: uid('new-region'), value: 'full', maxlength: 100, autocomplete: 'off', spellcheck: 'false' });
    const error = h('span', { class: 'field-error', role: 'alert' });
    const add = () => {
      error.textContent = '';
      const r = region.value.trim() || 'full';
      if (!REGION.test(r)) {
        error.textContent = t('report.record.badRegion');
        region.focus();
        return;
      }
      addEntry(this.o.doc, REPORT_LIST.IMAGES, { [IM.SUBJECT]: subject.value, [IM.REGION]: r, [IM.LIGHTING]: lighting, [IM.ROLE]: role, [IM.CAPTION]: '' }, this.o.origin);
    };
    return h(
      'div',
      { class: 'record-add' },
      h('h3', null, t('report.record.newImage')),
      h(
        'div',
        { class: 'entry-grid' },
        this.field('report.damage.photoOf', subject),
        this.field('report.record.role', roleSelect),
        this.field('report.damage.lighting', lightSelect),
        h('div', { class: 'field' }, h('label', { for: region.id }, t('report.record.region')), region, h('span', { class: 'hint' }, t('report.record.regionHint')), error),
      ),
      h('p', { class: 'actions' }, h('button', { type: 'button', disabled: count >= REPORT_LIMITS.MAX_IMAGES, onclick: add }, t('report.record.addImage'))),
    );
  }
}
