// Presence: what each person's awareness state says, read defensively (any Yjs client may
// join, and may send anything), and what we publish ourselves.
//
// Our state follows the Yjs convention, so stock clients (y-websocket demos, editors'
// cursors) show us and we show them:
//   { user: { name, color, id }, pointer: {x, y} | null, selection: [ids],
//     viewport: {x, y, w, h} | null }
// pointer and viewport are in image coordinates (pixels of the canvas), so they mean the
// same thing on every screen size and zoom. On a 3D model, `pointer3d` is the point of the
// surface under the person's mouse and `camera` their view ({position, target,
// fieldOfView}), in the model's coordinates.

import { vec3, type CameraView, type Vec3 } from '../binding/points';

export interface Point {
  x: number;
  y: number;
}

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface LocalPresence {
  user: { name: string; color: string; id: string };
  pointer: Point | null;
  selection: string[];
  viewport: Rect | null;
}

export interface Peer {
  clientId: number;
  name: string;
  color: string;
  id: string | null; // the user's agent IRI, when the client says
  pointer: Point | null;
  selection: string[];
  viewport: Rect | null;
  pointer3d: Vec3 | null;
  camera: CameraView | null;
}

// A distinct colour per person, readable on light and dark images.
export const PALETTE = [
  '#d1495b',
  '#2e86ab',
  '#edae49',
  '#00798c',
  '#8e44ad',
  '#3c9d4e',
  '#e07a1f',
  '#00acc1',
  '#5165c9',
  '#7a8b00',
] as const;

const COLOR = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;
const MAX_NAME = 80;
const MAX_SELECTION = 50;

/** The colour of a user id: the same for one person on every screen. */
export const colorFor = (id: string): string => {
  let hash = 0;
  for (let i = 0; i < id.length; i++) hash = (hash * 31 + id.charCodeAt(i)) | 0;
  return PALETTE[Math.abs(hash) % PALETTE.length]!;
};

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

const pointOf = (v: unknown): Point | null => {
  if (!v || typeof v !== 'object') return null;
  const { x, y } = v as Record<string, unknown>;
  return finite(x) && finite(y) ? { x, y } : null;
};

const vec3Of = vec3;

const cameraOf = (v: unknown): CameraView | null => {
  if (!v || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  const position = vec3Of(o.position);
  const target = vec3Of(o.target);
  const fov = o.fieldOfView;
  if (!position || !target || position.every((c, i) => c === target[i])) return null;
  return { position, target, fieldOfView: finite(fov) && fov > 1 && fov < 179 ? fov : 45 };
};

const rectOf = (v: unknown): Rect | null => {
  if (!v || typeof v !== 'object') return null;
  const { x, y, w, h } = v as Record<string, unknown>;
  return finite(x) && finite(y) && finite(w) && finite(h) && w > 0 && h > 0 ? { x, y, w, h } : null;
};

const personKey = (id: string | null, clientId: number): string => id ?? `client:${clientId}`;

/**
 * The colour each person present is shown in, by person key (user id, or `client:N`).
 *
 * Each client publishes the colour of its user id, so one person looks the same everywhere;
 * but ten colours hashed from ids collide often (two people in one room share a colour
 * about one time in ten), and then nobody can tell whose pointer is whose. So when two
 * people present want one colour, the one whose key sorts first keeps it and the other
 * takes the next free colour of the palette. Every screen sees the same people and sorts
 * them the same way, so every screen agrees. Past ten people, colours repeat.
 */
const colorsOf = (states: Map<number, unknown>): Map<string, string> => {
  const wanted = new Map<string, string>();
  states.forEach((state, clientId) => {
    if (!state || typeof state !== 'object') return;
    const user = (state as Record<string, unknown>).user;
    const u = (user && typeof user === 'object' ? user : {}) as Record<string, unknown>;
    const id = typeof u.id === 'string' ? u.id : null;
    const key = personKey(id, clientId);
    if (wanted.has(key)) return;
    wanted.set(key, typeof u.color === 'string' && COLOR.test(u.color) ? u.color : colorFor(id ?? String(clientId)));
  });
  const taken = new Set<string>();
  const out = new Map<string, string>();
  for (const key of [...wanted.keys()].sort()) {
    let color = wanted.get(key)!;
    if (taken.has(color.toLowerCase())) {
      const start = Math.max(0, PALETTE.indexOf(color as (typeof PALETTE)[number]));
      for (let i = 1; i <= PALETTE.length; i++) {
        const next = PALETTE[(start + i) % PALETTE.length]!;
        if (!taken.has(next)) {
          color = next;
          break;
        }
      }
    }
    taken.add(color.toLowerCase());
    out.set(key, color);
  }
  return out;
};

/** The colour we are shown in to the others present (see `colorsOf`). */
export const ownColor = (states: Map<number, unknown>, self: number, id: string): string =>
  colorsOf(states).get(personKey(id, self)) ?? colorFor(id);

/** Everyone else in the room, from the awareness states (clientId -> state). */
export const peersOf = (states: Map<number, unknown>, self: number): Peer[] => {
  const out: Peer[] = [];
  const colors = colorsOf(states);
  states.forEach((state, clientId) => {
    if (clientId === self || !state || typeof state !== 'object') return;
    const s = state as Record<string, unknown>;
    const user = (s.user && typeof s.user === 'object' ? s.user : {}) as Record<string, unknown>;
    // A state with neither a user nor our fields is a client that has not said who it is.
    if (!s.user && !('pointer' in s) && !('selection' in s)) return;
    const id = typeof user.id === 'string' ? user.id : null;
    const rawName = typeof user.name === 'string' ? user.name.trim() : '';
    const name = rawName ? rawName.slice(0, MAX_NAME) : '';
    const color = colors.get(personKey(id, clientId)) ?? colorFor(id ?? String(clientId));
    const selection = Array.isArray(s.selection)
      ? s.selection.filter((v): v is string => typeof v === 'string').slice(0, MAX_SELECTION)
      : [];
    out.push({
      clientId,
      name,
      color,
      id,
      pointer: pointOf(s.pointer),
      selection,
      viewport: rectOf(s.viewport),
      pointer3d: vec3Of(s.pointer3d),
      camera: cameraOf(s.camera),
    });
  });
  return out.sort((a, b) => a.name.localeCompare(b.name) || a.clientId - b.clientId);
};

/** People, not connections: one person with two tabs is listed once (their first tab). */
export const people = (peers: Peer[]): Peer[] => {
  const seen = new Set<string>();
  return peers.filter((p) => {
    const key = personKey(p.id, p.clientId);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
};

/** Who selected each annotation (for outlines with names). */
export const selectionsByAnnotation = (peers: Peer[]): Map<string, Peer[]> => {
  const out = new Map<string, Peer[]>();
  for (const peer of peers)
    for (const id of peer.selection) {
      const list = out.get(id) ?? [];
      list.push(peer);
      out.set(id, list);
    }
  return out;
};

/** Where to go to follow `peer`: their viewport, or nothing while they have none. */
export const followTarget = (peers: Peer[], following: number | null): Rect | null => {
  if (following === null) return null;
  return peers.find((p) => p.clientId === following)?.viewport ?? null;
};

/** Whether two camera views differ enough to move ours. */
export const cameraMoved = (a: CameraView | null, b: CameraView | null): boolean => {
  if (!a || !b) return a !== b;
  const span = Math.hypot(...a.position.map((c, i) => c - a.target[i]!)) || 1;
  const far = (u: Vec3, v: Vec3) => Math.hypot(u[0] - v[0], u[1] - v[1], u[2] - v[2]) > span * 0.002;
  return far(a.position, b.position) || far(a.target, b.target) || Math.abs(a.fieldOfView - b.fieldOfView) > 0.1;
};

/** Whether two viewports differ enough to move ours (avoids chasing rounding noise). */
export const viewportMoved = (a: Rect | null, b: Rect | null): boolean => {
  if (!a || !b) return a !== b;
  const tolerance = Math.max(a.w, b.w) * 0.002;
  return (
    Math.abs(a.x - b.x) > tolerance ||
    Math.abs(a.y - b.y) > tolerance ||
    Math.abs(a.w - b.w) > tolerance ||
    Math.abs(a.h - b.h) > tolerance
  );
};

export const localPresence = (user: { name: string; id: string }): LocalPresence => ({
  user: { name: user.name, id: user.id, color: colorFor(user.id) },
  pointer: null,
  selection: [],
  viewport: null,
});
