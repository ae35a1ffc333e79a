// The subject document (annotations/subject_document.py) as the client reads and writes it:
// `meta` (the canvas) and `annotations` (id -> Map of W3C fields; bodies an Array of Maps;
// a textual body's value a Text, so people can write one comment together). Every name
// comes from the generated schema.

import * as Y from 'yjs';
import {
  AGENT,
  ANNOTATION as A,
  ANNOTATIONS,
  BODY as B,
  BODY_TYPES,
  META,
  META_FIELDS as M,
  TEXTUAL_BODY_TEXT_FIELD,
  USER_AGENT_PREFIX,
} from '../generated/schema';

export interface Agent {
  id?: string;
  type?: string;
  name?: string;
}

export const isUserAgent = (id: string | undefined): id is string => !!id && id.startsWith(USER_AGENT_PREFIX);

/** A creator as documents store it: a Sinopia user by id alone, so that erasing the
 * person leaves no name in the document or its history (the server refuses a name there);
 * the name shown is looked up (src/people). */
export const storedAgent = (agent: Agent): Agent => {
  if (!isUserAgent(agent.id)) return { ...agent };
  const { name: _name, ...rest } = agent;
  return rest;
};

export interface BodyView {
  index: number;
  type: string;
  purpose?: string;
  language?: string;
  format?: string;
  value: string; // the text, or a resource's label (or IRI)
  text: Y.Text | null; // the shared text of a textual body
  source?: { id: string; label?: string };
}

export interface AnnotationView {
  id: string;
  motivation: string;
  target: unknown;
  creator?: Agent;
  created?: string;
  modified?: string;
  bodies: BodyView[];
  replyTo: string[]; // for replies: the annotations answered
}

export interface SubjectMeta {
  iiifId: string;
  label: string;
  manifest?: string;
  manifestLabel?: string;
  width?: number;
  height?: number;
  imageService?: { id: string; version: number };
  image?: { id: string; format?: string };
}

export type NewBody =
  | { kind: 'text'; value: string; purpose?: string; language?: string; format?: string }
  | { kind: 'resource'; source: { id: string; label?: string }; purpose?: string };

export interface NewAnnotation {
  id: string;
  motivation: string;
  target: unknown;
  creator: Agent;
  bodies?: NewBody[];
}

export const annotationsOf = (doc: Y.Doc): Y.Map<unknown> => doc.getMap(ANNOTATIONS);
export const metaOf = (doc: Y.Doc): Y.Map<unknown> => doc.getMap(META);

/** A 3D subject's model file (meta `asset`): its URL and media type, or null. */
export const modelAssetOf = (doc: Y.Doc): { url: string; format?: string } | null => {
  const asset = metaOf(doc).get(M.ASSET);
  const plain = asset instanceof Y.Map ? asset.toJSON() : asset;
  if (!plain || typeof plain !== 'object') return null;
  const { url, format } = plain as { url?: unknown; format?: unknown };
  return typeof url === 'string' ? { url, ...(typeof format === 'string' ? { format } : {}) } : null;
};

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const plain = (v: unknown): unknown => (v instanceof Y.AbstractType ? v.toJSON() : v);

const agentOf = (v: unknown): Agent | undefined => {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const agent: Agent = {};
  const id = str(o[AGENT.ID]);
  const type = str(o[AGENT.TYPE]);
  const name = str(o[AGENT.NAME]);
  if (id) agent.id = id;
  if (type) agent.type = type;
  if (name) agent.name = name;
  return agent.id || agent.name ? agent : undefined;
};

const bodyOf = (entry: unknown, index: number): BodyView | null => {
  if (!(entry instanceof Y.Map)) return null;
  const type = str(entry.get(B.TYPE)) ?? '';
  const raw = entry.get(B.VALUE);
  const view: BodyView = {
    index,
    type,
    value: raw instanceof Y.Text ? raw.toString() : (str(raw) ?? ''),
    text: raw instanceof Y.Text ? raw : null,
  };
  const purpose = str(entry.get(B.PURPOSE));
  const language = str(entry.get(B.LANGUAGE));
  const format = str(entry.get(B.FORMAT));
  if (purpose) view.purpose = purpose;
  if (language) view.language = language;
  if (format) view.format = format;
  const source = plain(entry.get(B.SOURCE));
  if (source && typeof source === 'object' && typeof (source as { id?: unknown }).id === 'string') {
    const s = source as { id: string; label?: unknown };
    view.source = { id: s.id, ...(typeof s.label === 'string' ? { label: s.label } : {}) };
    view.value = view.source.label ?? view.source.id;
  } else if (typeof source === 'string') {
    view.source = { id: source };
    view.value = source;
  } else if (!view.text && str(entry.get(B.ID))) {
    // A web resource body (a vocabulary term) named by its IRI.
    const id = str(entry.get(B.ID))!;
    const label = str(entry.get(B.LABEL));
    view.source = { id, ...(label ? { label } : {}) };
    view.value = label ?? id;
  }
  return view;
};

/** One annotation as plain values, or null when the entry is not one. */
export const readAnnotation = (id: string, entry: unknown): AnnotationView | null => {
  if (!(entry instanceof Y.Map)) return null;
  const bodies = entry.get(A.BODY);
  const target = plain(entry.get(A.TARGET));
  const motivation = str(entry.get(A.MOTIVATION)) ?? 'commenting';
  const view: AnnotationView = {
    id,
    motivation,
    target,
    bodies:
      bodies instanceof Y.Array
        ? bodies
            .toArray()
            .map(bodyOf)
            .filter((b): b is BodyView => b !== null)
        : [],
    replyTo: [],
  };
  const creator = agentOf(plain(entry.get(A.CREATOR)));
  if (creator) view.creator = creator;
  const created = str(entry.get(A.CREATED));
  const modified = str(entry.get(A.MODIFIED));
  if (created) view.created = created;
  if (modified) view.modified = modified;
  if (motivation === 'replying') {
    const targets = Array.isArray(target) ? target : [target];
    view.replyTo = targets
      .map((t) => (typeof t === 'string' ? t : str((t as { source?: { id?: unknown } })?.source?.id)))
      .filter((t): t is string => Boolean(t));
  }
  return view;
};

export const readAll = (doc: Y.Doc): Map<string, AnnotationView> => {
  const out = new Map<string, AnnotationView>();
  annotationsOf(doc).forEach((entry, id) => {
    const view = readAnnotation(id, entry);
    if (view) out.set(id, view);
  });
  return out;
};

export const readSubject = (doc: Y.Doc): SubjectMeta | null => {
  const meta = metaOf(doc);
  const iiifId = str(meta.get(M.IIIF_ID));
  if (!iiifId) return null;
  const out: SubjectMeta = { iiifId, label: str(meta.get(M.LABEL)) ?? '' };
  const manifest = str(meta.get(M.MANIFEST));
  const manifestLabel = str(meta.get(M.MANIFEST_LABEL));
  const width = meta.get(M.WIDTH);
  const height = meta.get(M.HEIGHT);
  if (manifest) out.manifest = manifest;
  if (manifestLabel) out.manifestLabel = manifestLabel;
  if (typeof width === 'number') out.width = width;
  if (typeof height === 'number') out.height = height;
  const service = plain(meta.get(M.IMAGE_SERVICE)) as { id?: unknown; version?: unknown } | null;
  if (service && typeof service.id === 'string')
    out.imageService = { id: service.id, version: typeof service.version === 'number' ? service.version : 3 };
  const image = plain(meta.get(M.IMAGE)) as { id?: unknown; format?: unknown } | null;
  if (image && typeof image.id === 'string')
    out.image = { id: image.id, ...(typeof image.format === 'string' ? { format: image.format } : {}) };
  return out;
};

// ---------------------------------------------------------------------------- writing

/** Now, never earlier than `created`: annotations/ refuses a modified before created,
 * and colleagues' clocks differ. */
const stamp = (created: unknown): string => {
  const now = Date.now();
  const then = typeof created === 'string' ? Date.parse(created) : Number.NaN;
  return new Date(Number.isFinite(then) && then > now ? then : now).toISOString();
};

const newBody = (body: NewBody): Y.Map<unknown> => {
  const map = new Y.Map<unknown>();
  if (body.kind === 'text') {
    map.set(B.TYPE, BODY_TYPES.TEXTUAL);
    map.set(TEXTUAL_BODY_TEXT_FIELD, new Y.Text(body.value));
    map.set(B.FORMAT, body.format ?? 'text/plain');
    if (body.language) map.set(B.LANGUAGE, body.language);
  } else {
    map.set(B.TYPE, BODY_TYPES.SPECIFIC_RESOURCE);
    map.set(B.SOURCE, { ...body.source });
  }
  if (body.purpose) map.set(B.PURPOSE, body.purpose);
  return map;
};

const entryOf = (doc: Y.Doc, id: string): Y.Map<unknown> | null => {
  const entry = annotationsOf(doc).get(id);
  return entry instanceof Y.Map ? entry : null;
};

export const createAnnotation = (doc: Y.Doc, a: NewAnnotation, origin: unknown): void => {
  doc.transact(() => {
    const entry = new Y.Map<unknown>();
    const now = new Date().toISOString();
    entry.set(A.MOTIVATION, a.motivation);
    entry.set(A.TARGET, a.target);
    entry.set(A.CREATOR, storedAgent(a.creator));
    entry.set(A.CREATED, now);
    entry.set(A.MODIFIED, now);
    const bodies = new Y.Array<Y.Map<unknown>>();
    bodies.push((a.bodies ?? []).map(newBody));
    entry.set(A.BODY, bodies);
    annotationsOf(doc).set(a.id, entry);
  }, origin);
};

export const setTarget = (doc: Y.Doc, id: string, target: unknown, origin: unknown): boolean => {
  const entry = entryOf(doc, id);
  if (!entry) return false;
  if (JSON.stringify(plain(entry.get(A.TARGET))) === JSON.stringify(target)) return false;
  doc.transact(() => {
    entry.set(A.TARGET, target);
    entry.set(A.MODIFIED, stamp(entry.get(A.CREATED)));
  }, origin);
  return true;
};

/** The ids of the replies to `id`, at any depth. */
export const repliesOf = (all: Map<string, AnnotationView>, id: string): string[] => {
  const out: string[] = [];
  const queue = [id];
  while (queue.length) {
    const current = queue.shift()!;
    for (const view of all.values())
      if (view.replyTo.includes(current) && !out.includes(view.id) && view.id !== id) {
        out.push(view.id);
        queue.push(view.id);
      }
  }
  return out;
};

export const deleteAnnotations = (doc: Y.Doc, ids: string[], origin: unknown): void => {
  const map = annotationsOf(doc);
  doc.transact(() => {
    for (const id of ids) if (map.has(id)) map.delete(id);
  }, origin);
};

export const addBody = (doc: Y.Doc, id: string, body: NewBody, origin: unknown): boolean => {
  const entry = entryOf(doc, id);
  if (!entry) return false;
  doc.transact(() => {
    let bodies = entry.get(A.BODY);
    if (!(bodies instanceof Y.Array)) {
      bodies = new Y.Array<Y.Map<unknown>>();
      entry.set(A.BODY, bodies);
    }
    (bodies as Y.Array<Y.Map<unknown>>).push([newBody(body)]);
    entry.set(A.MODIFIED, stamp(entry.get(A.CREATED)));
  }, origin);
  return true;
};

export const removeBody = (doc: Y.Doc, id: string, index: number, origin: unknown): boolean => {
  const entry = entryOf(doc, id);
  const bodies = entry?.get(A.BODY);
  if (!entry || !(bodies instanceof Y.Array) || index >= bodies.length) return false;
  doc.transact(() => {
    bodies.delete(index, 1);
    entry.set(A.MODIFIED, stamp(entry.get(A.CREATED)));
  }, origin);
  return true;
};

/** The shared text of the first comment body (purpose commenting or replying, or none),
 * made when there is none yet: where a person types their comment. */
export const commentText = (
  doc: Y.Doc,
  id: string,
  language: string,
  origin: unknown,
  purpose = 'commenting',
): Y.Text | null => {
  const view = readAnnotation(id, annotationsOf(doc).get(id));
  if (!view) return null;
  const existing = view.bodies.find((b) => b.text && (!b.purpose || b.purpose === purpose));
  if (existing) return existing.text;
  addBody(doc, id, { kind: 'text', value: '', purpose, language }, origin);
  const again = readAnnotation(id, annotationsOf(doc).get(id));
  return again?.bodies.find((b) => b.text && b.purpose === purpose)?.text ?? null;
};

export const touch = (doc: Y.Doc, id: string, origin: unknown): void => {
  const entry = entryOf(doc, id);
  if (entry) doc.transact(() => entry.set(A.MODIFIED, stamp(entry.get(A.CREATED))), origin);
};
