// A workspace's reports: by status, the checks that are due (next check date), and a form
// to start one (type, title, the object's image).

import { ApiError, enc, get, post } from '../api/http';
import type { SubjectsPage } from '../api/types';
import type { AppContext } from '../app/context';
import { subjectPath } from '../app/routes';
import { t } from '../i18n';
import { label, valuesOf } from '../reports/labels';
import { atLeast } from '../roles/rules';
import { h, replace, uid } from '../ui/dom';
import '../reports/reports.css';

interface ReportItem {
  id: string;
  type: string;
  title: string;
  status: string;
  date: string | null;
  object: string | null;
  condition: string | null;
  next_check: string | null;
}

// Checks due within this many days are listed as coming up (a month's planning).
const DUE_SOON_DAYS = 30;

const today = (): string => new Date().toISOString().slice(0, 10);
const inDays = (days: number): string => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

export const reportsPanel = (ctx: AppContext, ws: string, role: string | null) => {
  const lists = h('div', { class: 'report-lists', 'aria-live': 'polite' }, h('p', { class: 'hint' }, t('report.ws.loading')));
  const due = h('div', { class: 'reports-due' });
  const canCreate = atLeast(role, 'editor');

  const item = (r: ReportItem) =>
    h(
      'li',
      { class: 'report-item' },
      h('a', { href: subjectPath(ws, 'report', r.id) }, r.title || r.id),
      h(
        'span',
        { class: 'report-item-meta' },
        [label('type', r.type), r.object, r.date, r.condition ? label('condition', r.condition) : null].filter(Boolean).join(' · '),
      ),
    );

  const load = async () => {
    try {
      const { reports } = await get<{ reports: ReportItem[] }>(`/api/reports/${enc(ws)}`);
      const soon = inDays(DUE_SOON_DAYS);
      const now = today();
      // The newest report of each object is what says when it is next due.
      const current = reports.filter((r) => r.status !== 'superseded' && r.next_check);
      const dueNow = current.filter((r) => r.next_check! <= soon).sort((a, b) => a.next_check!.localeCompare(b.next_check!));
      replace(
        due,
        h('h3', { id: 'due-title' }, t('report.ws.due')),
        dueNow.length
          ? h(
              'ul',
              { class: 'report-items', 'aria-labelledby': 'due-title' },
              dueNow.map((r) =>
                h(
                  'li',
                  { class: `report-item${r.next_check! < now ? ' overdue' : ''}` },
                  h('a', { href: subjectPath(ws, 'report', r.id) }, r.title || r.id),
                  h(
                    'span',
                    { class: 'report-item-meta' },
                    r.next_check! < now ? t('report.ws.overdue', { date: r.next_check! }) : t('report.ws.dueOn', { date: r.next_check! }),
                    r.object ? ` · ${r.object}` : '',
                  ),
                ),
              ),
            )
          : h('p', { class: 'hint' }, t('report.ws.noneDue', { days: DUE_SOON_DAYS })),
      );
      if (!reports.length) {
        replace(lists, h('p', { class: 'hint' }, canCreate ? t('report.ws.noneYet') : t('report.ws.noneYetViewer')));
        return;
      }
      replace(
        lists,
        valuesOf('status')
          .map((status) => ({ status, items: reports.filter((r) => r.status === status) }))
          .filter((g) => g.items.length)
          .map((g) =>
            h(
              'section',
              { class: `report-group status-group-${g.status}`, 'aria-labelledby': `reports-${g.status}` },
              h('h3', { id: `reports-${g.status}` }, label('status', g.status), ' ', h('span', { class: 'count' }, `(${g.items.length})`)),
              h('ul', { class: 'report-items' }, g.items.map(item)),
            ),
          ),
      );
    } catch (error) {
      replace(lists, h('p', { class: 'notice notice-error' }, t('report.ws.failed', { detail: (error as ApiError).detail ?? '' })));
    }
  };

  const form = () => {
    const typeId = uid('type');
    const titleId = uid('title');
    const subjectId = uid('subject');
    const objectId = uid('object');
    const message = h('p', { class: 'form-message', role: 'alert' });
    const type = h('select', { id: typeId }, valuesOf('type').map((v) => h('option', { value: v }, label('type', v))));
    const title = h('input', { id: titleId, required: true, maxlength: 500, autocomplete: 'off' });
    const object = h('input', { id: objectId, maxlength: 200, autocomplete: 'off', 'aria-describedby': `${objectId}-hint` });
    const subject = h('select', { id: subjectId }, h('option', { value: '' }, t('report.ws.new.noImage')));
    void get<SubjectsPage>(`/api/workspaces/${enc(ws)}/subjects?limit=200`)
      .then((page) => {
        for (const s of page.subjects) if (s.kind === 'canvas') subject.append(h('option', { value: `${s.kind}/${s.id}` }, s.label || s.id));
      })
      .catch(() => undefined);
    const button = h('button', { type: 'submit', class: 'primary' }, t('report.ws.new.create'));
    const submit = async (e: Event) => {
      e.preventDefault();
      message.textContent = '';
      if (!title.value.trim()) {
        message.textContent = t('report.ws.new.needsTitle');
        title.focus();
        return;
      }
      if (subject.value && !object.value.trim()) {
        message.textContent = t('report.ws.new.needsObject');
        object.focus();
        return;
      }
      const body: Record<string, unknown> = { type: type.value, title: title.value.trim(), date: today() };
      if (object.value.trim()) body.object = { identifier: object.value.trim(), ...(subject.value ? { subjects: [subject.value] } : {}) };
      button.disabled = true;
      button.textContent = t('report.ws.new.creating');
      try {
        const made = await post<{ id: string }>(`/api/reports/${enc(ws)}`, body);
        ctx.navigate(subjectPath(ws, 'report', made.id));
      } catch (error) {
        const e2 = error as ApiError;
        message.textContent = t('report.ws.failed', { detail: [e2.detail, ...(e2.problems ?? []).map((p) => `${p.path ?? ''} ${p.message}`)].filter(Boolean).join('; ') });
        button.disabled = false;
        button.textContent = t('report.ws.new.create');
      }
    };
    return h(
      'form',
      { class: 'form compact report-new', onsubmit: (e: Event) => void submit(e), 'aria-labelledby': 'new-report-title', novalidate: true },
      h('h3', { id: 'new-report-title' }, t('report.ws.new.title')),
      h('div', { class: 'field' }, h('label', { for: typeId }, t('report.ws.new.type')), type),
      h('div', { class: 'field' }, h('label', { for: titleId }, t('report.ws.new.reportTitle')), title),
      h(
        'div',
        { class: 'field' },
        h('label', { for: objectId }, t('report.ws.new.object')),
        object,
        h('span', { class: 'hint', id: `${objectId}-hint` }, t('report.ws.new.objectHint')),
      ),
      h('div', { class: 'field' }, h('label', { for: subjectId }, t('report.ws.new.image')), subject),
      message,
      button,
    );
  };

  void load();
  const node = h(
    'section',
    { class: 'reports panel', 'aria-labelledby': 'reports-title' },
    h('h2', { id: 'reports-title' }, t('report.ws.title')),
    h('div', { class: 'reports-layout' }, h('div', { class: 'reports-main' }, due, lists), canCreate ? form() : null),
  );
  return { node, reload: () => void load() };
};
