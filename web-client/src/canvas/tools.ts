// Drawing tools Annotorious 3 lacks: a point and a freehand outline. Annotorious mounts a
// tool as a (Svelte 4) component: `new Tool({ target, props })`, then `$on('create')`,
// `$set(props)` and `$destroy()`. These are plain classes with that surface.

import { polygon, polyline, point, type Shape, type XY } from '../binding/shapes';

interface ToolProps {
  addEventListener: (type: string, fn: (event: Event) => void, capture?: boolean) => void;
  transform: { elementToImage: (x: number, y: number) => [number, number] };
  viewportScale?: number;
  drawingMode?: string;
}

type Listener = (event: CustomEvent<Shape>) => void;

abstract class Tool {
  protected props: ToolProps;
  protected readonly target: SVGGElement;
  private listeners: Listener[] = [];

  constructor(options: { target: SVGGElement; props: ToolProps }) {
    this.target = options.target;
    this.props = options.props;
    this.mount();
  }

  protected abstract mount(): void;

  $on(event: string, fn: Listener): () => void {
    if (event === 'create') this.listeners.push(fn);
    return () => (this.listeners = this.listeners.filter((l) => l !== fn));
  }

  $set(props: Partial<ToolProps>): void {
    this.props = { ...this.props, ...props };
  }

  $destroy(): void {
    this.listeners = [];
    this.unmount();
  }

  protected unmount(): void {}

  protected emit(shape: Shape): void {
    const event = new CustomEvent('create', { detail: shape });
    this.listeners.forEach((l) => l(event));
  }

  protected toImage(event: Event): XY {
    const e = event as PointerEvent;
    return this.props.transform.elementToImage(e.offsetX, e.offsetY);
  }
}

/** Radius (image pixels) points are drawn with on this canvas; set by the page. */
export const pointTool = (radius: () => number) =>
  class PointTool extends Tool {
    private down: { at: number; x: number; y: number } | null = null;
    protected mount(): void {
      this.props.addEventListener('pointerdown', (e) => {
        const p = e as PointerEvent;
        this.down = { at: performance.now(), x: p.clientX, y: p.clientY };
      });
      this.props.addEventListener(
        'pointerup',
        (e) => {
          const p = e as PointerEvent;
          // A click places a point; a drag pans the image as usual.
          if (this.down && Math.hypot(p.clientX - this.down.x, p.clientY - this.down.y) > 6) return;
          const [x, y] = this.toImage(e);
          this.emit(point(x, y, radius()));
          this.down = null;
        },
        true,
      );
    }
  };

/** Freehand: press, trace, release. Ending near the start closes the outline (an area);
 * elsewhere it stays a line (a crack, a scratch). Points closer than two screen pixels
 * are dropped, so a long trace stays small. */
export class FreehandTool extends Tool {
  private points: XY[] = [];
  private path: SVGPathElement | null = null;

  protected mount(): void {
    this.props.addEventListener('pointerdown', (e) => {
      this.points = [this.toImage(e)];
      this.path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
      this.path.setAttribute('class', 'a9s-inner sinopia-freehand');
      this.target.appendChild(this.path);
    });
    this.props.addEventListener('pointermove', (e) => {
      if (!this.path) return;
      const next = this.toImage(e);
      const last = this.points[this.points.length - 1]!;
      const minimum = 2 / (this.props.viewportScale || 1);
      if (Math.hypot(next[0] - last[0], next[1] - last[1]) < minimum) return;
      this.points.push(next);
      this.path.setAttribute('d', this.points.map(([x, y], i) => `${i ? 'L' : 'M'}${x},${y}`).join(' '));
    });
    this.props.addEventListener('pointerup', () => this.finish(), true);
  }

  private finish(): void {
    const points = this.points;
    this.path?.remove();
    this.path = null;
    this.points = [];
    if (points.length < 3) return;
    const first = points[0]!;
    const last = points[points.length - 1]!;
    const xs = points.map((p) => p[0]);
    const ys = points.map((p) => p[1]);
    const extent = Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys));
    if (extent * (this.props.viewportScale || 1) < 4) return; // a stray click
    const closed = Math.hypot(first[0] - last[0], first[1] - last[1]) < extent * 0.15;
    this.emit(closed ? polygon(points) : polyline(points.map((p) => ({ type: 'CORNER', point: p })), false));
  }

  protected override unmount(): void {
    this.path?.remove();
  }
}
