// The workflow as the page offers it: the server's one table (annotations/workflow.py,
// exported into the generated schema) read for this report's state and type, and what
// this person's role lets them do. The server decides; the page offers only what it will
// accept and says why a step is not for this person.

import { type ApprovalView, lockOf, signedSinceSubmit, type ReportView } from '../binding/report';
import { HANDOVER_SIGNATURES, WORKFLOW } from '../generated/schema';
import { atLeast, type Role } from '../roles/rules';

export type Action = (typeof WORKFLOW)[number]['action'];

export interface Offer {
  action: Action;
  /** The least role the table asks for. */
  role: Role;
  /** Whether this person may take the step now; `why` says why not. */
  allowed: boolean;
  why?: 'role' | 'signed-already';
  /** The step needs a note (return: what to change). */
  needsNote: boolean;
}

const phase = (approvals: ApprovalView[]) =>
  approvals.some((a) => a.action === 'approved-proposal') ? 'proposal-approved' : 'proposal-pending';

/** The steps the table has for the report as it is, for a person with `role` whose agent
 * id (or name) is `me`. */
export const offers = (view: ReportView, role: string | null | undefined, me: string): Offer[] => {
  const now = phase(view.approvals);
  const out: Offer[] = [];
  for (const row of WORKFLOW) {
    if (row.state !== view.status || !(row.types as readonly string[]).includes(view.type)) continue;
    if (row.when !== 'always' && row.when !== now) continue;
    if (out.some((o) => o.action === row.action)) continue;
    const offer: Offer = { action: row.action, role: row.role as Role, allowed: atLeast(role, row.role as Role), needsNote: row.action === 'return' };
    if (!offer.allowed) offer.why = 'role';
    else if (row.action === 'sign' && signedSinceSubmit(view.approvals).some((a) => a.agent.id === me || a.agent.name === me)) {
      offer.allowed = false;
      offer.why = 'signed-already';
    }
    out.push(offer);
  }
  return out;
};

/** How many more signatures a handover needs before it is approved. */
export const signaturesMissing = (view: ReportView): number =>
  Math.max(0, HANDOVER_SIGNATURES - signedSinceSubmit(view.approvals).length);

/** Whether this person may change the report's fields, texts and damage entries now. */
export const canWrite = (view: ReportView, role: string | null | undefined): boolean =>
  atLeast(role, 'editor') && !lockOf(view).locked;

/** Whether this person may start a new check from this report (a new draft). */
export const canStartFrom = (role: string | null | undefined): boolean => atLeast(role, 'editor');
