"""The document schema by kind: which shared types a `canvas`, `model` or `report` document
has, its plain view for history, its validation, and the check a room runs on a client's
update before accepting it.
"""

from __future__ import annotations

from typing import Any

from pycrdt import Array, Doc, Map, Text

from . import report_document, subject_document
from .problems import Problem

KINDS = ("canvas", "model", "report")

# name -> shared type, per kind.
ROOTS: dict[str, dict[str, type[Map] | type[Array] | type[Text]]] = {
    "canvas": {subject_document.META: Map, subject_document.ANNOTATIONS: Map},
    "model": {subject_document.META: Map, subject_document.ANNOTATIONS: Map},
    "report": {
        report_document.REPORT: Map,
        **dict.fromkeys(report_document.TEXTS, Text),
        report_document.DAMAGE: Array,
        report_document.APPROVALS: Array,
    },
}


def _kind(kind: str) -> str:
    if kind not in ROOTS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    return kind


def snapshot(doc: Doc, kind: str) -> dict[str, Any]:
    """The plain JSON view of a document, what history shows and compares:
    `{"meta": ..., "annotations": {id: ...}}` for subjects, `{"report": ...}` for reports."""
    if _kind(kind) == "report":
        return {"report": report_document.report_json(doc)}
    return {
        "meta": subject_document.meta_json(doc),
        "annotations": subject_document.annotations_json(doc),
    }


def validate(doc: Doc, kind: str) -> list[Problem]:
    """Everything wrong with a whole document."""
    problems = [
        Problem(path=name, message=f"is not part of a {kind} document")
        for name in doc.keys()
        if name not in ROOTS[_kind(kind)]
    ]
    if kind == "report":
        return problems + report_document.validate_report_document(doc)
    return problems + subject_document.validate_document(doc, kind=kind)


def check_update(doc: Doc, update: bytes, kind: str) -> list[Problem]:
    """The problems `update` would bring into `doc`, which is left unchanged: new shared
    types, shared types of the wrong kind, and the annotations, subject or report it
    touches. Problems that were there before the update are not its fault and are not
    reported, so one bad old entry never locks a document."""
    _kind(kind)
    roots_before = set(doc.keys())
    clone = Doc()
    clone.apply_update(doc.get_update())
    touched: set[str] = set()
    meta_touched = False
    report_before: dict[str, Any] = {}
    subscriptions: list[Any] = []

    def on_annotations(events: list[Any]) -> None:
        for event in events:
            path = list(getattr(event, "path", []))
            if path:
                touched.add(str(path[0]))
            else:
                touched.update(str(k) for k in (getattr(event, "keys", None) or {}))

    def on_meta(events: list[Any]) -> None:
        nonlocal meta_touched
        meta_touched = True

    if kind == "report":
        report_before = report_document.report_json(clone)
        problems_before = set(report_document.validate_report_document(clone))
    else:
        # pycrdt drops an observer once its subscription is garbage: keep them until done.
        subscriptions = [
            clone.get(subject_document.ANNOTATIONS, type=Map).observe_deep(on_annotations),
            clone.get(subject_document.META, type=Map).observe_deep(on_meta),
        ]
    clone.apply_update(update)
    subscriptions.clear()

    problems = [
        Problem(path=name, message=f"is not part of a {kind} document")
        for name in clone.keys()
        if name not in ROOTS[kind] and name not in roots_before
    ]
    if kind == "report":
        problems += [
            p for p in report_document.validate_report_document(clone) if p not in problems_before
        ]
        problems += report_document.check_report_change(
            report_before, report_document.report_json(clone)
        )
    else:
        found = subject_document.validate_document(clone, kind=kind, only=touched)
        problems += [
            p for p in found if meta_touched or not p.path.startswith(subject_document.META)
        ]
    # Last: reading a root as another type re-types it in `clone`.
    problems += _misused_roots(clone, kind)
    return problems


def _misused_roots(doc: Doc, kind: str) -> list[Problem]:
    problems = []
    names = set(doc.keys())
    for name, expected in ROOTS[kind].items():
        if name not in names:
            continue
        # Sequence content (Array or Text items) in a Map root, or map entries in a
        # sequence root, means a client created this root as another type.
        if expected is Map:
            wrong = len(doc.get(name, type=Array)) > 0
        else:
            wrong = len(doc.get(name, type=Map)) > 0
        if wrong:
            problems.append(Problem(path=name, message=f"must be a {expected.__name__}"))
    return problems
