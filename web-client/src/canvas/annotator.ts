// OpenSeadragon with Annotorious 3 on it, adapted to the binding's Surface.

import { createOSDAnnotator, UserSelectAction, type ImageAnnotation, type OpenSeadragonAnnotator } from '@annotorious/openseadragon';
import '@annotorious/openseadragon/annotorious-openseadragon.css';
import { mountPlugin as mountTools } from '@annotorious/plugin-tools';
import '@annotorious/plugin-tools/annotorious-plugin-tools.css';
import OpenSeadragon from 'openseadragon';
import './pixi';
import type { SubjectMeta } from '../binding/document';
import type { Drawn, LocalChange, Surface } from '../binding/sync';
import type { Picture } from './image';
import { FreehandTool, pointTool } from './tools';

export const TOOLS = ['rectangle', 'polygon', 'ellipse', 'point', 'freehand', 'path', 'line'] as const;
export type ToolName = (typeof TOOLS)[number];

// Existing annotations handed to Annotorious per animation frame (see surface.load).
const SHAPES_PER_FRAME = 100;

// Annotorious' store takes changes with an origin; ours come from the document.
const REMOTE = 'REMOTE' as never;

// Where the picture cannot be had, a plain ground of the canvas' size stands in for it, so
// the annotations keep their places and can still be read, chosen and drawn.
const STAND_IN = `data:image/svg+xml,${encodeURIComponent("<svg xmlns='http://www.w3.org/2000/svg' width='1' height='1'><rect width='1' height='1' fill='#d9d5cc'/></svg>")}`;
const STAND_IN_SIZE = 1000; // when the document does not say the canvas' size

const tileSource = (picture: Picture, meta: SubjectMeta): OpenSeadragon.TileSourceOptions => {
  if (picture.kind === 'service') return picture.info as unknown as OpenSeadragon.TileSourceOptions;
  if (picture.kind === 'image') return { type: 'image', url: picture.url } as unknown as OpenSeadragon.TileSourceOptions;
  const width = meta.width ?? STAND_IN_SIZE;
  const height = meta.height ?? STAND_IN_SIZE;
  return { width, height, tileSize: Math.max(width, height), minLevel: 0, getTileUrl: () => STAND_IN } as unknown as OpenSeadragon.TileSourceOptions;
};

export interface Annotated {
  viewer: OpenSeadragon.Viewer;
  anno: OpenSeadragonAnnotator<ImageAnnotation, ImageAnnotation>;
  surface: Surface;
  /** Show the picture (or its stand-in) once it is known. */
  show(picture: Picture): void;
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
    // The picture is painted first; the shapes follow from the next frame on.
    requestAnimationFrame(drain);
  });
  // The page then shows the stand-in (which opens as above) and says why.
  viewer.addOnceHandler('open-failed', () => options.onOpenFailed());

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
    show: (picture) => viewer.open(tileSource(picture, meta)),
    onLocal: (fn) => listeners.push(fn),
    destroy: () => {
      handles.disconnect();
      anno.destroy();
      viewer.destroy();
    },
  };
};
