// The damage list beside the images of the subjects it links to. Each entry: the term
// (from the workspace's damage vocabulary, labelled in the UI language), where, extent
// and unit, severity, active or stable, a note, the annotations that show it, and
// photographs with the light they were taken in. An entry and its regions highlight each
// other: pointing at an entry lights its regions on the images, choosing a region opens
// its entry; "open on the canvas" shows the annotation on its canvas page.

import type * as Y from 'yjs';
import { enc, get } from '../api/http';
import {
  addDamage,
  linkAnnotation,
  newId,
  removeDamage,
  unlinkAnnotation,
  updateDamage,
  type DamageView,
  type Link,
  type Photo,
  type ReportView,
} from '../binding/report';
import { targetShape } from '../binding/selectors';
import { shapePath } from '../binding/shapes';
import { REPORT_LIMITS } from '../generated/schema';
import { t, tn } from '../i18n';
import { h, replace, svg, uid } from '../ui/dom';
import { subjectPath } from '../app/routes';
import { label, termLabel, valuesOf, type DamageTerm } from './labels';

export interface SubjectInfo {
  ref: string; // canvas/<id>
  label: string;
  service?: string;
  width?: number;
  height?: number;
  iiifId?: string;
  annotations: { id: string; text: string; target: unknown }[];
}

const IMAGE = 900;

/** A subject's image and annotations, from its state (one request). */
export const loadSubject = async (ws: string, ref: string): Promise<SubjectInfo> => {
  const [kind, id] = ref.split('/') as [string, string];
  const state = await get<{ content?: { meta?: Record<string, unknown>; annotations?: Record<string, Record<string, unknown>> } }>(
    `/api/history/${enc(ws)}/${enc(kind)}/${enc(id)}/state`,
  );
  const meta = state.content?.meta ?? {};
  const service = meta.image_service as { id?: unknown } | string | undefined;
  const info: SubjectInfo = { ref, label: typeof meta.label === 'string' && meta.label ? meta.label : id, annotations: [] };
  const serviceId = typeof service === 'string' ? service : typeof service?.id === 'string' ? service.id : undefined;
  if (serviceId) info.service = serviceId;
  if (typeof meta.width === 'number') info.width = meta.width;
  if (typeof meta.height === 'number') info.height = meta.height;
  if (typeof meta.iiif_id === 'string') info.iiifId = meta.iiif_id;
  for (const [aid, a] of Object.entries(state.content?.annotations ?? {})) {
    if (a.motivation === 'replying') continue;
    const bodies = Array.isArray(a.body) ? (a.body as Record<string, unknown>[]) : [];
    const text = bodies.map((b) => (typeof b.value === 'string' ? b.value : '')).find((v) => v.trim()) ?? '';
    info.annotations.push({ id: aid, text, target: a.target });
  }
  return info;
};

export interface DamageOptions {
  ws: string;
  doc: Y.Doc;
  origin: object;
  editable: () => boolean;
  terms: () => DamageTerm[];
  subjects: () => SubjectInfo[];
  /** Subjects of the workspace that could be added to the object. */
  toast: (message: string, kind?: 'info' | 'error') => void;
  onSelect: (id: string | null) => void;
  focus: (field: string | null) => void;
}

const annotationText = (subject: SubjectInfo, annotation: string): string => {
  const a = subject.annotations.find((x) => x.id === annotation);
  return a?.text.trim() ? a.text.trim().slice(0, 60) : annotation.slice(0, 10);
};

const annotationLabel = (subjects: SubjectInfo[], link: Link): string => {
  const subject = subjects.find((s) => s.ref === link.subject);
  const a = subject?.annotations.find((x) => x.id === link.annotation);
  const text = a?.text.trim() ? a.text.trim().slice(0, 60) : link.annotation.slice(0, 10);
  return `${subject?.label ?? link.subject}: ${text}`;
};

export class DamageList {
  readonly node: HTMLElement;
  private readonly images: HTMLElement;
  private readonly list: HTMLOListElement;
  private readonly adder: HTMLElement;
  private view: ReportView | null = null;
  private selected: string | null = null;
  private hovered: string | null = null;
  private others = new Map<string, { name: string; color: string }[]>();

  constructor(private readonly o: DamageOptions) {
    this.images = h('div', { class: 'damage-images', 'aria-label': t('report.damage.images'), role: 'group' });
    this.list = h('ol', { class: 'damage-list', 'aria-labelledby': 'damage-title' });
    this.adder = h('div', { class: 'damage-add' });
    // What arrived while the person typed in an entry is drawn once they leave it.
    this.list.addEventListener('focusout', () =>
      setTimeout(() => {
        if (this.stale && this.view && !this.typingIn()) {
          this.drawn = '';
          this.show(this.view);
        }
      }, 0),
    );
    this.node = h(
      'section',
      { class: 'report-damage', 'aria-labelledby': 'damage-title' },
      h('h2', { id: 'damage-title' }, t('report.damage.title')),
      h('div', { class: 'damage-body' }, this.images, h('div', { class: 'damage-entries' }, this.list, this.adder)),
    );
  }

  private drawn = '';
  private stale = false;

  /** The entry whose text field has the caret (kept as it is while the person types). */
  private typingIn(): string | undefined {
    const active = document.activeElement;
    const typing = active instanceof HTMLTextAreaElement || (active instanceof HTMLInputElement && active.type !== 'checkbox');
    return typing && this.list.contains(active) ? (active.closest('li') as HTMLLIElement | null)?.dataset.damage : undefined;
  }

  show(view: ReportView): void {
    this.view = view;
    // Redrawn only when the entries, what may be done or the images changed (a colleague
    // typing in the summary changes none of them).
    const key = JSON.stringify([view.damage, this.o.editable(), this.o.subjects().map((s) => s.ref), this.o.terms().length]);
    if (key === this.drawn) return;
    this.drawn = key;
    const typingIn = this.typingIn();
    this.stale = Boolean(typingIn);
    // The entry being typed in keeps its controls (and the caret); the rest are redrawn.
    const kept = typingIn ? this.list.querySelector(`li[data-damage="${CSS.escape(typingIn)}"]`) : null;
    const items = view.damage.map((d, i) => (kept && d.id === typingIn ? (kept as HTMLLIElement) : this.entry(d, i)));
    replace(this.list, items);
    if (!view.damage.length) this.list.append(h('li', { class: 'hint empty' }, t('report.damage.none')));
    this.drawAdder();
    this.drawImages();
  }

  /** Who else has each entry selected (presence). */
  setOthers(map: Map<string, { name: string; color: string }[]>): void {
    this.others = map;
    for (const li of this.list.querySelectorAll<HTMLLIElement>('li[data-damage]')) this.drawMarks(li);
  }

  private drawMarks(li: HTMLLIElement): void {
    const marks = li.querySelector('.editing-marks');
    if (!marks) return;
    marks.replaceChildren(
      ...(this.others.get(li.dataset.damage ?? '') ?? []).map((p) => {
        const chip = h('span', { class: 'editing-mark' }, p.name);
        chip.style.borderColor = p.color;
        return chip;
      }),
    );
  }

  select(id: string | null, scroll = false): void {
    this.selected = id;
    for (const li of this.list.querySelectorAll<HTMLLIElement>('li[data-damage]')) {
      const on = li.dataset.damage === id;
      li.classList.toggle('selected', on);
      li.querySelector('.damage-pick')?.setAttribute('aria-pressed', on ? 'true' : 'false');
      if (on && scroll) li.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    }
    this.highlight();
  }

  private highlight(): void {
    const lit = new Set([this.selected, this.hovered].filter((x): x is string => Boolean(x)));
    for (const shape of this.images.querySelectorAll<SVGElement>('[data-damage]')) {
      shape.classList.toggle('lit', lit.has(shape.dataset.damage ?? ''));
    }
  }

  private pick(id: string | null): void {
    this.o.onSelect(id);
    this.select(id, true);
  }

  // ---------------------------------------------------------------- images

  /** The subjects shown: the object's and those the entries link to or photograph. */
  private drawImages(): void {
    const view = this.view;
    if (!view) return;
    const subjects = this.o.subjects();
    if (!subjects.length) {
      replace(this.images, h('p', { class: 'hint' }, t('report.damage.noImages')));
      return;
    }
    replace(
      this.images,
      subjects.map((s) => {
        const w = s.width ?? 1000;
        const hgt = s.height ?? 1000;
        const overlay = svg('svg', { viewBox: `0 0 ${w} ${hgt}`, class: 'regions', 'aria-hidden': 'true', preserveAspectRatio: 'none' });
        view.damage.forEach((d, i) => {
          for (const link of d.annotations.filter((l) => l.subject === s.ref)) {
            const a = s.annotations.find((x) => x.id === link.annotation);
            const shape = a ? targetShape(a.target, { id: s.iiifId ?? '', width: w, height: hgt }) : null;
            if (!shape) continue;
            const path = svg('path', { d: shapePath(shape), class: 'region' });
            path.dataset.damage = d.id;
            overlay.append(path);
            const b = shape.geometry.bounds;
            // Numbers a twentieth of the image wide: readable however large the image is.
            const size = Math.round(Math.max(w, hgt) / 20);
            const number = svg('text', { x: b.minX + size * 0.3, y: b.minY + size, class: 'region-number', 'font-size': size });
            number.textContent = String(i + 1);
            number.dataset.damage = d.id;
            overlay.append(number);
          }
        });
        // The regions as buttons too, for keyboard and screen readers.
        const regions = view.damage
          .map((d, i) => ({ d, i }))
          .filter(({ d }) => d.annotations.some((l) => l.subject === s.ref));
        // A 3D model has no picture here: its linked points, each opening the model page
        // with that point chosen (and lit when its entry is).
        const [kind, sid] = s.ref.split('/') as [string, string];
        const points = view.damage.flatMap((d, i) => d.annotations.filter((l) => l.subject === s.ref).map((l) => ({ d, i, l })));
        const frame =
          kind === 'model'
            ? h(
                'div',
                { class: 'model-frame' },
                h('p', { class: 'model-kind' }, t('report.damage.model3d')),
                points.length
                  ? h(
                      'ul',
                      { class: 'model-points' },
                      points.map(({ d, i, l }) =>
                        h(
                          'li',
                          { class: 'model-point', 'data-damage': d.id },
                          h('span', { class: 'entry-number' }, String(i + 1)),
                          h('a', { href: `${subjectPath(this.o.ws, kind, sid)}?annotation=${enc(l.annotation)}` }, annotationText(s, l.annotation)),
                        ),
                      ),
                    )
                  : h('p', { class: 'hint' }, t('report.damage.noPoints')),
              )
            : h(
                'div',
                { class: 'image-frame' },
                s.service ? this.image(s.service, s.label) : h('span', { class: 'thumb thumb-none' }, t('subjects.noImage')),
                overlay,
              );
        return h(
          'figure',
          { class: kind === 'model' ? 'damage-image damage-model' : 'damage-image' },
          frame,
          h(
            'figcaption',
            null,
            h('a', { href: subjectPath(this.o.ws, ...(s.ref.split('/') as [string, string])) }, s.label),
            regions.length
              ? h(
                  'span',
                  { class: 'region-buttons' },
                  regions.map(({ d, i }) =>
                    h(
                      'button',
                      {
                        type: 'button',
                        class: 'quiet region-button',
                        'data-damage': d.id,
                        'aria-label': t('report.damage.showEntry', { n: i + 1, term: termLabel(this.o.terms(), d.term) }),
                        onclick: () => this.pick(d.id),
                        onmouseenter: () => ((this.hovered = d.id), this.highlight()),
                        onmouseleave: () => ((this.hovered = null), this.highlight()),
                      },
                      String(i + 1),
                    ),
                  ),
                )
              : null,
          ),
        );
      }),
    );
    // Choosing a region on the image opens its entry.
    for (const path of this.images.querySelectorAll<SVGElement>('path[data-damage]')) {
      path.addEventListener('click', () => this.pick(path.dataset.damage ?? null));
      path.addEventListener('mouseenter', () => ((this.hovered = path.dataset.damage ?? null), this.highlight()));
      path.addEventListener('mouseleave', () => ((this.hovered = null), this.highlight()));
    }
    this.highlight();
  }

  /** The subject's picture from its IIIF image service: a size that fits the column, or
   * (a level 0 service cannot scale) one of the sizes its info.json lists; "no image" if
   * neither loads. */
  private image(service: string, alt: string): HTMLElement {
    const base = service.replace(/\/$/, '');
    const img = h('img', { src: `${base}/full/!${IMAGE},${IMAGE}/0/default.jpg`, alt });
    const none = () => img.replaceWith(h('span', { class: 'thumb thumb-none' }, t('subjects.noImage')));
    img.addEventListener(
      'error',
      () =>
        void get<{ sizes?: { width: number; height: number }[] }>(`${base}/info.json`)
          .then((info) => {
            const sizes = (info.sizes ?? []).filter((x) => x.width > 0 && x.height > 0).sort((a, b) => a.width - b.width);
            const size = sizes.filter((x) => x.width <= IMAGE * 1.5).pop() ?? sizes[0];
            if (!size) return none();
            img.addEventListener('error', none, { once: true });
            img.src = `${base}/full/${size.width},${size.height}/0/default.jpg`;
          })
          .catch(none),
      { once: true },
    );
    return img;
  }

  // ---------------------------------------------------------------- entries

  private termSelect(value: string, onChange: (v: string) => void, id: string): HTMLSelectElement {
    const terms = [...this.o.terms()].sort((a, b) => termLabel(this.o.terms(), a.value).localeCompare(termLabel(this.o.terms(), b.value)));
    const select = h(
      'select',
      { id },
      value ? null : h('option', { value: '' }, t('report.damage.chooseTerm')),
      terms.map((term) => h('option', { value: term.value, selected: term.value === value }, termLabel(this.o.terms(), term.value))),
    );
    if (value && !terms.some((x) => x.value === value)) select.prepend(h('option', { value, selected: true }, value));
    select.value = value;
    select.addEventListener('change', () => select.value && onChange(select.value));
    return select;
  }

  private vocabSelect(vocabulary: 'severity' | 'activity' | 'extent-unit' | 'lighting', value: string, onChange: (v: string) => void, id: string): HTMLSelectElement {
    const select = h(
      'select',
      { id },
      valuesOf(vocabulary).map((v) => h('option', { value: v, selected: v === value }, label(vocabulary, v))),
    );
    select.value = value;
    select.addEventListener('change', () => onChange(select.value));
    return select;
  }

  private entry(d: DamageView, index: number): HTMLLIElement {
    const o = this.o;
    const editable = o.editable();
    const update = (patch: Parameters<typeof updateDamage>[2]) => editable && updateDamage(o.doc, d.id, patch, o.origin);
    const ids = { term: uid('term'), loc: uid('loc'), ext: uid('ext'), unit: uid('unit'), sev: uid('sev'), act: uid('act'), note: uid('note'), link: uid('link') };
    const disable = (el: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement) => {
      if (el instanceof HTMLSelectElement) el.disabled = !editable;
      else el.readOnly = !editable;
      el.addEventListener('focus', () => o.focus(`damage.${d.id}`));
      el.addEventListener('blur', () => o.focus(null));
      return el;
    };
    const later = (el: HTMLInputElement | HTMLTextAreaElement, write: () => void) => {
      let timer: ReturnType<typeof setTimeout> | null = null;
      el.addEventListener('input', () => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(write, 400);
      });
      el.addEventListener('change', () => {
        if (timer) clearTimeout(timer);
        write();
      });
    };
    const location = disable(h('input', { id: ids.loc, value: d.location, maxlength: REPORT_LIMITS.SHORT, autocomplete: 'off' })) as HTMLInputElement;
    later(location, () => update({ location: location.value }));
    const extent = disable(h('input', { id: ids.ext, type: 'number', min: 0, step: 'any', value: d.extent ? String(d.extent.value) : '', class: 'extent-value' })) as HTMLInputElement;
    const unit = disable(this.vocabSelect('extent-unit', d.extent?.unit ?? valuesOf('extent-unit')[1]!, () => writeExtent(), ids.unit)) as HTMLSelectElement;
    const extentError = h('span', { class: 'field-error', role: 'alert' });
    const writeExtent = () => {
      extentError.textContent = '';
      if (!extent.checkValidity()) {
        extentError.textContent = extent.validationMessage;
        return;
      }
      const value = extent.value.trim();
      update({ extent: value === '' ? null : { value: Number(value), unit: unit.value } });
    };
    later(extent, writeExtent);
    const note = disable(h('textarea', { id: ids.note, rows: 2, maxlength: REPORT_LIMITS.NOTE })) as HTMLTextAreaElement;
    note.value = d.note;
    later(note, () => update({ note: note.value }));
    const term = disable(this.termSelect(d.term, (v) => update({ term: v }), ids.term));
    const severity = disable(this.vocabSelect('severity', d.severity, (v) => update({ severity: v }), ids.sev));
    const activity = disable(this.vocabSelect('activity', d.activity, (v) => update({ activity: v }), ids.act));

    const li = h(
      'li',
      { class: `damage-entry${d.id === this.selected ? ' selected' : ''}`, 'data-damage': d.id, id: `damage-${d.id}` },
      h(
        'div',
        { class: 'entry-head' },
        h(
          'button',
          {
            type: 'button',
            class: 'quiet damage-pick',
            'aria-pressed': d.id === this.selected ? 'true' : 'false',
            onclick: () => this.pick(this.selected === d.id ? null : d.id),
            onmouseenter: () => ((this.hovered = d.id), this.highlight()),
            onmouseleave: () => ((this.hovered = null), this.highlight()),
          },
          h('span', { class: 'entry-number' }, String(index + 1)),
          h('span', { class: 'entry-term' }, termLabel(o.terms(), d.term)),
          h('span', { class: `severity severity-${d.severity}` }, label('severity', d.severity)),
          d.activity === 'active' ? h('span', { class: 'activity-active' }, label('activity', 'active')) : null,
        ),
        h('span', { class: 'editing-marks' }),
      ),
      h(
        'div',
        { class: 'entry-grid' },
        h('div', { class: 'field' }, h('label', { for: ids.term }, t('report.damage.term')), term),
        h('div', { class: 'field' }, h('label', { for: ids.loc }, t('report.damage.location')), location),
        h(
          'div',
          { class: 'field' },
          h('label', { for: ids.ext }, t('report.damage.extent')),
          h('span', { class: 'extent' }, extent, h('label', { for: ids.unit, class: 'visually-hidden' }, t('report.damage.unit')), unit),
          extentError,
        ),
        h('div', { class: 'field' }, h('label', { for: ids.sev }, t('report.damage.severity')), severity),
        h('div', { class: 'field' }, h('label', { for: ids.act }, t('report.damage.activity')), activity),
      ),
      h('div', { class: 'field' }, h('label', { for: ids.note }, t('report.damage.note')), note),
      this.links(d, editable, ids.link),
      this.photos(d, editable),
      editable
        ? h(
            'p',
            { class: 'actions' },
            h(
              'button',
              {
                type: 'button',
                class: 'quiet danger',
                onclick: () => {
                  if (confirm(t('report.damage.removeConfirm', { term: termLabel(o.terms(), d.term) }))) removeDamage(o.doc, d.id, o.origin);
                },
              },
              t('report.damage.remove'),
            ),
          )
        : null,
    );
    this.drawMarks(li);
    return li;
  }

  private links(d: DamageView, editable: boolean, selectId: string): HTMLElement {
    const o = this.o;
    const subjects = o.subjects();
    const linked = (s: string, a: string) => d.annotations.some((l) => l.subject === s && l.annotation === a);
    const choices = subjects.flatMap((s) => s.annotations.filter((a) => !linked(s.ref, a.id)).map((a) => ({ s, a })));
    const select = h(
      'select',
      { id: selectId },
      h('option', { value: '' }, t('report.damage.chooseAnnotation')),
      choices.map(({ s, a }) => h('option', { value: `${s.ref}#${a.id}` }, annotationLabel(subjects, { subject: s.ref, annotation: a.id }))),
    );
    const add = () => {
      const [subject, annotation] = select.value.split('#');
      if (subject && annotation) linkAnnotation(o.doc, d.id, { subject, annotation }, o.origin);
    };
    return h(
      'div',
      { class: 'entry-links' },
      h('h3', null, t('report.damage.links')),
      d.annotations.length
        ? h(
            'ul',
            { class: 'chips' },
            d.annotations.map((l) => {
              const [kind, id] = l.subject.split('/') as [string, string];
              return h(
                'li',
                { class: 'chip' },
                h('a', { href: `${subjectPath(o.ws, kind, id)}?annotation=${enc(l.annotation)}` }, annotationLabel(subjects, l)),
                editable
                  ? h(
                      'button',
                      {
                        type: 'button',
                        class: 'chip-remove',
                        'aria-label': t('report.damage.unlink', { what: annotationLabel(subjects, l) }),
                        onclick: () => unlinkAnnotation(o.doc, d.id, l, o.origin),
                      },
                      '×',
                    )
                  : null,
              );
            }),
          )
        : h('p', { class: 'hint' }, t('report.damage.noLinks')),
      editable && choices.length
        ? h(
            'div',
            { class: 'inline-form' },
            h('label', { for: selectId, class: 'visually-hidden' }, t('report.damage.linkLabel')),
            select,
            h('button', { type: 'button', onclick: add }, t('report.damage.link')),
          )
        : editable && !subjects.length
          ? h('p', { class: 'hint' }, t('report.damage.noSubjects'))
          : null,
    );
  }

  private photos(d: DamageView, editable: boolean): HTMLElement {
    const o = this.o;
    // Photographs are IIIF image regions: of canvases, not of 3D models.
    const subjects = o.subjects().filter((s) => s.ref.startsWith('canvas/'));
    const write = (photos: Photo[]) => updateDamage(o.doc, d.id, { photographs: photos }, o.origin);
    const subjectId = uid('photo-subject');
    const lightingId = uid('photo-light');
    const subject = h('select', { id: subjectId }, subjects.map((s) => h('option', { value: s.ref }, s.label)));
    const lighting = this.vocabSelect('lighting', 'normal', () => undefined, lightingId);
    return h(
      'div',
      { class: 'entry-photos' },
      h('h3', null, t('report.damage.photos')),
      d.photographs.length
        ? h(
            'ul',
            { class: 'photo-list' },
            d.photographs.map((p) => {
              const id = uid('light');
              const select = this.vocabSelect('lighting', p.lighting, (v) => write(d.photographs.map((x) => (x.id === p.id ? { ...x, lighting: v } : x))), id);
              select.disabled = !editable;
              const s = subjects.find((x) => x.ref === p.subject);
              return h(
                'li',
                null,
                h('span', null, s?.label ?? p.subject ?? p.service ?? '', p.region !== 'full' ? ` (${p.region})` : ''),
                h('label', { for: id, class: 'visually-hidden' }, t('report.damage.lighting')),
                select,
                editable
                  ? h(
                      'button',
                      { type: 'button', class: 'quiet danger', onclick: () => write(d.photographs.filter((x) => x.id !== p.id)) },
                      t('report.damage.removePhoto'),
                    )
                  : null,
              );
            }),
          )
        : h('p', { class: 'hint' }, t('report.damage.noPhotos')),
      editable && subjects.length
        ? h(
            'div',
            { class: 'inline-form' },
            h('div', { class: 'field' }, h('label', { for: subjectId }, t('report.damage.photoOf')), subject),
            h('div', { class: 'field' }, h('label', { for: lightingId }, t('report.damage.lighting')), lighting),
            h(
              'button',
              {
                type: 'button',
                onclick: () => write([...d.photographs, { id: newId(), subject: subject.value, region: 'full', lighting: lighting.value, caption: '' }]),
              },
              t('report.damage.addPhoto'),
            ),
          )
        : null,
    );
  }

  private drawAdder(): void {
    const o = this.o;
    if (!o.editable()) {
      replace(this.adder);
      return;
    }
    const id = uid('new-term');
    let chosen = '';
    const select = this.termSelect('', (v) => (chosen = v), id);
    const count = this.view?.damage.length ?? 0;
    replace(
      this.adder,
      h(
        'div',
        { class: 'inline-form' },
        h('div', { class: 'field' }, h('label', { for: id }, t('report.damage.new')), select),
        h(
          'button',
          {
            type: 'button',
            class: 'primary',
            disabled: count >= REPORT_LIMITS.MAX_DAMAGE_ENTRIES,
            onclick: () => {
              const term = chosen || select.value;
              if (!term) {
                o.toast(t('report.damage.chooseFirst'), 'error');
                select.focus();
                return;
              }
              const made = addDamage(o.doc, { term }, o.origin);
              this.pick(made);
            },
          },
          t('report.damage.add'),
        ),
      ),
      h('p', { class: 'hint' }, tn('report.damage.count', count)),
    );
  }
}
