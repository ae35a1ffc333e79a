// OpenSeadragon with Annotorious 3 on it, adapted to the binding's Surface.

import { createOSDAnnotator, UserSelectAction, type ImageAnnotation, type OpenSeadragonAnnotator } from '@annotorious/openseadragon';
import '@annotorious/openseadragon/annotorious-openseadragon.css';
import { mountPlugin as mountTools } from '@annotorious/plugin-tools';
import '@annotorious/plugin-tools/annotorious-plugin-tools.css';
import OpenSeadragon from 'openseadragon';
import './pixi';
import type { SubjectMeta } from '../binding/document';
import type { Drawn, LocalChange, Surface } from '../binding/sync';
import { FreehandTool, pointTool } from './tools';

export const TOOLS = ['rectangle', 'polygon', 'ellipse', 'point', 'freehand', 'path', 'line'] as const;
export type ToolName = (typeof TOOLS)[number];

// Existing annotations handed to Annotorious per animation frame (see surface.load).
const SHAPES_PER_FRAME = 100;

// Annotorious' store takes changes with an origin; ours come from the document.
const REMOTE = 'REMOTE' as never;

const tileSource = (meta: SubjectMeta): OpenSeadragon.TileSourceOptions | string => {
  if (meta.imageService) return `${meta.imageService.id.replace(/\/$/, '')}/info.json`;
  if (meta.image) return { type: 'image', url: meta.image.id } as unknown as OpenSeadragon.TileSourceOptions;
  throw new Error('no image');
};

export interface Annotated {
  viewer: OpenSeadragon.Viewer;
  anno: OpenSeadragonAnnotator<ImageAnnotation, ImageAnnotation>;
  surface: Surface;
  onLocal(fn: (change: LocalChange) => void): void;
  destroy(): void;
}

const toAnnotorious = (d: Drawn): ImageAnnotation =>
  ({
    id: d.id,
    bodies: [],
    target: {
      annotation: d.id,
      selector: d.shape,
      ...(d.creator?.id ? { creator: { id: d.creator.id, name: d.creator.name } } : {}),
    },
  }) as unknown as ImageAnnotation;

export const createAnnotated = (
  element: HTMLElement,
  meta: SubjectMeta,
  options: {
    pointRadius: () => number;
    editable: (id: string) => boolean;
    onOpen: () => void;
    onOpenFailed: () => void;
    onAllDrawn: () => void;
    handleLabel: string;
  },
): Annotated => {
  const viewer = OpenSeadragon({
    element,
    tileSources: tileSource(meta),
    // The canvas drawer works with images from services that send no CORS headers.
    drawer: 'canvas',
    showNavigationControl: false, // our own buttons: labelled, translated, no image files
    gestureSettingsMouse: { clickToZoom: false, dblClickToZoom: true },
    visibilityRatio: 0.5,
    minZoomImageRatio: 0.5,
    maxZoomPixelRatio: 4,
    animationTime: 0.6,
    keyboardNavEnabled: false, // our shortcuts handle keys
  } as OpenSeadragon.Options);

  const anno = createOSDAnnotator<ImageAnnotation, ImageAnnotation>(viewer, {
    drawingEnabled: false,
    drawingMode: 'drag',
    userSelectAction: ((a: ImageAnnotation) => (options.editable(a.id) ? UserSelectAction.EDIT : UserSelectAction.SELECT)) as never,
  });
  mountTools(anno);
  anno.registerDrawingTool('point', pointTool(options.pointRadius) as never, { drawingMode: 'click' });
  anno.registerDrawingTool('freehand', FreehandTool as never, { drawingMode: 'drag' });

  // Annotorious' shape handles are focusable buttons without a name: name them, so a
  // screen reader says what they are.
  const label = () =>
    (viewer.element as HTMLElement)
      .querySelectorAll('[role="button"]:not([aria-label])')
      .forEach((el) => el.setAttribute('aria-label', options.handleLabel));
  const handles = new MutationObserver(label);
  handles.observe(viewer.element, { childList: true, subtree: true });

  const store = anno.state.store;
  // The image first, then the annotations a batch per frame: people see the image and can
  // draw at once, and hundreds of shapes appear within a few frames. What changes in the
  // meantime takes the place of what is still waiting.
  let waiting: Map<string, Drawn> | null = null;
  let opened = false;
  const drain = () => {
    if (!waiting) return;
    const batch = [...waiting.values()].slice(0, SHAPES_PER_FRAME);
    for (const d of batch) waiting.delete(d.id);
    store.bulkUpsertAnnotations(batch.map(toAnnotorious), REMOTE);
    if (waiting.size) requestAnimationFrame(drain);
    else {
      waiting = null;
      options.onAllDrawn();
    }
  };
  const surface: Surface = {
    load: (all) => {
      store.syncAnnotations([], REMOTE);
      waiting = new Map(all.map((d) => [d.id, d]));
      if (opened) drain();
    },
    upsert: (d) => {
      waiting?.delete(d.id);
      if (store.getAnnotation(d.id)) store.updateAnnotation(toAnnotorious(d), REMOTE);
      else store.addAnnotation(toAnnotorious(d), REMOTE);
    },
    remove: (id) => {
      waiting?.delete(id);
      if (store.getAnnotation(id)) store.deleteAnnotation(id, REMOTE);
    },
    has: (id) => Boolean(waiting?.has(id) || store.getAnnotation(id)),
  };
  viewer.addOnceHandler('open', () => {
    opened = true;
    options.onOpen();
    drain();
  });
  viewer.addOnceHandler('open-failed', () => {
    opened = true;
    options.onOpenFailed();
    drain();
  });

  const listeners: ((change: LocalChange) => void)[] = [];
  store.observe(
    (event) => {
      const { created = [], updated = [], deleted = [] } = event.changes;
      for (const a of created) listeners.forEach((l) => l({ kind: 'created', id: a.id, shape: a.target.selector as never }));
      for (const u of updated)
        if (u.targetUpdated)
          listeners.forEach((l) => l({ kind: 'updated', id: u.newValue.id, shape: u.newValue.target.selector as never }));
      for (const a of deleted) listeners.forEach((l) => l({ kind: 'deleted', id: a.id }));
    },
    { origin: 'LOCAL' as never },
  );

  return {
    viewer,
    anno,
    surface,
    onLocal: (fn) => listeners.push(fn),
    destroy: () => {
      handles.disconnect();
      anno.destroy();
      viewer.destroy();
    },
  };
};
