// SVG selector values <-> shapes. Reading accepts what other clients write (Mirador's
// paper.js paths, Annotorious' polygons and ellipses, relative path commands); writing
// produces what annotations/markup.py accepts and Mirador draws: absolute paths for
// outlines, <ellipse> and <rect> elements for those shapes.

import {
  ellipse,
  line,
  multipolygon,
  polygon,
  polyline,
  rectangle,
  type PolylinePoint,
  type Shape,
  type XY,
  polylinePath,
} from './shapes';

const SVG_NS = 'http://www.w3.org/2000/svg';
const ELEMENT = /<(rect|polygon|polyline|path|ellipse|circle|line)\b([^>]*)>/gi;
const ATTRIBUTE = /([A-Za-z_][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
const NUMBER = /[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/g;

const attributes = (text: string): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(ATTRIBUTE)) out[m[1]!.toLowerCase()] = m[2] ?? m[3] ?? '';
  return out;
};

const num = (value: string | undefined): number => {
  const n = Number.parseFloat(value ?? '');
  return Number.isFinite(n) ? n : Number.NaN;
};

const pointsOf = (text: string): XY[] => {
  const numbers = (text.match(NUMBER) ?? []).map(Number);
  const out: XY[] = [];
  for (let i = 0; i + 1 < numbers.length; i += 2) out.push([numbers[i]!, numbers[i + 1]!]);
  return out;
};

interface Subpath {
  points: PolylinePoint[];
  closed: boolean;
  curved: boolean;
  arcs: { rx: number; ry: number; end: XY }[];
}

/** The subpaths of SVG path data, in absolute coordinates. Quadratic curves become cubic;
 * arcs keep only their end points (and are remembered, to recognise drawn ellipses). */
export const parsePath = (d: string): Subpath[] => {
  const tokens = d.match(/[MmLlHhVvCcSsQqTtAaZz]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/g) ?? [];
  const paths: Subpath[] = [];
  let current: Subpath | null = null;
  let x = 0;
  let y = 0;
  let startX = 0;
  let startY = 0;
  let lastControl: XY | null = null;
  let i = 0;
  let command = '';
  const isCommand = (t: string | undefined) => t !== undefined && /^[A-Za-z]$/.test(t);
  const read = (): number => {
    const t = tokens[i++];
    if (t === undefined || isCommand(t)) throw new Error('path data ends early');
    return Number(t);
  };
  const add = (p: PolylinePoint) => {
    if (!current) {
      current = { points: [], closed: false, curved: false, arcs: [] };
      paths.push(current);
    }
    current.points.push(p);
  };
  const curveTo = (c1: XY, c2: XY, end: XY) => {
    if (!current) return;
    const prev = current.points[current.points.length - 1];
    if (prev) {
      prev.type = 'CURVE';
      prev.outHandle = c1;
    }
    current.curved = true;
    current.points.push({ type: 'CURVE', point: end, inHandle: c2 });
    lastControl = c2;
  };
  while (i < tokens.length) {
    if (isCommand(tokens[i])) command = tokens[i++]!;
    else if (!command) throw new Error('path data must start with a command');
    const rel = command === command.toLowerCase();
    const dx = rel ? x : 0;
    const dy = rel ? y : 0;
    switch (command.toUpperCase()) {
      case 'M': {
        x = read() + dx;
        y = read() + dy;
        current = { points: [], closed: false, curved: false, arcs: [] };
        paths.push(current);
        current.points.push({ type: 'CORNER', point: [x, y] });
        startX = x;
        startY = y;
        command = rel ? 'l' : 'L'; // further pairs are line-tos
        lastControl = null;
        break;
      }
      case 'L':
        x = read() + dx;
        y = read() + dy;
        add({ type: 'CORNER', point: [x, y] });
        lastControl = null;
        break;
      case 'H':
        x = read() + (rel ? x : 0);
        add({ type: 'CORNER', point: [x, y] });
        lastControl = null;
        break;
      case 'V':
        y = read() + (rel ? y : 0);
        add({ type: 'CORNER', point: [x, y] });
        lastControl = null;
        break;
      case 'C': {
        const c1: XY = [read() + dx, read() + dy];
        const c2: XY = [read() + dx, read() + dy];
        x = read() + dx;
        y = read() + dy;
        curveTo(c1, c2, [x, y]);
        break;
      }
      case 'S': {
        const c1: XY = lastControl ? [2 * x - lastControl[0], 2 * y - lastControl[1]] : [x, y];
        const c2: XY = [read() + dx, read() + dy];
        x = read() + dx;
        y = read() + dy;
        curveTo(c1, c2, [x, y]);
        break;
      }
      case 'Q': {
        const q: XY = [read() + dx, read() + dy];
        const end: XY = [read() + dx, read() + dy];
        const c1: XY = [x + (2 / 3) * (q[0] - x), y + (2 / 3) * (q[1] - y)];
        const c2: XY = [end[0] + (2 / 3) * (q[0] - end[0]), end[1] + (2 / 3) * (q[1] - end[1])];
        [x, y] = end;
        curveTo(c1, c2, end);
        break;
      }
      case 'T':
        x = read() + dx;
        y = read() + dy;
        add({ type: 'CORNER', point: [x, y] });
        lastControl = null;
        break;
      case 'A': {
        const rx = Math.abs(read());
        const ry = Math.abs(read());
        read(); // rotation
        read(); // large arc flag
        read(); // sweep flag
        x = read() + dx;
        y = read() + dy;
        add({ type: 'CORNER', point: [x, y] });
        current?.arcs.push({ rx, ry, end: [x, y] });
        lastControl = null;
        break;
      }
      case 'Z':
        if (current) {
          current.closed = true;
          const pts = current.points;
          const last = pts[pts.length - 1];
          // A closing point equal to the start is the start itself.
          if (pts.length > 1 && last && last.type === 'CORNER' && last.point[0] === startX && last.point[1] === startY)
            pts.pop();
        }
        x = startX;
        y = startY;
        current = null;
        command = '';
        lastControl = null;
        break;
      default:
        throw new Error(`unknown path command ${command}`);
    }
  }
  return paths.filter((p) => p.points.length > 0);
};

const ellipseFromArcs = (path: Subpath): Shape | null => {
  // Two half-ellipse arcs from a start point: how Mirador and Annotorious write ellipses.
  if (path.arcs.length !== 2 || path.points.length < 2 || path.points.length > 3) return null;
  const [a, b] = path.arcs as [Subpath['arcs'][0], Subpath['arcs'][0]];
  if (a.rx !== b.rx || a.ry !== b.ry || a.rx <= 0 || a.ry <= 0) return null;
  const start = path.points[0]!.point;
  const cx = (start[0] + a.end[0]) / 2;
  const cy = (start[1] + a.end[1]) / 2;
  return ellipse(cx, cy, a.rx, a.ry);
};

const pathShape = (subpaths: Subpath[]): Shape | null => {
  if (subpaths.length === 0) return null;
  const only = subpaths.length === 1 ? subpaths[0]! : null;
  if (only) {
    const drawn = ellipseFromArcs(only);
    if (drawn) return drawn;
    if (!only.curved && only.closed && only.points.length >= 3)
      return polygon(only.points.map((p) => p.point));
    if (!only.curved && !only.closed && only.points.length === 2)
      return line(only.points[0]!.point, only.points[1]!.point);
    if (only.points.length >= 2) return polyline(only.points, only.closed);
    return null;
  }
  if (subpaths.every((s) => s.closed && !s.curved && s.points.length >= 3))
    return multipolygon([subpaths.map((s) => s.points.map((p) => p.point))]);
  // Several open or curved pieces: the longest stands for the whole.
  const longest = [...subpaths].sort((a, b) => b.points.length - a.points.length)[0]!;
  return pathShape([longest]);
};

/** The shape an SvgSelector value describes, or null when it has none we can draw. */
export const parseSvg = (value: string): Shape | null => {
  const closedPaths: Subpath[][] = [];
  let first: Shape | null = null;
  for (const m of value.matchAll(ELEMENT)) {
    const tag = m[1]!.toLowerCase();
    const a = attributes(m[2] ?? '');
    let shape: Shape | null = null;
    try {
      if (tag === 'rect') {
        const x = num(a.x ?? '0');
        const y = num(a.y ?? '0');
        const w = num(a.width);
        const h = num(a.height);
        const rotate = /rotate\(\s*([-+\d.eE]+)/.exec(a.transform ?? '');
        if ([x, y, w, h].every(Number.isFinite) && w > 0 && h > 0)
          shape = rectangle(x, y, w, h, rotate ? (Number(rotate[1]) * Math.PI) / 180 : 0);
      } else if (tag === 'ellipse' || tag === 'circle') {
        const cx = num(a.cx ?? '0');
        const cy = num(a.cy ?? '0');
        const rx = num(tag === 'circle' ? a.r : a.rx);
        const ry = num(tag === 'circle' ? a.r : a.ry);
        if ([cx, cy, rx, ry].every(Number.isFinite) && rx > 0 && ry > 0) shape = ellipse(cx, cy, rx, ry);
      } else if (tag === 'polygon') {
        const points = pointsOf(a.points ?? '');
        if (points.length >= 3) shape = polygon(points);
      } else if (tag === 'polyline') {
        const points = pointsOf(a.points ?? '');
        if (points.length >= 2)
          shape = polyline(
            points.map((point) => ({ type: 'CORNER', point })),
            false,
          );
      } else if (tag === 'line') {
        const coords = [a.x1, a.y1, a.x2, a.y2].map(num);
        if (coords.every(Number.isFinite))
          shape = line([coords[0]!, coords[1]!], [coords[2]!, coords[3]!]);
      } else if (tag === 'path') {
        const subpaths = parsePath(a.d ?? '');
        if (subpaths.length > 0 && subpaths.every((s) => s.closed && !s.curved && s.arcs.length === 0))
          closedPaths.push(subpaths);
        shape = pathShape(subpaths);
      }
    } catch {
      shape = null; // malformed path data: look at the next element
    }
    if (shape && !first) first = shape;
  }
  // Several closed outlines (Annotorious' multipolygons: one path per polygon, holes as
  // further subpaths) are one shape.
  if (closedPaths.length > 1)
    return multipolygon(closedPaths.map((subpaths) => subpaths.map((s) => s.points.map((p) => p.point))));
  return first;
};

const n = (v: number) => Math.round(v * 10) / 10;

/** An SvgSelector value for a shape Annotorious drew. */
export const svgFor = (shape: Shape): string => {
  const wrap = (inner: string) => `<svg xmlns="${SVG_NS}">${inner}</svg>`;
  const outline = (points: XY[], close: boolean) =>
    points.map(([x, y], i) => `${i ? 'L' : 'M'} ${n(x)},${n(y)}`).join(' ') + (close ? ' Z' : '');
  switch (shape.type) {
    case 'RECTANGLE': {
      const { x, y, w, h, rot = 0 } = shape.geometry;
      const turn = rot
        ? ` transform="rotate(${n((rot * 180) / Math.PI)} ${n(x + w / 2)} ${n(y + h / 2)})"`
        : '';
      return wrap(`<rect x="${n(x)}" y="${n(y)}" width="${n(w)}" height="${n(h)}"${turn}/>`);
    }
    case 'ELLIPSE': {
      const { cx, cy, rx, ry } = shape.geometry;
      return wrap(`<ellipse cx="${n(cx)}" cy="${n(cy)}" rx="${n(rx)}" ry="${n(ry)}"/>`);
    }
    case 'POLYGON':
      return wrap(`<path d="${outline(shape.geometry.points, true)}"/>`);
    case 'LINE':
      return wrap(`<path d="${outline(shape.geometry.points, false)}"/>`);
    case 'POLYLINE':
      return wrap(`<path d="${polylinePath(shape.geometry.points, Boolean(shape.geometry.closed))}"/>`);
    case 'MULTIPOLYGON':
      return wrap(
        `<g>${shape.geometry.polygons
          .map((p) => `<path fill-rule="evenodd" d="${p.rings.map((r) => outline(r.points, true)).join(' ')}"/>`)
          .join('')}</g>`,
      );
  }
};
