"""Workspace vocabularies: terms of a workspace's own, and import of a SKOS vocabulary
(Turtle, RDF/XML or JSON-LD, read by rdflib) or a CSV.

A SKOS concept becomes a term with its `skos:prefLabel`s as labels (English, or the first
language given, is the main label), its `skos:definition` as description, its own IRI as
`uri`, and an AAT id when it states `skos:exactMatch` to a `vocab.getty.edu/aat/` concept.
A CSV has a header row with `value` (or `id`) and `label`, optionally `label_fr`,
`label_de`, `label_it` (any `label_xx`), `aat`, `uri` and `description`.

Limits: an import holds at most MAX_TERMS terms and MAX_BYTES of input; a value is a safe
id (letters, digits, `.`, `_`, `-`), a label at most 200 characters. A bad row or concept
is reported with where it is, and nothing is imported.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SKOS

from .models import ID_PATTERN, is_iri
from .problems import Invalid, Problem, from_validation_error
from .vocabularies import AAT_PREFIX, Term

MAX_TERMS = 2000
MAX_BYTES = 4 * 1024 * 1024
_AAT_ID = re.compile(r"3\d{8}")
_LANG = re.compile(r"[a-z]{2,3}")
FORMATS = {
    "text/turtle": "turtle",
    "application/rdf+xml": "xml",
    "application/ld+json": "json-ld",
    "text/csv": "csv",
}


class WorkspaceTerm(BaseModel):
    """A term a workspace adds to its damage vocabulary."""

    value: str
    label: str = Field(min_length=1, max_length=200)
    labels: dict[str, str] = Field(default_factory=dict)
    aat: str | None = None
    uri: str | None = Field(None, max_length=2048)
    description: str | None = Field(None, max_length=2000)

    @field_validator("value")
    @classmethod
    def _value(cls, value: str) -> str:
        if not ID_PATTERN.fullmatch(value):
            raise ValueError(f"value {value[:80]!r}: letters, digits, '.', '_' or '-' only")
        return value

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        for language, label in value.items():
            if not _LANG.fullmatch(language) or not 0 < len(label) <= 200:
                raise ValueError(f"label {language!r}: a language code and 1 to 200 characters")
        return value

    @field_validator("aat")
    @classmethod
    def _aat(cls, value: str | None) -> str | None:
        if value is not None:
            value = value.removeprefix(AAT_PREFIX)
            if not _AAT_ID.fullmatch(value):
                raise ValueError(f"aat {value[:40]!r} is not an AAT id (nine digits, 3...)")
        return value

    @field_validator("uri")
    @classmethod
    def _uri(cls, value: str | None) -> str | None:
        if value is not None and not is_iri(value):
            raise ValueError(f"uri {value[:80]!r} is not an IRI")
        return value

    def term(self, source: str) -> Term:
        # The workspace states this id itself: a curator of the workspace checks it.
        return Term(
            value=self.value,
            label=self.label,
            labels=self.labels or {"en": self.label},
            aat=self.aat,
            uri=self.uri,
            source=source,
            description=self.description,
        )


def _checked(rows: list[tuple[str, dict[str, Any]]]) -> list[WorkspaceTerm]:
    if len(rows) > MAX_TERMS:
        raise Invalid([Problem(path="", message=f"more than {MAX_TERMS} terms")])
    problems: list[Problem] = []
    out: list[WorkspaceTerm] = []
    seen: set[str] = set()
    for where, data in rows:
        try:
            term = WorkspaceTerm.model_validate(data)
        except ValidationError as error:
            problems += from_validation_error(error, prefix=where)
            continue
        if term.value in seen:
            problems.append(Problem(path=where, message=f"value {term.value!r} appears twice"))
        seen.add(term.value)
        out.append(term)
    if problems:
        raise Invalid(problems)
    if not out:
        raise Invalid([Problem(path="", message="no terms found")])
    return out


def _size(data: bytes | str) -> None:
    size = len(data.encode() if isinstance(data, str) else data)
    if size > MAX_BYTES:
        raise Invalid([Problem(path="", message=f"{size} bytes; the limit is {MAX_BYTES}")])


def from_csv(text: str) -> list[WorkspaceTerm]:
    _size(text)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    if not ({"value", "id"} & set(fields)) or "label" not in fields:
        raise Invalid([Problem(path="", message="the header needs value (or id) and label")])
    rows: list[tuple[str, dict[str, Any]]] = []
    for number, raw in enumerate(reader, start=2):
        record = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        labels = {
            k.removeprefix("label_"): v for k, v in record.items() if k.startswith("label_") and v
        }
        label = record.get("label", "")
        data: dict[str, Any] = {
            "value": record.get("value") or record.get("id", ""),
            "label": label,
            "labels": {"en": label, **labels} if label else labels,
        }
        for key in ("aat", "uri", "description"):
            if record.get(key):
                data[key] = record[key]
        rows.append((f"line {number}", data))
    return _checked(rows)


def from_skos(data: bytes | str, media_type: str) -> list[WorkspaceTerm]:
    """Concepts of a SKOS file (Turtle, RDF/XML or JSON-LD with its context inline)."""
    _size(data)
    rdf_format = FORMATS.get(media_type)
    if rdf_format in (None, "csv"):
        raise Invalid([Problem(path="", message=f"{media_type} is not a SKOS format")])
    graph = Graph()
    try:
        graph.parse(data=data, format=rdf_format)
    except Exception as error:  # rdflib raises many kinds for bad input
        raise Invalid([Problem(path="", message=f"not {media_type}: {error}"[:300])]) from None
    rows: list[tuple[str, dict[str, Any]]] = []
    for concept in sorted(set(graph.subjects(RDF.type, SKOS.Concept)), key=str):
        if not isinstance(concept, URIRef):
            continue
        labels: dict[str, str] = {}
        for literal in graph.objects(concept, SKOS.prefLabel):
            language = getattr(literal, "language", None) or "en"
            labels.setdefault(language.lower(), str(literal))
        label = labels.get("en") or next(iter(labels.values()), "")
        aat = next(
            (
                str(o).removeprefix(AAT_PREFIX)
                for o in graph.objects(concept, SKOS.exactMatch)
                if str(o).startswith(AAT_PREFIX)
            ),
            None,
        )
        value = _value_of(str(concept))
        entry: dict[str, Any] = {
            "value": value,
            "label": label,
            "labels": labels,
            "uri": str(concept),
        }
        if aat:
            entry["aat"] = aat
        definition = next(iter(graph.objects(concept, SKOS.definition)), None)
        if definition is not None:
            entry["description"] = str(definition)[:2000]
        rows.append((f"<{concept}>", entry))
    return _checked(rows)


def _value_of(iri: str) -> str:
    """A term value from a concept IRI: its last path segment or fragment, made safe."""
    tail = re.split(r"[/#]", iri.rstrip("/#"))[-1]
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", tail).strip("-._")[:128]
    return safe or "term"


def parse(data: bytes, media_type: str) -> list[WorkspaceTerm]:
    """Terms from an uploaded vocabulary: CSV, or SKOS in Turtle, RDF/XML or JSON-LD."""
    media_type = media_type.split(";")[0].strip().lower()
    if media_type not in FORMATS:
        raise Invalid(
            [Problem(path="", message=f"send one of: {', '.join(FORMATS)} (not {media_type})")]
        )
    if media_type == "text/csv":
        try:
            return from_csv(data.decode("utf-8"))
        except UnicodeDecodeError:
            raise Invalid([Problem(path="", message="the CSV must be UTF-8")]) from None
    return from_skos(data, media_type)
