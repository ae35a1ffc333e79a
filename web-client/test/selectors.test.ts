import { describe, expect, it } from 'vitest';
import { MEDIA_FRAGMENTS } from '../src/generated/schema';
import { isPointTarget, shapeSelector, shapeTarget, targetShape, type Canvas } from '../src/binding/selectors';
import { ellipse, line, multipolygon, point, pointRadius, polygon, polyline, rectangle, type Shape } from '../src/binding/shapes';
import { parsePath, parseSvg, svgFor } from '../src/binding/svg';

const canvas: Canvas = {
  id: 'https://example.org/iiif/canvas/1',
  manifest: 'https://example.org/iiif/manifest.json',
  width: 4000,
  height: 3000,
};

const roundTrip = (shape: Shape): Shape | null => targetShape(shapeTarget(shape, canvas), canvas);

describe('reading targets other clients wrote', () => {
  it('reads a canvas IRI with #xywh= as a rectangle', () => {
    const shape = targetShape(`${canvas.id}#xywh=10,20,300,200`, canvas);
    expect(shape?.type).toBe('RECTANGLE');
    expect(shape?.geometry).toMatchObject({ x: 10, y: 20, w: 300, h: 200 });
  });

  it('reads a percent FragmentSelector in canvas pixels', () => {
    const target = {
      type: 'SpecificResource',
      source: canvas.id,
      selector: { type: 'FragmentSelector', conformsTo: MEDIA_FRAGMENTS, value: 'xywh=percent:10,10,50,50' },
    };
    expect(targetShape(target, canvas)?.geometry).toMatchObject({ x: 400, y: 300, w: 2000, h: 1500 });
  });

  it('prefers the SvgSelector of Mirador-style alternatives', () => {
    const target = {
      type: 'SpecificResource',
      source: { id: canvas.id, type: 'Canvas', partOf: [{ id: canvas.manifest, type: 'Manifest' }] },
      selector: [
        { type: 'FragmentSelector', value: 'xywh=0,0,100,100' },
        { type: 'SvgSelector', value: '<svg><path d="M10,10 L90,10 L50,80 Z" stroke="red"/></svg>' },
      ],
    };
    const shape = targetShape(target, canvas);
    expect(shape?.type).toBe('POLYGON');
    expect(shape?.type === 'POLYGON' && shape.geometry.points).toEqual([
      [10, 10],
      [90, 10],
      [50, 80],
    ]);
  });

  it('reads a PointSelector as a point', () => {
    const shape = targetShape({ type: 'SpecificResource', source: canvas.id, selector: { type: 'PointSelector', x: 5, y: 7 } }, canvas);
    expect(shape?.type).toBe('ELLIPSE');
    expect(shape?.type === 'ELLIPSE' && shape.point).toBe(true);
    expect(shape?.geometry).toMatchObject({ cx: 5, cy: 7 });
  });

  it('draws nothing for a reply, another canvas, a 3D point or a whole-canvas comment', () => {
    expect(targetShape('a1b2', canvas)).toBeNull();
    expect(targetShape('https://example.org/iiif/canvas/2#xywh=1,1,5,5', canvas)).toBeNull();
    expect(targetShape(canvas.id, canvas)).toBeNull();
    expect(
      targetShape({ type: 'SpecificResource', source: canvas.id, selector: { type: 'PointSelector', x: 1, y: 2, z: 3 } }, canvas),
    ).toBeNull();
  });

  it('reads relative path commands, circles, polylines and Annotorious ellipse arcs', () => {
    expect(parseSvg('<svg><path d="m10,10 l20,0 l0,20 z"/></svg>')?.geometry).toMatchObject({
      points: [
        [10, 10],
        [30, 10],
        [30, 30],
      ],
    });
    expect(parseSvg('<svg><circle cx="5" cy="6" r="2"/></svg>')?.geometry).toMatchObject({ cx: 5, cy: 6, rx: 2, ry: 2 });
    expect(parseSvg('<svg><polyline points="1,1 5,5 9,1"/></svg>')?.type).toBe('POLYLINE');
    const arcs = parseSvg('<svg><path d="M 120,50 A 20,10 0 1,1 80,50 A 20,10 0 1,1 120,50 Z"/></svg>');
    expect(arcs?.type).toBe('ELLIPSE');
    expect(arcs?.geometry).toMatchObject({ cx: 100, cy: 50, rx: 20, ry: 10 });
  });

  it('ignores SVG it cannot draw instead of failing', () => {
    expect(parseSvg('<svg><text>hello</text></svg>')).toBeNull();
    expect(parseSvg('<svg><path d="L 5"/></svg>')).toBeNull();
    expect(targetShape({ type: 'SpecificResource', source: canvas.id, selector: { type: 'SvgSelector', value: 42 } }, canvas)).toBeNull();
  });

  it('turns quadratic and smooth curves into cubic ones', () => {
    const [path] = parsePath('M0,0 Q50,100 100,0 S150,-100 200,0');
    expect(path?.curved).toBe(true);
    expect(path?.points.map((p) => p.point)).toEqual([
      [0, 0],
      [100, 0],
      [200, 0],
    ]);
  });
});

describe('writing what Annotorious drew', () => {
  it('writes an upright rectangle as a whole-pixel FragmentSelector on this canvas in its manifest', () => {
    const target = shapeTarget(rectangle(10.4, 20.6, 99.2, 50), canvas);
    expect(target).toEqual({
      type: 'SpecificResource',
      source: { id: canvas.id, type: 'Canvas', partOf: [{ id: canvas.manifest, type: 'Manifest' }] },
      selector: { type: 'FragmentSelector', conformsTo: MEDIA_FRAGMENTS, value: 'xywh=10,20,100,51' },
    });
  });

  it('keeps shapes inside the canvas, as annotations/ requires', () => {
    expect(shapeSelector(rectangle(-50, -10, 200, 100), canvas)).toMatchObject({ value: 'xywh=0,0,150,90' });
    expect(shapeSelector(rectangle(3900, 2900, 500, 500), canvas)).toMatchObject({ value: 'xywh=3900,2900,100,100' });
    const svg = shapeSelector(
      polygon([
        [-5, 10],
        [5000, 10],
        [100, 3500],
      ]),
      canvas,
    );
    expect(svg).toEqual({ type: 'SvgSelector', value: '<svg xmlns="http://www.w3.org/2000/svg"><path d="M 0,10 L 4000,10 L 100,3000 Z"/></svg>' });
    expect(shapeSelector(point(4100.6, -3, 16), canvas)).toEqual({ type: 'PointSelector', x: 4000, y: 0 });
  });

  it('writes a point as a PointSelector in whole pixels', () => {
    expect(shapeSelector(point(12.4, 13.6, 16), canvas)).toEqual({ type: 'PointSelector', x: 12, y: 14 });
    // A point moved with the ellipse editor (which knows nothing of points) stays a point.
    expect(shapeSelector(ellipse(50, 60, 9, 9), canvas, true)).toEqual({ type: 'PointSelector', x: 50, y: 60 });
    expect(isPointTarget({ type: 'SpecificResource', source: canvas.id, selector: { type: 'PointSelector', x: 1, y: 1 } })).toBe(true);
  });

  const shapes: [string, Shape][] = [
    ['rectangle', rectangle(100, 200, 300, 400)],
    ['turned rectangle', rectangle(100, 200, 300, 400, Math.PI / 6)],
    ['ellipse', ellipse(500, 400, 120, 80)],
    [
      'polygon',
      polygon([
        [10, 10],
        [200, 30],
        [120, 300],
      ]),
    ],
    ['line', line([10, 10], [300, 400])],
    [
      'freehand (open polyline)',
      polyline(
        [
          { type: 'CORNER', point: [10, 10] },
          { type: 'CORNER', point: [20, 15] },
          { type: 'CORNER', point: [35, 12] },
        ],
        false,
      ),
    ],
    [
      'curved path',
      polyline(
        [
          { type: 'CORNER', point: [10, 10] },
          { type: 'CURVE', point: [100, 100], inHandle: [60, 100], outHandle: [140, 100] },
          { type: 'CORNER', point: [200, 10] },
        ],
        true,
      ),
    ],
    [
      'multipolygon with a hole',
      multipolygon([
        [
          [
            [0, 0],
            [100, 0],
            [100, 100],
            [0, 100],
          ],
          [
            [25, 25],
            [75, 25],
            [75, 75],
            [25, 75],
          ],
        ],
        [
          [
            [200, 200],
            [300, 200],
            [250, 300],
          ],
        ],
      ]),
    ],
    ['point', point(321, 654, pointRadius(canvas.width, canvas.height))],
  ];

  for (const [name, shape] of shapes)
    it(`reads back a ${name} as it was drawn`, () => {
      const back = roundTrip(shape);
      expect(back?.type).toBe(shape.type);
      expect(back?.geometry.bounds.minX).toBeCloseTo(shape.geometry.bounds.minX, 0);
      expect(back?.geometry.bounds.maxY).toBeCloseTo(shape.geometry.bounds.maxY, 0);
      if (shape.type === 'POLYLINE' && back?.type === 'POLYLINE') {
        expect(back.geometry.closed).toBe(shape.geometry.closed);
        expect(back.geometry.points.map((p) => p.point)).toEqual(shape.geometry.points.map((p) => p.point));
      }
      if (shape.type === 'MULTIPOLYGON' && back?.type === 'MULTIPOLYGON')
        expect(back.geometry.polygons.map((p) => p.rings.length)).toEqual([2, 1]);
    });

  it('writes only elements and attributes annotations/markup.py allows', () => {
    for (const [, shape] of shapes) {
      const value = svgFor(shape);
      expect(value.startsWith('<svg')).toBe(true);
      expect(value).not.toMatch(/style=|on\w+=|href/);
      expect([...value.matchAll(/<(\w+)/g)].map((m) => m[1])).toSatisfy((tags: string[]) =>
        tags.every((t) => ['svg', 'g', 'path', 'rect', 'ellipse'].includes(t)),
      );
    }
  });
});

describe('the arrow keys on the chosen annotation', () => {
  it('move a rectangle, a point, a polygon and a line, and resize rectangles and ellipses', async () => {
    const { nudged } = await import('../src/binding/shapes');
    expect(nudged(rectangle(10, 20, 30, 40), 5, -5)).toEqual(rectangle(15, 15, 30, 40));
    expect(nudged(rectangle(10, 20, 30, 40), 0, 0, 6, -8)).toEqual(rectangle(10, 20, 36, 32));
    // Never below the least size, whatever is asked.
    expect(nudged(rectangle(10, 20, 3, 4), 0, 0, -50, -50)).toEqual(rectangle(10, 20, 2, 2));
    const moved = nudged(point(50, 50, 4), 3, 4);
    expect(moved).toEqual(point(53, 54, 4));
    expect(nudged(ellipse(50, 50, 10, 5), 0, 0, 4, 2)).toEqual(ellipse(50, 50, 12, 6));
    expect(nudged(polygon([[0, 0], [10, 0], [5, 5]]), 1, 2)).toEqual(polygon([[1, 2], [11, 2], [6, 7]]));
    expect(nudged(line([0, 0], [10, 10]), -1, 0)).toEqual(line([-1, 0], [9, 10]));
    // Shapes with curves or holes are reshaped with a pointer only.
    expect(nudged(polyline([{ type: 'CORNER', point: [0, 0] }, { type: 'CORNER', point: [5, 5] }], false), 1, 1)).toBeNull();
    expect(nudged(polygon([[0, 0], [10, 0], [5, 5]]), 0, 0, 5, 5)).toBeNull();
  });
});
