import { describe, expect, it } from 'vitest';
import {
  colorFor,
  followTarget,
  localPresence,
  ownColor,
  PALETTE,
  peersOf,
  people,
  selectionsByAnnotation,
  viewportMoved,
} from '../src/presence/model';

const me = 1;

describe('presence', () => {
  it('publishes the Yjs convention user {name, color} with our own fields beside it', () => {
    const state = localPresence({ name: 'Alice', id: 'urn:sinopia:user:alice' });
    expect(state.user).toEqual({ name: 'Alice', id: 'urn:sinopia:user:alice', color: colorFor('urn:sinopia:user:alice') });
    expect(state).toMatchObject({ pointer: null, selection: [], viewport: null });
  });

  it('gives one person the same colour on every screen, from the palette', () => {
    expect(colorFor('urn:sinopia:user:bob')).toBe(colorFor('urn:sinopia:user:bob'));
    expect(colorFor('x')).toMatch(/^#[0-9a-f]{6}$/);
  });

  it('lists everyone else, including stock Yjs clients that send only user {name, color}', () => {
    const states = new Map<number, unknown>([
      [me, { user: { name: 'Me', color: '#000000' } }],
      [2, { user: { name: 'Bob', color: '#123456', id: 'urn:sinopia:user:bob' }, pointer: { x: 10, y: 20 }, selection: ['a1'], viewport: { x: 0, y: 0, w: 100, h: 50 } }],
      [3, { user: { name: 'Editor demo', color: '#ffb61e' }, cursor: { anchor: 1 } }],
      [4, {}],
    ]);
    const peers = peersOf(states, me);
    expect(peers.map((p) => p.name)).toEqual(['Bob', 'Editor demo']);
    expect(peers[0]).toMatchObject({ clientId: 2, color: '#123456', pointer: { x: 10, y: 20 }, selection: ['a1'], viewport: { x: 0, y: 0, w: 100, h: 50 } });
    expect(peers[1]).toMatchObject({ clientId: 3, color: '#ffb61e', pointer: null, selection: [], viewport: null, id: null });
  });

  it('reads hostile or broken states safely', () => {
    const states = new Map<number, unknown>([
      [5, { user: { name: 'x'.repeat(500), color: 'red;background:url(evil)' }, pointer: { x: 'a', y: 1 }, selection: 'a1', viewport: { x: 0, y: 0, w: -1, h: 5 } }],
      [6, { user: 'nobody', selection: [1, 'ok', null] }],
      [7, null],
    ]);
    const peers = peersOf(states, me);
    const five = peers.find((p) => p.clientId === 5);
    const six = peers.find((p) => p.clientId === 6);
    expect(five!.name.length).toBe(80);
    expect(five!.color).toMatch(/^#[0-9a-f]{6}$/);
    expect(five).toMatchObject({ pointer: null, selection: [], viewport: null });
    expect(six).toMatchObject({ name: '', selection: ['ok'] });
    expect(peersOf(states, me)).toHaveLength(2);
  });

  it('lists a person with two tabs once, and says who selected what', () => {
    const states = new Map<number, unknown>([
      [2, { user: { name: 'Bob', id: 'u:bob', color: '#111111' }, selection: ['a'] }],
      [3, { user: { name: 'Bob', id: 'u:bob', color: '#111111' }, selection: ['b'] }],
      [4, { user: { name: 'Cleo', id: 'u:cleo', color: '#222222' }, selection: ['a'] }],
    ]);
    const peers = peersOf(states, me);
    expect(people(peers).map((p) => p.clientId)).toEqual([2, 4]);
    const byAnnotation = selectionsByAnnotation(peers);
    expect(byAnnotation.get('a')!.map((p) => p.name)).toEqual(['Bob', 'Cleo']);
    expect(byAnnotation.get('b')!.map((p) => p.clientId)).toEqual([3]);
  });

  it("follows a colleague's viewport, and nothing once they leave", () => {
    const states = new Map<number, unknown>([[2, { user: { name: 'Presenter' }, viewport: { x: 10, y: 10, w: 500, h: 400 } }]]);
    expect(followTarget(peersOf(states, me), 2)).toEqual({ x: 10, y: 10, w: 500, h: 400 });
    expect(followTarget(peersOf(states, me), null)).toBeNull();
    states.delete(2);
    expect(followTarget(peersOf(states, me), 2)).toBeNull();
  });

  it('moves a following viewport only for a real change', () => {
    const a = { x: 100, y: 100, w: 1000, h: 800 };
    expect(viewportMoved(a, { ...a, x: 100.5 })).toBe(false);
    expect(viewportMoved(a, { ...a, x: 150 })).toBe(true);
    expect(viewportMoved(null, a)).toBe(true);
  });

  it('shows two people present whose ids hash to one colour in different colours, the same on every screen', () => {
    // Find two ids that collide in the palette, as one pair in ten does.
    const ids = Array.from({ length: 200 }, (_, i) => `urn:sinopia:user:${i}`);
    const a = ids[0]!;
    const b = ids.find((id) => id !== a && colorFor(id) === colorFor(a))!;
    expect(b).toBeDefined();
    const state = (id: string) => localPresence({ name: id, id });
    // Two screens: a's (client 1) and b's (client 2), with the states in either order.
    const onA = new Map<number, unknown>([[1, state(a)], [2, state(b)]]);
    const onB = new Map<number, unknown>([[2, state(b)], [1, state(a)]]);
    const aSeenByB = peersOf(onB, 2)[0]!.color;
    const bSeenByA = peersOf(onA, 1)[0]!.color;
    expect(aSeenByB).not.toBe(bSeenByA);
    expect(ownColor(onA, 1, a)).toBe(aSeenByB);
    expect(ownColor(onB, 2, b)).toBe(bSeenByA);
    expect(PALETTE).toContain(bSeenByA as (typeof PALETTE)[number]);
    // One person in two tabs keeps one colour.
    const twoTabs = new Map<number, unknown>([[1, state(a)], [2, state(b)], [3, state(a)]]);
    const [p1, p3] = [peersOf(twoTabs, 2).find((p) => p.clientId === 1)!, peersOf(twoTabs, 2).find((p) => p.clientId === 3)!];
    expect(p1.color).toBe(p3.color);
  });
});
