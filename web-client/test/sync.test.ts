import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { annotationsOf, commentText, readAll, readAnnotation } from '../src/binding/document';
import type { Canvas } from '../src/binding/selectors';
import { point, polygon, rectangle } from '../src/binding/shapes';
import { Binding, type Drawn, type Surface } from '../src/binding/sync';
import { bindTextarea } from '../src/binding/text';
import type { Actor } from '../src/roles/rules';

const canvas: Canvas = { id: 'https://example.org/canvas/1', width: 1000, height: 800 };
const alice = { id: 'urn:sinopia:user:alice', type: 'Person', name: 'Alice' };
const bob = { id: 'urn:sinopia:user:bob', type: 'Person', name: 'Bob' };

class FakeSurface implements Surface {
  drawn = new Map<string, Drawn>();
  loads = 0;
  load(all: Drawn[]) {
    this.loads++;
    this.drawn = new Map(all.map((d) => [d.id, d]));
  }
  upsert(d: Drawn) {
    this.drawn.set(d.id, d);
  }
  remove(id: string) {
    this.drawn.delete(id);
  }
  has(id: string) {
    return this.drawn.has(id);
  }
}

/** Two documents that exchange every update, as two browsers through the server do. */
const connected = () => {
  const a = new Y.Doc();
  const b = new Y.Doc();
  a.on('update', (u: Uint8Array, origin: unknown) => origin !== 'wire' && Y.applyUpdate(b, u, 'wire'));
  b.on('update', (u: Uint8Array, origin: unknown) => origin !== 'wire' && Y.applyUpdate(a, u, 'wire'));
  return [a, b] as const;
};

const bind = (doc: Y.Doc, who: typeof alice, role: string, extra: Partial<ConstructorParameters<typeof Binding>[2]> = {}) => {
  const surface = new FakeSurface();
  const origin = { who: who.name };
  const actor: Actor = { role, agent: who.id };
  const binding = new Binding(doc, surface, {
    canvas,
    actor: () => actor,
    creator: () => who,
    language: () => 'fr',
    origin,
    firstBodies: (language) => [{ kind: 'text', value: '', purpose: 'commenting', language }],
    throttle: 0,
    ...extra,
  });
  return { surface, binding, origin, actor };
};

afterEach(() => vi.useRealTimers());

describe('surface -> document', () => {
  it('writes a drawn rectangle as a W3C annotation by its creator, with an empty comment in their language', () => {
    const doc = new Y.Doc();
    const { binding } = bind(doc, alice, 'editor');
    binding.local({ kind: 'created', id: 'a1', shape: rectangle(10, 20, 30, 40) });
    const entry = annotationsOf(doc).get('a1') as Y.Map<unknown>;
    expect(entry.get('motivation')).toBe('commenting');
    // By id alone: the name is looked up to show, so that erasure leaves none behind.
    expect(entry.get('creator')).toEqual({ id: alice.id, type: 'Person' });
    expect(entry.get('target')).toMatchObject({ selector: { type: 'FragmentSelector', value: 'xywh=10,20,30,40' } });
    expect(entry.get('created')).toBe(entry.get('modified'));
    const body = (entry.get('body') as Y.Array<Y.Map<unknown>>).get(0);
    expect(body.get('type')).toBe('TextualBody');
    expect(body.get('value')).toBeInstanceOf(Y.Text);
    expect(body.get('language')).toBe('fr');
    expect(body.get('purpose')).toBe('commenting');
  });

  it('writes a reshape to the target and a later modified time; a point stays a point', () => {
    const doc = new Y.Doc();
    const { binding } = bind(doc, alice, 'editor');
    binding.local({ kind: 'created', id: 'p', shape: point(5, 5, 4) });
    binding.local({ kind: 'updated', id: 'p', shape: { ...point(50, 60, 4), point: undefined } as never });
    binding.flush();
    const view = readAnnotation('p', annotationsOf(doc).get('p'))!;
    expect(view.target).toMatchObject({ selector: { type: 'PointSelector', x: 50, y: 60 } });
    expect(Date.parse(view.modified!)).toBeGreaterThanOrEqual(Date.parse(view.created!));
  });

  it('writes a drag a few times, not on every move', () => {
    vi.useFakeTimers();
    const doc = new Y.Doc();
    const { binding } = bind(doc, alice, 'editor', { throttle: 200 });
    binding.local({ kind: 'created', id: 'r', shape: rectangle(0, 0, 10, 10) });
    let writes = 0;
    doc.on('update', () => writes++);
    for (let i = 1; i <= 50; i++) {
      binding.local({ kind: 'updated', id: 'r', shape: rectangle(i, i, 10, 10) });
      vi.advanceTimersByTime(10);
    }
    vi.advanceTimersByTime(500);
    expect(writes).toBeLessThan(6);
    expect(readAnnotation('r', annotationsOf(doc).get('r'))!.target).toMatchObject({
      selector: { value: 'xywh=50,50,10,10' },
    });
  });

  it('deletes an annotation with its replies', () => {
    const doc = new Y.Doc();
    const { binding } = bind(doc, alice, 'editor');
    binding.local({ kind: 'created', id: 'a', shape: rectangle(0, 0, 10, 10) });
    annotationsOf(doc).set('reply', new Y.Map(Object.entries({ motivation: 'replying', target: 'a', creator: bob })));
    binding.local({ kind: 'deleted', id: 'a' });
    expect([...annotationsOf(doc).keys()]).toEqual([]);
  });

  it('refuses what the role does not allow and puts the surface back', () => {
    const doc = new Y.Doc();
    const refused: string[] = [];
    const { binding: editor } = bind(doc, alice, 'editor');
    editor.local({ kind: 'created', id: 'theirs', shape: rectangle(0, 0, 10, 10) });
    const viewer = bind(doc, bob, 'viewer', { onRefused: (w) => refused.push(w) });
    viewer.binding.local({ kind: 'created', id: 'v1', shape: rectangle(1, 1, 5, 5) });
    expect(annotationsOf(doc).has('v1')).toBe(false);
    expect(viewer.surface.has('v1')).toBe(false);

    const commenter = bind(doc, bob, 'commenter', { onRefused: (w) => refused.push(w) });
    commenter.surface.upsert({ id: 'theirs', shape: rectangle(100, 100, 10, 10) });
    commenter.binding.local({ kind: 'updated', id: 'theirs', shape: rectangle(100, 100, 10, 10) });
    expect(commenter.surface.drawn.get('theirs')!.shape.geometry).toMatchObject({ x: 0, y: 0 });
    commenter.surface.remove('theirs');
    commenter.binding.local({ kind: 'deleted', id: 'theirs' });
    expect(annotationsOf(doc).has('theirs')).toBe(true);
    expect(commenter.surface.has('theirs')).toBe(true);
    // Their own comment they may reshape.
    commenter.binding.local({ kind: 'created', id: 'mine', shape: rectangle(0, 0, 10, 10) });
    commenter.binding.local({ kind: 'updated', id: 'mine', shape: rectangle(5, 5, 10, 10) });
    commenter.binding.flush();
    expect(readAnnotation('mine', annotationsOf(doc).get('mine'))!.target).toMatchObject({ selector: { value: 'xywh=5,5,10,10' } });
    expect(refused).toEqual(['draw', 'edit', 'delete']);
  });
});

describe('document -> surface', () => {
  it('draws what is in the document when it opens, leaving out replies and region-less comments', () => {
    const doc = new Y.Doc();
    const seed = bind(doc, alice, 'editor');
    seed.binding.local({ kind: 'created', id: 'r', shape: rectangle(0, 0, 10, 10) });
    seed.binding.local({ kind: 'created', id: 'p', shape: polygon([[1, 1], [9, 1], [5, 9]]) });
    annotationsOf(doc).set('whole', new Y.Map(Object.entries({ motivation: 'commenting', target: canvas.id })));
    annotationsOf(doc).set('re', new Y.Map(Object.entries({ motivation: 'replying', target: 'r' })));
    const { surface, binding } = bind(doc, bob, 'viewer');
    expect(surface.loads).toBe(1);
    expect([...surface.drawn.keys()].sort()).toEqual(['p', 'r']);
    expect(binding.all.size).toBe(4);
  });

  it("shows a colleague's drawing, reshape and deletion as they happen", () => {
    const [docA, docB] = connected();
    const a = bind(docA, alice, 'editor');
    const changes: string[][] = [];
    const b = bind(docB, bob, 'editor', { onChange: (ids) => changes.push([...ids]) });
    a.binding.local({ kind: 'created', id: 'x', shape: rectangle(10, 10, 20, 20) });
    expect(b.surface.drawn.get('x')?.creator).toEqual({ id: alice.id, type: 'Person' });
    a.binding.local({ kind: 'updated', id: 'x', shape: rectangle(40, 40, 20, 20) });
    a.binding.flush();
    expect(b.surface.drawn.get('x')!.shape.geometry).toMatchObject({ x: 40, y: 40 });
    a.binding.local({ kind: 'deleted', id: 'x' });
    expect(b.surface.has('x')).toBe(false);
    expect(changes.every((ids) => ids.length === 1 && ids[0] === 'x')).toBe(true);
  });

  it('leaves our own drawing alone while we draw it', () => {
    const doc = new Y.Doc();
    const { surface, binding } = bind(doc, alice, 'editor');
    const upsert = vi.spyOn(surface, 'upsert');
    surface.upsert({ id: 'mine', shape: rectangle(0.4, 0.4, 10, 10) });
    binding.local({ kind: 'created', id: 'mine', shape: rectangle(0.4, 0.4, 10, 10) });
    expect(upsert).toHaveBeenCalledTimes(1); // ours, not the binding's rounded copy
  });

  it('redraws on undo and redo, which undo only our own changes', () => {
    const [docA, docB] = connected();
    const a = bind(docA, alice, 'editor');
    const b = bind(docB, bob, 'editor');
    const undo = new Y.UndoManager(annotationsOf(docA), { trackedOrigins: new Set([a.origin]), captureTimeout: 0 });
    b.binding.local({ kind: 'created', id: 'bobs', shape: rectangle(0, 0, 10, 10) });
    a.surface.upsert({ id: 'alices', shape: rectangle(50, 50, 10, 10) });
    a.binding.local({ kind: 'created', id: 'alices', shape: rectangle(50, 50, 10, 10) });
    a.binding.local({ kind: 'updated', id: 'alices', shape: rectangle(60, 60, 10, 10) });
    a.binding.flush();
    undo.undo();
    expect(a.surface.drawn.get('alices')!.shape.geometry).toMatchObject({ x: 50, y: 50 });
    expect(b.surface.drawn.get('alices')!.shape.geometry).toMatchObject({ x: 50, y: 50 });
    undo.undo();
    expect(a.surface.has('alices')).toBe(false);
    expect(a.surface.has('bobs')).toBe(true);
    expect(undo.canUndo()).toBe(false);
    undo.redo();
    expect(a.surface.has('alices')).toBe(true);
  });

  it('merges edits made offline when the connection comes back', () => {
    const docA = new Y.Doc();
    const docB = new Y.Doc();
    const a = bind(docA, alice, 'editor');
    const b = bind(docB, bob, 'editor');
    a.binding.local({ kind: 'created', id: 'offline-a', shape: rectangle(0, 0, 10, 10) });
    b.binding.local({ kind: 'created', id: 'offline-b', shape: rectangle(20, 20, 10, 10) });
    Y.applyUpdate(docB, Y.encodeStateAsUpdate(docA, Y.encodeStateVector(docB)));
    Y.applyUpdate(docA, Y.encodeStateAsUpdate(docB, Y.encodeStateVector(docA)));
    expect([...a.surface.drawn.keys()].sort()).toEqual(['offline-a', 'offline-b']);
    expect([...b.surface.drawn.keys()].sort()).toEqual(['offline-a', 'offline-b']);
  });
});

describe('comments typed together', () => {
  const fakeArea = () => {
    const listeners: Record<string, () => void> = {};
    const area = {
      value: '',
      selectionStart: 0,
      selectionEnd: 0,
      setSelectionRange(s: number, e: number) {
        this.selectionStart = s;
        this.selectionEnd = e;
      },
      addEventListener: (n: string, f: () => void) => (listeners[n] = f),
      removeEventListener: () => undefined,
      type(value: string) {
        this.value = value;
        listeners.input?.();
      },
    };
    return area;
  };

  it('merges two people typing in one comment at the same moment', () => {
    const docA = new Y.Doc();
    const docB = new Y.Doc();
    const exchange = () => {
      Y.applyUpdate(docB, Y.encodeStateAsUpdate(docA, Y.encodeStateVector(docB)), 'wire');
      Y.applyUpdate(docA, Y.encodeStateAsUpdate(docB, Y.encodeStateVector(docA)), 'wire');
    };
    const a = bind(docA, alice, 'editor');
    bind(docB, bob, 'editor');
    a.binding.local({ kind: 'created', id: 'c', shape: rectangle(0, 0, 10, 10) });
    exchange();
    const textA = commentText(docA, 'c', 'en', a.origin)!;
    const textB = commentText(docB, 'c', 'en', {})!;
    const areaA = fakeArea();
    const areaB = fakeArea();
    (globalThis as { document?: unknown }).document = { activeElement: areaB };
    bindTextarea(areaA as unknown as HTMLTextAreaElement, textA, a.origin);
    bindTextarea(areaB as unknown as HTMLTextAreaElement, textB, 'b');
    areaA.type('Flaking paint');
    exchange();
    expect(areaB.value).toBe('Flaking paint');
    // Both type before either sees the other's keystrokes.
    areaA.type('Severe flaking paint');
    areaB.type('Flaking paint, upper left');
    areaB.setSelectionRange(25, 25);
    exchange();
    expect(areaA.value).toBe('Severe flaking paint, upper left');
    expect(areaB.value).toBe('Severe flaking paint, upper left');
    // Bob's caret moved on with his text when Alice's words arrived before it.
    expect(areaB.selectionStart).toBe(25 + 'Severe f'.length - 1);
    expect(readAll(docA).get('c')!.bodies[0]!.value).toBe('Severe flaking paint, upper left');
  });

  it('refuses text over the limit and keeps what was shared', () => {
    const doc = new Y.Doc();
    const { binding, origin } = bind(doc, alice, 'editor');
    binding.local({ kind: 'created', id: 'c', shape: rectangle(0, 0, 10, 10) });
    const text = commentText(doc, 'c', 'en', origin)!;
    const area = fakeArea();
    (globalThis as { document?: unknown }).document = { activeElement: null };
    let told = 0;
    bindTextarea(area as unknown as HTMLTextAreaElement, text, origin, { limit: 10, onTooLong: () => told++ });
    area.type('ok');
    area.type('ok, and much more than ten bytes');
    expect(text.toString()).toBe('ok');
    expect(area.value).toBe('ok');
    expect(told).toBe(1);
  });
});
