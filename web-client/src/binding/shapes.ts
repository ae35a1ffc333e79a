// Annotorious' shapes (image coordinates), as plain data. The values of `type` are those of
// Annotorious' ShapeType enum; we keep our own copy of the structure so the binding runs
// (and is tested) without a DOM or WebGL.

export const RECTANGLE = 'RECTANGLE';
export const POLYGON = 'POLYGON';
export const ELLIPSE = 'ELLIPSE';
export const POLYLINE = 'POLYLINE';
export const LINE = 'LINE';
export const MULTIPOLYGON = 'MULTIPOLYGON';

export type XY = [number, number];

export interface Bounds {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

export interface RectangleShape {
  type: typeof RECTANGLE;
  geometry: { x: number; y: number; w: number; h: number; rot?: number; bounds: Bounds };
}

export interface PolygonShape {
  type: typeof POLYGON;
  geometry: { points: XY[]; bounds: Bounds };
}

export interface EllipseShape {
  type: typeof ELLIPSE;
  geometry: { cx: number; cy: number; rx: number; ry: number; bounds: Bounds };
  // Annotorious has no point shape: a point is drawn as a small circle and marked so the
  // binding writes it back as a PointSelector.
  point?: true;
}

export interface PolylinePoint {
  type: 'CORNER' | 'CURVE';
  point: XY;
  inHandle?: XY;
  outHandle?: XY;
}

export interface PolylineShape {
  type: typeof POLYLINE;
  geometry: { points: PolylinePoint[]; closed?: boolean; bounds: Bounds };
}

export interface LineShape {
  type: typeof LINE;
  geometry: { points: [XY, XY]; bounds: Bounds };
}

export interface MultiPolygonShape {
  type: typeof MULTIPOLYGON;
  geometry: {
    polygons: { rings: { points: XY[] }[]; bounds: Bounds }[];
    bounds: Bounds;
  };
}

export type Shape =
  | RectangleShape
  | PolygonShape
  | EllipseShape
  | PolylineShape
  | LineShape
  | MultiPolygonShape;

export const boundsOf = (points: XY[]): Bounds => {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const [x, y] of points) {
    if (x < minX) minX = x;
    if (y < minY) minY = y;
    if (x > maxX) maxX = x;
    if (y > maxY) maxY = y;
  }
  return { minX, minY, maxX, maxY };
};

export const rectangle = (x: number, y: number, w: number, h: number, rot = 0): RectangleShape => {
  const corners: XY[] = [
    [x, y],
    [x + w, y],
    [x + w, y + h],
    [x, y + h],
  ];
  const cx = x + w / 2;
  const cy = y + h / 2;
  const turned = rot
    ? corners.map(([px, py]): XY => [
        cx + (px - cx) * Math.cos(rot) - (py - cy) * Math.sin(rot),
        cy + (px - cx) * Math.sin(rot) + (py - cy) * Math.cos(rot),
      ])
    : corners;
  return { type: RECTANGLE, geometry: { x, y, w, h, rot, bounds: boundsOf(turned) } };
};

export const ellipse = (cx: number, cy: number, rx: number, ry: number): EllipseShape => ({
  type: ELLIPSE,
  geometry: { cx, cy, rx, ry, bounds: { minX: cx - rx, minY: cy - ry, maxX: cx + rx, maxY: cy + ry } },
});

export const polygon = (points: XY[]): PolygonShape => ({
  type: POLYGON,
  geometry: { points, bounds: boundsOf(points) },
});

export const polyline = (points: PolylinePoint[], closed: boolean): PolylineShape => {
  const all: XY[] = [];
  for (const p of points) {
    all.push(p.point);
    if (p.inHandle) all.push(p.inHandle);
    if (p.outHandle) all.push(p.outHandle);
  }
  return { type: POLYLINE, geometry: { points, closed, bounds: boundsOf(all) } };
};

export const line = (a: XY, b: XY): LineShape => ({
  type: LINE,
  geometry: { points: [a, b], bounds: boundsOf([a, b]) },
});

export const multipolygon = (polygons: XY[][][]): MultiPolygonShape => {
  const elements = polygons.map((rings) => ({
    rings: rings.map((points) => ({ points })),
    bounds: boundsOf(rings[0] ?? []),
  }));
  return {
    type: MULTIPOLYGON,
    geometry: { polygons: elements, bounds: boundsOf(polygons.flatMap((rings) => rings[0] ?? [])) },
  };
};

/** The radius (image pixels) a point is drawn with: visible on any image size. */
export const pointRadius = (width: number | undefined, height: number | undefined): number =>
  Math.max(4, Math.round(Math.max(width ?? 0, height ?? 0) * 0.007));

export const point = (x: number, y: number, radius: number): EllipseShape => ({
  ...ellipse(x, y, radius, radius),
  point: true,
});

/** The outline of a shape as an SVG path (image coordinates): for presence and history
 * overlays, which draw shapes themselves. */
export const shapePath = (shape: Shape): string => {
  const n = (v: number) => Math.round(v * 10) / 10;
  const pts = (points: XY[], close: boolean) =>
    points.map(([x, y], i) => `${i ? 'L' : 'M'}${n(x)},${n(y)}`).join(' ') + (close ? ' Z' : '');
  switch (shape.type) {
    case RECTANGLE: {
      const { x, y, w, h, rot = 0 } = shape.geometry;
      if (!rot)
        return pts(
          [
            [x, y],
            [x + w, y],
            [x + w, y + h],
            [x, y + h],
          ],
          true,
        );
      const cx = x + w / 2;
      const cy = y + h / 2;
      const turn = ([px, py]: XY): XY => [
        cx + (px - cx) * Math.cos(rot) - (py - cy) * Math.sin(rot),
        cy + (px - cx) * Math.sin(rot) + (py - cy) * Math.cos(rot),
      ];
      return pts(
        (
          [
            [x, y],
            [x + w, y],
            [x + w, y + h],
            [x, y + h],
          ] as XY[]
        ).map(turn),
        true,
      );
    }
    case POLYGON:
      return pts(shape.geometry.points, true);
    case ELLIPSE: {
      const { cx, cy, rx, ry } = shape.geometry;
      return `M${n(cx - rx)},${n(cy)} A${n(rx)},${n(ry)} 0 1,0 ${n(cx + rx)},${n(cy)} A${n(rx)},${n(ry)} 0 1,0 ${n(cx - rx)},${n(cy)} Z`;
    }
    case LINE:
      return pts(shape.geometry.points, false);
    case POLYLINE:
      return polylinePath(shape.geometry.points, Boolean(shape.geometry.closed));
    case MULTIPOLYGON:
      return shape.geometry.polygons
        .flatMap((p) => p.rings.map((r) => pts(r.points, true)))
        .join(' ');
  }
};

/** Absolute SVG path data for a polyline (corners as L, curves as C). */
export const polylinePath = (points: PolylinePoint[], closed: boolean): string => {
  const n = (v: number) => Math.round(v * 10) / 10;
  const xy = (p: XY) => `${n(p[0])},${n(p[1])}`;
  const first = points[0];
  if (!first) return '';
  const parts = [`M ${xy(first.point)}`];
  const segment = (from: PolylinePoint, to: PolylinePoint) => {
    if (from.type === 'CURVE' || to.type === 'CURVE') {
      const c1 = from.type === 'CURVE' && from.outHandle ? from.outHandle : from.point;
      const c2 = to.type === 'CURVE' && to.inHandle ? to.inHandle : to.point;
      parts.push(`C ${xy(c1)} ${xy(c2)} ${xy(to.point)}`);
    } else {
      parts.push(`L ${xy(to.point)}`);
    }
  };
  for (let i = 1; i < points.length; i++) segment(points[i - 1]!, points[i]!);
  if (closed && points.length > 2) {
    const last = points[points.length - 1]!;
    if (last.type === 'CURVE' || first.type === 'CURVE') segment(last, first);
    parts.push('Z');
  }
  return parts.join(' ');
};

/** A shape moved by (dx, dy) and, for rectangles and ellipses, grown by (dw, dh) (image
 * pixels; never below `least` across): what the arrow keys do to the chosen annotation.
 * Null for shapes the keyboard does not reshape (polylines, multipolygons). */
export const nudged = (shape: Shape, dx: number, dy: number, dw = 0, dh = 0, least = 2): Shape | null => {
  const move = ([x, y]: XY): XY => [x + dx, y + dy];
  switch (shape.type) {
    case RECTANGLE: {
      const { x, y, w, h, rot = 0 } = shape.geometry;
      return rectangle(x + dx, y + dy, Math.max(least, w + dw), Math.max(least, h + dh), rot);
    }
    case ELLIPSE: {
      const { cx, cy, rx, ry } = shape.geometry;
      if (shape.point) return point(cx + dx, cy + dy, rx);
      return ellipse(cx + dx, cy + dy, Math.max(least / 2, rx + dw / 2), Math.max(least / 2, ry + dh / 2));
    }
    case POLYGON:
      return dw || dh ? null : polygon(shape.geometry.points.map(move));
    case LINE:
      return dw || dh ? null : line(move(shape.geometry.points[0]), move(shape.geometry.points[1]));
    default:
      return null;
  }
};
