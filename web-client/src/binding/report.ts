// The report document (annotations/report_document.py) as the client reads and writes it:
// `report` (a Map of plain JSON fields), the free texts (top-level Y.Text, co-written), the
// damage entries (an Array of Maps, matched by id) and the approvals (written by the
// workflow only). Every name comes from the generated schema.
//
// The server checks every update against the report model and refuses one that brings a
// new problem (and the page then reopens the document): so the writers here only write
// what the model accepts — the pages check a value before they hand it over — and never
// touch what only the workflow writes (status, signature, version links, approvals).

import * as Y from 'yjs';
import {
  AGENT,
  ANALYSIS_FIELDS as AN,
  APPROVAL_FIELDS as AP,
  ATTACHMENT_FIELDS as AT,
  COMMENT_FIELDS as C,
  IMAGE_FIELDS as IM,
  DAMAGE_FIELDS as D,
  LOCKED_STATUSES,
  REPORT,
  REPORT_APPROVALS,
  REPORT_COMMENTS,
  REPORT_DAMAGE,
  REPORT_FIELDS as F,
  REPORT_LIST,
  REPORT_TEXTS,
  STEP_FIELDS as S,
  WORKFLOW_FIELDS,
} from '../generated/schema';
import type { Agent } from './document';

export type TextName = (typeof REPORT_TEXTS)[number];

export interface Link {
  subject: string; // canvas/<id> or model/<id>
  annotation: string;
}

export interface Photo {
  id: string;
  subject?: string;
  service?: string;
  region: string;
  lighting: string;
  caption: string;
}

export interface Extent {
  value: number;
  unit: string;
}

export interface DamageView {
  id: string;
  term: string;
  location: string;
  extent?: Extent;
  severity: string;
  activity: string;
  note: string;
  annotations: Link[];
  photographs: Photo[];
  tracks?: string;
}

export interface ApprovalView {
  action: string;
  agent: Agent;
  role?: string;
  at: string;
  note: string;
}

export interface ReportView {
  /** Every field of the `report` map, as plain JSON. */
  fields: Record<string, unknown>;
  type: string;
  status: string;
  title: string;
  damage: DamageView[];
  approvals: ApprovalView[];
}

export type Lock =
  | { locked: false }
  | { locked: true; why: 'approved' | 'superseded' }
  | { locked: true; why: 'signed'; by: string[] };

export class WorkflowField extends Error {
  constructor(readonly field: string) {
    super(`${field} changes only through the workflow`);
  }
}

export const fieldsOf = (doc: Y.Doc): Y.Map<unknown> => doc.getMap(REPORT);
export const textOf = (doc: Y.Doc, name: TextName): Y.Text => doc.getText(name);
export const damageOf = (doc: Y.Doc): Y.Array<unknown> => doc.getArray(REPORT_DAMAGE);
export const approvalsOf = (doc: Y.Doc): Y.Array<unknown> => doc.getArray(REPORT_APPROVALS);

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const plain = (v: unknown): unknown => (v instanceof Y.AbstractType ? v.toJSON() : v);
const isObject = (v: unknown): v is Record<string, unknown> => Boolean(v) && typeof v === 'object' && !Array.isArray(v);

export const agentOf = (v: unknown): Agent | undefined => {
  if (!isObject(v)) return undefined;
  const out: Agent = {};
  if (typeof v[AGENT.ID] === 'string') out.id = v[AGENT.ID] as string;
  if (typeof v[AGENT.NAME] === 'string') out.name = v[AGENT.NAME] as string;
  if (typeof v[AGENT.TYPE] === 'string') out.type = v[AGENT.TYPE] as string;
  return out.id || out.name ? out : undefined;
};

const linkOf = (v: unknown): Link | null =>
  isObject(v) && typeof v.subject === 'string' && typeof v.annotation === 'string'
    ? { subject: v.subject, annotation: v.annotation }
    : null;

const photoOf = (v: unknown): Photo | null => {
  if (!isObject(v) || typeof v.id !== 'string') return null;
  const out: Photo = { id: v.id, region: str(v.region) || 'full', lighting: str(v.lighting) || 'normal', caption: str(v.caption) };
  if (typeof v.subject === 'string') out.subject = v.subject;
  if (typeof v.service === 'string') out.service = v.service;
  return out;
};

export const readDamage = (entry: unknown): DamageView | null => {
  const m = entry instanceof Y.Map ? (entry.toJSON() as Record<string, unknown>) : isObject(entry) ? entry : null;
  if (!m || typeof m[D.ID] !== 'string') return null;
  const view: DamageView = {
    id: m[D.ID] as string,
    // Legacy entries named the term `type` and the note `notes` (migrated on the server).
    term: str(m[D.TERM]) || str(m.type),
    location: str(m[D.LOCATION]),
    severity: str(m[D.SEVERITY]) || 'minor',
    activity: str(m[D.ACTIVITY]) || 'unknown',
    note: str(m[D.NOTE]) || str(m.notes),
    annotations: (Array.isArray(m[D.ANNOTATIONS]) ? (m[D.ANNOTATIONS] as unknown[]) : []).map(linkOf).filter((l): l is Link => l !== null),
    photographs: (Array.isArray(m[D.PHOTOGRAPHS]) ? (m[D.PHOTOGRAPHS] as unknown[]) : []).map(photoOf).filter((p): p is Photo => p !== null),
  };
  const extent = m[D.EXTENT];
  if (isObject(extent) && typeof extent.value === 'number' && typeof extent.unit === 'string')
    view.extent = { value: extent.value, unit: extent.unit };
  if (typeof m[D.TRACKS] === 'string') view.tracks = m[D.TRACKS] as string;
  return view;
};

const approvalOf = (v: unknown): ApprovalView | null => {
  const o = plain(v);
  if (!isObject(o) || typeof o[AP.ACTION] !== 'string') return null;
  const out: ApprovalView = {
    action: o[AP.ACTION] as string,
    agent: agentOf(o[AP.AGENT]) ?? {},
    at: str(o[AP.AT]),
    note: str(o[AP.NOTE]),
  };
  if (typeof o[AP.ROLE] === 'string') out.role = o[AP.ROLE] as string;
  return out;
};

/** The report as plain values. `signed` in the legacy status reads as `approved`. */
export const readReport = (doc: Y.Doc): ReportView => {
  const fields = fieldsOf(doc).toJSON() as Record<string, unknown>;
  const status = str(fields[F.STATUS]) || 'draft';
  return {
    fields,
    type: str(fields[F.TYPE]) || 'condition',
    status: status === 'signed' ? 'approved' : status,
    title: str(fields[F.TITLE]),
    damage: damageOf(doc)
      .toArray()
      .map(readDamage)
      .filter((d): d is DamageView => d !== null),
    approvals: approvalsOf(doc)
      .toArray()
      .map(approvalOf)
      .filter((a): a is ApprovalView => a !== null),
  };
};

/** Whether the document holds a report at all (a new document may not yet). */
export const hasReport = (doc: Y.Doc): boolean => fieldsOf(doc).size > 0;

/** Who has signed a handover since it was last submitted or returned (their names). */
export const signedSinceSubmit = (approvals: ApprovalView[]): ApprovalView[] => {
  let out: ApprovalView[] = [];
  for (const a of approvals) {
    if (a.action === 'submitted' || a.action === 'returned') out = [];
    else if (a.action === 'signed') out.push(a);
  }
  return out;
};

/** Why the report refuses every change, as annotations/report_document.lock_reason. */
export const lockOf = (view: ReportView): Lock => {
  if ((LOCKED_STATUSES as readonly string[]).includes(view.status))
    return { locked: true, why: view.status as 'approved' | 'superseded' };
  const signed = signedSinceSubmit(view.approvals);
  if (signed.length) return { locked: true, why: 'signed', by: signed.map((a) => a.agent.name || a.agent.id || '?') };
  return { locked: false };
};

// ---------------------------------------------------------------------------- writing

const empty = (v: unknown): boolean =>
  v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0);

const guard = (key: string): void => {
  if ((WORKFLOW_FIELDS as readonly string[]).includes(key)) throw new WorkflowField(key);
};

/** Set one report field to a plain JSON value (empty: remove it). */
export const setField = (doc: Y.Doc, key: string, value: unknown, origin: unknown): boolean => {
  guard(key);
  const map = fieldsOf(doc);
  const before = map.get(key);
  if (empty(value)) {
    if (!map.has(key)) return false;
    doc.transact(() => map.delete(key), origin);
    return true;
  }
  if (JSON.stringify(before) === JSON.stringify(value)) return false;
  doc.transact(() => map.set(key, value), origin);
  return true;
};

/** Set one member of an object field (object, environment, requirements, loan): the
 * field is a plain value, so it is written whole with the member changed (empty members
 * left out, an object left empty removed). */
export const setPart = (doc: Y.Doc, key: string, part: string, value: unknown, origin: unknown): boolean => {
  guard(key);
  const current = fieldsOf(doc).get(key);
  const next: Record<string, unknown> = isObject(current) ? { ...current } : {};
  if (empty(value)) delete next[part];
  else next[part] = value;
  return setField(doc, key, next, origin);
};

const findDamage = (doc: Y.Doc, id: string): Y.Map<unknown> | null => {
  for (const entry of damageOf(doc).toArray()) if (entry instanceof Y.Map && entry.get(D.ID) === id) return entry;
  return null;
};

export const newId = (): string => crypto.randomUUID().replace(/-/g, '').slice(0, 12);

export interface NewDamage {
  term: string;
  id?: string;
  severity?: string;
  activity?: string;
  location?: string;
  note?: string;
  annotations?: Link[];
}

/** Add a damage entry (its term first: the model needs one). Returns its id. */
export const addDamage = (doc: Y.Doc, entry: NewDamage, origin: unknown): string => {
  const id = entry.id ?? newId();
  const map = new Y.Map<unknown>();
  doc.transact(() => {
    map.set(D.ID, id);
    map.set(D.TERM, entry.term);
    map.set(D.SEVERITY, entry.severity ?? 'minor');
    map.set(D.ACTIVITY, entry.activity ?? 'unknown');
    if (entry.location) map.set(D.LOCATION, entry.location);
    if (entry.note) map.set(D.NOTE, entry.note);
    if (entry.annotations?.length) map.set(D.ANNOTATIONS, entry.annotations.map((l) => ({ ...l })));
    damageOf(doc).push([map]);
  }, origin);
  return id;
};

type DamagePatch = Partial<Omit<DamageView, 'id' | 'extent'>> & { extent?: Extent | null };

/** Change fields of one damage entry (the others, and colleagues' edits to them, stay). */
export const updateDamage = (doc: Y.Doc, id: string, patch: DamagePatch, origin: unknown): boolean => {
  const entry = findDamage(doc, id);
  if (!entry) return false;
  let changed = false;
  doc.transact(() => {
    for (const [key, value] of Object.entries(patch)) {
      if (key === D.ID) continue;
      const before = plain(entry.get(key));
      if (key !== D.TERM && empty(value)) {
        if (entry.has(key)) {
          entry.delete(key);
          changed = true;
        }
      } else if (JSON.stringify(before) !== JSON.stringify(value)) {
        entry.set(key, JSON.parse(JSON.stringify(value)) as unknown);
        changed = true;
      }
    }
  }, origin);
  return changed;
};

export const removeDamage = (doc: Y.Doc, id: string, origin: unknown): boolean => {
  const array = damageOf(doc);
  const index = array.toArray().findIndex((e) => e instanceof Y.Map && e.get(D.ID) === id);
  if (index < 0) return false;
  doc.transact(() => array.delete(index, 1), origin);
  return true;
};

/** Link a damage entry to an annotation (once). */
export const linkAnnotation = (doc: Y.Doc, id: string, link: Link, origin: unknown): boolean => {
  const view = readDamage(findDamage(doc, id));
  if (!view || view.annotations.some((l) => l.subject === link.subject && l.annotation === link.annotation)) return false;
  return updateDamage(doc, id, { annotations: [...view.annotations, link] }, origin);
};

export const unlinkAnnotation = (doc: Y.Doc, id: string, link: Link, origin: unknown): boolean => {
  const view = readDamage(findDamage(doc, id));
  if (!view) return false;
  const kept = view.annotations.filter((l) => !(l.subject === link.subject && l.annotation === link.annotation));
  return kept.length !== view.annotations.length && updateDamage(doc, id, { annotations: kept }, origin);
};

/** The damage entries that point at `annotation` of `subject`. */
export const damageLinkedTo = (view: ReportView, subject: string, annotation: string): DamageView[] =>
  view.damage.filter((d) => d.annotations.some((l) => l.subject === subject && l.annotation === annotation));

// ---------------------------------------------------------------------------- entry lists
// Treatment steps, analyses and samples, images and attachments: each an Array of Maps,
// one map per entry, matched by its id (as damage entries): a colleague's edit to another
// entry, or to another field of the same entry, survives.

export type ListName = Exclude<(typeof REPORT_LIST)[keyof typeof REPORT_LIST], typeof REPORT_LIST.DAMAGE>;

export const listOf = (doc: Y.Doc, name: ListName): Y.Array<unknown> => doc.getArray(name);

const findEntry = (doc: Y.Doc, name: ListName, id: string): Y.Map<unknown> | null => {
  for (const entry of listOf(doc, name).toArray()) if (entry instanceof Y.Map && entry.get('id') === id) return entry;
  return null;
};

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

export interface StepView {
  id: string;
  date: string;
  description: string;
  methods: string[];
  materials_added: string[];
  materials_removed: string[];
  by?: Agent;
}

export interface AnalysisView {
  id: string;
  kind: string;
  date: string;
  method: string;
  location: string;
  sample: string;
  result: string;
  by?: Agent;
}

export interface ImageView extends Photo {
  role: string;
}

export interface AttachmentView {
  id: string;
  blob: string;
  filename: string;
  media_type: string;
  caption: string;
}

const entries = (doc: Y.Doc, name: ListName): Record<string, unknown>[] =>
  listOf(doc, name)
    .toArray()
    .map((e) => plain(e))
    .filter((e): e is Record<string, unknown> => isObject(e) && typeof e.id === 'string');

export const readSteps = (doc: Y.Doc): StepView[] =>
  entries(doc, REPORT_LIST.STEPS).map((m) => {
    const out: StepView = {
      id: m[S.ID] as string,
      date: str(m[S.DATE]),
      description: str(m[S.DESCRIPTION]),
      methods: strings(m[S.METHODS]),
      materials_added: strings(m[S.MATERIALS_ADDED]),
      materials_removed: strings(m[S.MATERIALS_REMOVED]),
    };
    const by = agentOf(m[S.BY]);
    if (by) out.by = by;
    return out;
  });

export const readAnalyses = (doc: Y.Doc): AnalysisView[] =>
  entries(doc, REPORT_LIST.ANALYSES).map((m) => {
    const out: AnalysisView = {
      id: m[AN.ID] as string,
      kind: str(m[AN.KIND]) || 'analysis',
      date: str(m[AN.DATE]),
      method: str(m[AN.METHOD]),
      location: str(m[AN.LOCATION]),
      sample: str(m[AN.SAMPLE]),
      result: str(m[AN.RESULT]),
    };
    const by = agentOf(m[AN.BY]);
    if (by) out.by = by;
    return out;
  });

export const readImages = (doc: Y.Doc): ImageView[] =>
  entries(doc, REPORT_LIST.IMAGES).flatMap((m) => {
    const photo = photoOf(m);
    return photo ? [{ ...photo, role: str(m[IM.ROLE]) || 'general' }] : [];
  });

export const readAttachments = (doc: Y.Doc): AttachmentView[] =>
  entries(doc, REPORT_LIST.ATTACHMENTS).map((m) => ({
    id: m[AT.ID] as string,
    blob: str(m[AT.BLOB]),
    filename: str(m[AT.FILENAME]),
    media_type: str(m[AT.MEDIA_TYPE]),
    caption: str(m[AT.CAPTION]),
  }));

/** Append an entry (its required fields given: the model refuses one without them).
 * Returns its id. */
export const addEntry = (doc: Y.Doc, name: ListName, entry: Record<string, unknown>, origin: unknown): string => {
  const id = typeof entry.id === 'string' ? entry.id : newId();
  const map = new Y.Map<unknown>();
  doc.transact(() => {
    map.set('id', id);
    for (const [key, value] of Object.entries(entry)) if (key !== 'id' && !empty(value)) map.set(key, JSON.parse(JSON.stringify(value)) as unknown);
    listOf(doc, name).push([map]);
  }, origin);
  return id;
};

/** Change fields of one entry; an empty value removes the field (`keep`: fields the
 * model requires, written even when empty, never removed). */
export const updateEntry = (doc: Y.Doc, name: ListName, id: string, patch: Record<string, unknown>, origin: unknown, keep: readonly string[] = []): boolean => {
  const entry = findEntry(doc, name, id);
  if (!entry) return false;
  let changed = false;
  doc.transact(() => {
    for (const [key, value] of Object.entries(patch)) {
      if (key === 'id') continue;
      if (empty(value) && !keep.includes(key)) {
        if (entry.has(key)) {
          entry.delete(key);
          changed = true;
        }
      } else if (JSON.stringify(plain(entry.get(key))) !== JSON.stringify(value ?? '')) {
        entry.set(key, JSON.parse(JSON.stringify(value ?? '')) as unknown);
        changed = true;
      }
    }
  }, origin);
  return changed;
};

export const removeEntry = (doc: Y.Doc, name: ListName, id: string, origin: unknown): boolean => {
  const array = listOf(doc, name);
  const index = array.toArray().findIndex((e) => e instanceof Y.Map && e.get('id') === id);
  if (index < 0) return false;
  doc.transact(() => array.delete(index, 1), origin);
  return true;
};

// ---------------------------------------------------------------------------- discussion
// The review discussion: plain JSON objects appended by the server (POST .../comments),
// who and when its own; the client only reads them.

export interface CommentView {
  id: string;
  author: Agent;
  role?: string;
  at: string;
  text: string;
  reply_to?: string;
}

export const readComments = (doc: Y.Doc): CommentView[] =>
  doc
    .getArray(REPORT_COMMENTS)
    .toArray()
    .map((v) => plain(v))
    .flatMap((o) => {
      if (!isObject(o) || typeof o[C.ID] !== 'string' || typeof o[C.TEXT] !== 'string') return [];
      const out: CommentView = { id: o[C.ID] as string, author: agentOf(o[C.AUTHOR]) ?? {}, at: str(o[C.AT]), text: o[C.TEXT] as string };
      if (typeof o[C.ROLE] === 'string') out.role = o[C.ROLE] as string;
      if (typeof o[C.REPLY_TO] === 'string') out.reply_to = o[C.REPLY_TO] as string;
      return [out];
    });
