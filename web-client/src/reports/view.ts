// The live report: its fields by report type, the co-written texts, the damage list beside
// the images, presence (who is here, and in which field), the review (the workflow's steps
// and notes) and the steps this person may take, the comparison with the previous report,
// the PDF. One ReportScreen per opened document; the page makes a new one after a refusal.

import { ApiError, enc, get, post, request } from '../api/http';
import { hasReport, lockOf, readImages, readReport, setPart, type ReportView } from '../binding/report';
import type { LiveSession } from '../binding/session';
import { ENVIRONMENT_FIELDS as EF, LOAN_FIELDS as LF, OBJECT_FIELDS as OF, REPORT_FIELDS as F, REPORT_LIMITS, REQUIREMENT_FIELDS } from '../generated/schema';
import { formatTime, t, tn, type Key } from '../i18n';
import { presenceList } from '../presence/list';
import { colorFor, localPresence, ownColor, peersOf, people, type Peer } from '../presence/model';
import { atLeast } from '../roles/rules';
import { h, replace, uid } from '../ui/dom';
import { subjectPath } from '../app/routes';
import { Attachments } from './attachments';
import { Discussion } from './discussion';
import { DamageList, loadSubject, type SubjectInfo } from './damage';
import { PeopleNames } from '../people/names';
import { loadMembers, personFieldControl, type Member, type PersonOptions } from './people';
import { TreatmentRecord } from './treatment';
import { fieldControl, textControl, type Control, type FieldSpec, type FormContext } from './fields';
import { label, termLabel, type DamageTerm } from './labels';
import { canStartFrom, canWrite, offers, signaturesMissing, type Action } from './workflow';

export interface ScreenOptions {
  ws: string;
  id: string;
  role: string | null;
  me: { id: string; name: string };
  terms: DamageTerm[];
  toast: (message: string, kind?: 'info' | 'error') => void;
  navigate: (path: string) => void;
  /** The title changed (for the breadcrumbs and the window). */
  titled: (title: string) => void;
}

interface Answer {
  locked: string | null;
  signed: boolean;
  actions: { action: string; role: string }[];
  problems?: { path: string; message: string }[];
  new_version?: { id: string; document: string };
}

const ACTION_LABEL: Record<Action, Key> = {
  submit: 'report.action.submit',
  return: 'report.action.return',
  approve: 'report.action.approve',
  sign: 'report.action.sign',
  supersede: 'report.action.supersede',
};

const STEP_LABEL: Record<string, Key> = {
  submitted: 'report.step.submitted',
  returned: 'report.step.returned',
  'approved-proposal': 'report.step.approvedProposal',
  approved: 'report.step.approved',
  signed: 'report.step.signed',
  superseded: 'report.step.superseded',
};

const FIELD_NAMES: Record<string, Key> = {
  object: 'report.f.objectId',
  checker: 'report.f.checker',
  date: 'report.f.date',
  loan: 'report.f.handover',
  proposal: 'report.t.proposal',
  condition: 'report.f.condition',
};

const needsObject = { key: F.OBJECT, part: OF.IDENTIFIER, message: 'report.f.objectFirst' as Key };
const needsHandover = { key: F.LOAN, part: LF.HANDOVER, message: 'report.f.handoverFirst' as Key };

export class ReportScreen {
  readonly node: HTMLElement;
  private readonly origin = { local: true };
  private readonly controls: Control[] = [];
  private readonly headEl = h('div', { class: 'report-head' });
  private readonly bannerEl = h('div', { class: 'report-banner', role: 'status', 'aria-live': 'polite' });
  // The report's sections as tabs to jump to, with its status and the next step: sticky
  // on a narrow screen, where the page is one long column.
  private readonly navEl = h('nav', { class: 'report-nav', 'aria-label': t('report.nav.label') });
  private navKey = '';
  private readonly stopNames: () => void;
  private navObserver: IntersectionObserver | null = null;
  private readonly formEl = h('div', { class: 'report-form' });
  private readonly presenceEl = h('section', { class: 'presence', 'aria-labelledby': 'presence-title' });
  private readonly workflowEl = h('section', { class: 'report-workflow', 'aria-labelledby': 'workflow-title' });
  private readonly compareEl = h('section', { class: 'report-compare', 'aria-labelledby': 'compare-title', hidden: true });
  private readonly damage: DamageList;
  private readonly record: TreatmentRecord;
  private readonly attachments: Attachments;
  private readonly discussion: Discussion;
  private members: Member[] = [];
  private readonly names: PeopleNames;
  private readonly people: PersonOptions;
  private namesSeen = 0;
  private canvases: { ref: string; label: string }[] = [];
  private view: ReportView;
  private answer: Answer | null = null;
  private subjects: SubjectInfo[] = [];
  private loadingSubjects = new Set<string>();
  private peers: Peer[] = [];
  private myColor = '';
  private shape = '';
  private busy = false;
  private workflowMessage: HTMLElement = h('div', { class: 'workflow-message', role: 'alert' });
  private readonly observer = () => this.changed();
  private answerTimer: ReturnType<typeof setTimeout> | null = null;
  private lastStatus = '';

  constructor(
    private readonly session: LiveSession,
    private readonly o: ScreenOptions,
  ) {
    this.view = readReport(session.doc);
    this.names = new PeopleNames(o.ws, o.me);
    this.people = { members: () => this.members, names: this.names };
    this.stopNames = this.names.onChange(() => {
      this.namesSeen += 1;
      for (const c of this.controls) c.show(this.view);
      this.record.show();
      this.discussion.show();
    });
    this.damage = new DamageList({
      ws: o.ws,
      doc: session.doc,
      origin: this.origin,
      editable: () => this.editable(),
      terms: () => this.o.terms,
      subjects: () => this.subjects,
      toast: o.toast,
      onSelect: (id) => this.session.provider.awareness.setLocalStateField('selection', id ? [id] : []),
      focus: (field) => this.focus(field),
    });
    this.record = new TreatmentRecord({
      doc: session.doc,
      origin: this.origin,
      editable: () => this.editable(),
      type: () => this.view.type,
      proposalApproved: () => this.view.approvals.some((a) => a.action === 'approved-proposal'),
      me: { id: o.me.id, name: o.me.name },
      subjects: () => this.subjects,
      canvases: () => this.canvases,
      people: this.people,
      namesSeen: () => this.namesSeen,
      toast: o.toast,
      focus: (field) => this.focus(field),
    });
    this.attachments = new Attachments({
      ws: o.ws,
      id: o.id,
      doc: session.doc,
      origin: this.origin,
      editable: () => this.editable(),
      toast: o.toast,
      focus: (field) => this.focus(field),
    });
    this.discussion = new Discussion({
      ws: o.ws,
      id: o.id,
      doc: session.doc,
      canComment: () => atLeast(this.o.role, 'commenter') && !lockOf(this.view).locked,
      whyNot: () => (lockOf(this.view).locked ? t('report.discuss.locked') : atLeast(this.o.role, 'commenter') ? null : t('report.discuss.role')),
      people: this.people,
      namesSeen: () => this.namesSeen,
      toast: o.toast,
    });
    this.node = h(
      'div',
      { class: 'report-view' },
      this.headEl,
      this.navEl,
      this.bannerEl,
      h(
        'div',
        { class: 'report-body' },
        h('div', { class: 'report-main' }, this.formEl, this.damage.node, this.record.node, this.attachments.node, this.compareEl),
        h('aside', { class: 'report-side', 'aria-label': t('report.side') }, this.presenceEl, this.workflowEl, this.discussion.node),
      ),
    );
  }

  private editable(): boolean {
    return canWrite(this.view, this.o.role);
  }

  /** Build once the document has synced; false when it holds no report. */
  start(): boolean {
    if (!hasReport(this.session.doc)) return false;
    this.session.doc.on('update', this.observer);
    this.presence();
    this.changed();
    // Members to pick as checker, recorder, ...; the workspace's canvases for images.
    void loadMembers(this.o.ws)
      .then((members) => {
        this.members = members;
        for (const c of this.controls) c.show(this.view);
        this.record.show();
        this.discussion.show();
      })
      .catch(() => undefined);
    void get<{ subjects: { kind: string; id: string; label: string }[] }>(`/api/workspaces/${enc(this.o.ws)}/subjects?limit=200`)
      .then((page) => {
        this.canvases = page.subjects.filter((s) => s.kind === 'canvas').map((s) => ({ ref: `${s.kind}/${s.id}`, label: s.label || s.id }));
        this.record.show();
      })
      .catch(() => undefined);
    // Opened from a canvas's annotation (?damage=ID): that entry, chosen.
    const wanted = new URLSearchParams(location.search).get('damage');
    if (wanted && this.view.damage.some((d) => d.id === wanted)) setTimeout(() => this.damage.select(wanted, true), 0);
    void this.refreshAnswer();
    return true;
  }

  // ------------------------------------------------------------------ the document changed

  private changed(): void {
    this.view = readReport(this.session.doc);
    const shape = `${this.view.type}|${this.editable()}`;
    if (shape !== this.shape) {
      this.shape = shape;
      this.buildForm();
    }
    for (const c of this.controls) c.show(this.view);
    this.damage.show(this.view);
    this.record.show();
    this.attachments.show();
    this.discussion.show();
    this.drawHead();
    this.drawNav();
    this.drawBanner();
    this.drawWorkflow();
    this.loadSubjects();
    this.o.titled(this.view.title || this.o.id);
    // The workflow's step arrived (from us or a colleague): ask the server what is open now.
    if (this.view.status !== this.lastStatus || this.view.approvals.length !== this.answeredSteps) {
      this.lastStatus = this.view.status;
      if (this.answerTimer) clearTimeout(this.answerTimer);
      this.answerTimer = setTimeout(() => void this.refreshAnswer(), 150);
    }
  }

  private answeredSteps = -1;

  private async refreshAnswer(): Promise<void> {
    try {
      this.answeredSteps = this.view.approvals.length;
      this.answer = await get<Answer>(`/api/reports/${enc(this.o.ws)}/${enc(this.o.id)}`);
      this.drawBanner();
      this.drawWorkflow();
    } catch {
      // The live document still shows the report; the steps are offered from its state.
    }
  }

  private subjectRefs(): string[] {
    const refs = new Set<string>();
    const object = this.view.fields[F.OBJECT] as { subjects?: unknown } | undefined;
    if (object && Array.isArray(object.subjects)) for (const s of object.subjects) if (typeof s === 'string') refs.add(s);
    for (const d of this.view.damage) {
      for (const l of d.annotations) refs.add(l.subject);
      for (const p of d.photographs) if (p.subject) refs.add(p.subject);
    }
    for (const image of readImages(this.session.doc)) if (image.subject) refs.add(image.subject);
    return [...refs].filter((r) => r.startsWith('canvas/') || r.startsWith('model/'));
  }

  private loadSubjects(): void {
    const wanted = this.subjectRefs();
    const missing = wanted.filter((r) => !this.subjects.some((s) => s.ref === r) && !this.loadingSubjects.has(r));
    for (const ref of missing) {
      this.loadingSubjects.add(ref);
      void loadSubject(this.o.ws, ref)
        .then((info) => {
          this.subjects = [...this.subjects.filter((s) => s.ref !== ref), info];
          this.damage.show(this.view);
          this.record.show();
          this.drawObjectSubjects();
        })
        .catch(() => this.o.toast(t('report.subjectFailed', { subject: ref }), 'error'))
        .finally(() => this.loadingSubjects.delete(ref));
    }
  }

  // ------------------------------------------------------------------ head and banner

  private drawHead(): void {
    const v = this.view;
    const ref = String(v.fields[F.REFERENCE] ?? '');
    const object = v.fields[F.OBJECT] as { identifier?: string; title?: string } | undefined;
    replace(
      this.headEl,
      h('p', { class: 'report-kind' }, label('type', v.type), ref ? ` · ${ref}` : ''),
      h('h1', { id: 'report-title' }, v.title || t('report.untitled')),
      h(
        'p',
        { class: 'report-meta' },
        h('span', { class: `status status-${v.status}` }, label('status', v.status)),
        object?.identifier ? h('span', null, t('report.objectIs', { id: object.identifier, title: object.title ?? '' })) : null,
        v.fields[F.NEXT_CHECK] ? h('span', null, t('report.nextCheckOn', { date: String(v.fields[F.NEXT_CHECK]) })) : null,
      ),
      h(
        'p',
        { class: 'actions report-downloads' },
        h('button', { type: 'button', onclick: (e: Event) => void this.pdf(e.currentTarget as HTMLButtonElement) }, t('report.pdf')),
        this.answer?.signed || v.fields[F.SIGNATURE]
          ? h('a', { class: 'button', href: `/api/reports/${enc(this.o.ws)}/${enc(this.o.id)}/signed`, download: `${this.o.ws}-${this.o.id}.signed.json` }, t('report.signedRecord'))
          : null,
        v.fields[F.PREVIOUS] ? h('button', { type: 'button', onclick: () => void this.compare() }, t('report.compare')) : null,
        canStartFrom(this.o.role) && (v.status === 'approved' || v.status === 'superseded')
          ? h('button', { type: 'button', onclick: (e: Event) => void this.startFrom(e.currentTarget as HTMLButtonElement) }, t('report.startFrom'))
          : null,
      ),
    );
  }

  /** The sections present now (by report type), each its heading's id and text. */
  private sections(): { id: string; label: string }[] {
    const out: { id: string; label: string }[] = [];
    for (const heading of this.node.querySelectorAll<HTMLElement>('.report-main h2[id], .report-side h2[id]')) {
      if (heading.id === 'presence-title' || heading.closest('[hidden]')) continue;
      out.push({ id: heading.id, label: heading.textContent ?? heading.id });
    }
    return out;
  }

  private drawNav(): void {
    const v = this.view;
    const sections = this.sections();
    const next = offers(v, this.o.role, this.o.me.id).find((o) => o.allowed && (o.action === 'approve' || o.action === 'sign' || o.action === 'submit'));
    const key = JSON.stringify([sections, v.status, next?.action ?? null]);
    if (key === this.navKey) return;
    this.navKey = key;
    const jump = (id: string, focus?: () => HTMLElement | null) => (e: Event) => {
      e.preventDefault();
      const heading = document.getElementById(id);
      if (!heading) return;
      heading.scrollIntoView({ block: 'start' });
      // The heading (or the step's button) takes the focus, so reading goes on from there.
      const target = focus?.() ?? heading;
      if (target === heading) heading.setAttribute('tabindex', '-1');
      target.focus({ preventScroll: true });
    };
    replace(
      this.navEl,
      h(
        'div',
        { class: 'nav-bar' },
        h('span', { class: `status status-${v.status}` }, label('status', v.status)),
        next
          ? h(
              'a',
              {
                class: 'button primary nav-step',
                href: '#workflow-title',
                // It leads to the step (with its note), it does not take it.
                'aria-label': t('report.nav.toStep', { action: t(ACTION_LABEL[next.action]) }),
                onclick: jump('workflow-title', () => {
                  const wanted = t(ACTION_LABEL[next.action]);
                  return [...this.workflowEl.querySelectorAll('button')].find((b) => b.textContent === wanted) ?? null;
                }),
              },
              t(ACTION_LABEL[next.action]),
            )
          : null,
      ),
      h(
        'ol',
        { class: 'nav-tabs' },
        sections.map((sec) => h('li', null, h('a', { href: `#${sec.id}`, 'data-section': sec.id, onclick: jump(sec.id) }, sec.label))),
      ),
    );
    // The tab of the section being read is marked as the current one.
    this.navObserver?.disconnect();
    if (typeof IntersectionObserver === 'undefined') return;
    const visible = new Map<string, boolean>();
    this.navObserver = new IntersectionObserver(
      (changes) => {
        for (const c of changes) visible.set((c.target as HTMLElement).dataset.navSection ?? '', c.isIntersecting);
        const current = sections.find((sec) => visible.get(sec.id))?.id;
        if (!current) return;
        for (const a of this.navEl.querySelectorAll<HTMLAnchorElement>('a[data-section]')) {
          const on = a.dataset.section === current;
          if (on) a.setAttribute('aria-current', 'true');
          else a.removeAttribute('aria-current');
          if (on && matchMedia('(max-width: 64rem)').matches) a.scrollIntoView({ block: 'nearest', inline: 'nearest' });
        }
      },
      { rootMargin: '-20% 0px -60% 0px' },
    );
    for (const sec of sections) {
      const box = document.getElementById(sec.id)?.closest('section') as HTMLElement | null;
      if (!box) continue;
      box.dataset.navSection = sec.id;
      this.navObserver.observe(box);
    }
  }

  private drawBanner(): void {
    const lock = lockOf(this.view);
    const v = this.view;
    let message: string | null = null;
    let link: HTMLElement | null = null;
    if (lock.locked && lock.why === 'approved') message = t('report.locked.approved');
    else if (lock.locked && lock.why === 'superseded') {
      message = t('report.locked.superseded');
      const next = v.fields[F.SUPERSEDED_BY];
      if (typeof next === 'string') link = h('a', { href: subjectPath(this.o.ws, 'report', next) }, t('report.openNewVersion'));
    } else if (lock.locked && lock.why === 'signed') message = t('report.locked.signed', { names: lock.by.join(', ') });
    else if (!atLeast(this.o.role, 'editor')) message = t('report.readOnlyRole', { role: t(`role.${this.o.role ?? 'viewer'}` as Key) });
    const supersedes = v.fields[F.SUPERSEDES];
    const older =
      typeof supersedes === 'string'
        ? h('p', { class: 'hint' }, t('report.supersedes'), ' ', h('a', { href: subjectPath(this.o.ws, 'report', supersedes) }, supersedes))
        : null;
    const problems = this.answer?.problems?.length && this.editable() ? this.answer.problems : null;
    this.bannerEl.hidden = !message && !older && !problems;
    replace(
      this.bannerEl,
      message ? h('p', { class: `lock-banner${lock.locked ? ' locked' : ''}` }, h('strong', null, lock.locked ? t('report.lockedTitle') : t('report.readOnlyTitle')), ' ', message, link ? ' ' : null, link) : null,
      older,
      problems
        ? h('div', { class: 'notice' }, h('p', null, t('report.stillMissing')), h('ul', { class: 'problems' }, problems.slice(0, 8).map((p) => h('li', null, `${p.path}: ${p.message}`))))
        : null,
    );
  }

  // ------------------------------------------------------------------ the form

  private buildForm(): void {
    for (const c of this.controls) c.destroy();
    this.controls.length = 0;
    const ctx: FormContext = {
      doc: this.session.doc,
      origin: this.origin,
      editable: () => this.editable(),
      toast: this.o.toast,
      focus: (f) => this.focus(f),
    };
    const field = (spec: FieldSpec) => {
      const c = fieldControl(ctx, spec);
      this.controls.push(c);
      return c.node;
    };
    const person = (key: string, part: string | undefined, label: Key, hint?: Key, needs?: { key: string; part: string; message: Key }) => {
      const c = personFieldControl(ctx, this.people, key, part, label, hint, needs);
      this.controls.push(c);
      return c.node;
    };
    const text = (name: Parameters<typeof textControl>[1], key: Key, hint?: Key) => {
      const c = textControl(ctx, name, key, hint);
      this.controls.push(c);
      return c.node;
    };
    const section = (id: string, title: Key, ...children: (HTMLElement | null)[]) =>
      h('section', { class: 'report-section', 'aria-labelledby': id }, h('h2', { id }, t(title)), h('div', { class: 'grid-fields' }, children));
    const type = this.view.type;
    const num = (part: string, key: Key, min: number, max: number, hint?: Key): FieldSpec => ({
      key: F.ENVIRONMENT,
      part,
      label: key,
      kind: 'number',
      min,
      maxValue: max,
      ...(hint ? { hint } : {}),
    });
    const sections: HTMLElement[] = [
      section(
        'sec-object',
        'report.sec.object',
        field({ key: F.TITLE, label: 'report.f.title' }),
        field({ key: F.REFERENCE, label: 'report.f.reference', max: 200 }),
        field({ key: F.OBJECT, part: OF.IDENTIFIER, label: 'report.f.objectId', max: 200, hint: 'report.f.objectIdHint' }),
        field({ key: F.OBJECT, part: OF.TITLE, label: 'report.f.objectTitle', needs: needsObject }),
        field({ key: F.OBJECT, part: OF.MAKER, label: 'report.f.maker', needs: needsObject }),
        field({ key: F.OBJECT, part: OF.DATE, label: 'report.f.objectDate', max: 100, needs: needsObject }),
        field({ key: F.OBJECT, part: OF.MATERIALS, label: 'report.f.materials', max: 1000, needs: needsObject }),
        field({ key: F.OBJECT, part: OF.DIMENSIONS, label: 'report.f.dimensions', needs: needsObject }),
        h('div', { class: 'field wide object-subjects' }),
      ),
      section(
        'sec-check',
        type === 'treatment' ? 'report.sec.treatmentRecord' : 'report.sec.check',
        field({ key: F.DATE, label: 'report.f.date', kind: 'date' }),
        field({ key: F.METHOD, label: 'report.f.method', vocabulary: 'method', optional: true }),
        field({ key: F.REASON, label: 'report.f.reason', vocabulary: 'reason' }),
        person(F.CHECKER, undefined, 'report.f.checker', 'report.f.checkerHint'),
        person(F.RECORDER, undefined, 'report.f.recorder', 'report.f.recorderHint'),
        type === 'treatment' ? field({ key: F.TREATMENT_PURPOSE, label: 'report.f.purpose', kind: 'textarea' }) : null,
        type === 'treatment' ? field({ key: F.CONSERVATORS, label: 'report.f.conservators', kind: 'list', hint: 'report.f.conservatorsHint', people: this.people }) : null,
      ),
    ];
    if (type === 'loan')
      sections.push(
        section(
          'sec-loan',
          'report.sec.loan',
          field({ key: F.LOAN, part: LF.HANDOVER, label: 'report.f.handover', vocabulary: 'handover', optional: true, hint: 'report.f.handoverHint' }),
          field({ key: F.LOAN, part: LF.NUMBER, label: 'report.f.loanNumber', max: 200, needs: needsHandover }),
          field({ key: F.LOAN, part: LF.LENDER, label: 'report.f.lender', needs: needsHandover }),
          field({ key: F.LOAN, part: LF.BORROWER, label: 'report.f.borrower', needs: needsHandover }),
          field({ key: F.LOAN, part: LF.VENUE, label: 'report.f.venue', needs: needsHandover }),
          person(F.LOAN, LF.COURIER, 'report.f.courier', 'report.f.courierHint', needsHandover),
          person(F.LOAN, LF.REGISTRAR, 'report.f.registrar', undefined, needsHandover),
        ),
      );
    sections.push(
      section(
        'sec-condition',
        'report.sec.condition',
        field({ key: F.CONDITION, label: 'report.f.condition', vocabulary: 'condition', optional: true, hint: 'report.f.conditionHint' }),
        field({ key: F.COMPLETENESS, label: 'report.f.completeness', vocabulary: 'completeness', optional: true }),
        field({ key: F.PRIORITY, label: 'report.f.priority', vocabulary: 'priority', optional: true }),
        field({ key: F.NEXT_CHECK, label: 'report.f.nextCheck', kind: 'date' }),
        field({ key: F.HAZARDS, label: 'report.f.hazards', kind: 'list', hint: 'report.f.listHint' }),
      ),
      section(
        'sec-environment',
        'report.sec.environment',
        field(num(EF.TEMPERATURE, 'report.f.temperature', -50, 80)),
        field(num(EF.HUMIDITY, 'report.f.humidity', 0, 100)),
        field(num(EF.LIGHT, 'report.f.light', 0, 200000)),
        field(num(EF.UV, 'report.f.uv', 0, 100000)),
        field({ key: F.ENVIRONMENT, part: EF.NOTES, label: 'report.f.environmentNotes', max: 2000 }),
      ),
      h(
        'section',
        { class: 'report-section report-texts', 'aria-labelledby': 'sec-texts' },
        h('h2', { id: 'sec-texts' }, t('report.sec.texts')),
        text('summary', 'report.t.summary', 'report.t.together'),
        type === 'treatment' ? text('proposal', 'report.t.proposal', 'report.t.proposalHint') : null,
        type === 'treatment' ? text('treatment', 'report.t.treatment') : null,
        text('assessment', 'report.t.assessment'),
        text('recommendations', 'report.t.recommendations'),
      ),
    );
    if (type !== 'treatment') {
      const requirements = h(
        'details',
        { class: 'report-section requirements' },
        h('summary', null, h('h2', { class: 'inline' }, t('report.sec.requirements'))),
        h(
          'div',
          { class: 'grid-fields' },
          REQUIREMENT_FIELDS.map((part) => field({ key: F.REQUIREMENTS, part, label: `report.req.${part}` as Key, kind: 'textarea' })),
        ),
      );
      sections.push(requirements);
    }
    replace(this.formEl, sections);
    this.drawObjectSubjects();
  }

  /** The object's images (canvases of the workspace): shown beside the damage list. */
  private drawObjectSubjects(): void {
    const slot = this.formEl.querySelector('.object-subjects');
    if (!slot) return;
    const object = (this.view.fields[F.OBJECT] ?? {}) as { identifier?: string; subjects?: string[] };
    const refs = Array.isArray(object.subjects) ? object.subjects : [];
    const editable = this.editable();
    const id = uid('add-subject');
    const select = h('select', { id }, h('option', { value: '' }, t('report.f.chooseImage')));
    const write = (next: string[]) => {
      if (!object.identifier) return this.o.toast(t('report.f.objectFirst'), 'error');
      setPart(this.session.doc, F.OBJECT, OF.SUBJECTS, next, this.origin);
    };
    replace(
      slot,
      h('span', { class: 'label' }, t('report.f.images')),
      refs.length
        ? h(
            'ul',
            { class: 'chips' },
            refs.map((r) => {
              const info = this.subjects.find((s) => s.ref === r);
              const [kind, sid] = r.split('/') as [string, string];
              return h(
                'li',
                { class: 'chip' },
                h('a', { href: subjectPath(this.o.ws, kind, sid) }, info?.label ?? r),
                editable
                  ? h('button', { type: 'button', class: 'chip-remove', 'aria-label': t('report.f.removeImage', { image: info?.label ?? r }), onclick: () => write(refs.filter((x) => x !== r)) }, '×')
                  : null,
              );
            }),
          )
        : h('p', { class: 'hint' }, t('report.f.noImages')),
      editable
        ? h(
            'div',
            { class: 'inline-form' },
            h('label', { for: id, class: 'visually-hidden' }, t('report.f.addImage')),
            select,
            h('button', { type: 'button', onclick: () => select.value && write([...refs, select.value]) }, t('report.f.addImage')),
          )
        : null,
    );
    if (editable)
      void get<{ subjects: { kind: string; id: string; label: string }[] }>(`/api/workspaces/${enc(this.o.ws)}/subjects?limit=200`)
        .then((page) => {
          for (const s of page.subjects) {
            const ref = `${s.kind}/${s.id}`;
            if ((s.kind === 'canvas' || s.kind === 'model') && !refs.includes(ref)) select.append(h('option', { value: ref }, s.kind === 'model' ? t('report.f.model', { label: s.label || s.id }) : s.label || s.id));
          }
        })
        .catch(() => undefined);
  }

  // ------------------------------------------------------------------ presence

  private focus(field: string | null): void {
    this.session.provider.awareness.setLocalStateField('field', field);
  }

  private presence(): void {
    const awareness = this.session.provider.awareness;
    awareness.setLocalState({ ...localPresence(this.o.me), field: null });
    const read = () => {
      this.peers = peersOf(awareness.getStates() as Map<number, unknown>, awareness.clientID);
      this.myColor = ownColor(awareness.getStates() as Map<number, unknown>, awareness.clientID, this.o.me.id);
      this.drawPresence();
    };
    awareness.on('change', read);
    // Those already here were announced while the document synced, before we listened.
    read();
  }

  /** Each peer's field (`summary`, `object.title`, `damage.<id>`), read defensively. */
  private fieldsOfPeers(): Map<string, { name: string; color: string }[]> {
    const out = new Map<string, { name: string; color: string }[]>();
    const states = this.session.provider.awareness.getStates();
    for (const p of people(this.peers)) {
      const state = states.get(p.clientId) as { field?: unknown } | undefined;
      const field = typeof state?.field === 'string' ? state.field.slice(0, 200) : null;
      const entry = { name: p.name || t('presence.anonymous'), color: p.color };
      if (field) out.set(field, [...(out.get(field) ?? []), entry]);
      for (const id of p.selection) if (!field?.startsWith('damage.')) out.set(`damage.${id}`, [...(out.get(`damage.${id}`) ?? []), entry]);
    }
    return out;
  }

  private drawPresence(): void {
    const present = people(this.peers);
    const fields = this.fieldsOfPeers();
    const where = (p: Peer): string | null => {
      for (const [field, names] of fields) if (names.some((n) => n.name === (p.name || t('presence.anonymous')))) return field;
      return null;
    };
    const fieldLabel = (field: string): string => {
      if (field.startsWith('damage.')) {
        const d = this.view.damage.find((x) => `damage.${x.id}` === field);
        return d ? termLabel(this.o.terms, d.term) : t('report.damage.title');
      }
      const el = this.formEl.querySelector(`[data-field="${CSS.escape(field)}"] label`);
      return el?.firstChild?.textContent ?? field;
    };
    replace(
      this.presenceEl,
      ...presenceList(this.o.me, this.myColor || colorFor(this.o.me.id), present, (p) => {
        const field = where(p);
        return field ? h('span', { class: 'where' }, t('report.presence.in', { field: fieldLabel(field) })) : null;
      }),
    );
    for (const c of this.controls) c.others(fields.get(c.name) ?? []);
    const damage = new Map<string, { name: string; color: string }[]>();
    for (const [field, names] of fields) if (field.startsWith('damage.')) damage.set(field.slice(7), names);
    this.damage.setOthers(damage);
  }

  // ------------------------------------------------------------------ workflow and review

  private drawWorkflow(): void {
    const v = this.view;
    // Editors see the lead's steps too (greyed, saying who takes them); viewers only read.
    const open = offers(v, this.o.role, this.o.me.id).filter((o) => o.allowed || atLeast(this.o.role, 'editor'));
    const noteId = uid('workflow-note');
    const note = h('textarea', { id: noteId, rows: 3, maxlength: REPORT_LIMITS.WORKFLOW_NOTE });
    const missing = signaturesMissing(v);
    const steps = v.approvals;
    const focusedNote = document.activeElement instanceof HTMLTextAreaElement && this.workflowEl.contains(document.activeElement);
    if (focusedNote) return; // a note being written is not swept away by a colleague's edit
    replace(
      this.workflowEl,
      h('h2', { id: 'workflow-title' }, t('report.review')),
      h('p', { class: 'status-line' }, t('report.statusIs'), ' ', h('strong', null, label('status', v.status))),
      v.type === 'loan' && v.status === 'in-review' ? h('p', { class: 'hint' }, tn('report.signaturesMissing', missing)) : null,
      open.length
        ? h(
            'div',
            { class: 'workflow-actions' },
            h('label', { for: noteId }, t('report.note')),
            note,
            h('p', { class: 'hint' }, t('report.noteHint')),
            h(
              'div',
              { class: 'actions' },
              open.map((offer) =>
                h(
                  'button',
                  {
                    type: 'button',
                    class: offer.action === 'approve' || offer.action === 'sign' || offer.action === 'submit' ? 'primary' : '',
                    disabled: !offer.allowed || this.busy,
                    'aria-describedby': offer.allowed ? null : `${noteId}-why-${offer.action}`,
                    onclick: () => void this.act(offer.action, note),
                  },
                  t(ACTION_LABEL[offer.action]),
                ),
              ),
            ),
            open
              .filter((offer) => !offer.allowed)
              .map((offer) =>
                h(
                  'p',
                  { class: 'hint', id: `${noteId}-why-${offer.action}` },
                  offer.why === 'signed-already'
                    ? t('report.why.signedAlready')
                    : t('report.why.role', { action: t(ACTION_LABEL[offer.action]), role: t(`role.${offer.role}` as Key) }),
                ),
              ),
          )
        : h('p', { class: 'hint' }, v.status === 'superseded' ? t('report.noSteps.superseded') : t('report.noSteps')),
      this.workflowMessage,
      h('h3', null, t('report.history')),
      steps.length
        ? h(
            'ol',
            { class: 'review-steps' },
            steps.map((a) =>
              h(
                'li',
                { class: `review-step step-${a.action}` },
                h('p', { class: 'step-line' }, h('strong', null, STEP_LABEL[a.action] ? t(STEP_LABEL[a.action]!) : a.action), ' · ', a.agent.name || a.agent.id || '?', a.role ? ` (${t(`role.${a.role}` as Key)})` : ''),
                h('p', { class: 'meta' }, a.at ? formatTime(a.at) : ''),
                a.note ? h('blockquote', { class: 'step-note' }, a.note) : null,
              ),
            ),
          )
        : h('p', { class: 'hint' }, t('report.noHistory')),
    );
  }

  private say(message: string | null, kind: 'error' | 'ok' = 'error', problems: string[] = []): void {
    replace(
      this.workflowMessage,
      message ? h('div', { class: kind === 'error' ? 'notice notice-error' : 'notice' }, h('p', null, message), problems.length ? h('ul', null, problems.map((p) => h('li', null, p))) : null) : null,
    );
  }

  private async act(action: Action, noteEl: HTMLTextAreaElement): Promise<void> {
    const note = noteEl.value.trim();
    if (action === 'return' && !note) {
      this.say(t('report.returnNeedsNote'));
      noteEl.focus();
      return;
    }
    this.busy = true;
    this.say(t('report.working'), 'ok');
    try {
      const done = await post<Answer>(`/api/reports/${enc(this.o.ws)}/${enc(this.o.id)}/workflow`, { action, note });
      this.answer = done;
      this.busy = false;
      this.o.toast(t(`report.done.${action}` as Key));
      this.say(null);
      this.drawWorkflow();
      if (done.new_version) this.o.navigate(subjectPath(this.o.ws, 'report', done.new_version.id));
    } catch (error) {
      this.busy = false;
      this.drawWorkflow();
      if (!(error instanceof ApiError)) throw error;
      const e = error;
      const missing = /fill in before submitting: (.*)$/.exec(e.detail ?? '');
      if (missing) {
        const names = missing[1]!.split(', ').map((n) => (FIELD_NAMES[n] ? t(FIELD_NAMES[n]!) : n));
        this.say(t('report.fillIn', { fields: names.join(', ') }));
      } else this.say(e instanceof ApiError && e.status === 0 ? t('error.network.title') : t('report.refused', { detail: e.detail || String(e.status) }), 'error', (e.problems ?? []).map((p) => `${p.path ?? ''} ${p.message}`));
    }
  }

  // ------------------------------------------------------------------ outputs, comparison

  private async pdf(button: HTMLButtonElement): Promise<void> {
    const text = button.textContent;
    button.disabled = true;
    button.textContent = t('report.pdfPreparing');
    try {
      const response = await fetch(`/api/reports/${enc(this.o.ws)}/${enc(this.o.id)}`, { headers: { Accept: 'application/pdf' }, credentials: 'same-origin' });
      if (!response.ok) {
        let detail = String(response.status);
        try {
          detail = ((await response.json()) as { detail?: string }).detail ?? detail;
        } catch {
          // not JSON
        }
        this.o.toast(t('report.pdfFailed', { detail }), 'error');
        return;
      }
      const url = URL.createObjectURL(await response.blob());
      const a = h('a', { href: url, download: `${this.o.ws}-${this.o.id}.pdf`, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch {
      this.o.toast(t('error.network.title'), 'error');
    } finally {
      button.disabled = false;
      button.textContent = text;
    }
  }

  private async startFrom(button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    try {
      const today = new Date().toISOString().slice(0, 10);
      const made = await post<{ id: string }>(`/api/reports/${enc(this.o.ws)}`, {
        from: this.o.id,
        title: this.view.title ? t('report.nextTitle', { title: this.view.title }) : '',
        date: today,
      });
      this.o.toast(t('report.started'));
      this.o.navigate(subjectPath(this.o.ws, 'report', made.id));
    } catch (error) {
      button.disabled = false;
      this.o.toast(t('report.refused', { detail: (error as ApiError).detail || '' }), 'error');
    }
  }

  private async compare(): Promise<void> {
    this.compareEl.hidden = false;
    replace(this.compareEl, h('h2', { id: 'compare-title' }, t('report.compare.title')), h('p', { class: 'hint' }, t('report.compare.loading')));
    this.compareEl.scrollIntoView({ block: 'start' });
    type Entry = { change: 'new' | 'changed' | 'unchanged' | 'resolved'; term: string; fields: string[]; was?: Record<string, unknown> | null; now?: Record<string, unknown> | null };
    try {
      const c = await request<{ earlier: string; condition: [string | null, string | null]; entries: Entry[]; counts: Record<string, number> }>(
        'GET',
        `/api/reports/${enc(this.o.ws)}/${enc(this.o.id)}/comparison`,
      );
      const show = (field: string, value: unknown): string => {
        if (value === null || value === undefined || value === '') return '—';
        if (field === 'severity') return label('severity', String(value));
        if (field === 'activity') return label('activity', String(value));
        if (field === 'term') return termLabel(this.o.terms, String(value));
        if (field === 'extent' && typeof value === 'object') {
          const e = value as { value: number; unit: string };
          return `${e.value} ${label('extent-unit', e.unit)}`;
        }
        return String(value);
      };
      replace(
        this.compareEl,
        h('h2', { id: 'compare-title' }, t('report.compare.title')),
        h(
          'p',
          null,
          t('report.compare.with'),
          ' ',
          h('a', { href: subjectPath(this.o.ws, 'report', c.earlier) }, c.earlier),
          ' · ',
          t('report.compare.condition', { was: c.condition[0] ? label('condition', c.condition[0]) : '—', now: c.condition[1] ? label('condition', c.condition[1]) : '—' }),
        ),
        h(
          'p',
          { class: 'compare-counts' },
          (['new', 'changed', 'unchanged', 'resolved'] as const).map((k) => h('span', { class: `change change-${k}` }, tn(`report.compare.${k}`, c.counts[k] ?? 0))),
        ),
        h(
          'table',
          { class: 'compare-table' },
          h('caption', { class: 'visually-hidden' }, t('report.compare.title')),
          h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('report.compare.change')), h('th', { scope: 'col' }, t('report.damage.term')), h('th', { scope: 'col' }, t('report.compare.what')))),
          h(
            'tbody',
            null,
            c.entries.map((e) =>
              h(
                'tr',
                null,
                h('td', null, h('span', { class: `change change-${e.change}` }, t(`report.compare.is.${e.change}` as Key))),
                h('td', null, termLabel(this.o.terms, e.term)),
                h(
                  'td',
                  null,
                  e.change === 'changed'
                    ? h('ul', { class: 'changes' }, e.fields.map((f) => h('li', null, `${t(`report.damage.${f}` as Key)}: ${show(f, e.was?.[f])} → ${show(f, e.now?.[f])}`)))
                    : e.change === 'resolved'
                      ? t('report.compare.resolvedHint')
                      : e.change === 'new'
                        ? t('report.compare.newHint')
                        : '',
                ),
              ),
            ),
          ),
        ),
      );
    } catch (error) {
      replace(this.compareEl, h('h2', { id: 'compare-title' }, t('report.compare.title')), h('p', { class: 'notice notice-error' }, t('report.refused', { detail: (error as ApiError).detail || '' })));
    }
  }

  destroy(): void {
    this.navObserver?.disconnect();
    this.stopNames();
    if (this.answerTimer) clearTimeout(this.answerTimer);
    this.session.doc.off('update', this.observer);
    for (const c of this.controls) c.destroy();
  }
}
