"""The shared types of a `report` document and the one mapping between them and `Report`.

Schema (top-level shared types):

    report: Map            the fields (see REPORT_KEYS): plain JSON values
    summary, recommendations, assessment, proposal, treatment: Text
                           free texts, co-written (assessment: technical assessment;
                           proposal: treatment proposal; treatment: treatment notes)
    damage: Array of Map   id, term, location, extent, severity, activity, note,
                           annotations, photographs, tracks
    steps, analyses, images, attachments: Array of Map, one map per entry, by id
    approvals: Array       JSON objects {action, agent, role, at, note}, appended in order
    comments: Array        JSON objects {id, author, role, at, text, reply_to}: the review
                           discussion, appended in order by the server

The free texts and lists are top-level types, not values inside `report`: two people who
open a new report at once and both start typing would otherwise each create their own Text,
and one of them would lose what they wrote.

What only the workflow writes (`status`, `signature`, `superseded_by`, `supersedes` and
the `approvals`) and the discussion, which only the comments route appends to (so who
said what cannot be forged): `workflow_problems` refuses any other change to them, and
`lock_problems` any change at all to a locked report.

Reports written before this schema (an `examiner`, a `purpose`, a `lender`, status
`signed`, damage `type`/`notes`) are read through `migrate` and rewritten in the new form
by the next write.
"""

from __future__ import annotations

from typing import Any

from pycrdt import Array, Doc, Map, Text
from pydantic import ValidationError

from .crdt_values import plain, replace_text, update_map
from .problems import Invalid, Problem, from_validation_error, join_path
from .reports import LOCKED_STATUSES, Approval, DamageEntry, Report, ReviewComment
from .vocabularies import Vocabulary

REPORT = "report"
SUMMARY = "summary"
RECOMMENDATIONS = "recommendations"
ASSESSMENT = "assessment"
PROPOSAL = "proposal"
TREATMENT = "treatment"
DAMAGE = "damage"
STEPS = "steps"
ANALYSES = "analyses"
IMAGES = "images"
ATTACHMENTS = "attachments"
APPROVALS = "approvals"
COMMENTS = "comments"
TEXTS = (SUMMARY, RECOMMENDATIONS, ASSESSMENT, PROPOSAL, TREATMENT)
LISTS = (DAMAGE, STEPS, ANALYSES, IMAGES, ATTACHMENTS)
ROOTS = (REPORT, *TEXTS, *LISTS, APPROVALS, COMMENTS)
# Appended to in order, one plain JSON object per entry, by the server only.
LOGS = (APPROVALS, COMMENTS)

REPORT_KEYS = frozenset(
    {
        "type",
        "title",
        "reference",
        "object",
        "date",
        "method",
        "reason",
        "checker",
        "recorder",
        "condition",
        "completeness",
        "hazards",
        "environment",
        "priority",
        "next_check",
        "requirements",
        "loan",
        "treatment_purpose",
        "conservators",
        "previous",
        "supersedes",
        "superseded_by",
        "status",
        "modified",
        "signature",
    }
)
# Fields of reports written before the current schema: read (and migrated), never written.
LEGACY_KEYS = frozenset({"examiner", "purpose", "lender"})
ENTRY_KEYS: dict[str, frozenset[str]] = {
    DAMAGE: frozenset(
        {
            "id",
            "term",
            "location",
            "extent",
            "severity",
            "activity",
            "note",
            "annotations",
            "photographs",
            "tracks",
            # legacy damage entries
            "type",
            "notes",
        }
    ),
    STEPS: frozenset(
        {"id", "date", "description", "methods", "materials_added", "materials_removed", "by"}
    ),
    ANALYSES: frozenset({"id", "kind", "date", "method", "location", "sample", "result", "by"}),
    IMAGES: frozenset({"id", "subject", "service", "region", "lighting", "caption", "role"}),
    ATTACHMENTS: frozenset({"id", "blob", "filename", "media_type", "caption"}),
}
# Written by the workflow only: a client (or a PATCH) that changes them is refused.
WORKFLOW_KEYS = frozenset({"status", "signature", "superseded_by", "supersedes"})


def _fields(report: Report) -> dict[str, Any]:
    data = report.to_json()
    return {k: v for k, v in data.items() if k in REPORT_KEYS}


def _find(items: Array, item_id: str) -> int | None:
    for index, entry in enumerate(items):
        if isinstance(entry, Map) and entry.get("id") == item_id:
            return index
    return None


def _write_list(items: Array, wanted: list[dict[str, Any]]) -> None:
    """Make `items` hold `wanted` in order, entries matched by id, touching only what
    differs (so a collaborator's concurrent edit to another entry survives)."""
    wanted_ids = [entry["id"] for entry in wanted]
    for index in reversed(range(len(items))):
        current = items[index]
        if not isinstance(current, Map) or current.get("id") not in wanted_ids:
            del items[index]
    for index, entry in enumerate(wanted):
        found = _find(items, entry["id"])
        if found == index:
            update_map(items[index], entry)
            continue
        if found is not None:
            del items[found]
        items.insert(index, Map(entry))


def write_report(doc: Doc, report: Report) -> None:
    """Write a whole report in one transaction, touching only what differs: texts by their
    changed part, list entries by id, approvals by appending."""
    with doc.transaction():
        update_map(doc.get(REPORT, type=Map), _fields(report))
        for name in TEXTS:
            replace_text(doc.get(name, type=Text), getattr(report, name))
        for name in LISTS:
            _write_list(doc.get(name, type=Array), [e.to_json() for e in getattr(report, name)])
        for name in LOGS:
            log = doc.get(name, type=Array)
            new = [a.to_json() for a in getattr(report, name)]
            old = [plain(a) for a in log]
            if old != new[: len(old)]:
                log.clear()
                old = []
            for item in new[len(old) :]:
                log.append(item)


def add_damage(doc: Doc, entry: DamageEntry) -> None:
    """Append one damage entry (or replace the entry with its id)."""
    with doc.transaction():
        damage = doc.get(DAMAGE, type=Array)
        found = _find(damage, entry.id)
        if found is None:
            damage.append(Map(entry.to_json()))
        else:
            update_map(damage[found], entry.to_json())


def remove_damage(doc: Doc, damage_id: str) -> bool:
    """Remove a damage entry; False if there was none with that id."""
    with doc.transaction():
        damage = doc.get(DAMAGE, type=Array)
        found = _find(damage, damage_id)
        if found is None:
            return False
        del damage[found]
        return True


def add_approval(doc: Doc, approval: Approval, **fields: Any) -> None:
    """Record a workflow step and the fields it sets (status, signature, ...) in one
    transaction. For the workflow only."""
    with doc.transaction():
        doc.get(APPROVALS, type=Array).append(approval.to_json())
        report = doc.get(REPORT, type=Map)
        for key, value in fields.items():
            if value is None:
                if key in report:
                    del report[key]
            else:
                report[key] = value


def add_comment(doc: Doc, comment: ReviewComment) -> None:
    """Append a comment to the report's discussion. For the comments route only."""
    with doc.transaction():
        doc.get(COMMENTS, type=Array).append(comment.to_json())


def set_fields(doc: Doc, **fields: Any) -> None:
    """Set (or, with None, remove) report fields in one transaction. For the workflow."""
    with doc.transaction():
        report = doc.get(REPORT, type=Map)
        for key, value in fields.items():
            if value is None:
                if key in report:
                    del report[key]
            else:
                report[key] = value


def report_json(doc: Doc) -> dict[str, Any]:
    """The plain view of a report document, as the model reads it and history diffs it."""
    data = plain(doc.get(REPORT, type=Map))
    for name in TEXTS:
        data[name] = str(doc.get(name, type=Text))
    for name in (*LISTS, *LOGS):
        data[name] = plain(doc.get(name, type=Array))
    return data


_LEGACY_LOANS = {"loan-out": "outgoing", "loan-in": "incoming"}


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """A plain view of a report written before the current schema, in the current form:
    `examiner` becomes checker and recorder, `purpose` the reason (a loan purpose makes a
    loan report with its handover and lender), status `signed` is `approved`, a
    `rejected` step is `returned`, damage `type` and `notes` are `term` and `note`."""
    if not (LEGACY_KEYS & data.keys()) and data.get("status") != "signed":
        legacy_entries = any(
            isinstance(e, dict) and ("type" in e or "notes" in e) for e in data.get(DAMAGE, [])
        )
        if not legacy_entries and not any(
            isinstance(a, dict) and a.get("action") == "rejected" for a in data.get(APPROVALS, [])
        ):
            return data
    out = dict(data)
    examiner = out.pop("examiner", None)
    if examiner is not None:
        out.setdefault("checker", examiner)
        out.setdefault("recorder", examiner)
    purpose = out.pop("purpose", None)
    lender = out.pop("lender", None)
    if purpose is not None:
        out.setdefault("reason", purpose)
        if purpose in _LEGACY_LOANS and out.get("type", "condition") == "condition":
            out["type"] = "loan"
            out.setdefault("loan", {"handover": _LEGACY_LOANS[purpose], "lender": lender or ""})
    if out.get("status") == "signed":
        out["status"] = "approved"
    out[DAMAGE] = [_migrate_entry(e) for e in out.get(DAMAGE, [])]
    out[APPROVALS] = [
        {**a, "action": "returned"} if isinstance(a, dict) and a.get("action") == "rejected" else a
        for a in out.get(APPROVALS, [])
    ]
    return out


def _migrate_entry(entry: Any) -> Any:
    if not isinstance(entry, dict):
        return entry
    out = dict(entry)
    if "type" in out:
        out.setdefault("term", out.pop("type"))
    if "notes" in out:
        out.setdefault("note", out.pop("notes"))
    return out


def read_report(doc: Doc, *, terms: Vocabulary | None = None) -> Report | None:
    """The report, or None for a document nobody has written a report into. Raises Invalid
    when it is incomplete or malformed (a draft being filled in can be). `terms`: the
    damage vocabulary of the report's workspace (the curated list by default)."""
    if not len(doc.get(REPORT, type=Map)):
        return None
    return parse_report(report_json(doc), terms=terms)


def parse_report(data: dict[str, Any], *, terms: Vocabulary | None = None) -> Report:
    """A report from its plain view (migrated first); Invalid with paths that name the
    shared types (`report/<field>`, `summary`, `damage/0/term`)."""
    try:
        return Report.model_validate(
            migrate(data), context={"terms": terms} if terms is not None else None
        )
    except ValidationError as error:
        problems = [
            p.model_copy(update={"path": join_path(REPORT, p.path)})
            if p.path.split("/")[0] in REPORT_KEYS or not p.path
            else p
            for p in from_validation_error(error)
        ]
        raise Invalid(problems) from None


def validate_report_document(doc: Doc, *, terms: Vocabulary | None = None) -> list[Problem]:
    """Everything wrong with a report document: the shape of its shared types, then the
    report itself."""
    problems: list[Problem] = []
    fields = doc.get(REPORT, type=Map)
    problems += [
        Problem(path=join_path(REPORT, k), message="is not a report field")
        for k in fields.keys()
        if k not in REPORT_KEYS and k not in LEGACY_KEYS
    ]
    problems += [
        Problem(path=join_path(REPORT, k), message="must be a plain JSON value")
        for k in fields.keys()
        if isinstance(fields.get(k), Map | Array | Text)
    ]
    for name in LISTS:
        for index, entry in enumerate(doc.get(name, type=Array)):
            where = join_path(name, index)
            if not isinstance(entry, Map):
                problems.append(Problem(path=where, message="an entry must be a map"))
                continue
            problems += [
                Problem(path=join_path(where, k), message="is not a field of this entry")
                for k in entry.keys()
                if k not in ENTRY_KEYS[name]
            ]
    for name in LOGS:
        for index, entry in enumerate(doc.get(name, type=Array)):
            if isinstance(entry, Map | Array | Text):
                problems.append(
                    Problem(path=join_path(name, index), message="must be a plain JSON object")
                )
    if problems:
        return problems
    try:
        read_report(doc, terms=terms)
    except Invalid as error:
        problems += error.problems
    return problems


def lock_reason(view: dict[str, Any]) -> str | None:
    """Why a report (plain view) refuses every change, or None when it takes changes."""
    status = view.get("status")
    if status == "signed":  # written before the current workflow
        status = "approved"
    if status in LOCKED_STATUSES:
        how = "supersede it to make a new version" if status == "approved" else "it was replaced"
        return f"this report is {status} and locked: {how}"
    signs = signatures_pending(view)
    if signs:
        names = ", ".join(signs)
        return (
            f"this handover report has been signed by {names}: it changes only if a lead returns it"
        )
    return None


def signatures_pending(view: dict[str, Any]) -> list[str]:
    """Who has signed a handover report since it was last submitted (their names)."""
    names: list[str] = []
    for approval in view.get(APPROVALS, []):
        if not isinstance(approval, dict):
            continue
        if approval.get("action") in ("submitted", "returned"):
            names = []
        elif approval.get("action") == "signed":
            agent = approval.get("agent") or {}
            names.append(str(agent.get("name") or agent.get("id") or "someone"))
    return names


def lock_problems(before: dict[str, Any], after: dict[str, Any]) -> list[Problem]:
    """A locked report refuses every change (plain views before and after)."""
    reason = lock_reason(before)
    if reason and migrate(before) != migrate(after):
        return [Problem(path=REPORT, message=reason, denied=True)]
    return []


def workflow_problems(before: dict[str, Any], after: dict[str, Any]) -> list[Problem]:
    """Changes only the workflow may make: status, signature, the links between versions
    and the approvals."""
    problems = [
        Problem(
            path=join_path(REPORT, key), message="changes only through the workflow", denied=True
        )
        for key in sorted(WORKFLOW_KEYS)
        if before.get(key) != after.get(key)
    ]
    if before.get(APPROVALS, []) != after.get(APPROVALS, []):
        problems.append(
            Problem(path=APPROVALS, message="change only through the workflow", denied=True)
        )
    if before.get(COMMENTS, []) != after.get(COMMENTS, []):
        problems.append(
            Problem(path=COMMENTS, message="are added only through the comments route", denied=True)
        )
    return problems


def check_report_change(before: dict[str, Any], after: dict[str, Any]) -> list[Problem]:
    """Problems with a client moving a report from `before` to `after` (plain views): a
    locked report takes no change, and workflow fields change only by the workflow."""
    return lock_problems(before, after) or workflow_problems(before, after)
