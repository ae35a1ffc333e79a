import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
  addDamage,
  addEntry,
  listOf,
  readAttachments,
  readComments,
  readImages,
  readSteps,
  removeEntry,
  updateEntry,
  damageLinkedTo,
  linkAnnotation,
  lockOf,
  readReport,
  removeDamage,
  setField,
  setPart,
  textOf,
  unlinkAnnotation,
  updateDamage,
  WorkflowField,
} from '../src/binding/report';
import { REPORT_LIST, REPORT_VOCABULARIES } from '../src/generated/schema';
import { personOf, shownName } from '../src/reports/people';
import { regionBox } from '../src/reports/treatment';
import { en } from '../src/i18n/en';
import { messageKey, type Vocabulary } from '../src/reports/labels';
import { canWrite, offers, signaturesMissing } from '../src/reports/workflow';

const sync = (a: Y.Doc, b: Y.Doc) => {
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b));
};

const draft = (fields: Record<string, unknown> = {}) => {
  const doc = new Y.Doc();
  doc.getMap('report').set('type', 'condition');
  doc.getMap('report').set('title', 'Annual check');
  for (const [k, v] of Object.entries(fields)) doc.getMap('report').set(k, v);
  return doc;
};

const step = (action: string, name: string, id = `urn:sinopia:user:${name}`) => ({ action, agent: { id, name }, at: '2026-01-01T00:00:00Z', note: '' });

describe('the report binding', () => {
  it('reads and writes fields, object members and damage entries by id', () => {
    const doc = draft();
    setField(doc, 'condition', 'fair', null);
    setPart(doc, 'object', 'identifier', '1987.12', null);
    setPart(doc, 'object', 'title', 'Saint Jerome', null);
    const id = addDamage(doc, { term: 'crack' }, null);
    updateDamage(doc, id, { severity: 'severe', extent: { value: 3, unit: 'cm' } }, null);
    const view = readReport(doc);
    expect(view.fields.condition).toBe('fair');
    expect(view.fields.object).toEqual({ identifier: '1987.12', title: 'Saint Jerome' });
    expect(view.damage).toHaveLength(1);
    expect(view.damage[0]).toMatchObject({ id, term: 'crack', severity: 'severe', activity: 'unknown', extent: { value: 3, unit: 'cm' } });
    // Emptying a value removes it, as the model's defaults expect.
    setField(doc, 'condition', '', null);
    updateDamage(doc, id, { extent: null }, null);
    expect(readReport(doc).fields.condition).toBeUndefined();
    expect(readReport(doc).damage[0]!.extent).toBeUndefined();
    removeDamage(doc, id, null);
    expect(readReport(doc).damage).toEqual([]);
  });

  it('refuses to write what only the workflow writes', () => {
    const doc = draft();
    for (const key of ['status', 'signature', 'supersedes', 'superseded_by'])
      expect(() => setField(doc, key, 'approved', null)).toThrow(WorkflowField);
    expect(readReport(doc).status).toBe('draft');
  });

  it('merges two people editing different entries and typing in one text', () => {
    const a = draft();
    const b = new Y.Doc();
    sync(a, b);
    const d1 = addDamage(a, { term: 'crack' }, null);
    sync(a, b);
    textOf(a, 'summary').insert(0, 'Stable overall.');
    sync(a, b);
    updateDamage(a, d1, { severity: 'moderate' }, null);
    addDamage(b, { term: 'flaking' }, null);
    textOf(b, 'summary').insert(textOf(b, 'summary').length, ' One crack.');
    textOf(a, 'summary').insert(0, 'Checked in raking light. ');
    sync(a, b);
    const view = readReport(b);
    expect(view.damage.map((d) => d.term).sort()).toEqual(['crack', 'flaking']);
    expect(view.damage.find((d) => d.id === d1)!.severity).toBe('moderate');
    expect(textOf(b, 'summary').toString()).toBe('Checked in raking light. Stable overall. One crack.');
  });

  it('links annotations once, and finds the entries of an annotation', () => {
    const doc = draft();
    const id = addDamage(doc, { term: 'loss' }, null);
    const link = { subject: 'canvas/recto', annotation: 'a1' };
    expect(linkAnnotation(doc, id, link, null)).toBe(true);
    expect(linkAnnotation(doc, id, link, null)).toBe(false);
    expect(damageLinkedTo(readReport(doc), 'canvas/recto', 'a1').map((d) => d.id)).toEqual([id]);
    expect(damageLinkedTo(readReport(doc), 'canvas/verso', 'a1')).toEqual([]);
    unlinkAnnotation(doc, id, link, null);
    expect(readReport(doc).damage[0]!.annotations).toEqual([]);
  });

  it('locks approved, superseded and half-signed handover reports, as the server does', () => {
    expect(lockOf(readReport(draft())).locked).toBe(false);
    expect(lockOf(readReport(draft({ status: 'approved' })))).toEqual({ locked: true, why: 'approved' });
    expect(lockOf(readReport(draft({ status: 'signed' })))).toEqual({ locked: true, why: 'approved' });
    const loan = draft({ type: 'loan', status: 'in-review' });
    loan.getArray('approvals').push([step('submitted', 'Chiara'), step('signed', 'Chiara')]);
    expect(lockOf(readReport(loan))).toEqual({ locked: true, why: 'signed', by: ['Chiara'] });
    loan.getArray('approvals').push([step('returned', 'Lena')]);
    expect(lockOf(readReport(loan)).locked).toBe(false);
  });
});

describe('the workflow by role (annotations/workflow.py)', () => {
  const me = 'urn:sinopia:user:chiara';
  const actions = (status: string, role: string, type = 'condition', approvals: object[] = []) => {
    const doc = draft({ status, type });
    doc.getArray('approvals').push(approvals);
    return offers(readReport(doc), role, me).map((o) => `${o.action}:${o.allowed ? 'yes' : o.why}`);
  };

  it('lets an editor submit a draft, and a viewer nothing', () => {
    expect(actions('draft', 'editor')).toEqual(['submit:yes']);
    expect(actions('draft', 'viewer')).toEqual(['submit:role']);
    expect(actions('draft', 'commenter')).toEqual(['submit:role']);
  });

  it('keeps return and approve for leads', () => {
    expect(actions('in-review', 'editor')).toEqual(['return:role', 'approve:role']);
    expect(actions('in-review', 'lead')).toEqual(['return:yes', 'approve:yes']);
    expect(actions('in-review', 'owner')).toEqual(['return:yes', 'approve:yes']);
    const doc = draft({ status: 'in-review' });
    expect(offers(readReport(doc), 'lead', me).find((o) => o.action === 'return')!.needsNote).toBe(true);
  });

  it('has a handover signed by two different members', () => {
    const submitted = [step('submitted', 'Chiara')];
    expect(actions('in-review', 'editor', 'loan', submitted)).toEqual(['return:role', 'sign:yes']);
    const signed = [...submitted, step('signed', 'Chiara', me)];
    expect(actions('in-review', 'editor', 'loan', signed)).toEqual(['return:role', 'sign:signed-already']);
    const doc = draft({ status: 'in-review', type: 'loan' });
    doc.getArray('approvals').push(signed);
    expect(signaturesMissing(readReport(doc))).toBe(1);
  });

  it('approves a treatment proposal first, then the record', () => {
    expect(actions('in-review', 'lead', 'treatment')).toEqual(['return:yes', 'approve:yes']);
    expect(actions('in-treatment', 'editor', 'treatment', [step('approved-proposal', 'Lena')])).toEqual(['submit:yes']);
  });

  it('supersedes an approved report, which nobody edits', () => {
    expect(actions('approved', 'editor')).toEqual(['supersede:yes']);
    expect(actions('superseded', 'lead')).toEqual([]);
    expect(canWrite(readReport(draft({ status: 'approved' })), 'owner')).toBe(false);
    expect(canWrite(readReport(draft()), 'editor')).toBe(true);
    expect(canWrite(readReport(draft()), 'commenter')).toBe(false);
  });
});

describe('the report vocabularies', () => {
  it('has a label in the catalogues for every value the schema exports', () => {
    const missing = Object.entries(REPORT_VOCABULARIES).flatMap(([name, terms]) =>
      terms.map((term) => messageKey(name as Vocabulary, term.value)).filter((key) => !(key in en)),
    );
    expect(missing).toEqual([]);
  });
});

describe('the treatment record, the people and the discussion', () => {
  it('adds, edits and removes entries by id, and two people editing one entry both keep their work', () => {
    const a = draft({ type: 'treatment' });
    const b = new Y.Doc();
    sync(a, b);
    const id = addEntry(a, REPORT_LIST.STEPS, { date: '2026-11-20', description: '', methods: [] }, 'a');
    sync(a, b);
    // Empty fields are not written; the description the model needs is kept even empty.
    expect(readSteps(a)).toEqual([{ id, date: '2026-11-20', description: '', methods: [], materials_added: [], materials_removed: [] }]);
    updateEntry(a, REPORT_LIST.STEPS, id, { description: 'Varnish removed.' }, 'a', ['description']);
    updateEntry(b, REPORT_LIST.STEPS, id, { materials_added: ['Paraloid B-72'] }, 'b');
    sync(a, b);
    for (const doc of [a, b]) {
      const [step] = readSteps(doc);
      expect(step?.description).toBe('Varnish removed.');
      expect(step?.materials_added).toEqual(['Paraloid B-72']);
    }
    updateEntry(a, REPORT_LIST.STEPS, id, { description: '' }, 'a', ['description']);
    expect(readSteps(a)[0]?.description).toBe('');
    expect(removeEntry(b, REPORT_LIST.STEPS, id, 'b')).toBe(true);
    sync(a, b);
    expect(readSteps(a)).toEqual([]);
    expect(removeEntry(a, REPORT_LIST.STEPS, id, 'a')).toBe(false);
  });

  it('reads images with their role and attachments and comments as the server writes them', () => {
    const doc = draft();
    addEntry(doc, REPORT_LIST.IMAGES, { subject: 'canvas/c1', region: '1,2,3,4', lighting: 'uv', role: 'after', caption: '' }, 'a');
    expect(readImages(doc)).toMatchObject([{ subject: 'canvas/c1', region: '1,2,3,4', lighting: 'uv', role: 'after' }]);
    listOf(doc, REPORT_LIST.ATTACHMENTS).push([new Y.Map(Object.entries({ id: 'a1', blob: 'file-1', filename: 'old.pdf', media_type: 'application/pdf' }))]);
    expect(readAttachments(doc)).toEqual([{ id: 'a1', blob: 'file-1', filename: 'old.pdf', media_type: 'application/pdf', caption: '' }]);
    doc.getArray('comments').push([{ id: 'c1', author: { id: 'urn:sinopia:user:u1', name: 'Li' }, role: 'lead', at: '2026-11-20T10:00:00Z', text: 'Why?' }, { id: 'c2', text: 'no author' }, { nonsense: true }]);
    expect(readComments(doc)).toEqual([
      { id: 'c1', author: { id: 'urn:sinopia:user:u1', name: 'Li' }, role: 'lead', at: '2026-11-20T10:00:00Z', text: 'Why?' },
      { id: 'c2', author: {}, at: '', text: 'no author' },
    ]);
  });

  it('stores a member by their agent id and someone from outside by name', () => {
    const people = { members: () => [{ id: 'urn:sinopia:user:u7', name: 'Marco Bianchi' }] };
    expect(personOf(people, ' marco bianchi ')).toEqual({ type: 'Person', id: 'urn:sinopia:user:u7' });
    expect(personOf(people, 'Anna Verdi (Uffizi)')).toEqual({ type: 'Person', name: 'Anna Verdi (Uffizi)' });
    expect(personOf(people, '  ')).toBeUndefined();
    // A renamed member shows the new name; their stored value is kept while it is shown.
    const stored = { type: 'Person', id: 'urn:sinopia:user:u7', name: 'Marco B.' };
    expect(shownName(people, stored)).toBe('Marco Bianchi');
    expect(personOf(people, 'Marco Bianchi', stored)).toBe(stored);
  });

  it('reads a IIIF region as a box in pixels', () => {
    expect(regionBox('full', 100, 50)).toBeNull();
    expect(regionBox('10,20,30,40')).toEqual([10, 20, 30, 40]);
    expect(regionBox('pct:10,10,50,50', 200, 100)).toEqual([20, 10, 100, 50]);
    expect(regionBox('square', 200, 100)).toEqual([50, 0, 100, 100]);
    expect(regionBox('not a region', 10, 10)).toBeNull();
  });
});
