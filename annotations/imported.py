"""Annotations that arrive with an imported manifest, as this document schema keeps them.

Each one gets a local id derived from its IRI (so importing the same manifest again finds
it and never makes a second copy), keeps that IRI as `via` (where it was copied from, in
the Web Annotation Protocol's words), keeps its own creator and dates when it states them,
and is otherwise attributed to the person who imported it. What a publisher writes that
the schema refuses but that can be kept in a safer form is kept with a note (HTML with
markup we do not allow becomes its plain text; a drawn shape refused beside a rectangle
leaves the rectangle); anything else is refused with the reasons, for the caller to report.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from typing import Any

from iiif import Subject

from .checks import check_annotation
from .jsonld import parse_annotation
from .markup import check_html, check_svg
from .models import Agent, Annotation, is_iri
from .problems import Invalid, Problem

IMPORTED_PREFIX = "iiif-"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_TAG = re.compile(r"<[^>]*>")
# Fields a publisher may state in a form we cannot keep, without which the annotation
# still says what it says: dropped with a note rather than losing the annotation.
_OPTIONAL = ("creator", "created", "modified", "canonical", "generator", "generated")


def imported_id(source: str) -> str:
    """The local id of the annotation copied from `source` (its IRI): readable, stable."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    tail = source.rstrip("/").rsplit("/", 1)[-1].split("#")[-1]
    slug = _UNSAFE.sub("-", tail).strip("-._")[:40].rstrip("-._")
    return f"{IMPORTED_PREFIX}{slug + '-' if slug else ''}{digest}"


@dataclass
class Mapped:
    annotation: Annotation
    notes: list[str] = field(default_factory=list)


def _plain(value: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", value)).split())


def _safer_bodies(data: dict[str, Any], notes: list[str]) -> None:
    bodies = data.get("body")
    for body in bodies if isinstance(bodies, list) else [bodies]:
        if not isinstance(body, dict) or body.get("type") != "TextualBody":
            continue
        value = body.get("value")
        if body.get("format") == "text/html" and isinstance(value, str) and check_html(value):
            body["value"] = _plain(value)
            body["format"] = "text/plain"
            notes.append("its HTML has markup Sinopia does not keep; kept as plain text")


def _safer_selectors(data: dict[str, Any], notes: list[str]) -> None:
    targets = data.get("target")
    for target in targets if isinstance(targets, list) else [targets]:
        if not isinstance(target, dict) or not isinstance(target.get("selector"), list):
            continue
        selectors = target["selector"]
        kept = [
            s
            for s in selectors
            if not (
                isinstance(s, dict)
                and s.get("type") == "SvgSelector"
                and check_svg(str(s.get("value", "")))
            )
        ]
        if kept and len(kept) < len(selectors):
            target["selector"] = kept
            notes.append(
                "its drawn shape was refused (" + _svg_reason(selectors) + "); kept the rest"
            )


def _svg_reason(selectors: list[Any]) -> str:
    for s in selectors:
        if isinstance(s, dict) and s.get("type") == "SvgSelector":
            problems = check_svg(str(s.get("value", "")))
            if problems:
                return problems[0]
    return "refused"


def map_imported(
    data: dict[str, Any],
    *,
    source: str,
    container: str,
    subject: Subject,
    importer: Agent | None,
) -> Mapped:
    """The annotation `data` (W3C JSON, as `iiif.carried` reads it) copied from `source`
    onto `subject`, or Invalid saying why it cannot be."""
    notes: list[str] = []
    fields = {k: v for k, v in data.items() if k not in ("id", "@context")}
    fields["type"] = "Annotation"
    _safer_bodies(fields, notes)
    _safer_selectors(fields, notes)
    local = imported_id(source)
    try:
        annotation = parse_annotation(fields, container, id=local)
    except Invalid as error:
        optional = [p for p in error.problems if p.path.split("/")[0] in _OPTIONAL]
        if not optional or len(optional) < len(error.problems):
            raise
        dropped = sorted({p.path.split("/")[0] for p in optional})
        for name in dropped:
            fields.pop(name, None)
        notes.append(f"its {', '.join(dropped)} could not be read and was left out")
        annotation = parse_annotation(fields, container, id=local)
    problems = check_annotation(
        annotation,
        source=subject.iiif_id,
        width=subject.width,
        height=subject.height,
        kind=subject.kind,
    )
    if problems:
        raise Invalid(problems)
    update: dict[str, Any] = {}
    if is_iri(source) and annotation.via is None:
        update["via"] = source
    if annotation.creator is None and importer is not None:
        update["creator"] = importer
    if update:
        annotation = annotation.model_copy(update=update)
    return Mapped(annotation, notes)


def importer_agent(principal: str) -> Agent:
    """Who an import is attributed to when an annotation names no creator and no person is
    signed in (a token, the command line): the import, by the principal that ran it."""
    return Agent(type="Software", name=f"IIIF import by {principal}"[:200])


__all__ = ["IMPORTED_PREFIX", "Mapped", "Problem", "imported_id", "importer_agent", "map_imported"]
