"""The shared types of a `report` document (condition report or treatment record) and the
one mapping between them and `Report`.

Schema (top-level shared types):

    report: Map            type, title, object (JSON), examiner (JSON), date, condition,
                           environment (JSON), lender, purpose, status, modified
    summary: Text          free text, co-written
    recommendations: Text
    treatment: Text        treatment notes
    damage: Array of Map   id, type, location, severity, annotations (JSON list of
                           {subject, annotation}), notes
    approvals: Array       JSON objects {action, agent, at, note}, appended in order

The free texts and lists are top-level types, not values inside `report`: two people who
open a new report at once and both start typing would otherwise each create their own Text,
and one of them would lose what they wrote.
"""

from __future__ import annotations

from typing import Any

from pycrdt import Array, Doc, Map, Text
from pydantic import ValidationError

from .crdt_values import plain, replace_text, update_map
from .problems import Invalid, Problem, from_validation_error, join_path
from .reports import Approval, DamageEntry, Report

REPORT = "report"
SUMMARY = "summary"
RECOMMENDATIONS = "recommendations"
TREATMENT = "treatment"
DAMAGE = "damage"
APPROVALS = "approvals"
TEXTS = (SUMMARY, RECOMMENDATIONS, TREATMENT)
ROOTS = (REPORT, *TEXTS, DAMAGE, APPROVALS)

REPORT_KEYS = frozenset(
    {
        "type",
        "title",
        "object",
        "examiner",
        "date",
        "condition",
        "environment",
        "lender",
        "purpose",
        "status",
        "modified",
    }
)
DAMAGE_KEYS = frozenset({"id", "type", "location", "severity", "annotations", "notes"})


def _fields(report: Report) -> dict[str, Any]:
    data = report.to_json()
    return {k: v for k, v in data.items() if k in REPORT_KEYS}


def write_report(doc: Doc, report: Report) -> None:
    """Write a whole report in one transaction, touching only what differs: texts by their
    changed part, damage entries by id, approvals by appending."""
    with doc.transaction():
        update_map(doc.get(REPORT, type=Map), _fields(report))
        for name in TEXTS:
            replace_text(doc.get(name, type=Text), getattr(report, name))
        damage = doc.get(DAMAGE, type=Array)
        wanted = [entry.to_json() for entry in report.damage]
        wanted_ids = [entry["id"] for entry in wanted]
        for index in reversed(range(len(damage))):
            current = damage[index]
            if not isinstance(current, Map) or current.get("id") not in wanted_ids:
                del damage[index]
        for index, entry in enumerate(wanted):
            found = _find(damage, entry["id"])
            if found == index:
                update_map(damage[index], entry)
                continue
            if found is not None:
                del damage[found]
            damage.insert(index, Map(entry))
        approvals = doc.get(APPROVALS, type=Array)
        new = [a.to_json() for a in report.approvals]
        old = [plain(a) for a in approvals]
        if old != new[: len(old)]:
            approvals.clear()
            old = []
        for approval in new[len(old) :]:
            approvals.append(approval)


def _find(damage: Array, damage_id: str) -> int | None:
    for index, entry in enumerate(damage):
        if isinstance(entry, Map) and entry.get("id") == damage_id:
            return index
    return None


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


def add_approval(doc: Doc, approval: Approval, *, status: str | None = None) -> None:
    """Record a workflow step, and the status it leads to, in one transaction."""
    with doc.transaction():
        doc.get(APPROVALS, type=Array).append(approval.to_json())
        if status is not None:
            doc.get(REPORT, type=Map)["status"] = status


def report_json(doc: Doc) -> dict[str, Any]:
    """The plain view of a report document, as the model reads it and history diffs it."""
    data = plain(doc.get(REPORT, type=Map))
    for name in TEXTS:
        data[name] = str(doc.get(name, type=Text))
    data[DAMAGE] = plain(doc.get(DAMAGE, type=Array))
    data[APPROVALS] = plain(doc.get(APPROVALS, type=Array))
    return data


def read_report(doc: Doc) -> Report | None:
    """The report, or None for a document nobody has written a report into. Raises Invalid
    when it is incomplete or malformed (a draft being filled in can be)."""
    if not len(doc.get(REPORT, type=Map)):
        return None
    try:
        return Report.model_validate(report_json(doc))
    except ValidationError as error:
        # Paths name shared types: `report/<field>`, `summary`, `damage/0/type`.
        problems = [
            p.model_copy(update={"path": join_path(REPORT, p.path)})
            if p.path.split("/")[0] in REPORT_KEYS or not p.path
            else p
            for p in from_validation_error(error)
        ]
        raise Invalid(problems) from None


def validate_report_document(doc: Doc) -> list[Problem]:
    """Everything wrong with a report document: the shape of its shared types, then the
    report itself."""
    problems: list[Problem] = []
    fields = doc.get(REPORT, type=Map)
    problems += [
        Problem(path=join_path(REPORT, k), message="is not a report field")
        for k in fields.keys()
        if k not in REPORT_KEYS
    ]
    problems += [
        Problem(path=join_path(REPORT, k), message="must be a plain JSON value")
        for k in fields.keys()
        if isinstance(fields.get(k), Map | Array | Text)
    ]
    for index, entry in enumerate(doc.get(DAMAGE, type=Array)):
        where = join_path(DAMAGE, index)
        if not isinstance(entry, Map):
            problems.append(Problem(path=where, message="a damage entry must be a map"))
            continue
        problems += [
            Problem(path=join_path(where, k), message="is not a damage entry field")
            for k in entry.keys()
            if k not in DAMAGE_KEYS
        ]
    for index, entry in enumerate(doc.get(APPROVALS, type=Array)):
        if isinstance(entry, Map | Array | Text):
            problems.append(
                Problem(path=join_path(APPROVALS, index), message="must be a plain JSON object")
            )
    if problems:
        return problems
    try:
        read_report(doc)
    except Invalid as error:
        problems += error.problems
    return problems


def check_report_change(before: dict[str, Any], after: dict[str, Any]) -> list[Problem]:
    """Problems with moving a report from `before` to `after` (plain views): a signed report
    is a record; it changes only by starting a new report."""
    if before.get("status") == "signed" and before != after:
        return [Problem(path=REPORT, message="this report is signed and can no longer change")]
    return []
