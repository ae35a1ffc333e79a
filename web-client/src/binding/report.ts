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
  APPROVAL_FIELDS as AP,
  DAMAGE_FIELDS as D,
  LOCKED_STATUSES,
  REPORT,
  REPORT_APPROVALS,
  REPORT_DAMAGE,
  REPORT_FIELDS as F,
  REPORT_TEXTS,
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
