// The live canvas: image, drawing tools, the binding to the document, presence, layers,
// undo, shortcuts and history. One CanvasView per opened document; the page makes a new
// one when the document must be reloaded (after a refused update).

import OpenSeadragon from 'openseadragon';
import * as Y from 'yjs';
import type { Tag } from '../api/types';
import { annotationsOf, readSubject, type AnnotationView, type SubjectMeta } from '../binding/document';
import { isPointTarget, targetShape as targetShapeOf, type Canvas } from '../binding/selectors';
import { ellipse, nudged, point, pointRadius, rectangle, type Shape } from '../binding/shapes';
import { Binding } from '../binding/sync';
import { t, language, type Key } from '../i18n';
import { followButton, presenceList } from '../presence/list';
import { colorFor, localPresence, ownColor, peersOf, people, selectionsByAnnotation, viewportMoved, type Peer, type Rect } from '../presence/model';
import { canDraw, canEdit, canNameVersion, canRestore, type Actor } from '../roles/rules';
import { h, replace } from '../ui/dom';
import { reloadFor } from '../app/policy';
import { createAnnotated, TOOLS, type Annotated, type ToolName } from './annotator';
import type { Picture, Refusal } from './image';
import { Overlay, type Outline } from './overlay';
import { Panel, tagsOf } from './panel';
import { helpDialog, listen, type Action } from './shortcuts';
import type { LiveSession } from '../binding/session';
import type { TagSource } from './tagpicker';
import { PeopleNames } from '../people/names';
import { damageEntries, damageTagSource } from '../reports/links';

export interface ViewOptions {
  ws: string;
  id: string;
  role: string | null;
  me: { id: string; name: string };
  tags: Tag[];
  toast: (message: string, kind?: 'info' | 'error') => void;
  /** The picture, asked for by the page as soon as the document said where it is. */
  picture: Promise<Picture>;
}

const REFUSAL: Record<Refusal, Key> = {
  cors: 'canvas.image.cors',
  policy: 'canvas.image.policy',
  unreachable: 'canvas.image.unreachable',
  bad: 'canvas.image.bad',
};

const TOOL_LABEL: Record<ToolName | 'select', Key> = {
  select: 'tool.select',
  rectangle: 'tool.rectangle',
  polygon: 'tool.polygon',
  ellipse: 'tool.ellipse',
  point: 'tool.point',
  freehand: 'tool.freehand',
  line: 'tool.line',
  path: 'tool.path',
};

type ColourBy = 'creator' | 'tag';

// The tools that draw in the middle of the view from the keyboard (the others need a path).
const KEYBOARD_TOOLS: readonly string[] = ['rectangle', 'ellipse', 'point'];
// An arrow key moves the view, or the chosen annotation, by this share of the view.
const NUDGE = 0.02;
const PAN = 0.1;

/** What the person chose to see, kept for this document in this tab: the page is built
 * again when the language changes, or loaded again for a new image server's policy. */
interface Choices {
  colourBy: ColourBy;
  hiddenCreators: string[];
  hiddenTags: string[];
  showAll: boolean;
  layers: boolean;
}
const choicesKey = (ws: string, id: string) => `sinopia.canvas-choices:${ws}/${id}`;
const savedChoices = (ws: string, id: string): Partial<Choices> => {
  try {
    const raw = JSON.parse(sessionStorage.getItem(choicesKey(ws, id)) ?? '{}') as Partial<Choices>;
    return raw && typeof raw === 'object' ? raw : {};
  } catch {
    return {};
  }
};

// Annotations without a tag when colouring by tag: dark enough to see on a light panel.
const UNTAGGED = '#4d5358';

export class CanvasView {
  readonly node: HTMLElement;
  private annotated: Annotated | null = null;
  private binding: Binding | null = null;
  private panel: Panel | null = null;
  private readonly names: PeopleNames;
  private readonly stopNames: () => void;
  private overlay: Overlay | null = null;
  private undo: Y.UndoManager | null = null;
  private readonly origin = { local: true };
  private readonly viewerEl: HTMLElement;
  private readonly sideEl: HTMLElement;
  private readonly toolbar: HTMLElement;
  private readonly presenceEl: HTMLElement;
  private readonly layersEl: HTMLElement;
  private readonly banner: HTMLElement;
  private readonly imageNote: HTMLElement;
  private standIn = false;
  private readonly historyEl: HTMLElement;
  private tool: ToolName | 'select' = 'select';
  private selected: string | null = null;
  private following: number | null = null;
  private lastFollowed: Rect | null = null;
  private peers: Peer[] = [];
  private myColor = '';
  private colourBy: ColourBy = 'creator';
  private hiddenCreators = new Set<string>();
  private hiddenTags = new Set<string>();
  private showAll = true;
  private past: { label: string; outlines: Outline[] } | null = null;
  private stopKeys: (() => void) | null = null;
  private timers: ReturnType<typeof setTimeout>[] = [];
  private pointerTimer: ReturnType<typeof setTimeout> | null = null;
  private meta: SubjectMeta | null = null;

  private remember(): void {
    const choices: Choices = {
      colourBy: this.colourBy,
      hiddenCreators: [...this.hiddenCreators],
      hiddenTags: [...this.hiddenTags],
      showAll: this.showAll,
      layers: !this.layersEl.hidden,
    };
    try {
      sessionStorage.setItem(choicesKey(this.o.ws, this.o.id), JSON.stringify(choices));
    } catch {
      // Storage full or refused: the choices last as long as the page.
    }
  }
  private opened = false;

  /** The image is shown and the tools and the binding work: people can draw (existing
   * annotations then appear within a few frames: `sinopia:all-drawn`). Performance marks,
   * which bench/webapp.py reads. */
  private markDrawable(): void {
    if (this.opened && this.binding && !performance.getEntriesByName('sinopia:drawable').length)
      performance.mark('sinopia:drawable', { detail: { annotations: this.binding.all.size } });
  }

  constructor(
    private readonly session: LiveSession,
    private readonly o: ViewOptions,
    private readonly restoreView?: Rect | null,
  ) {
    // People are named by id in the document: their names are looked up to show.
    this.names = new PeopleNames(o.ws, o.me);
    this.stopNames = this.names.onChange(() => {
      this.panel?.refresh();
      this.drawLayers();
    });
    // Focusable: the arrow keys move the view (or the chosen annotation) while it has focus.
    this.viewerEl = h('div', { class: 'viewer', role: 'region', tabindex: 0, 'aria-label': t('canvas.image'), 'aria-describedby': 'viewer-keys' },
      h('p', { id: 'viewer-keys', class: 'visually-hidden' }, t('canvas.keyboard.viewer')));
    this.toolbar = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': t('canvas.tools') });
    this.presenceEl = h('section', { class: 'presence', 'aria-labelledby': 'presence-title' });
    this.layersEl = h('section', { id: 'layers', class: 'layers', 'aria-labelledby': 'layers-title', hidden: true });
    this.banner = h('div', { class: 'banner', role: 'status', 'aria-live': 'polite', hidden: true });
    this.imageNote = h('div', { class: 'image-note', role: 'alert', hidden: true });
    this.historyEl = h('section', { id: 'history', class: 'history', 'aria-labelledby': 'history-title', hidden: true });
    this.sideEl = h('aside', { class: 'side', 'aria-label': t('canvas.side') });
    const saved = savedChoices(o.ws, o.id);
    if (saved.colourBy === 'tag' || saved.colourBy === 'creator') this.colourBy = saved.colourBy;
    if (Array.isArray(saved.hiddenCreators)) this.hiddenCreators = new Set(saved.hiddenCreators.map(String));
    if (Array.isArray(saved.hiddenTags)) this.hiddenTags = new Set(saved.hiddenTags.map(String));
    if (typeof saved.showAll === 'boolean') this.showAll = saved.showAll;
    if (saved.layers === true) this.layersEl.hidden = false;

    this.node = h(
      'div',
      { class: 'canvas-view' },
      this.toolbar,
      this.banner,
      this.imageNote,
      h('div', { class: 'canvas-body' }, this.viewerEl, this.sideEl),
    );
  }

  private get actor(): Actor {
    return { role: this.o.role, agent: this.o.me.id };
  }

  /** Build everything once the document has synced. Returns false when the document has
   * no image to show. */
  start(): boolean {
    const doc = this.session.doc;
    const meta = readSubject(doc);
    if (!meta || (!meta.imageService && !meta.image)) return false;
    this.meta = meta;
    const canvas: Canvas = { id: meta.iiifId, manifest: meta.manifest, width: meta.width, height: meta.height };
    const radius = pointRadius(meta.width, meta.height);
    const annotated = createAnnotated(this.viewerEl, meta, {
      pointRadius: () => radius,
      editable: (id) => {
        const view = this.binding?.all.get(id);
        return Boolean(view && canEdit(this.actor, view));
      },
      onOpen: () => {
        if (this.restoreView) this.goTo(this.restoreView, true);
        this.publishViewport();
        this.opened = true;
        performance.mark('sinopia:image-open');
        this.markDrawable();
      },
      onOpenFailed: () => this.showPicture({ kind: 'refused', origin: '', why: 'bad' }),
      handleLabel: t('canvas.handle'),
      onAllDrawn: () => performance.mark('sinopia:all-drawn'),
    });
    this.annotated = annotated;
    annotated.anno.setUser({ id: this.o.me.id, name: this.o.me.name });
    this.restyle();
    this.overlay = new Overlay(annotated.viewer);
    this.viewerEl.append(this.overlay.node);
    void this.o.picture.then((picture) => this.showPicture(picture));

    // OpenSeadragon asks for the image in a task of its own: let it, then bind the
    // document (hundreds of annotations take a while), so the two overlap.
    this.timers.push(setTimeout(() => this.bind(doc, canvas), 0));
    return true;
  }

  /** The picture, or where it cannot be had a plain ground of its size (the annotations
   * stay usable) and a note saying why and what to do. */
  private showPicture(picture: Picture): void {
    if (this.destroyed || !this.annotated) return;
    if (picture.kind === 'refused') {
      if (this.standIn) return;
      // This page's policy predates the manifest that named the server: load it again.
      if (picture.why === 'policy' && reloadFor(picture.origin)) return;
      this.standIn = true;
      this.imageNote.hidden = false;
      replace(
        this.imageNote,
        h('strong', null, t('canvas.image.title')),
        ' ',
        t(REFUSAL[picture.why], { origin: picture.origin || t('canvas.image.itsServer'), site: location.origin }),
        ' ',
        t('canvas.image.standIn'),
      );
    }
    this.annotated.show(picture);
  }

  private bind(doc: Y.Doc, canvas: Canvas): void {
    const annotated = this.annotated;
    if (!annotated || this.destroyed) return;
    this.binding = new Binding(doc, annotated.surface, {
      canvas,
      actor: () => this.actor,
      creator: () => ({ id: this.o.me.id, type: 'Person' }),
      language: () => language(),
      origin: this.origin,
      firstBodies: (lang) => [{ kind: 'text', value: '', purpose: 'commenting', language: lang }],
      onRefused: (what) => this.o.toast(t(`canvas.refused.${what}` as Key), 'error'),
      onChange: (ids) => this.changed(ids),
    });
    annotated.onLocal((change) => {
      this.binding?.local(change);
      if (change.kind === 'created' && this.binding?.all.has(change.id)) {
        // Drawing done: back to selecting, with the new annotation open for its comment.
        this.setTool('select');
        this.select(change.id, true);
        setTimeout(() => this.panel?.focusComment(), 50);
      }
    });
    this.undo = new Y.UndoManager(annotationsOf(doc), { trackedOrigins: new Set([this.origin]), captureTimeout: 600 });
    this.undo.on('stack-item-added', () => this.drawToolbar());
    this.undo.on('stack-item-popped', () => this.drawToolbar());

    const tagSources: TagSource[] = [
      { name: t('canvas.tags.workspace'), options: () => this.o.tags.map((tag) => ({ label: tag.label, color: tag.color })) },
      { name: t('canvas.tags.used'), options: () => this.usedTags().map((label) => ({ label })) },
      damageTagSource(this.o.ws),
    ];
    this.panel = new Panel({
      doc,
      origin: this.origin,
      all: () => this.binding!.all,
      actor: () => this.actor,
      creator: () => ({ id: this.o.me.id, type: 'Person' }),
      nameOf: (agent) => this.names.nameOf(agent),
      visible: (v) => this.visible(v),
      colorOf: (v) => this.colorOf(v),
      tagSources,
      onSelect: (id) => this.select(id, true),
      onDelete: (id) => {
        if (this.binding?.remove(id) && id === this.selected) this.select(null, false);
      },
      toast: this.o.toast,
      damageOf: (id) => this.damageOf?.(id) ?? null,
    });
    replace(this.sideEl, this.presenceEl, this.layersEl, this.historyEl, this.panel.node);
    // The damage entries of condition reports that point at these annotations.
    void damageEntries(this.o.ws, `canvas/${this.o.id}`).then((of) => {
      this.damageOf = of;
      this.panel?.refresh();
    });
    this.panel.refresh();
    this.applyFilter();
    this.drawToolbar();
    this.drawLayers();

    annotated.anno.on('selectionChanged', (selected: { id: string }[]) => {
      const id = selected[0]?.id ?? null;
      if (id !== this.selected) this.select(id, false);
    });
    this.presence();
    this.markDrawable();
    this.stopKeys = listen((action, event) => this.shortcut(action, event));
    if (!canDraw(this.actor)) this.say(t('canvas.viewerBanner'));
    // Opened from a report's damage entry (?annotation=ID): that annotation, selected.
    const wanted = new URLSearchParams(location.search).get('annotation');
    if (wanted && this.binding.all.has(wanted)) this.timers.push(setTimeout(() => this.select(wanted, true), 0));
  }

  private damageOf: ((id: string) => HTMLElement | null) | null = null;

  // ------------------------------------------------------------------ toolbar and tools

  private drawToolbar(): void {
    const drawing = canDraw(this.actor);
    const toolButton = (name: ToolName | 'select') =>
      h(
        'button',
        {
          type: 'button',
          class: `tool tool-${name}`,
          'aria-pressed': this.tool === name ? 'true' : 'false',
          disabled: name !== 'select' && (!drawing || this.past !== null),
          title: t(TOOL_LABEL[name]),
          onclick: () => this.setTool(name),
        },
        t(TOOL_LABEL[name]),
      );
    const zoom = (by: number) => {
      const v = this.annotated?.viewer.viewport;
      if (v) v.zoomBy(by).applyConstraints();
    };
    replace(
      this.toolbar,
      h(
        'div',
        { class: 'group', role: 'group', 'aria-label': t('canvas.drawTools') },
        toolButton('select'),
        TOOLS.map(toolButton),
        // Drawing without a pointer: the chosen shape in the middle of the view.
        KEYBOARD_TOOLS.includes(this.tool)
          ? h('button', { type: 'button', class: 'draw-here', title: t('shortcut.drawHere'), onclick: () => this.drawHere() }, t('canvas.keyboard.drawHere'))
          : null,
      ),
      h(
        'div',
        { class: 'group', role: 'group', 'aria-label': t('canvas.view') },
        h('button', { type: 'button', onclick: () => zoom(1.5), 'aria-label': t('shortcut.zoomIn'), title: t('shortcut.zoomIn') }, '+'),
        h('button', { type: 'button', onclick: () => zoom(1 / 1.5), 'aria-label': t('shortcut.zoomOut'), title: t('shortcut.zoomOut') }, '−'),
        h('button', { type: 'button', onclick: () => this.annotated?.viewer.viewport.goHome() }, t('canvas.fit')),
      ),
      h(
        'div',
        { class: 'group', role: 'group', 'aria-label': t('canvas.edit') },
        h('button', { type: 'button', disabled: !this.undo?.canUndo(), onclick: () => this.undo?.undo() }, t('canvas.undo')),
        h('button', { type: 'button', disabled: !this.undo?.canRedo(), onclick: () => this.undo?.redo() }, t('canvas.redo')),
      ),
      h(
        'div',
        { class: 'group', role: 'group', 'aria-label': t('canvas.panels') },
        h('button', { type: 'button', 'aria-pressed': this.layersEl.hidden ? 'false' : 'true', 'aria-controls': 'layers', onclick: () => this.toggleLayers() }, t('canvas.layers')),
        h('button', { type: 'button', 'aria-pressed': this.historyEl.hidden ? 'false' : 'true', 'aria-controls': 'history', onclick: () => void this.toggleHistory() }, t('canvas.history')),
        h('button', { type: 'button', 'aria-haspopup': 'dialog', onclick: () => this.help() }, t('canvas.shortcuts')),
      ),
    );
  }

  private setTool(name: ToolName | 'select'): void {
    const anno = this.annotated?.anno;
    if (!anno) return;
    if (name !== 'select' && (!canDraw(this.actor) || this.past)) return;
    this.tool = name;
    if (name === 'select') {
      anno.cancelDrawing();
      anno.setDrawingEnabled(false);
    } else {
      anno.setDrawingTool(name);
      anno.setDrawingEnabled(true);
    }
    this.viewerEl.classList.toggle('drawing', name !== 'select');
    this.drawToolbar();
  }

  /** Draw the chosen shape (rectangle, ellipse, point) in the middle of the view: a way to
   * annotate without a pointer. The arrow keys then move and resize it. */
  private drawHere(): void {
    const viewer = this.annotated?.viewer;
    const binding = this.binding;
    if (!viewer || !binding || !this.annotated || !this.meta || this.past || !canDraw(this.actor)) return;
    if (!KEYBOARD_TOOLS.includes(this.tool)) {
      this.o.toast(t('canvas.keyboard.onlyShapes'));
      return;
    }
    const r = viewer.viewport.viewportToImageRectangle(viewer.viewport.getBounds(true));
    const width = this.meta.width ?? r.width;
    const height = this.meta.height ?? r.height;
    // The middle of what is seen of the picture.
    const x0 = Math.max(0, r.x);
    const y0 = Math.max(0, r.y);
    const x1 = Math.min(width, r.x + r.width);
    const y1 = Math.min(height, r.y + r.height);
    const cx = (x0 + x1) / 2;
    const cy = (y0 + y1) / 2;
    const w = Math.max(2, (x1 - x0) / 4);
    const hh = Math.max(2, (y1 - y0) / 4);
    const shape: Shape =
      this.tool === 'point' ? point(cx, cy, pointRadius(this.meta.width, this.meta.height)) : this.tool === 'ellipse' ? ellipse(cx, cy, w / 2, hh / 2) : rectangle(cx - w / 2, cy - hh / 2, w, hh);
    const id = crypto.randomUUID();
    this.annotated.surface.upsert({ id, shape, creator: { id: this.o.me.id, name: this.o.me.name } });
    binding.local({ kind: 'created', id, shape });
    if (!binding.all.has(id)) return;
    this.setTool('select');
    this.select(id, true);
    this.o.toast(t('canvas.keyboard.drawn'));
    this.viewerEl.focus({ preventScroll: true });
  }

  /** Arrow keys: move the chosen annotation (resize it with Shift), else the view. */
  private nudge(event: KeyboardEvent, resize: boolean): boolean {
    const viewer = this.annotated?.viewer;
    if (!viewer || !this.annotated) return false;
    const dx = event.key === 'ArrowLeft' ? -1 : event.key === 'ArrowRight' ? 1 : 0;
    const dy = event.key === 'ArrowUp' ? -1 : event.key === 'ArrowDown' ? 1 : 0;
    const id = this.selected;
    const view = id ? this.binding?.all.get(id) : undefined;
    const current = id ? (this.annotated.anno.state.store.getAnnotation(id)?.target.selector as Shape | undefined) : undefined;
    if (id && view && current && !this.past && canEdit(this.actor, view)) {
      const r = viewer.viewport.viewportToImageRectangle(viewer.viewport.getBounds(true));
      const step = Math.max(1, Math.round(Math.max(r.width, r.height) * NUDGE));
      const next = resize ? nudged(current, 0, 0, dx * step, dy * step) : nudged(current, dx * step, dy * step);
      if (!next) return true;
      this.annotated.surface.upsert({ id, shape: next, creator: view.creator });
      this.binding?.local({ kind: 'updated', id, shape: next });
      return true;
    }
    if (resize) return false;
    const bounds = viewer.viewport.getBounds();
    viewer.viewport.panBy(new OpenSeadragon.Point(dx * bounds.width * PAN, dy * bounds.height * PAN));
    return true;
  }

  private help(): void {
    const dialog = helpDialog();
    document.body.append(dialog);
    dialog.showModal();
  }

  // ------------------------------------------------------------------ selection and changes

  private select(id: string | null, fromPanel: boolean): void {
    this.selected = id;
    const anno = this.annotated?.anno;
    if (fromPanel && anno) {
      if (id) {
        anno.setSelected(id);
        const view = this.binding?.all.get(id);
        if (view && !this.inView(id)) anno.fitBoundsWithConstraints(id, { padding: 80 } as never);
      } else anno.cancelSelected();
    }
    this.panel?.select(id);
    this.session.provider.awareness.setLocalStateField('selection', id ? [id] : []);
  }

  private inView(id: string): boolean {
    const viewer = this.annotated?.viewer;
    const shape = this.annotated?.anno.state.store.getAnnotation(id)?.target.selector as { geometry?: { bounds: { minX: number; minY: number; maxX: number; maxY: number } } } | undefined;
    if (!viewer || !shape?.geometry) return true;
    const b = shape.geometry.bounds;
    const r = viewer.viewport.viewportToImageRectangle(viewer.viewport.getBounds(true));
    return b.minX >= r.x && b.minY >= r.y && b.maxX <= r.x + r.width && b.maxY <= r.y + r.height;
  }

  private changed(ids: Set<string>): void {
    this.panel?.refresh(ids);
    if ([...ids].some((id) => this.binding?.all.get(id))) {
      this.applyFilter();
      this.drawLayersSoon();
    }
    this.drawPresence();
  }

  // ------------------------------------------------------------------ layers: filter and colour

  private usedTags(): string[] {
    const out = new Set<string>();
    for (const v of this.binding?.all.values() ?? []) for (const tag of tagsOf(v)) out.add(tag);
    return [...out].sort((a, b) => a.localeCompare(b));
  }

  private creators(): { id: string; name: string }[] {
    const out = new Map<string, string>();
    for (const v of this.binding?.all.values() ?? [])
      if (v.motivation !== 'replying') out.set(v.creator?.id ?? '', this.names.nameOf(v.creator));
    return [...out].map(([id, name]) => ({ id, name })).sort((a, b) => a.name.localeCompare(b.name));
  }

  private colorOf(view: AnnotationView): string {
    if (this.colourBy === 'tag') {
      const tag = tagsOf(view)[0];
      if (!tag) return UNTAGGED;
      return this.o.tags.find((x) => x.label.toLowerCase() === tag.toLowerCase())?.color ?? colorFor(`tag:${tag}`);
    }
    return colorFor(view.creator?.id ?? view.creator?.name ?? '');
  }

  private visible(view: AnnotationView): boolean {
    if (this.hiddenCreators.has(view.creator?.id ?? '')) return false;
    const tags = tagsOf(view);
    if (tags.length === 0) return !this.hiddenTags.has('');
    return tags.some((tag) => !this.hiddenTags.has(tag));
  }

  private applyFilter(): void {
    const anno = this.annotated?.anno;
    if (!anno) return;
    const filtered = this.hiddenCreators.size > 0 || this.hiddenTags.size > 0;
    anno.setFilter(filtered ? ((a: { id: string }) => {
      const v = this.binding?.all.get(a.id);
      return v ? this.visible(v) : true;
    }) as never : undefined);
    anno.setVisible(this.showAll && this.past === null);
    this.remember();
  }

  /** Annotorious draws each shape in the colour of its creator or first tag. */
  private restyle(): void {
    this.annotated?.anno.setStyle(((a: { id: string }, state?: { selected?: boolean; hovered?: boolean }) => {
      // The shape editor asks with selected + hovered and sets the answer as a style
      // attribute, which the CSP refuses: it keeps Annotorious' own editing look instead.
      if (state?.selected && state.hovered) return undefined;
      const view = this.binding?.all.get(a.id);
      const color = view ? this.colorOf(view) : '#ffffff';
      // A point is small: drawn nearly solid so it is seen.
      if (view && isPointTarget(view.target)) return { fill: color, fillOpacity: 0.8, stroke: '#ffffff', strokeWidth: 1 };
      // Stroke width 1 is drawn natively by PixiJS; any other width is re-scaled for every
      // shape at every zoom step, which hundreds of annotations make sluggish.
      return { fill: color, fillOpacity: state?.hovered || state?.selected ? 0.4 : 0.18, stroke: color, strokeWidth: 1 };
    }) as never);
  }

  private layersTimer: ReturnType<typeof setTimeout> | null = null;
  private drawLayersSoon(): void {
    if (this.layersEl.hidden || this.layersTimer) return;
    this.layersTimer = setTimeout(() => {
      this.layersTimer = null;
      this.drawLayers();
    }, 300);
  }

  private toggleLayers(): void {
    this.layersEl.hidden = !this.layersEl.hidden;
    this.remember();
    this.drawLayers();
    this.drawToolbar();
  }

  private drawLayers(): void {
    if (this.layersEl.hidden) return;
    const restyle = () => {
      this.restyle();
      this.panel?.refresh();
      this.drawLayers();
    };
    const check = (label: string, checked: boolean, color: string | null, onChange: (on: boolean) => void) => {
      const box = h('input', { type: 'checkbox', checked });
      box.addEventListener('change', () => onChange(box.checked));
      const swatch = color ? h('span', { class: 'swatch', 'aria-hidden': 'true' }) : null;
      if (swatch && color) swatch.style.background = color;
      return h('li', null, h('label', { class: 'check' }, box, swatch, label));
    };
    const refilter = () => {
      this.applyFilter();
      this.panel?.refresh();
    };
    const colourSelect = h(
      'select',
      { id: 'colour-by' },
      h('option', { value: 'creator', selected: this.colourBy === 'creator' }, t('layers.byCreator')),
      h('option', { value: 'tag', selected: this.colourBy === 'tag' }, t('layers.byTag')),
    );
    colourSelect.addEventListener('change', () => {
      this.colourBy = colourSelect.value as ColourBy;
      this.remember();
      restyle();
    });
    const tagColor = (tag: string) => this.o.tags.find((x) => x.label.toLowerCase() === tag.toLowerCase())?.color ?? colorFor(`tag:${tag}`);
    replace(
      this.layersEl,
      h('h2', { id: 'layers-title' }, t('canvas.layers')),
      h('ul', { class: 'checks' }, check(t('layers.showAll'), this.showAll, null, (on) => ((this.showAll = on), this.applyFilter()))),
      h('label', { for: 'colour-by' }, t('layers.colourBy')),
      colourSelect,
      h('h3', null, t('layers.creators')),
      h(
        'ul',
        { class: 'checks' },
        this.creators().map((c) =>
          check(c.name, !this.hiddenCreators.has(c.id), this.colourBy === 'creator' ? colorFor(c.id || c.name) : null, (on) => {
            if (on) this.hiddenCreators.delete(c.id);
            else this.hiddenCreators.add(c.id);
            refilter();
          }),
        ),
      ),
      h('h3', null, t('layers.tags')),
      h(
        'ul',
        { class: 'checks' },
        [...this.usedTags(), ''].map((tag) =>
          check(tag || t('layers.untagged'), !this.hiddenTags.has(tag), this.colourBy === 'tag' ? (tag ? tagColor(tag) : UNTAGGED) : null, (on) => {
            if (on) this.hiddenTags.delete(tag);
            else this.hiddenTags.add(tag);
            refilter();
          }),
        ),
      ),
    );
  }

  // ------------------------------------------------------------------ presence

  private presence(): void {
    const awareness = this.session.provider.awareness;
    const state = localPresence(this.o.me);
    awareness.setLocalState({ ...state, selection: this.selected ? [this.selected] : [] });
    awareness.on('change', () => {
      this.peers = peersOf(awareness.getStates() as Map<number, unknown>, awareness.clientID);
      this.myColor = ownColor(awareness.getStates() as Map<number, unknown>, awareness.clientID, this.o.me.id);
      this.drawPresence();
      this.followPeer();
    });
    const viewer = this.annotated!.viewer;
    const element = viewer.element as HTMLElement;
    element.addEventListener('pointermove', (event) => {
      if (this.pointerTimer) return;
      this.pointerTimer = setTimeout(() => (this.pointerTimer = null), 50);
      const rect = element.getBoundingClientRect();
      const p = viewer.viewport.viewerElementToImageCoordinates(new OpenSeadragon.Point(event.clientX - rect.left, event.clientY - rect.top));
      awareness.setLocalStateField('pointer', { x: Math.round(p.x), y: Math.round(p.y) });
    });
    element.addEventListener('pointerleave', () => awareness.setLocalStateField('pointer', null));
    let viewportTimer: ReturnType<typeof setTimeout> | null = null;
    viewer.addHandler('viewport-change', () => {
      if (viewportTimer) return;
      viewportTimer = setTimeout(() => {
        viewportTimer = null;
        this.publishViewport();
      }, 120);
    });
    // Moving the image oneself ends following.
    for (const event of ['canvas-drag', 'canvas-scroll', 'canvas-pinch'] as const)
      viewer.addHandler(event, () => this.following !== null && this.follow(null));
    this.drawPresence();
  }

  private publishViewport(): void {
    const viewer = this.annotated?.viewer;
    if (!viewer?.world.getItemAt(0)) return;
    const r = viewer.viewport.viewportToImageRectangle(viewer.viewport.getBounds());
    this.session.provider.awareness.setLocalStateField('viewport', { x: Math.round(r.x), y: Math.round(r.y), w: Math.round(r.width), h: Math.round(r.height) });
  }

  currentViewport(): Rect | null {
    const viewer = this.annotated?.viewer;
    if (!viewer?.world.getItemAt(0)) return null;
    const r = viewer.viewport.viewportToImageRectangle(viewer.viewport.getBounds());
    return { x: r.x, y: r.y, w: r.width, h: r.height };
  }

  private goTo(r: Rect, immediately = false): void {
    const viewer = this.annotated?.viewer;
    if (!viewer) return;
    viewer.viewport.fitBounds(viewer.viewport.imageToViewportRectangle(r.x, r.y, r.w, r.h), immediately);
  }

  private follow(clientId: number | null): void {
    this.following = clientId;
    this.lastFollowed = null;
    if (clientId === null) this.say(null);
    this.followPeer();
    this.drawPresence();
  }

  private followPeer(): void {
    if (this.following === null) return;
    const peer = this.peers.find((p) => p.clientId === this.following);
    if (!peer) {
      this.o.toast(t('presence.left'));
      this.follow(null);
      return;
    }
    this.say(t('presence.followingBanner', { name: peer.name || t('presence.anonymous') }), () => this.follow(null), t('presence.stop'));
    if (peer.viewport && viewportMoved(this.lastFollowed, peer.viewport)) {
      this.lastFollowed = peer.viewport;
      this.goTo(peer.viewport);
    }
  }

  private drawPresence(): void {
    const present = people(this.peers);
    replace(
      this.presenceEl,
      ...presenceList(this.o.me, this.myColor || colorFor(this.o.me.id), present, (p) =>
        p.viewport ? followButton(p, this.following, (id) => this.follow(id)) : null,
      ),
    );
    this.drawOverlay();
  }

  private drawOverlay(): void {
    if (!this.overlay || !this.annotated) return;
    if (this.past) {
      this.overlay.set(this.past.outlines, []);
      return;
    }
    const store = this.annotated.anno.state.store;
    const outlines: Outline[] = [];
    for (const [id, who] of selectionsByAnnotation(this.peers)) {
      const shape = store.getAnnotation(id)?.target.selector as never;
      if (shape) outlines.push({ shape, color: who[0]!.color, label: who.map((p) => p.name || t('presence.anonymous')).join(', ') });
    }
    const pointers = this.peers
      .filter((p) => p.pointer)
      .map((p) => ({ x: p.pointer!.x, y: p.pointer!.y, color: p.color, name: p.name || t('presence.anonymous') }));
    this.overlay.set(outlines, pointers);
  }

  // ------------------------------------------------------------------ banner, history

  private say(message: string | null, action?: () => void, actionLabel?: string): void {
    if (!message) {
      if (!canDraw(this.actor) && !this.past) message = t('canvas.viewerBanner');
      else {
        this.banner.hidden = true;
        replace(this.banner);
        return;
      }
    }
    this.banner.hidden = false;
    replace(this.banner, h('span', null, message), action && actionLabel ? h('button', { type: 'button', onclick: action }, actionLabel) : null);
  }

  /** Show the canvas as it was (read-only), or live again with null. */
  showPast(past: { label: string; annotations: Record<string, { target?: unknown; motivation?: string }> } | null): void {
    if (!this.binding || !this.meta) return;
    if (past === null) {
      this.past = null;
      this.say(null);
    } else {
      const canvas: Canvas = { id: this.meta.iiifId, width: this.meta.width, height: this.meta.height };
      const outlines: Outline[] = [];
      for (const a of Object.values(past.annotations)) {
        if (a.motivation === 'replying') continue;
        const shape = targetShapeOf(a.target, canvas);
        if (shape) outlines.push({ shape, color: '#f5c400', dashed: true });
      }
      this.past = { label: past.label, outlines };
      this.setTool('select');
      this.say(t('history.viewing', { when: past.label, count: outlines.length }), () => this.emitBackToLive(), t('history.backToLive'));
    }
    this.applyFilter();
    this.drawOverlay();
    this.drawToolbar();
  }

  private backToLive: (() => void) | null = null;
  private emitBackToLive(): void {
    this.backToLive?.();
    this.showPast(null);
  }

  private async toggleHistory(): Promise<void> {
    this.historyEl.hidden = !this.historyEl.hidden;
    this.drawToolbar();
    if (this.historyEl.hidden) {
      this.emitBackToLive();
      replace(this.historyEl);
      return;
    }
    replace(this.historyEl, h('p', { class: 'hint' }, t('history.loading')));
    const { historyPanel } = await import('../history/panel');
    const panel = historyPanel({
      ws: this.o.ws,
      id: this.o.id,
      canName: canNameVersion(this.o.role),
      canRestore: canRestore(this.o.role),
      toast: this.o.toast,
      preview: (past) => this.showPast(past),
    });
    this.backToLive = panel.clearSelection;
    replace(this.historyEl, panel.node);
    this.historyEl.scrollIntoView({ block: 'nearest' });
  }

  // ------------------------------------------------------------------ keyboard

  private shortcut(action: Action, _event: KeyboardEvent): boolean {
    const viewer = this.annotated?.viewer;
    switch (action) {
      case 'undo':
        this.binding?.flush();
        this.undo?.undo();
        return true;
      case 'redo':
        this.undo?.redo();
        return true;
      case 'escape':
        if (document.querySelector('dialog[open]')) return false;
        if (this.tool !== 'select') this.setTool('select');
        else if (this.following !== null) this.follow(null);
        else if (this.past) this.emitBackToLive();
        else if (this.selected) this.select(null, true);
        else return false;
        return true;
      case 'delete':
        if (!this.selected) return false;
        if (this.binding?.remove(this.selected)) this.select(null, true);
        return true;
      case 'zoomIn':
        viewer?.viewport.zoomBy(1.5).applyConstraints();
        return true;
      case 'zoomOut':
        viewer?.viewport.zoomBy(1 / 1.5).applyConstraints();
        return true;
      case 'home':
        viewer?.viewport.goHome();
        return true;
      case 'next':
      case 'previous': {
        const ids = this.panel?.visibleIds() ?? [];
        if (!ids.length) return true;
        const at = this.selected ? ids.indexOf(this.selected) : -1;
        const next = action === 'next' ? (at + 1) % ids.length : (at - 1 + ids.length) % ids.length;
        this.select(ids[next]!, true);
        return true;
      }
      case 'comment':
        this.panel?.focusComment();
        return true;
      case 'history':
        void this.toggleHistory();
        return true;
      case 'layers':
        this.toggleLayers();
        return true;
      case 'help':
        this.help();
        return true;
      case 'drawHere':
        if (!canDraw(this.actor)) return false;
        this.drawHere();
        return true;
      case 'nudge':
      case 'resize':
        return this.nudge(_event, action === 'resize');
      case 'select':
        this.setTool('select');
        return true;
      default:
        if ((TOOLS as readonly string[]).includes(action) && canDraw(this.actor)) {
          this.setTool(action as ToolName);
          return true;
        }
        return false;
    }
  }

  private destroyed = false;

  destroy(): void {
    if (this.opened) this.remember();
    this.destroyed = true;
    this.stopKeys?.();
    this.timers.forEach(clearTimeout);
    this.binding?.destroy();
    this.undo?.destroy();
    this.panel?.destroy();
    this.annotated?.destroy();
    this.stopNames();
  }
}
