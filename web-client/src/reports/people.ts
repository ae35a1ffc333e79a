// Who observed, who recorded, who did a treatment step: a workspace member picked from the
// list (stored by their pseudonymous agent id, `urn:sinopia:user:<user id>` as an
// annotation's creator, with the name as it was then), or a person from outside typed by
// name (a courier from another institution), stored by name only. A member is shown by the
// name the directory gives now (a renamed colleague shows the new name); the reports'
// PDF and JSON-LD print the stored name.

import { enc, get } from '../api/http';
import type { Agent } from '../binding/document';
import { setField, setPart, type ReportView } from '../binding/report';
import { t, type Key } from '../i18n';
import { h, uid } from '../ui/dom';
import type { Control, FormContext } from './fields';

export const AGENT_PREFIX = 'urn:sinopia:user:';

export interface Member {
  /** The agent id stored in the report: urn:sinopia:user:<user id>. */
  id: string;
  name: string;
}

export interface PersonOptions {
  members: () => Member[];
}

/** The workspace's members as people to pick (an empty list when they cannot be read). */
export const loadMembers = async (ws: string): Promise<Member[]> => {
  const answer = await get<{ members: { user: string; user_id: string; display_name?: string | null }[] }>(`/api/workspaces/${enc(ws)}/members`);
  return answer.members.map((m) => ({ id: `${AGENT_PREFIX}${m.user_id}`, name: m.display_name || m.user }));
};

/** The name to show for a stored person: a member's current name, else the stored one. */
export const shownName = (people: PersonOptions, agent: Agent | undefined): string => {
  if (!agent) return '';
  const member = agent.id ? people.members().find((m) => m.id === agent.id) : undefined;
  return member?.name ?? agent.name ?? '';
};

/** What a typed or picked name is stored as: the member of that name, else a person
 * named so (`before` kept when the name is still theirs). */
export const personOf = (people: PersonOptions, text: string, before?: Agent): Agent | undefined => {
  const name = text.trim();
  if (!name) return undefined;
  if (before && shownName(people, before) === name) return before;
  const member = people.members().find((m) => m.name.toLowerCase() === name.toLowerCase());
  if (member) return { type: 'Person', id: member.id, name: member.name };
  return { type: 'Person', name };
};

export interface PersonSpec {
  label: Key;
  hint?: Key;
  value: Agent | undefined;
  editable: boolean;
  write: (agent: Agent | undefined) => void;
  focus?: (on: boolean) => void;
}

let lists = 0;

/** A text field with the members as suggestions, and a mark saying which kind of person
 * it holds (member, or from outside). */
export const personControl = (people: PersonOptions, spec: PersonSpec): { node: HTMLElement; input: HTMLInputElement; show: (value: Agent | undefined, editable: boolean) => void } => {
  const id = uid('person');
  const listId = `people-${++lists}`;
  const input = h('input', { id, list: listId, maxlength: 200, autocomplete: 'off' });
  const datalist = h('datalist', { id: listId });
  const kind = h('span', { class: 'person-kind', id: `${id}-kind` });
  const hint = spec.hint ? h('span', { class: 'hint', id: `${id}-hint` }, t(spec.hint)) : null;
  input.setAttribute('aria-describedby', [`${id}-kind`, hint ? `${id}-hint` : ''].filter(Boolean).join(' '));
  let value = spec.value;
  const fillList = () => datalist.replaceChildren(...people.members().map((m) => h('option', { value: m.name })));
  const showKind = (agent: Agent | undefined) => {
    const member = agent?.id?.startsWith(AGENT_PREFIX) && people.members().some((m) => m.id === agent.id);
    kind.textContent = !agent ? '' : member ? t('report.person.member') : t('report.person.outside');
    kind.className = `person-kind ${member ? 'is-member' : agent ? 'is-outside' : ''}`;
  };
  const show = (next: Agent | undefined, editable: boolean) => {
    value = next;
    input.readOnly = !editable;
    fillList();
    showKind(next);
    if (document.activeElement !== input) input.value = shownName(people, next);
  };
  input.addEventListener('focus', () => {
    fillList();
    spec.focus?.(true);
  });
  input.addEventListener('blur', () => spec.focus?.(false));
  input.addEventListener('change', () => {
    if (input.readOnly) return;
    const next = personOf(people, input.value, value);
    showKind(next);
    if (JSON.stringify(next) !== JSON.stringify(value)) spec.write(next);
  });
  show(spec.value, spec.editable);
  return {
    node: h('div', { class: 'field person-field' }, h('label', { for: id }, t(spec.label)), input, datalist, kind, hint),
    input,
    show,
  };
};

/** A report field holding a person (checker, recorder, the loan's courier or registrar)
 * as a form control. */
export const personFieldControl = (ctx: FormContext, people: PersonOptions, key: string, part: string | undefined, text: Key, hint?: Key, needs?: { key: string; part: string; message: Key }): Control => {
  const name = part ? `${key}.${part}` : key;
  const read = (v: ReportView): Agent | undefined => {
    const raw = part ? (v.fields[key] as Record<string, unknown> | undefined)?.[part] : v.fields[key];
    return raw && typeof raw === 'object' ? (raw as Agent) : undefined;
  };
  let view: ReportView | null = null;
  const error = h('span', { class: 'field-error', role: 'alert' });
  const control = personControl(people, {
    label: text,
    ...(hint ? { hint } : {}),
    value: undefined,
    editable: ctx.editable(),
    focus: (on) => ctx.focus(on ? name : null),
    write: (agent) => {
      error.textContent = '';
      if (!view || !ctx.editable()) return;
      if (needs && agent && !String((view.fields[needs.key] as Record<string, unknown> | undefined)?.[needs.part] ?? '').trim()) {
        error.textContent = t(needs.message);
        return;
      }
      if (part) setPart(ctx.doc, key, part, agent, ctx.origin);
      else setField(ctx.doc, key, agent, ctx.origin);
    },
  });
  control.node.dataset.field = name;
  const marks = h('span', { class: 'editing-marks', 'aria-live': 'polite' });
  control.node.querySelector('label')?.append(marks);
  control.node.append(error);
  return {
    name,
    node: control.node,
    show(v) {
      view = v;
      control.show(read(v), ctx.editable());
    },
    others(names) {
      marks.replaceChildren(
        ...names.map((p) => {
          const chip = h('span', { class: 'editing-mark' }, p.name);
          chip.style.borderColor = p.color;
          return chip;
        }),
      );
    },
    destroy: () => undefined,
  };
};
