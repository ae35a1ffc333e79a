// What we draw over the image ourselves (not Annotorious): colleagues' pointers and
// selections with their names, and the canvas as it was at a point of history. All in
// image coordinates, placed with the viewer's current image -> screen transform.

import OpenSeadragon from 'openseadragon';
import { shapePath, type Shape } from '../binding/shapes';
import { h, svg } from '../ui/dom';

export interface Outline {
  shape: Shape;
  color: string;
  label?: string;
  dashed?: boolean;
}

export class Overlay {
  readonly node: HTMLElement;
  private readonly svgEl: SVGSVGElement;
  private readonly group: SVGGElement;
  private readonly labels: HTMLElement;
  private outlines: Outline[] = [];
  private pointers: { x: number; y: number; color: string; name: string }[] = [];

  constructor(private readonly viewer: OpenSeadragon.Viewer) {
    this.svgEl = svg('svg', { class: 'overlay-svg', 'aria-hidden': 'true' });
    this.group = svg('g');
    this.svgEl.append(this.group);
    this.labels = h('div', { class: 'overlay-labels', 'aria-hidden': 'true' });
    this.node = h('div', { class: 'overlay' });
    this.node.append(this.svgEl, this.labels);
    viewer.addHandler('update-viewport', () => this.place());
    viewer.addHandler('resize', () => this.place());
  }

  set(outlines: Outline[], pointers: { x: number; y: number; color: string; name: string }[]): void {
    this.outlines = outlines;
    this.pointers = pointers;
    this.draw();
  }

  private toScreen(x: number, y: number): { x: number; y: number } {
    const p = this.viewer.viewport.imageToViewerElementCoordinates(new OpenSeadragon.Point(x, y));
    return { x: p.x, y: p.y };
  }

  private draw(): void {
    this.group.replaceChildren(
      ...this.outlines.map((o) => {
        const path = svg('path', { d: shapePath(o.shape), class: o.dashed ? 'outline dashed' : 'outline' });
        path.style.stroke = o.color;
        return path;
      }),
    );
    this.labels.replaceChildren(
      ...this.outlines
        .filter((o) => o.label)
        .map((o) => {
          const el = h('span', { class: 'overlay-name' }, o.label!);
          el.style.background = o.color;
          el.dataset.x = String(o.shape.geometry.bounds.minX);
          el.dataset.y = String(o.shape.geometry.bounds.minY);
          return el;
        }),
      ...this.pointers.map((p) => {
        const el = h('span', { class: 'pointer' }, h('span', { class: 'pointer-dot' }), h('span', { class: 'overlay-name' }, p.name));
        (el.firstChild as HTMLElement).style.background = p.color;
        (el.lastChild as HTMLElement).style.background = p.color;
        el.dataset.x = String(p.x);
        el.dataset.y = String(p.y);
        return el;
      }),
    );
    this.place();
  }

  private place(): void {
    if (!this.viewer.world.getItemAt(0)) return;
    const origin = this.toScreen(0, 0);
    const unit = this.toScreen(1000, 0);
    const scale = (unit.x - origin.x) / 1000;
    this.group.setAttribute('transform', `translate(${origin.x} ${origin.y}) scale(${scale})`);
    for (const el of Array.from(this.labels.children) as HTMLElement[]) {
      const p = this.toScreen(Number(el.dataset.x), Number(el.dataset.y));
      el.style.transform = `translate(${Math.round(p.x)}px, ${Math.round(p.y)}px)`;
    }
  }
}
