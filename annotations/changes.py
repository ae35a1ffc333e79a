"""What changed between two versions of a document, for the history list ("what changed in
this update") and for comparing versions.

Both work on the plain views of `schema.snapshot`, so any two points of history compare,
even versions written before a schema check existed: shapes we do not expect are reported
as a generic change, never as an error.
"""

from __future__ import annotations

import difflib
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from .damage_terms import DAMAGE_TERMS
from .report_document import LISTS, TEXTS, migrate
from .vocabularies import (
    CHECK_METHODS,
    COMPLETENESS,
    CONDITION_GRADES,
    MOTIVATIONS,
    PRIORITIES,
    REPORT_REASONS,
    REPORT_STATUSES,
    REPORT_TYPES,
    SEVERITIES,
    Vocabulary,
)

ChangeKind = Literal[
    "annotation-added",
    "annotation-removed",
    "body-edited",
    "body-added",
    "body-removed",
    "body-changed",
    "target-moved",
    "motivation-changed",
    "annotation-changed",
    "meta-changed",
    "report-field-changed",
    "report-text-edited",
    "damage-added",
    "damage-removed",
    "damage-changed",
    "approval-added",
    "approvals-changed",
]

SNIPPET = 60
_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")
# Timestamps change with every edit; they say when, not what.
_QUIET = frozenset({"modified"})
_REPORT_VOCABULARIES: dict[str, Vocabulary] = {
    "condition": CONDITION_GRADES,
    "status": REPORT_STATUSES,
    "reason": REPORT_REASONS,
    "type": REPORT_TYPES,
    "method": CHECK_METHODS,
    "completeness": COMPLETENESS,
    "priority": PRIORITIES,
}
_REPORT_LABELS = {
    "summary": "Summary",
    "recommendations": "Recommendations",
    "assessment": "Technical assessment",
    "proposal": "Treatment proposal",
    "treatment": "Treatment notes",
    "object": "Object",
    "checker": "Checked by",
    "recorder": "Recorded by",
    "date": "Check date",
    "condition": "Overall condition",
    "environment": "Environment",
    "reason": "Reason",
    "method": "Method",
    "reference": "Reference number",
    "completeness": "Completeness",
    "hazards": "Hazards",
    "priority": "Treatment priority",
    "next_check": "Next check",
    "requirements": "Requirements",
    "loan": "Loan",
    "treatment_purpose": "Treatment purpose",
    "conservators": "Conservators",
    "status": "Status",
    "title": "Title",
    "type": "Report type",
    "steps": "Treatment steps",
    "analyses": "Analyses and samples",
    "images": "Images",
    "attachments": "Attached documents",
    "signature": "Signature",
}


class TextRun(BaseModel):
    """A stretch of a text diff: unchanged, inserted or deleted."""

    model_config = ConfigDict(frozen=True)

    op: Literal["equal", "insert", "delete"]
    text: str


class Change(BaseModel):
    """One change, for people (`summary`) and for programs (the rest)."""

    model_config = ConfigDict(frozen=True)

    kind: ChangeKind
    path: str
    summary: str
    annotation: str | None = None
    field: str | None = None
    before: Any = None
    after: Any = None
    diff: list[TextRun] | None = None


# ---------------------------------------------------------------------------- text diffs


def text_diff(before: str, after: str) -> list[TextRun]:
    """Word-level diff runs (words, spaces and punctuation are the units, so a correction
    reads as `-colour +color`, not as scattered letters)."""
    a, b = _TOKEN.findall(before), _TOKEN.findall(after)
    runs: list[TextRun] = []

    def add(op: Literal["equal", "insert", "delete"], tokens: list[str]) -> None:
        text = "".join(tokens)
        if not text:
            return
        if runs and runs[-1].op == op:
            runs[-1] = TextRun(op=op, text=runs[-1].text + text)
        else:
            runs.append(TextRun(op=op, text=text))

    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            add("equal", a[i1:i2])
        else:
            add("delete", a[i1:i2])
            add("insert", b[j1:j2])
    return runs


def _clip(text: str, limit: int = SNIPPET) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rfind(" ")]  # end on a whole word
    return cut.rstrip(" ,;:") + "…"


def _diff_summary(runs: list[TextRun]) -> str:
    inserted = _clip(" ".join(r.text.strip() for r in runs if r.op == "insert" and r.text.strip()))
    deleted = _clip(" ".join(r.text.strip() for r in runs if r.op == "delete" and r.text.strip()))
    parts = []
    if inserted:
        parts.append(f"+“{inserted}”")
    if deleted:
        parts.append(f"-“{deleted}”")
    return " ".join(parts) or "whitespace only"


# ---------------------------------------------------------------------------- annotations


def _bodies(annotation: dict[str, Any]) -> list[Any]:
    body = annotation.get("body")
    if body is None:
        return []
    return body if isinstance(body, list) else [body]


def _snippet(annotation: dict[str, Any]) -> str:
    for body in _bodies(annotation):
        if isinstance(body, dict):
            if isinstance(body.get("value"), str) and body["value"].strip():
                return f"“{_clip(body['value'])}”"
            source = body.get("source")
            for holder in (source, body):
                if isinstance(holder, dict) and isinstance(holder.get("label"), str):
                    return f"“{_clip(holder['label'])}”"
    return str(annotation.get("id", "?"))


def _motivation(annotation: dict[str, Any]) -> str:
    value = annotation.get("motivation")
    return MOTIVATIONS.label(value).lower() if isinstance(value, str) else "an"


def describe_target(target: Any) -> str:
    """A short phrase for where an annotation is: `xywh=10,20,30,40`, `a shape`, ..."""
    if isinstance(target, list):
        return ", ".join(describe_target(t) for t in target)
    if isinstance(target, str):
        _, _, fragment = target.partition("#")
        return fragment or "the whole canvas"
    if not isinstance(target, dict):
        return "?"
    selectors = target.get("selector")
    selectors = selectors if isinstance(selectors, list) else [selectors]
    for selector in selectors:
        if not isinstance(selector, dict):
            continue
        kind = selector.get("type")
        if kind == "FragmentSelector":
            return str(selector.get("value"))
        if kind == "PointSelector":
            axes = [selector.get(a) for a in ("x", "y", "z") if selector.get(a) is not None]
            return (
                "point ("
                + ", ".join(f"{v:g}" if isinstance(v, int | float) else str(v) for v in axes)
                + ")"
            )
    for selector in selectors:
        if isinstance(selector, dict) and selector.get("type") == "SvgSelector":
            return "a drawn shape"
    return "the whole canvas"


def _annotation_changes(key: str, before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    path = f"annotations/{key}"
    name = _snippet(after) if _snippet(after) != key else _snippet(before)
    out: list[Change] = []
    if before.get("motivation") != after.get("motivation"):
        out.append(
            Change(
                kind="motivation-changed",
                path=f"{path}/motivation",
                annotation=key,
                field="motivation",
                before=before.get("motivation"),
                after=after.get("motivation"),
                summary=(
                    f"Changed annotation {name} from {_motivation(before)} to {_motivation(after)}"
                ),
            )
        )
    if before.get("target") != after.get("target"):
        out.append(
            Change(
                kind="target-moved",
                path=f"{path}/target",
                annotation=key,
                field="target",
                before=before.get("target"),
                after=after.get("target"),
                summary=(
                    f"Moved annotation {name} from {describe_target(before.get('target'))} "
                    f"to {describe_target(after.get('target'))}"
                ),
            )
        )
    old_bodies, new_bodies = _bodies(before), _bodies(after)
    for index in range(max(len(old_bodies), len(new_bodies))):
        body_path = f"{path}/body/{index}"
        old = old_bodies[index] if index < len(old_bodies) else None
        new = new_bodies[index] if index < len(new_bodies) else None
        if old == new:
            continue
        if old is None:
            out.append(
                Change(
                    kind="body-added",
                    path=body_path,
                    annotation=key,
                    after=new,
                    summary=f"Added {_body_phrase(new)} to annotation {name}",
                )
            )
        elif new is None:
            out.append(
                Change(
                    kind="body-removed",
                    path=body_path,
                    annotation=key,
                    before=old,
                    summary=f"Removed {_body_phrase(old)} from annotation {name}",
                )
            )
        elif _textual(old) and _textual(new) and old["value"] != new["value"]:
            runs = text_diff(old["value"], new["value"])
            out.append(
                Change(
                    kind="body-edited",
                    path=f"{body_path}/value",
                    annotation=key,
                    before=old["value"],
                    after=new["value"],
                    diff=runs,
                    summary=f"Edited the text of annotation {name}: {_diff_summary(runs)}",
                )
            )
        else:
            out.append(
                Change(
                    kind="body-changed",
                    path=body_path,
                    annotation=key,
                    before=old,
                    after=new,
                    summary=(
                        f"Changed {_body_phrase(old)} to {_body_phrase(new)} in annotation {name}"
                    ),
                )
            )
    handled = {"motivation", "target", "body", "id", "type", *_QUIET}
    for field in sorted((set(before) | set(after)) - handled):
        if before.get(field) != after.get(field):
            out.append(
                Change(
                    kind="annotation-changed",
                    path=f"{path}/{field}",
                    annotation=key,
                    field=field,
                    before=before.get(field),
                    after=after.get(field),
                    summary=f"Changed the {field} of annotation {name}",
                )
            )
    return out


def _textual(body: Any) -> bool:
    return isinstance(body, dict) and isinstance(body.get("value"), str)


def _body_phrase(body: Any) -> str:
    if _textual(body):
        return f"text “{_clip(body['value'])}”"
    if isinstance(body, dict):
        source = body.get("source") if isinstance(body.get("source"), dict) else body
        label = source.get("label") or source.get("id")
        purpose = body.get("purpose")
        role = f"{purpose} " if isinstance(purpose, str) else ""
        return f"{role}term “{_clip(str(label))}”"
    return "a body"


def diff_annotations(
    before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]
) -> list[Change]:
    out: list[Change] = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if old is None:
            new = new if isinstance(new, dict) else {}
            where = describe_target(new.get("target"))
            out.append(
                Change(
                    kind="annotation-added",
                    path=f"annotations/{key}",
                    annotation=key,
                    after=new,
                    summary=f"Added {_motivation(new)} annotation {_snippet(new)} on {where}",
                )
            )
        elif new is None:
            old = old if isinstance(old, dict) else {}
            out.append(
                Change(
                    kind="annotation-removed",
                    path=f"annotations/{key}",
                    annotation=key,
                    before=old,
                    summary=f"Removed {_motivation(old)} annotation {_snippet(old)}",
                )
            )
        elif isinstance(old, dict) and isinstance(new, dict):
            out += _annotation_changes(key, old, new)
        else:
            out.append(
                Change(
                    kind="annotation-changed",
                    path=f"annotations/{key}",
                    annotation=key,
                    before=old,
                    after=new,
                    summary=f"Changed annotation {key}",
                )
            )
    return out


# ---------------------------------------------------------------------------- reports


def _value_phrase(field: str, value: Any) -> str:
    if value is None or value == "":
        return "(none)"
    vocabulary = _REPORT_VOCABULARIES.get(field)
    if vocabulary is not None and isinstance(value, str):
        return vocabulary.label(value)
    if isinstance(value, dict):
        name = value.get("name") or value.get("title") or value.get("identifier")
        if name:
            return str(name)
        return ", ".join(f"{k} {v}" for k, v in value.items() if v not in (None, ""))
    return _clip(str(value))


def _damage_phrase(entry: Any) -> str:
    if not isinstance(entry, dict):
        return "a damage entry"
    kind = DAMAGE_TERMS.label(str(entry.get("term", "?")))
    severity = entry.get("severity")
    location = entry.get("location")
    text = kind
    if isinstance(severity, str):
        text += f" ({SEVERITIES.label(severity).lower()})"
    if location:
        text += f" at {_clip(str(location))}"
    return text


def diff_report(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    out: list[Change] = []
    before, after = migrate(before), migrate(after)
    for field in TEXTS:
        old, new = before.get(field) or "", after.get(field) or ""
        if old != new and isinstance(old, str) and isinstance(new, str):
            runs = text_diff(old, new)
            out.append(
                Change(
                    kind="report-text-edited",
                    path=f"report/{field}",
                    field=field,
                    before=old,
                    after=new,
                    diff=runs,
                    summary=f"{_REPORT_LABELS[field]} edited: {_diff_summary(runs)}",
                )
            )
    skip = {*TEXTS, *LISTS, "approvals", *_QUIET}
    for field in sorted((set(before) | set(after)) - skip):
        old, new = before.get(field), after.get(field)
        if old != new:
            label = _REPORT_LABELS.get(field, field)
            out.append(
                Change(
                    kind="report-field-changed",
                    path=f"report/{field}",
                    field=field,
                    before=old,
                    after=new,
                    summary=(
                        f"{label} changed from {_value_phrase(field, old)} "
                        f"to {_value_phrase(field, new)}"
                    ),
                )
            )
    out += _diff_damage(_list(before.get("damage")), _list(after.get("damage")))
    for field in LISTS:
        if field != "damage" and before.get(field, []) != after.get(field, []):
            out.append(_list_change(field, _list(before.get(field)), _list(after.get(field))))
    old_approvals, new_approvals = _list(before.get("approvals")), _list(after.get("approvals"))
    if new_approvals[: len(old_approvals)] == old_approvals:
        for index, approval in enumerate(new_approvals[len(old_approvals) :], len(old_approvals)):
            who = "someone"
            action = "acted"
            if isinstance(approval, dict):
                agent = approval.get("agent")
                if isinstance(agent, dict):
                    who = str(agent.get("name") or agent.get("id") or who)
                action = str(approval.get("action", action))
            out.append(
                Change(
                    kind="approval-added",
                    path=f"report/approvals/{index}",
                    after=approval,
                    summary=f"Report {action} by {who}",
                )
            )
    else:
        out.append(
            Change(
                kind="approvals-changed",
                path="report/approvals",
                before=old_approvals,
                after=new_approvals,
                summary="The approval record was rewritten",
            )
        )
    return out


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _list_change(field: str, before: list[Any], after: list[Any]) -> Change:
    old = {str(_dict(e).get("id")): e for e in before}
    new = {str(_dict(e).get("id")): e for e in after}
    added = len(new.keys() - old.keys())
    removed = len(old.keys() - new.keys())
    changed = sum(1 for k in new.keys() & old.keys() if new[k] != old[k])
    parts = [
        f"{n} {what}"
        for n, what in ((added, "added"), (removed, "removed"), (changed, "changed"))
        if n
    ]
    return Change(
        kind="report-field-changed",
        path=f"report/{field}",
        field=field,
        before=before,
        after=after,
        summary=f"{_REPORT_LABELS.get(field, field)}: {', '.join(parts) or 'reordered'}",
    )


def _diff_damage(before: list[Any], after: list[Any]) -> list[Change]:
    def key(entry: Any, index: int) -> str:
        return str(entry.get("id")) if isinstance(entry, dict) and entry.get("id") else f"#{index}"

    old = {key(e, i): e for i, e in enumerate(before)}
    new = {key(e, i): e for i, e in enumerate(after)}
    out: list[Change] = []
    for entry_id, entry in new.items():
        if entry_id not in old:
            out.append(
                Change(
                    kind="damage-added",
                    path=f"report/damage/{entry_id}",
                    after=entry,
                    summary=f"Added damage entry: {_damage_phrase(entry)}",
                )
            )
        elif old[entry_id] != entry:
            fields = sorted(
                k
                for k in set(_dict(entry)) | set(_dict(old[entry_id]))
                if _dict(entry).get(k) != _dict(old[entry_id]).get(k)
            )
            out.append(
                Change(
                    kind="damage-changed",
                    path=f"report/damage/{entry_id}",
                    before=old[entry_id],
                    after=entry,
                    field=",".join(fields) or None,
                    summary=(f"Changed damage entry {_damage_phrase(entry)}: {', '.join(fields)}"),
                )
            )
    for entry_id, entry in old.items():
        if entry_id not in new:
            out.append(
                Change(
                    kind="damage-removed",
                    path=f"report/damage/{entry_id}",
                    before=entry,
                    summary=f"Removed damage entry: {_damage_phrase(entry)}",
                )
            )
    return out


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# ---------------------------------------------------------------------------- documents


def diff_documents(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """Every change from one plain view (`schema.snapshot`) to another, in reading order:
    subject, annotations, then report."""
    out: list[Change] = []
    old_meta, new_meta = _dict(before.get("meta")), _dict(after.get("meta"))
    if new_meta and not old_meta:
        label = new_meta.get("label") or new_meta.get("iiif_id")
        out.append(
            Change(
                kind="meta-changed",
                path="meta",
                after=new_meta,
                summary=f"Linked to IIIF {new_meta.get('iiif_type', 'resource')} “{label}”",
            )
        )
        old_meta = new_meta
    for field in sorted(set(old_meta) | set(new_meta)):
        if old_meta.get(field) != new_meta.get(field):
            out.append(
                Change(
                    kind="meta-changed",
                    path=f"meta/{field}",
                    field=field,
                    before=old_meta.get(field),
                    after=new_meta.get(field),
                    summary=f"Subject {field} changed",
                )
            )
    out += diff_annotations(_dict(before.get("annotations")), _dict(after.get("annotations")))
    if "report" in before or "report" in after:
        out += diff_report(_dict(before.get("report")), _dict(after.get("report")))
    return out


def summarize(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Short lines for the history list: what changed in this update."""
    return [change.summary for change in diff_documents(before, after)]
