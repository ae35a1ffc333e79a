// The two-way binding between the live document and the drawing surface (Annotorious):
//
//   document -> surface: every annotation with a region on this canvas is drawn; remote
//   changes, undo and redo redraw exactly the annotations they touched.
//   surface -> document: what the person draws, reshapes or deletes is written as the W3C
//   target annotations/ stores, in transactions marked with `origin` (which the undo
//   manager tracks, so undo takes back one's own changes only).
//
// The surface is an interface so the binding is tested without WebGL; canvas/annotator.ts
// adapts Annotorious to it.

import type * as Y from 'yjs';
import { canDelete, canDraw, canEdit, type Actor } from '../roles/rules';
import {
  annotationsOf,
  createAnnotation,
  deleteAnnotations,
  readAll,
  readAnnotation,
  repliesOf,
  setTarget,
  type Agent,
  type AnnotationView,
  type NewBody,
} from './document';
import { isPointTarget, shapeTarget, targetShape, type Canvas } from './selectors';
import type { Shape } from './shapes';

/** An annotation as the surface draws it. */
export interface Drawn {
  id: string;
  shape: Shape;
  creator?: Agent | undefined;
}

export interface Surface {
  load(all: Drawn[]): void;
  upsert(drawn: Drawn): void;
  remove(id: string): void;
  has(id: string): boolean;
}

export type LocalChange =
  | { kind: 'created'; id: string; shape: Shape }
  | { kind: 'updated'; id: string; shape: Shape }
  | { kind: 'deleted'; id: string };

export interface BindingOptions {
  canvas: Canvas;
  actor: () => Actor;
  creator: () => Agent;
  language: () => string;
  origin: object;
  /** Bodies a new drawing starts with (an empty comment the person then types in). */
  firstBodies?: (language: string) => NewBody[];
  /** Called when the person tried something their role does not allow. */
  onRefused?: (what: 'draw' | 'edit' | 'delete') => void;
  /** Called after the document changed, with the annotations touched. */
  onChange?: (ids: Set<string>, all: Map<string, AnnotationView>) => void;
  /** A reshape is written at most this often while the person drags (ms). */
  throttle?: number;
}

export class Binding {
  readonly all: Map<string, AnnotationView>;
  private readonly observer: (events: Y.YEvent<Y.AbstractType<unknown>>[], tr: Y.Transaction) => void;
  private readonly pending = new Map<string, { shape: Shape; timer: ReturnType<typeof setTimeout> | null }>();
  private lastWrite = new Map<string, number>();

  constructor(
    readonly doc: Y.Doc,
    readonly surface: Surface,
    readonly options: BindingOptions,
  ) {
    this.all = readAll(doc);
    surface.load([...this.all.values()].map((v) => this.drawn(v)).filter((d): d is Drawn => d !== null));
    this.observer = (events, tr) => this.fromDocument(events, tr);
    annotationsOf(doc).observeDeep(this.observer);
  }

  destroy(): void {
    this.flush();
    annotationsOf(this.doc).unobserveDeep(this.observer);
  }

  private drawn(view: AnnotationView): Drawn | null {
    if (view.motivation === 'replying') return null;
    const shape = targetShape(view.target, this.options.canvas);
    return shape ? { id: view.id, shape, creator: view.creator } : null;
  }

  // ------------------------------------------------------------------ document -> surface

  private fromDocument(events: Y.YEvent<Y.AbstractType<unknown>>[], tr: Y.Transaction): void {
    const touched = new Set<string>();
    const root = annotationsOf(this.doc);
    for (const event of events) {
      if (event.target === root) for (const key of event.keys.keys()) touched.add(key);
      else {
        const first = event.path[0];
        if (typeof first === 'string') touched.add(first);
      }
    }
    // Our own drawing is already on the surface; undo and redo (origin: the undo manager)
    // and everyone else's changes are not.
    const own = tr.local && tr.origin === this.options.origin;
    for (const id of touched) {
      const view = readAnnotation(id, root.get(id));
      if (view) this.all.set(id, view);
      else this.all.delete(id);
      if (own && view && this.surface.has(id)) continue;
      const drawn = view ? this.drawn(view) : null;
      if (drawn) this.surface.upsert(drawn);
      else if (this.surface.has(id)) this.surface.remove(id);
    }
    this.options.onChange?.(touched, this.all);
  }

  // ------------------------------------------------------------------ surface -> document

  /** Apply what the person did on the surface. */
  local(change: LocalChange): void {
    const actor = this.options.actor();
    if (change.kind === 'created') {
      if (!canDraw(actor)) {
        this.surface.remove(change.id);
        this.options.onRefused?.('draw');
        return;
      }
      const language = this.options.language();
      createAnnotation(
        this.doc,
        {
          id: change.id,
          motivation: 'commenting',
          target: shapeTarget(change.shape, this.options.canvas),
          creator: this.options.creator(),
          bodies: this.options.firstBodies?.(language) ?? [],
        },
        this.options.origin,
      );
      return;
    }
    const view = this.all.get(change.id);
    if (change.kind === 'deleted') {
      if (!view) return;
      const replies = repliesOf(this.all, change.id);
      if (!canDelete(actor, view, replies.map((id) => this.all.get(id)!).filter(Boolean))) {
        const drawn = this.drawn(view);
        if (drawn) this.surface.upsert(drawn);
        this.options.onRefused?.('delete');
        return;
      }
      this.cancel(change.id);
      deleteAnnotations(this.doc, [change.id, ...replies], this.options.origin);
      return;
    }
    if (!view) return;
    if (!canEdit(actor, view)) {
      const drawn = this.drawn(view);
      if (drawn) this.surface.upsert(drawn);
      this.options.onRefused?.('edit');
      return;
    }
    this.schedule(change.id, change.shape);
  }

  /** Delete annotations (and their replies) from the document, if the role allows. */
  remove(id: string): boolean {
    const view = this.all.get(id);
    if (!view) return false;
    const replies = repliesOf(this.all, id);
    if (!canDelete(this.options.actor(), view, replies.map((r) => this.all.get(r)!).filter(Boolean))) {
      this.options.onRefused?.('delete');
      return false;
    }
    this.cancel(id);
    deleteAnnotations(this.doc, [id, ...replies], this.options.origin);
    return true;
  }

  // A drag reshapes many times a second: colleagues see it move, the history keeps a few
  // steps rather than hundreds.
  private schedule(id: string, shape: Shape): void {
    const wait = this.options.throttle ?? 200;
    const since = Date.now() - (this.lastWrite.get(id) ?? 0);
    const entry = this.pending.get(id);
    if (entry) {
      entry.shape = shape;
      return;
    }
    if (since >= wait) {
      this.write(id, shape);
      this.pending.set(id, { shape, timer: null });
      this.pending.get(id)!.timer = setTimeout(() => this.settle(id), wait);
      return;
    }
    this.pending.set(id, { shape, timer: setTimeout(() => this.settle(id), wait - since) });
  }

  private settle(id: string): void {
    const entry = this.pending.get(id);
    this.pending.delete(id);
    if (entry) this.write(id, entry.shape);
  }

  private cancel(id: string): void {
    const entry = this.pending.get(id);
    if (entry?.timer) clearTimeout(entry.timer);
    this.pending.delete(id);
  }

  /** Write every reshape still waiting (before leaving the page). */
  flush(): void {
    for (const [id, entry] of [...this.pending]) {
      if (entry.timer) clearTimeout(entry.timer);
      this.pending.delete(id);
      this.write(id, entry.shape);
    }
  }

  private write(id: string, shape: Shape): void {
    const view = this.all.get(id);
    if (!view) return;
    this.lastWrite.set(id, Date.now());
    setTarget(this.doc, id, shapeTarget(shape, this.options.canvas, isPointTarget(view.target)), this.options.origin);
  }
}
