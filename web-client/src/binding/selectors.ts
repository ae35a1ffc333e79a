// W3C targets (as annotations/ stores them) <-> Annotorious shapes.
//
// Reading takes any target another client may have written: a canvas IRI with #xywh=, a
// SpecificResource with a FragmentSelector, SvgSelector or PointSelector, or a list of
// alternatives (Mirador writes both a FragmentSelector and an SvgSelector). Writing gives
// one SpecificResource on this canvas with one selector, in whole pixels inside the canvas
// for fragments and points, as annotations/selectors.py requires.

import { MEDIA_FRAGMENTS, SOURCE, TARGET } from '../generated/schema';
import { ellipse, point, pointRadius, rectangle, type Shape, type XY } from './shapes';
import { parseSvg, svgFor } from './svg';

export type W3CSelector =
  | { type: 'FragmentSelector'; conformsTo?: string; value: string }
  | { type: 'SvgSelector'; value: string }
  | { type: 'PointSelector'; x: number; y: number; t?: number };

export type W3CSource = string | { id: string; type?: string; partOf?: unknown };

export interface SpecificTarget {
  type: 'SpecificResource';
  source: W3CSource;
  selector?: W3CSelector | W3CSelector[];
}

export type W3CTarget = string | SpecificTarget;

/** What the binding knows of the canvas an annotation is drawn on. */
export interface Canvas {
  id: string; // the canvas IRI annotations target
  manifest?: string | undefined;
  width?: number | undefined;
  height?: number | undefined;
}

const XYWH = /^xywh=(?:(pixel|percent):)?([-+\d.eE]+),([-+\d.eE]+),([-+\d.eE]+),([-+\d.eE]+)$/;

const fragmentShape = (value: string, canvas: Canvas): Shape | null => {
  const region = value
    .split('&')
    .map((part) => part.trim())
    .find((part) => part.startsWith('xywh='));
  const m = region ? XYWH.exec(region) : null;
  if (!m) return null;
  let [x, y, w, h] = [m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number];
  if (![x, y, w, h].every(Number.isFinite) || w <= 0 || h <= 0) return null;
  if (m[1] === 'percent') {
    if (!canvas.width || !canvas.height) return null;
    [x, w] = [(x * canvas.width) / 100, (w * canvas.width) / 100];
    [y, h] = [(y * canvas.height) / 100, (h * canvas.height) / 100];
  }
  return rectangle(x, y, w, h);
};

const selectorShape = (selector: W3CSelector, canvas: Canvas): Shape | null => {
  switch (selector?.type) {
    case 'SvgSelector':
      return typeof selector.value === 'string' ? parseSvg(selector.value) : null;
    case 'FragmentSelector':
      return typeof selector.value === 'string' ? fragmentShape(selector.value, canvas) : null;
    case 'PointSelector':
      if (!Number.isFinite(selector.x) || !Number.isFinite(selector.y)) return null;
      return point(selector.x, selector.y, pointRadius(canvas.width, canvas.height));
    default:
      return null;
  }
};

// Of several alternative selectors, the most precise one we can draw.
const PREFERENCE = ['SvgSelector', 'PointSelector', 'FragmentSelector'];

export const sourceId = (source: W3CSource | undefined): string | undefined =>
  typeof source === 'string' ? source : source?.id;

/** The shape of one target on `canvas`, or null when it is not a region of it (a reply, a
 * whole-canvas comment, another canvas, a 3D point). */
export const targetShape = (target: unknown, canvas: Canvas): Shape | null => {
  const targets = Array.isArray(target) ? target : [target];
  for (const t of targets) {
    if (typeof t === 'string') {
      const [iri, fragment] = t.split('#', 2);
      if (iri === canvas.id && fragment) {
        const shape = fragmentShape(fragment, canvas);
        if (shape) return shape;
      }
      continue;
    }
    if (!t || typeof t !== 'object') continue;
    const specific = t as SpecificTarget;
    if (sourceId(specific.source) !== canvas.id) continue;
    const raw = specific[TARGET.SELECTOR];
    const selectors = (Array.isArray(raw) ? raw : raw ? [raw] : []).filter(
      (s): s is W3CSelector => Boolean(s) && typeof s === 'object' && !('z' in s),
    );
    const ordered = [...selectors].sort((a, b) => PREFERENCE.indexOf(a.type) - PREFERENCE.indexOf(b.type));
    for (const selector of ordered) {
      const shape = selectorShape(selector, canvas);
      if (shape) return shape;
    }
  }
  return null;
};

/** Whether a target was written as a point (so an edited point stays one). */
export const isPointTarget = (target: unknown): boolean => {
  const t = Array.isArray(target) ? target[0] : target;
  if (!t || typeof t !== 'object') return false;
  const raw = (t as SpecificTarget).selector;
  const first = Array.isArray(raw) ? raw[0] : raw;
  return first?.type === 'PointSelector';
};

const clamp = (v: number, lo: number, hi: number | undefined) => Math.max(lo, hi === undefined ? v : Math.min(v, hi));

/** The shape kept inside the canvas: annotations/ refuses regions that leave it. */
export const clampShape = (shape: Shape, canvas: Canvas): Shape => {
  const { width: W, height: H } = canvas;
  const cp = ([x, y]: XY): XY => [clamp(x, 0, W), clamp(y, 0, H)];
  switch (shape.type) {
    case 'RECTANGLE': {
      const { x, y, w, h, rot = 0 } = shape.geometry;
      if (rot) return shape; // a turned box is checked by its SVG, which has a transform
      const x0 = clamp(x, 0, W);
      const y0 = clamp(y, 0, H);
      const x1 = clamp(x + w, 0, W);
      const y1 = clamp(y + h, 0, H);
      return rectangle(x0, y0, Math.max(1, x1 - x0), Math.max(1, y1 - y0));
    }
    case 'ELLIPSE': {
      const { cx, cy, rx, ry } = shape.geometry;
      const x = clamp(cx, 0, W);
      const y = clamp(cy, 0, H);
      const rxMax = Math.min(x, W === undefined ? Infinity : W - x);
      const ryMax = Math.min(y, H === undefined ? Infinity : H - y);
      // Shrunk to fit: a point-sized ellipse on the edge stays within the 2 px tolerance.
      const fitted = ellipse(x, y, Math.max(1, Math.min(rx, rxMax)), Math.max(1, Math.min(ry, ryMax)));
      return shape.point ? { ...fitted, point: true } : fitted;
    }
    case 'POLYGON':
      return { ...shape, geometry: { ...shape.geometry, points: shape.geometry.points.map(cp) } };
    case 'LINE':
      return {
        ...shape,
        geometry: { ...shape.geometry, points: [cp(shape.geometry.points[0]), cp(shape.geometry.points[1])] },
      };
    case 'POLYLINE':
      return {
        ...shape,
        geometry: {
          ...shape.geometry,
          points: shape.geometry.points.map((p) => ({
            ...p,
            point: cp(p.point),
            ...(p.inHandle ? { inHandle: cp(p.inHandle) } : {}),
            ...(p.outHandle ? { outHandle: cp(p.outHandle) } : {}),
          })),
        },
      };
    case 'MULTIPOLYGON':
      return {
        ...shape,
        geometry: {
          ...shape.geometry,
          polygons: shape.geometry.polygons.map((p) => ({
            ...p,
            rings: p.rings.map((r) => ({ points: r.points.map(cp) })),
          })),
        },
      };
  }
};

/** The selector a drawn shape is stored with. */
export const shapeSelector = (shape: Shape, canvas: Canvas, asPoint = false): W3CSelector => {
  const inside = clampShape(shape, canvas);
  if (inside.type === 'ELLIPSE' && (inside.point || asPoint)) {
    return {
      type: 'PointSelector',
      x: Math.round(clamp(inside.geometry.cx, 0, canvas.width)),
      y: Math.round(clamp(inside.geometry.cy, 0, canvas.height)),
    };
  }
  if (inside.type === 'RECTANGLE' && !inside.geometry.rot) {
    // Whole pixels, still inside the canvas.
    const { x, y, w, h } = inside.geometry;
    const x0 = Math.floor(x);
    const y0 = Math.floor(y);
    const x1 = Math.max(x0 + 1, Math.min(Math.ceil(x + w), canvas.width ?? Infinity));
    const y1 = Math.max(y0 + 1, Math.min(Math.ceil(y + h), canvas.height ?? Infinity));
    return {
      type: 'FragmentSelector',
      conformsTo: MEDIA_FRAGMENTS,
      value: `xywh=${x0},${y0},${x1 - x0},${y1 - y0}`,
    };
  }
  return { type: 'SvgSelector', value: svgFor(inside) };
};

/** The target a drawn shape is stored with: this canvas, in its manifest, one selector. */
export const shapeTarget = (shape: Shape, canvas: Canvas, asPoint = false): SpecificTarget => {
  const source: W3CSource = canvas.manifest
    ? {
        [SOURCE.ID]: canvas.id,
        [SOURCE.TYPE]: 'Canvas',
        [SOURCE.PART_OF]: [{ id: canvas.manifest, type: 'Manifest' }],
      }
    : canvas.id;
  return {
    [TARGET.TYPE]: 'SpecificResource',
    [TARGET.SOURCE]: source,
    [TARGET.SELECTOR]: shapeSelector(shape, canvas, asPoint),
  } as SpecificTarget;
};
