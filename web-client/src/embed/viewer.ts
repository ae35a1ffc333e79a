// The embed's viewer, loaded on demand by element.ts: the subject's deep-zoom IIIF image
// (OpenSeadragon, its own chunk, loaded only for images) with its annotations drawn over
// it, or its 3D model with them as pins on its surface (three.js, in its own chunk,
// ./model.ts, loaded only for model subjects),
// live and read-only, a list of them
// whose chosen one shows its text, "share this view", and a clear notice when the link is
// withdrawn. The annotations are read with the binding's own code (src/binding/): the
// schema and the selector formats are not copied here.

import type OpenSeadragon from 'openseadragon';
import { annotationsOf, modelAssetOf, readAll, readSubject, type AnnotationView, type SubjectMeta } from '../binding/document';
import { surfacePointOf, type SurfacePoint } from '../binding/points';
import { targetShape, type Canvas } from '../binding/selectors';
import { shapePath, type Bounds, type Shape } from '../binding/shapes';
import { h, svg, uid } from '../ui/dom';
import { decodeContentState, withContentState, type ViewState } from './contentstate';
import { LiveDoc, type LiveState } from './live';
import { EMBED_MESSAGES, type EmbedKey, type EmbedLanguage } from './messages';
import type { ModelSurface } from './model';
import { fetchSubject, Poller, Refused, type EmbedSubject } from './rest';

export interface ViewerOptions {
  server: string;
  document: string; // ws/kind/id
  share: string; // the share link's token
  contentState: string | null;
  language: EmbedLanguage;
}

export interface Viewer {
  destroy(): void;
}

// Marks the bench (bench/embed.py) and museum scripts can read with the Performance API.
export const MARK_IMAGE = 'sinopia-embed:image';
export const MARK_ANNOTATIONS = 'sinopia-embed:annotations';
// The first frame with the 3D model drawn.
export const MARK_MODEL = 'sinopia-embed:model';
// How much a zoom button (or key) zooms.
const ZOOM_STEP = 1.5;
// A click this close to a shape's edge (screen pixels) still chooses it.
const HIT_SLOP_PX = 6;
// Text shown in the list before "more": the chosen annotation shows all of it.
const EXCERPT_CHARS = 140;
// Without a live document this long (websockets blocked on some museum networks, or the
// connection lost), the viewer polls the AnnotationPage instead; a socket normally
// syncs well within a second.
const FALLBACK_AFTER_MS = 4000;
// How often it then polls: every visitor of a public page asks this often, and an
// unchanged page is answered 304 (one ETag comparison on the server).
const POLL_EVERY_MS = 3000;

interface Item {
  view: AnnotationView;
  shape: Shape | null; // on an image
  point: SurfacePoint | null; // on a 3D model
  number: number;
  text: string;
  tags: string[];
  replies: string[];
}

const DOCUMENT = /^[A-Za-z0-9._~-]{1,128}\/(canvas|model|report)\/[A-Za-z0-9._~-]{1,200}$/;

const tileSource = (meta: SubjectMeta): OpenSeadragon.TileSourceOptions | string => {
  if (meta.imageService) return `${meta.imageService.id.replace(/\/$/, '')}/info.json`;
  return { type: 'image', url: meta.image!.id } as unknown as OpenSeadragon.TileSourceOptions;
};

const area = (b: Bounds): number => Math.max(1, (b.maxX - b.minX) * (b.maxY - b.minY));

const lastSegment = (iri: string): string => decodeURIComponent(iri.replace(/\/$/, '').split('/').pop() ?? iri);

const pageContentState = (): string | null => {
  try {
    return new URL(location.href).searchParams.get('iiif-content');
  } catch {
    return null;
  }
};

export const mountViewer = (host: HTMLElement, root: ShadowRoot, options: ViewerOptions): Viewer => {
  const messages = EMBED_MESSAGES[options.language];
  const t = (key: EmbedKey, vars: Record<string, string | number> = {}): string =>
    messages[key].replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));

  const frame = h('div', { class: 'frame', lang: options.language });
  root.replaceChildren(frame);
  const setState = (state: string) => {
    host.dataset.state = state;
  };

  const notice = (title: EmbedKey, body: EmbedKey, kind = 'notice') =>
    h('div', { class: `notice ${kind}`, role: 'alert' }, h('p', { class: 'notice-title' }, t(title)), h('p', null, t(body, { site: location.origin })));

  if (!options.server || !options.share || !DOCUMENT.test(options.document)) {
    frame.append(notice('embed.setup.title', 'embed.setup.body'));
    setState('setup');
    return { destroy: () => root.replaceChildren() };
  }
  let server: string;
  try {
    server = new URL(options.server).origin;
  } catch {
    frame.append(notice('embed.setup.title', 'embed.setup.body'));
    setState('setup');
    return { destroy: () => root.replaceChildren() };
  }

  // A model's 3D code, or an image's deep-zoom viewer, is asked for at once (the
  // document's name says which), while the subject and its live document load.
  const modelChunk = options.document.split('/')[1] === 'model' ? import('./model') : null;
  const imageChunk = modelChunk ? null : import('openseadragon');
  modelChunk?.catch(() => undefined); // told when it is used
  imageChunk?.catch(() => undefined);
  let OSD: typeof OpenSeadragon | null = null;

  // ------------------------------------------------------------------ the frame

  const stage = h('div', { class: 'stage' });
  const osdEl = h('div', { class: 'osd' });
  const shapesSvg = svg('svg', { class: 'shapes', 'aria-hidden': 'true' });
  const shapesGroup = svg('g');
  shapesSvg.append(shapesGroup);
  const numbers = h('div', { class: 'numbers', 'aria-hidden': 'true' });
  const status = h('p', { class: 'status', role: 'status' }, t('embed.connecting'));
  const button = (label: EmbedKey, glyph: string, onClick: () => void, extra: Record<string, string> = {}) =>
    h('button', { type: 'button', class: 'tool', 'aria-label': t(label), title: t(label), onclick: onClick, ...extra }, h('span', { 'aria-hidden': 'true' }, glyph));
  const toolbar = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': t('embed.viewer', { label: '' }).replace(/[:：]\s*$/, '') });
  const loading = h('p', { class: 'loading' }, t('embed.loading'));
  stage.append(osdEl, shapesSvg, numbers, toolbar, status, loading);

  const panelId = uid('sinopia-panel');
  const listHeading = uid('sinopia-heading');
  const toggle = h(
    'button',
    { type: 'button', class: 'toggle', 'aria-expanded': 'false', 'aria-controls': panelId },
    t('embed.showAnnotations', { count: 0 }),
  );
  const list = h('ol', { class: 'list', 'aria-labelledby': listHeading });
  const empty = h('p', { class: 'empty' }, t('embed.noAnnotations'));
  const panel = h('section', { class: 'panel', id: panelId, 'aria-labelledby': listHeading }, h('h2', { id: listHeading }, t('embed.annotations')), empty, list);
  stage.append(toggle);
  frame.append(stage, panel);
  frame.setAttribute('role', 'region');
  frame.setAttribute('aria-label', t('embed.viewer', { label: '' }).replace(/[:：]\s*$/, ''));

  const showPanel = (open: boolean) => {
    frame.classList.toggle('panel-open', open);
    toggle.setAttribute('aria-expanded', String(open));
    toggle.textContent = open ? t('embed.hideAnnotations') : t('embed.showAnnotations', { count: items.length });
  };
  toggle.addEventListener('click', () => showPanel(!frame.classList.contains('panel-open')));

  // ------------------------------------------------------------------ state

  let viewer: OpenSeadragon.Viewer | null = null;
  let surface: ModelSurface | null = null; // a 3D subject's view
  let isModel = false;
  let began = false;
  let meta: SubjectMeta | null = null;
  let canvas: Canvas | null = null;
  let items: Item[] = [];
  let chosen: string | null = null;
  let opened = false;
  let drawnOnce = false;
  let ended = false;
  const wanted: ViewState | null = decodeContentState(options.contentState ?? '') ?? null;
  let pending: ViewState | null = wanted;
  let synced = false;
  let subject: EmbedSubject | null = null;
  let poller: Poller | null = null;
  let polled: Map<string, AnnotationView> | null = null;
  let liveSince = Date.now(); // when the live document was last in sync (or we started)

  const live = new LiveDoc(
    server,
    options.document,
    options.share,
    (state, _reason) => showState(state),
    () => onSynced(),
  );
  // The image is asked for at once, while the live document connects.
  fetchSubject(server, options.document, options.share).then(
    (found) => {
      subject = found;
      if (!ended && !began) begin(found.meta, found.kind, found.model ?? null);
    },
    (error: unknown) => {
      if (error instanceof Refused) showState(error.kind);
    },
  );
  const isLive = () => live.provider.wsconnected && live.provider.synced;
  const fallback = setInterval(() => {
    if (ended) return;
    if (isLive()) {
      liveSince = Date.now();
      return;
    }
    if (!poller && subject && Date.now() - liveSince > FALLBACK_AFTER_MS) {
      poller = new Poller(
        subject.annotations,
        options.share,
        POLL_EVERY_MS,
        (annotations) => {
          polled = annotations;
          showPolling();
          refresh();
        },
        (kind) => showState(kind),
      );
    }
  }, 500);
  const stopPolling = () => {
    poller?.stop();
    poller = null;
    polled = null;
  };

  const showPolling = () => {
    status.textContent = t('embed.polling');
    status.classList.remove('is-live');
    if (opened) setState('polling');
  };

  const showState = (state: LiveState) => {
    if (ended) return;
    if (state === 'live' && poller) {
      stopPolling();
      refresh();
    }
    if (poller && state !== 'unavailable' && state !== 'refused') return showPolling();
    if (state === 'unavailable' || state === 'refused') {
      ended = true;
      stopPolling();
      clearInterval(fallback);
      viewer?.destroy();
      viewer = null;
      surface?.destroy();
      surface = null;
      frame.replaceChildren(
        state === 'refused'
          ? notice('embed.refused.title', 'embed.refused.body', 'notice ended')
          : notice('embed.unavailable.title', 'embed.unavailable.body', 'notice ended'),
      );
      setState(state);
      live.destroy();
      return;
    }
    const key: EmbedKey = state === 'live' ? 'embed.live' : state === 'reconnecting' ? 'embed.reconnecting' : 'embed.connecting';
    status.textContent = t(key);
    status.classList.toggle('is-live', state === 'live');
    if (opened) setState(state);
  };

  const onSynced = () => {
    if (ended) return;
    synced = true;
    liveSince = Date.now();
    stopPolling();
    annotationsOf(live.doc).observeDeep(refresh);
    if (!began) {
      const found = readSubject(live.doc);
      if (found) begin(found, options.document.split('/')[1] ?? 'canvas', modelAssetOf(live.doc)?.url ?? null);
      else unsupported();
    }
    refresh();
  };

  const unsupported = () => {
    loading.textContent = t('embed.unsupported');
    setState('unsupported');
  };

  /** Show the subject (from the REST answer or the live document, whichever is first). */
  const begin = (found: SubjectMeta, kind: string, model: string | null) => {
    if (began || ended) return;
    if (kind === 'model' ? !model : !found.imageService && !found.image) {
      unsupported();
      return;
    }
    began = true;
    meta = found;
    if (!pending) {
      const fromPage = decodeContentState(pageContentState() ?? '');
      if (fromPage && fromPage.canvas === found.iiifId) pending = fromPage;
    }
    if (pending && pending.canvas !== found.iiifId) pending = null;
    frame.setAttribute('aria-label', t('embed.viewer', { label: found.label || options.document }));
    if (kind === 'model') {
      isModel = true;
      void openModel(found, model!);
    } else {
      canvas = { id: found.iiifId, manifest: found.manifest, width: found.width, height: found.height };
      void openImage(found);
    }
    refresh();
  };

  // ------------------------------------------------------------------ 3D model

  const shareButton = () =>
    h('button', { type: 'button', class: 'tool share', onclick: () => openShare() }, h('span', { 'aria-hidden': 'true' }, '↗ '), t('embed.share'));

  const openModel = async (m: SubjectMeta, url: string) => {
    osdEl.remove();
    shapesSvg.remove();
    numbers.remove();
    let made: ModelSurface;
    try {
      const chunk = await (modelChunk ?? import('./model'));
      if (ended) return;
      made = chunk.openModel(`${m.label || options.document}. ${t('embed.model.keys')}`, (id) => {
        choose(id, true);
        // The text is in the list: on a narrow screen (where it folds away behind the
        // toggle) it opens to show it.
        if (id && toggle.getClientRects().length && !frame.classList.contains('panel-open')) showPanel(true);
      });
    } catch {
      // No WebGL here (or the 3D code did not load): the list still tells what is noted.
      loading.replaceWith(notice('embed.model.noWebgl.title', 'embed.model.noWebgl.body', 'notice inline'));
      setState('error');
      return;
    }
    surface = made;
    stage.prepend(made.node);
    toolbar.append(
      button('embed.zoomIn', '+', () => made.zoom(ZOOM_STEP)),
      button('embed.zoomOut', '−', () => made.zoom(1 / ZOOM_STEP)),
      button('embed.model.home', '⤢', () => {
        choose(null, false);
        made.home();
      }),
      shareButton(),
    );
    try {
      // The share link goes only to Sinopia: a model an imported manifest names on
      // another site is read from there without it.
      const token = new URL(url, server).origin === server ? options.share : null;
      await made.load(url, token, (share) => {
        loading.textContent = share === null ? t('embed.loading') : t('embed.model.loading', { percent: Math.round(share * 100) });
      });
    } catch {
      if (ended || surface !== made) return;
      loading.replaceWith(notice('embed.error.title', 'embed.error.body', 'notice inline'));
      setState('error');
      return;
    }
    if (ended || surface !== made) return;
    opened = true;
    loading.remove();
    made.afterFrame(() => performance.mark(MARK_MODEL));
    showState(isLive() ? 'live' : synced ? 'reconnecting' : 'connecting');
    applyPending(true);
    draw();
  };

  // ------------------------------------------------------------------ image

  const openImage = async (m: SubjectMeta) => {
    try {
      OSD = (await (imageChunk ?? import('openseadragon'))).default;
    } catch {
      loading.replaceWith(notice('embed.error.title', 'embed.error.body', 'notice inline'));
      setState('error');
      return;
    }
    if (ended) return;
    viewer = OSD({
      element: osdEl,
      tileSources: tileSource(m),
      // Works with image services that send no CORS headers (as the app does).
      drawer: 'canvas',
      showNavigationControl: false,
      gestureSettingsMouse: { clickToZoom: false, dblClickToZoom: true },
      gestureSettingsTouch: { clickToZoom: false, dblClickToZoom: true },
      visibilityRatio: 0.5,
      minZoomImageRatio: 0.5,
      maxZoomPixelRatio: 4,
      animationTime: 0.6,
      keyboardNavEnabled: true,
    } as OpenSeadragon.Options);
    const v = viewer;
    v.canvas.setAttribute('aria-label', `${m.label || options.document}. ${t('embed.keys')}`);
    v.canvas.setAttribute('role', 'img');
    toolbar.append(
      button('embed.zoomIn', '+', () => {
        held = null;
        v.viewport.zoomBy(1.5);
      }),
      button('embed.zoomOut', '−', () => {
        held = null;
        v.viewport.zoomBy(1 / 1.5);
      }),
      button('embed.home', '⤢', () => {
        choose(null, false);
        held = null;
        v.viewport.goHome();
      }),
      shareButton(),
    );
    v.addHandler('open', () => {
      opened = true;
      loading.remove();
      showState(isLive() ? 'live' : synced ? 'reconnecting' : 'connecting');
      applyPending(true);
      draw(); // the annotations that arrived with the document, now over the image
    });
    v.addHandler('open-failed', () => {
      loading.replaceWith(notice('embed.error.title', 'embed.error.body', 'notice inline'));
      setState('error');
    });
    v.addHandler('tile-drawn', function first() {
      performance.mark(MARK_IMAGE);
      v.removeHandler('tile-drawn', first);
    });
    v.addHandler('update-viewport', place);
    v.addHandler('resize', () => {
      // OpenSeadragon keeps the old bounds right after this event: fit once it has.
      if (held)
        requestAnimationFrame(() => {
          if (held && viewer === v) v.viewport.fitBoundsWithConstraints(held, true);
        });
      place();
    });
    for (const moved of ['canvas-drag', 'canvas-scroll', 'canvas-pinch', 'canvas-key'] as const)
      v.addHandler(moved, () => {
        held = null;
      });
    v.addHandler('canvas-click', (event) => {
      if (!event.quick) return;
      const p = v.viewport.viewerElementToImageCoordinates(event.position);
      const slop = HIT_SLOP_PX / imageScale();
      const hits = items.filter(({ shape }) => {
        const b = shape?.geometry.bounds;
        return b && p.x >= b.minX - slop && p.x <= b.maxX + slop && p.y >= b.minY - slop && p.y <= b.maxY + slop;
      });
      hits.sort((a, b) => area(a.shape!.geometry.bounds) - area(b.shape!.geometry.bounds));
      choose(hits[0]?.view.id ?? null, false);
    });
  };

  const toScreen = (x: number, y: number) => viewer!.viewport.imageToViewerElementCoordinates(new OSD!.Point(x, y));
  const imageScale = () => {
    const a = toScreen(0, 0);
    const b = toScreen(1000, 0);
    return (b.x - a.x) / 1000 || 1;
  };

  function place(): void {
    if (!viewer?.world.getItemAt(0)) return;
    const origin = toScreen(0, 0);
    shapesGroup.setAttribute('transform', `translate(${origin.x} ${origin.y}) scale(${imageScale()})`);
    for (const el of Array.from(numbers.children) as HTMLElement[]) {
      const p = toScreen(Number(el.dataset.x), Number(el.dataset.y));
      el.style.transform = `translate(${Math.round(p.x)}px, ${Math.round(p.y)}px)`;
    }
  }

  const applyPending = (immediately: boolean) => {
    if (!(viewer || surface) || !opened || !pending) return;
    const state = pending;
    if (state.annotation) {
      const id = lastSegment(state.annotation);
      if (!items.some((i) => i.view.id === id)) {
        // Not drawn yet (or gone): the region, if any, still opens.
        if (state.region && viewer) fitImageRect(state.region, immediately);
        return;
      }
      pending = null;
      choose(id, true, immediately);
      return;
    }
    pending = null;
    if (state.region && viewer) fitImageRect(state.region, immediately);
  };

  // The region asked for stays in view while the element settles into its size (a page
  // still laying out, the list opening on a phone), until the visitor moves the image.
  let held: OpenSeadragon.Rect | null = null;
  const fitImageRect = ([x, y, w, hh]: [number, number, number, number], immediately = false) => {
    if (!viewer) return;
    const rect = viewer.viewport.imageToViewportRectangle(x, y, w, hh);
    held = rect;
    viewer.viewport.fitBoundsWithConstraints(rect, immediately);
  };

  // ------------------------------------------------------------------ annotations

  // Text: the textual bodies (comments, descriptions); terms: tags and vocabulary terms
  // (a resource body shows its label).
  const isTerm = (b: AnnotationView['bodies'][number]): boolean => Boolean(b.source) || b.purpose === 'tagging';
  const textOf = (view: AnnotationView): string =>
    view.bodies
      .filter((b) => !isTerm(b) && (b.text !== null || b.type === 'TextualBody'))
      .map((b) => b.value.trim())
      .filter(Boolean)
      .join('\n\n');

  function refresh(): void {
    if ((!canvas && !isModel) || ended) return;
    // The live document once in sync, unless it is lost and the page is being polled.
    const all = polled ?? (synced ? readAll(live.doc) : new Map<string, AnnotationView>());
    const found: Item[] = [];
    const replies = new Map<string, string[]>();
    for (const view of all.values())
      if (view.motivation === 'replying')
        for (const target of view.replyTo) {
          const text = textOf(view);
          if (text) replies.set(lastSegment(target), [...(replies.get(lastSegment(target)) ?? []), text]);
        }
    for (const view of all.values()) {
      if (view.motivation === 'replying') continue;
      const shape = canvas ? targetShape(view.target, canvas) : null;
      const point = isModel && meta ? surfacePointOf(view.target, meta.iiifId) : null;
      if (!shape && !point) continue;
      found.push({
        view,
        shape,
        point,
        number: 0,
        text: textOf(view),
        tags: view.bodies.filter(isTerm).map((b) => b.value).filter(Boolean),
        replies: [],
      });
    }
    // Reading order: by creation, so numbers stay put as new annotations arrive.
    found.sort((a, b) => (a.view.created ?? '').localeCompare(b.view.created ?? '') || a.view.id.localeCompare(b.view.id));
    found.forEach((item, i) => {
      item.number = i + 1;
      item.replies = replies.get(item.view.id) ?? [];
    });
    items = found;
    if (chosen && !items.some((i) => i.view.id === chosen)) chosen = null;
    draw();
    if (pending) applyPending(false);
  }

  function draw(): void {
    const shaped = items.filter((item): item is Item & { shape: Shape } => item.shape !== null);
    shapesGroup.replaceChildren(
      ...shaped.map((item) => {
        const path = svg('path', { d: shapePath(item.shape), class: item.view.id === chosen ? 'shape chosen' : 'shape' });
        path.dataset.id = item.view.id;
        return path;
      }),
    );
    numbers.replaceChildren(
      ...shaped.map((item) => {
        const el = h('span', { class: item.view.id === chosen ? 'number chosen' : 'number' }, String(item.number));
        el.dataset.x = String(item.shape.geometry.bounds.minX);
        el.dataset.y = String(item.shape.geometry.bounds.minY);
        return el;
      }),
    );
    surface?.setPins(
      items.flatMap((item) => (item.point ? [{ id: item.view.id, point: item.point, chosen: item.view.id === chosen, label: String(item.number) }] : [])),
    );
    const focused = root.activeElement instanceof HTMLElement ? root.activeElement.dataset.id : undefined;
    list.replaceChildren(...items.map(listItem));
    if (focused) (list.querySelector(`[data-id="${CSS.escape(focused)}"]`) as HTMLElement | null)?.focus();
    empty.hidden = items.length > 0;
    host.dataset.annotations = String(items.length);
    if (!frame.classList.contains('panel-open')) toggle.textContent = t('embed.showAnnotations', { count: items.length });
    place();
    if (!drawnOnce && items.length && opened) {
      drawnOnce = true;
      performance.mark(MARK_ANNOTATIONS);
    }
  }

  const listItem = (item: Item): HTMLLIElement => {
    const isChosen = item.view.id === chosen;
    const text = item.text || t('embed.noText');
    const excerpt = !isChosen && text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS).trimEnd()}…` : text;
    const detailId = uid('sinopia-detail');
    const head = h(
      'button',
      { type: 'button', class: 'item-button', 'aria-expanded': String(isChosen), 'aria-controls': detailId },
      h('span', { class: 'badge', 'aria-hidden': 'true' }, String(item.number)),
      h('span', { class: item.text ? 'item-text' : 'item-text muted' }, excerpt),
    );
    head.dataset.id = item.view.id;
    head.addEventListener('click', () => choose(isChosen ? null : item.view.id, true));
    const li = h('li', { class: isChosen ? 'item chosen' : 'item' }, head);
    if (isChosen) {
      const detail = h('div', { class: 'detail', id: detailId });
      if (item.tags.length)
        detail.append(h('p', { class: 'tags', 'aria-label': t('embed.tags') }, ...item.tags.map((tag) => h('span', { class: 'tag' }, tag))));
      if (item.replies.length)
        detail.append(h('p', { class: 'replies-title' }, t('embed.replies')), h('ul', { class: 'replies' }, ...item.replies.map((r) => h('li', null, r))));
      if (detail.childNodes.length) li.append(detail);
    }
    return li;
  };

  const choose = (id: string | null, zoom = true, immediately = false) => {
    chosen = id;
    draw();
    const item = items.find((i) => i.view.id === id);
    if (item?.point && zoom && surface) surface.fly(item.point, immediately);
    if (item?.shape && zoom && viewer) {
      const b = item.shape.geometry.bounds;
      const w = Math.max(b.maxX - b.minX, 1);
      const hh = Math.max(b.maxY - b.minY, 1);
      const margin = Math.max(w, hh) * 0.6;
      fitImageRect([b.minX - margin, b.minY - margin, w + 2 * margin, hh + 2 * margin], immediately);
    }
    if (item) (list.querySelector(`[data-id="${CSS.escape(item.view.id)}"]`) as HTMLElement | null)?.scrollIntoView({ block: 'nearest' });
  };

  frame.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && chosen) {
      choose(null, false);
      event.stopPropagation();
    }
  });

  // ------------------------------------------------------------------ share this view

  let shareBox: HTMLElement | null = null;

  const currentView = (): ViewState | null => {
    if (!meta) return null;
    const item = items.find((i) => i.view.id === chosen);
    const annotation = item ? `${server}/api/annotations/${options.document}/${encodeURIComponent(item.view.id)}` : undefined;
    // A 3D view: the scene, and the annotation chosen (its saved camera is the view).
    if (isModel) return { canvas: meta.iiifId, type: 'Scene', manifest: meta.manifest, annotation };
    if (!viewer) return null;
    const rect = viewer.viewport.viewportToImageRectangle(viewer.viewport.getBounds());
    const W = meta.width ?? Infinity;
    const H = meta.height ?? Infinity;
    const x = Math.max(0, rect.x);
    const y = Math.max(0, rect.y);
    const region: [number, number, number, number] = [x, y, Math.min(rect.x + rect.width, W) - x, Math.min(rect.y + rect.height, H) - y];
    return {
      canvas: meta.iiifId,
      manifest: meta.manifest,
      region: region[2] > 0 && region[3] > 0 ? region : undefined,
      annotation,
    };
  };

  const openShare = () => {
    const state = currentView();
    if (!state) return;
    shareBox?.remove();
    const link = withContentState(location.href, state);
    const titleId = uid('sinopia-share');
    const field = h('input', { class: 'share-link', type: 'text', readonly: 'readonly', value: link, 'aria-labelledby': titleId });
    const said = h('p', { class: 'share-said', role: 'status' });
    const opener = root.activeElement as HTMLElement | null;
    const close = () => {
      shareBox?.remove();
      shareBox = null;
      opener?.focus();
    };
    const copy = h('button', { type: 'button', class: 'share-copy' }, t('embed.copy'));
    copy.addEventListener('click', async () => {
      field.select();
      try {
        await navigator.clipboard.writeText(link);
        said.textContent = t('embed.copied');
      } catch {
        // No clipboard here (an iframe without permission): the link is selected to copy.
        field.focus();
        field.select();
      }
    });
    shareBox = h(
      'div',
      { class: 'share-box', role: 'dialog', 'aria-labelledby': titleId },
      h('p', { class: 'share-title', id: titleId }, t('embed.shareTitle')),
      field,
      h('div', { class: 'share-actions' }, copy, h('button', { type: 'button', class: 'share-close', onclick: close }, t('embed.close'))),
      said,
    );
    shareBox.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.stopPropagation();
        close();
      }
    });
    stage.append(shareBox);
    field.focus();
    field.select();
  };

  return {
    destroy() {
      ended = true;
      stopPolling();
      clearInterval(fallback);
      annotationsOf(live.doc).unobserveDeep(refresh);
      viewer?.destroy();
      surface?.destroy();
      live.destroy();
      root.replaceChildren();
    },
  };
};
