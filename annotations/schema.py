"""The document schema by kind: which shared types a `canvas`, `model` or `report` document
has, its plain view for history, its validation, and the check a room runs on a client's
update before accepting it.
"""

from __future__ import annotations

from typing import Any

from pycrdt import Array, Doc, Map, Text, TextEvent

from . import report_document, subject_document
from .problems import Problem
from .vocabularies import Vocabulary

KINDS = ("canvas", "model", "report")

# name -> shared type, per kind.
ROOTS: dict[str, dict[str, type[Map] | type[Array] | type[Text]]] = {
    "canvas": {subject_document.META: Map, subject_document.ANNOTATIONS: Map},
    "model": {subject_document.META: Map, subject_document.ANNOTATIONS: Map},
    "report": {
        report_document.REPORT: Map,
        **dict.fromkeys(report_document.TEXTS, Text),
        **dict.fromkeys(report_document.LISTS, Array),
        **dict.fromkeys(report_document.LOGS, Array),
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


def validate(doc: Doc, kind: str, *, terms: Vocabulary | None = None) -> list[Problem]:
    """Everything wrong with a whole document (`terms`: a report's damage vocabulary)."""
    problems = [
        Problem(path=name, message=f"is not part of a {kind} document")
        for name in doc.keys()
        if name not in ROOTS[_kind(kind)]
    ]
    if kind == "report":
        return problems + report_document.validate_report_document(doc, terms=terms)
    return problems + subject_document.validate_document(doc, kind=kind)


def check_update(
    doc: Doc,
    update: bytes,
    kind: str,
    *,
    other_roots: bool = False,
    terms: Vocabulary | None = None,
) -> list[Problem]:
    """The problems `update` would bring into `doc`, which is left unchanged: new shared
    types, shared types of the wrong kind, and the annotations, subject or report it
    touches. Problems that were there before the update are not its fault and are not
    reported, so one bad old entry never locks a document.

    `other_roots`: top-level shared types outside the schema are allowed (and not
    checked); the schema's own roots are checked all the same. A report's lock and its
    workflow fields give `denied` problems (and only those, when there are any)."""
    return CheckedCopy(doc, kind, other_roots=other_roots, terms=terms).apply(update)


class CheckedCopy:
    """A copy of a document that updates are checked on before the document takes them.

    `apply(update)` applies the update to the copy and returns the problems it brought
    (as `check_update`); the copy then holds the update whatever the verdict. A server
    keeps one per live document so that a check costs the update rather than a copy of
    the whole document, and an update that touches none of the schema's roots costs
    hardly more than applying it. `follow(doc)` catches up with changes the document
    took without a check (the server's own writes, other instances)."""

    def __init__(
        self,
        doc: Doc,
        kind: str,
        *,
        other_roots: bool = False,
        terms: Vocabulary | None = None,
    ) -> None:
        self.kind = _kind(kind)
        self.other_roots = other_roots
        # A report's damage vocabulary (its workspace's terms); may be replaced any time.
        self.terms = terms
        self.doc: Doc = Doc()
        self.doc.apply_update(doc.get_update())
        # Creators stored with a name before names were looked up: may be written again.
        self._named = subject_document.named_creators(self.doc) if kind != "report" else set()
        self._touched: set[str] = set()
        # Annotations whose creator this update set (a new one, or the field replaced).
        self._creators: set[str] = set()
        self._typed: set[tuple[str, int]] = set()  # (annotation id, body index)
        self._meta_touched = False
        self._schema_touched = False
        self._root_changed = False  # a root itself changed (not only what is inside)
        # A report's content and problems before the next update (None: to be read).
        self._report: tuple[dict[str, Any], set[Problem]] | None = None
        # pycrdt drops an observer once its subscription is garbage: kept with the copy.
        self._subscriptions: list[Any] = []
        if kind != "report":
            self._subscriptions = [
                self.doc.get(subject_document.ANNOTATIONS, type=Map).observe_deep(
                    self._on_annotations
                ),
                self.doc.get(subject_document.META, type=Map).observe_deep(self._on_meta),
            ]
        else:
            self._subscriptions = [
                self.doc.get(name, type=shared).observe_deep(self._on_report)
                for name, shared in ROOTS["report"].items()
            ]

    def _on_annotations(self, events: list[Any]) -> None:
        self._schema_touched = True
        for event in events:
            path = list(getattr(event, "path", []))
            if (
                isinstance(event, TextEvent)
                and len(path) == 4
                and path[1] == subject_document.BODY
                and path[3] == "value"
            ):
                # Someone typing in a comment: only that body can have become wrong
                # (too long, unsafe HTML), so only that body is checked.
                self._typed.add((str(path[0]), int(path[2])))
            elif path:
                self._touched.add(str(path[0]))
                if len(path) == 1 and subject_document.CREATOR in (
                    getattr(event, "keys", None) or {}
                ):
                    self._creators.add(str(path[0]))
            else:
                self._root_changed = True
                added = [str(k) for k in (getattr(event, "keys", None) or {})]
                self._touched.update(added)
                self._creators.update(added)

    def _on_meta(self, events: list[Any]) -> None:
        self._schema_touched = self._meta_touched = True
        if any(not list(getattr(event, "path", [])) for event in events):
            self._root_changed = True

    def _on_report(self, events: list[Any]) -> None:
        self._schema_touched = True
        if any(not list(getattr(event, "path", [])) for event in events):
            self._root_changed = True

    def follow(self, doc: Doc) -> bool:
        """Catch up with `doc`; False if this copy holds something `doc` does not (an
        update refused after it was checked here): then it must be made anew."""
        state = doc.get_state()
        if self.doc.get_state() == state:
            return True
        # The delete set comes along whole, so deletions are caught up too.
        self.doc.apply_update(doc.get_update(self.doc.get_state()))
        self._report = None
        return self.doc.get_state() == state

    def apply(self, update: bytes) -> list[Problem]:
        """Apply `update` here and return the problems it brings. Raises ValueError (and
        changes nothing) for an update pycrdt cannot decode."""
        kind = self.kind
        roots_before = set(self.doc.keys()) if not self.other_roots else set()
        self._touched, self._typed, self._creators = set(), set(), set()
        self._meta_touched = self._schema_touched = self._root_changed = False
        if kind == "report" and self._report is None:
            self._report = (
                report_document.report_json(self.doc),
                set(report_document.validate_report_document(self.doc, terms=self.terms)),
            )
        self.doc.apply_update(update)
        if not self._schema_touched and self.other_roots:
            return []  # nothing of the schema changed, and other roots are free
        problems = [
            Problem(path=name, message=f"is not part of a {kind} document")
            for name in (self.doc.keys() if not self.other_roots else ())
            if name not in ROOTS[kind] and name not in roots_before
        ]
        if kind == "report":
            assert self._report is not None
            report_before, problems_before = self._report
            report_after = report_document.report_json(self.doc)
            denied = report_document.check_report_change(report_before, report_after)
            if denied:
                self._report = None  # the copy now holds what the document will not
                return denied
            found = report_document.validate_report_document(self.doc, terms=self.terms)
            problems += [p for p in found if p not in problems_before]
            self._report = (report_after, set(found))
        elif self._touched or self._meta_touched:
            found = subject_document.validate_document(self.doc, kind=kind, only=self._touched)
            problems += [
                p
                for p in found
                if self._meta_touched or not p.path.startswith(subject_document.META)
            ]
        if kind != "report":
            # Only a creator set now: names stored before this rule stay editable.
            problems += subject_document.creator_problems(self.doc, self._creators, self._named)
            for key, index in sorted(self._typed):
                if key not in self._touched:
                    problems += subject_document.body_problems(self.doc, key, index)
        if self._root_changed:
            # Only a change to a root itself can give it content of another type.
            problems += _misused_roots(self.doc, kind)
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
        # Reading a root as another type re-types it: back to what the schema says, for
        # the observers of a CheckedCopy and for the next reader.
        doc.get(name, type=expected)
    return problems
