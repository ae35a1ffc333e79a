"""The workflow of reports: one table of states, actions and roles, and the one function
that applies it.

    state         action      least role  report types   next state
    draft         submit      editor      all            in-review
    in-treatment  submit      editor      treatment      in-review
    in-review     return      lead        all            draft (a treatment whose proposal
                                                         was approved: in-treatment)
    in-review     approve     lead        treatment      in-treatment (the proposal: work
                  (proposal not yet approved)            may start)
    in-review     approve     lead        condition,     approved (signed and locked)
                                          treatment
    in-review     sign        editor      loan           in-review; approved (signed and
                                                         locked) once two different
                                                         members have signed
    approved      supersede   editor      all            superseded, and a new draft
                                                         version that links back

`return` needs a note (what to change). A lead approves; an editor's `approve` is refused
(403). A handover report is signed by both parties, the registrar and the courier: two
different members, each with `sign`. Nothing else changes a report's status or approvals.
Roles rank viewer < commenter < editor < lead < owner; the caller says whether the actor
has at least a role (`has_role`), so this module needs no directory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from .models import Agent
from .reports import Approval, Report

Action = Literal["submit", "return", "approve", "sign", "supersede"]
ACTIONS: tuple[Action, ...] = ("submit", "return", "approve", "sign", "supersede")
ALL_TYPES = frozenset({"condition", "loan", "treatment"})
# A handover is approved once this many different members have signed it.
HANDOVER_SIGNATURES = 2


@dataclass(frozen=True)
class Rule:
    state: str
    action: Action
    role: str  # the least role
    types: frozenset[str]
    target: str
    # Which row applies when one state and action have two (a treatment's proposal).
    when: Literal["always", "proposal-pending", "proposal-approved"] = "always"
    records: str = ""  # the approval entry's action


TABLE: tuple[Rule, ...] = (
    Rule("draft", "submit", "editor", ALL_TYPES, "in-review", records="submitted"),
    Rule("in-treatment", "submit", "editor", frozenset({"treatment"}), "in-review",
         records="submitted"),
    Rule("in-review", "return", "lead", ALL_TYPES, "draft", "proposal-pending",
         records="returned"),
    Rule("in-review", "return", "lead", frozenset({"treatment"}), "in-treatment",
         "proposal-approved", records="returned"),
    Rule("in-review", "approve", "lead", frozenset({"treatment"}), "in-treatment",
         "proposal-pending", records="approved-proposal"),
    Rule("in-review", "approve", "lead", frozenset({"treatment"}), "approved",
         "proposal-approved", records="approved"),
    Rule("in-review", "approve", "lead", frozenset({"condition"}), "approved",
         records="approved"),
    Rule("in-review", "sign", "editor", frozenset({"loan"}), "approved", records="signed"),
    Rule("approved", "supersede", "editor", ALL_TYPES, "superseded", records="superseded"),
)  # fmt: skip


class WorkflowError(Exception):
    """An action that may not be taken now: `status` is the HTTP status to answer with
    (403 not allowed for this role, 409 not in this state, 400 bad input)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Step:
    """What an action does: the approval entry to append and the status to set.
    `signed`: the record is now approved and must be signed. `new_version`: supersede
    makes a new draft."""

    approval: Approval
    status: str
    signed: bool
    new_version: bool


def _phase(report: Report) -> str:
    return "proposal-approved" if report.proposal_approved else "proposal-pending"


def allowed_actions(report: Report) -> list[tuple[Action, str]]:
    """The actions the table offers in the report's state, with their least role."""
    out: list[tuple[Action, str]] = []
    for rule in TABLE:
        if rule.state == report.status and report.type in rule.types:
            if rule.when in ("always", _phase(report)) and (rule.action, rule.role) not in out:
                out.append((rule.action, rule.role))
    return out


def decide(
    report: Report,
    action: str,
    actor: Agent,
    has_role: Callable[[str], bool],
    *,
    role: str | None,
    note: str,
    at: datetime,
) -> Step:
    """Apply the table: the step `action` by `actor` takes, or WorkflowError saying why not."""
    if action not in ACTIONS:
        raise WorkflowError(400, f"action must be one of: {', '.join(ACTIONS)}")
    rows = [r for r in TABLE if r.action == action and report.type in r.types]
    if not rows:
        raise WorkflowError(409, f"a {report.type} report has no {action!r} step")
    here = [r for r in rows if r.state == report.status]
    if not here:
        states = sorted({r.state for r in rows})
        raise WorkflowError(
            409,
            f"{action} is for a report that is {' or '.join(states)}; this one is {report.status}",
        )
    rule = next((r for r in here if r.when in ("always", _phase(report))), None)
    if rule is None:
        raise WorkflowError(409, f"{action} does not apply to this report now")
    if not has_role(rule.role):
        raise WorkflowError(403, f"{action} needs the {rule.role} role or higher")
    if action == "return" and not note.strip():
        raise WorkflowError(400, "note: say what needs to change when returning a report")
    if action == "submit":
        missing = report.missing_for_review()
        if missing:
            raise WorkflowError(400, f"fill in before submitting: {', '.join(missing)}")
    if action == "approve" and rule.target == "approved" and report.condition is None:
        if report.type != "treatment":
            raise WorkflowError(400, "condition: give the overall condition before approving")
    approval = Approval(action=rule.records, agent=actor, role=role, at=at, note=note)
    target = rule.target
    if action == "sign":
        signers = _signers_since_submit(report)
        me = _who(actor)
        if me in signers:
            raise WorkflowError(
                409, "you have signed this handover already: the other party signs next"
            )
        if len(signers) + 1 < HANDOVER_SIGNATURES:
            target = "in-review"
        elif report.condition is None:
            raise WorkflowError(400, "condition: give the overall condition before signing")
    return Step(
        approval=approval,
        status=target,
        signed=target == "approved",
        new_version=action == "supersede",
    )


def _who(agent: Agent) -> str:
    return agent.id or agent.name or ""


def _signers_since_submit(report: Report) -> list[str]:
    signers: list[str] = []
    for approval in report.approvals:
        if approval.action in ("submitted", "returned"):
            signers = []
        elif approval.action == "signed":
            signers.append(_who(approval.agent))
    return signers
