"""The shared types of a subject's document (kind `canvas` or `model`) and the one mapping
between them and the models.

Schema (top-level shared types of the pycrdt/Yjs document):

    meta: Map                      the subject (iiif.Subject fields, plain JSON values):
        kind, id, iiif_id, iiif_type, label, label_map, manifest, manifest_label, index,
        width, height, duration, image, image_service, thumbnail, asset
    annotations: Map               annotation id -> Map:
        motivation: str
        body: Array of Map         one Map per body:
            TextualBody:       type, value (Text), format, language?, purpose?
            SpecificResource:  type, source ({id, label?, type?}), purpose?
            web resource:      id, type?, label?, format?   (e.g. an AAT term)
        target: JSON               the W3C target (one value, or a list): a canvas IRI,
                                   `canvas#xywh=...`, a SpecificResource object with
                                   `source` and `selector`, or for a reply an annotation id
        creator: JSON?             {id?, type, name?}
        created, modified: str?    ISO 8601
        canonical, via: str?       IRIs (Web Annotation Protocol: kept as given)

Text bodies are `Text` so that several people can write one comment at once; everything a
person edits as a whole (a target moved, a creator) is a plain JSON value, replaced whole.
Clients write this same shape (e.g. `Y.Map` / `Y.Array` / `Y.Text` in y-websocket).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pycrdt import Array, Doc, Map, Text
from pydantic import ValidationError

from iiif import Subject

from .checks import check_annotation
from .crdt_values import plain, replace_text, update_map
from .jsonld import to_jsonld
from .models import (
    ID_PATTERN,
    Annotation,
    Resource,
    SpecificResourceBody,
    TextualBody,
    is_user_agent,
)
from .problems import Invalid, Problem, from_validation_error, join_path

ANNOTATIONS = "annotations"
META = "meta"

MOTIVATION = "motivation"
BODY = "body"
TARGET = "target"
CREATOR = "creator"
CREATED = "created"
MODIFIED = "modified"
CANONICAL = "canonical"
VIA = "via"
ANNOTATION_KEYS = frozenset({MOTIVATION, BODY, TARGET, CREATOR, CREATED, MODIFIED, CANONICAL, VIA})

BODY_KEYS = frozenset({"type", "value", "format", "language", "purpose", "source", "id", "label"})


def _annotations(doc: Doc) -> Map:
    return doc.get(ANNOTATIONS, type=Map)


def _meta(doc: Doc) -> Map:
    return doc.get(META, type=Map)


# ---------------------------------------------------------------------------- writing


def _is_textual(fields: Any) -> bool:
    return isinstance(fields, dict | Map) and fields.get("type") == "TextualBody"


def _new_body(body: TextualBody | SpecificResourceBody | Resource) -> Map:
    fields = body.to_json()
    if isinstance(body, TextualBody):
        fields["value"] = Text(body.value)
    return Map(fields)


def _update_body(existing: Map, body: TextualBody | SpecificResourceBody | Resource) -> bool:
    """Update a body Map in place; False when it must be replaced (another kind of body)."""
    fields = body.to_json()
    if _is_textual(existing) != isinstance(body, TextualBody):
        return False
    if isinstance(body, TextualBody):
        text = existing.get("value")
        if not isinstance(text, Text):
            return False
        replace_text(text, body.value)
        del fields["value"]
    update_map(existing, fields, keep={"value"} if isinstance(body, TextualBody) else set())
    return True


def write_annotation(doc: Doc, annotation: Annotation) -> None:
    """Create or replace one annotation, in one transaction.

    Replacing keeps each textual body's `Text` where the body is still textual, editing only
    the changed part, so people typing in it keep their keystrokes.
    """
    # A Sinopia user's name is looked up when read, never stored (erasure).
    data = annotation.as_stored().to_json()
    kept = (MOTIVATION, TARGET, CREATOR, CREATED, MODIFIED, CANONICAL, VIA)
    fields = {k: data[k] for k in kept if k in data}
    with doc.transaction():
        annotations = _annotations(doc)
        existing = annotations.get(annotation.id)
        if not isinstance(existing, Map):
            annotations[annotation.id] = Map(
                {**fields, BODY: Array([_new_body(b) for b in annotation.body])}
            )
            return
        update_map(existing, fields, keep={BODY})
        bodies = existing.get(BODY)
        if not isinstance(bodies, Array):
            existing[BODY] = Array([_new_body(b) for b in annotation.body])
            return
        for index, body in enumerate(annotation.body):
            if index < len(bodies):
                current = bodies[index]
                if isinstance(current, Map) and _update_body(current, body):
                    continue
                del bodies[index]
                bodies.insert(index, _new_body(body))
            else:
                bodies.append(_new_body(body))
        if len(bodies) > len(annotation.body):
            del bodies[len(annotation.body) :]


def delete_annotation(doc: Doc, annotation_id: str, *, with_replies: bool = False) -> list[str]:
    """Delete an annotation (and, if asked, the replies to it, at any depth) in one
    transaction. Returns the ids deleted; empty when there was no such annotation."""
    with doc.transaction():
        annotations = _annotations(doc)
        if annotation_id not in annotations:
            return []
        doomed = [annotation_id]
        if with_replies:
            replies = _reply_index(annotations)
            for current in doomed:
                doomed += [r for r in replies.get(current, []) if r not in doomed]
        for key in doomed:
            del annotations[key]
        return doomed


def _reply_index(annotations: Map) -> dict[str, list[str]]:
    index: dict[str, list[str]] = {}
    for key in annotations.keys():
        entry = annotations.get(key)
        if not isinstance(entry, Map) or entry.get(MOTIVATION) != "replying":
            continue
        target = plain(entry.get(TARGET))
        for item in target if isinstance(target, list) else [target]:
            if isinstance(item, str):
                index.setdefault(item, []).append(key)
    return index


# ---------------------------------------------------------------------------- reading


def _entry_json(annotation_id: str, entry: Any) -> dict[str, Any]:
    """The stored JSON form of one entry, for the model or for history."""
    data = plain(entry)
    if not isinstance(data, dict):
        return {"id": annotation_id, "_invalid": data}
    return {"id": annotation_id, "type": "Annotation", **data}


def read_annotation(doc: Doc, annotation_id: str) -> Annotation | None:
    """One annotation, or None if there is none. Raises Invalid if it is stored malformed."""
    entry = _annotations(doc).get(annotation_id)
    if entry is None:
        return None
    try:
        return Annotation.model_validate(_entry_json(annotation_id, entry))
    except ValidationError as error:
        raise Invalid(from_validation_error(error, join_path(ANNOTATIONS, annotation_id))) from None


def read_annotations(doc: Doc) -> list[Annotation]:
    """Every well-formed annotation, oldest first (undated last, then by id). Malformed
    entries are left out here; `validate_document` reports them."""
    out: list[Annotation] = []
    annotations = _annotations(doc)
    for key in annotations.keys():
        try:
            out.append(Annotation.model_validate(_entry_json(key, annotations.get(key))))
        except ValidationError:
            continue
    out.sort(key=lambda a: (a.created is None, a.created.timestamp() if a.created else 0.0, a.id))
    return out


def annotation_jsonld(doc: Doc, annotation_id: str, container: str) -> dict[str, Any] | None:
    """One annotation as W3C JSON-LD, or None if there is none. Raises Invalid if it is
    stored malformed."""
    annotation = read_annotation(doc, annotation_id)
    return to_jsonld(annotation, container) if annotation else None


def annotations_jsonld(doc: Doc, container: str) -> list[dict[str, Any]]:
    """Every annotation as W3C JSON-LD, ids under the container IRI."""
    return [to_jsonld(a, container) for a in read_annotations(doc)]


def annotation_ids(doc: Doc) -> list[str]:
    return sorted(_annotations(doc).keys())


def annotations_json(doc: Doc) -> dict[str, dict[str, Any]]:
    """The plain view of the annotations map (id -> stored JSON form), as history diffs it."""
    annotations = _annotations(doc)
    return {key: _entry_json(key, annotations.get(key)) for key in sorted(annotations.keys())}


# ---------------------------------------------------------------------------- meta


def write_subject(doc: Doc, subject: Subject) -> None:
    """Record which IIIF canvas or model this document annotates (on import)."""
    fields = subject.model_dump(mode="json", exclude_none=True)
    with doc.transaction():
        update_map(_meta(doc), fields)


def read_subject(doc: Doc) -> Subject | None:
    """The subject this document annotates, or None before import. Raises Invalid if the
    stored meta is malformed."""
    data = plain(_meta(doc))
    if not data:
        return None
    try:
        return Subject.model_validate(data)
    except ValidationError as error:
        raise Invalid(from_validation_error(error, META)) from None


def meta_json(doc: Doc) -> dict[str, Any]:
    return plain(_meta(doc))


# ---------------------------------------------------------------------------- validation


def validate_document(
    doc: Doc, *, kind: str | None = None, only: Iterable[str] | None = None
) -> list[Problem]:
    """Everything wrong with a subject document: malformed meta, entries that are not
    annotations, shared types of the wrong kind, targets off this subject or outside the
    canvas. `only` limits the annotation checks to those ids (the ones an update touched),
    so an old problem elsewhere never blocks a new edit."""
    problems: list[Problem] = []
    subject: Subject | None = None
    try:
        subject = read_subject(doc)
    except Invalid as error:
        problems += error.problems
    if subject is not None and kind is not None and subject.kind != kind:
        problems.append(
            Problem(path=f"{META}/kind", message=f"is {subject.kind!r} in a {kind} document")
        )
    annotations = _annotations(doc)
    keys = list(annotations.keys()) if only is None else [k for k in only if k in annotations]
    for key in keys:
        problems += _entry_problems(key, annotations.get(key), subject, kind)
    return problems


def _named_creator(entry: Any) -> str | None:
    """A creator with a Sinopia user id and a name, as a comparable string."""
    creator = entry.get(CREATOR) if isinstance(entry, Map) else None
    if isinstance(creator, dict) and is_user_agent(creator.get("id")) and "name" in creator:
        return json.dumps(creator, sort_keys=True)
    return None


def named_creators(doc: Doc) -> set[str]:
    """The named creators that annotations of `doc` carry (written before names were
    looked up when read): `creator_problems` lets these be written again."""
    found = (_named_creator(entry) for entry in _annotations(doc).values())
    return {c for c in found if c is not None}


def creator_problems(
    doc: Doc, annotation_ids: Iterable[str], known: set[str] | frozenset[str] = frozenset()
) -> list[Problem]:
    """A Sinopia user's name written into an annotation's creator: refused, since a name
    in the document and its hash-chained history could never be erased. Such a creator is
    `{id, type}`; readers look the name up (server.directory.people). A creator in `known`
    passes: it is in the history already (undoing the deletion of an old annotation
    writes it again), so writing it again adds nothing erasure could remove."""
    problems = []
    annotations = _annotations(doc)
    for key in sorted(annotation_ids):
        named = _named_creator(annotations.get(key))
        if named is not None and named not in known:
            problems.append(
                Problem(
                    path=join_path(ANNOTATIONS, key, CREATOR, "name"),
                    message="a Sinopia user is stored by id alone (names are looked up)",
                )
            )
    return problems


def body_problems(doc: Doc, annotation_id: str, index: int) -> list[Problem]:
    """What is wrong with one textual body of an annotation (its text was edited)."""
    where = join_path(ANNOTATIONS, annotation_id, BODY, index)
    entry = _annotations(doc).get(annotation_id)
    bodies = entry.get(BODY) if isinstance(entry, Map) else None
    if not isinstance(bodies, Array) or index >= len(bodies):
        return []  # the annotation or body is gone: nothing left to be wrong
    body = bodies[index]
    if not isinstance(body, Map) or not _is_textual(body):
        return []  # the text edit hit a body being replaced; its checks are elsewhere
    try:
        TextualBody.model_validate(plain(body))
    except ValidationError as error:
        return from_validation_error(error, where)
    return []


def _entry_problems(
    key: str, entry: Any, subject: Subject | None, kind: str | None
) -> list[Problem]:
    where = join_path(ANNOTATIONS, key)
    if not ID_PATTERN.fullmatch(key):
        return [Problem(path=where, message="annotation ids are 1-128 of A-Z a-z 0-9 . _ -")]
    if not isinstance(entry, Map):
        return [Problem(path=where, message="an annotation must be a map")]
    problems = [
        Problem(path=join_path(where, name), message="is not an annotation field")
        for name in entry.keys()
        if name not in ANNOTATION_KEYS
    ]
    bodies = entry.get(BODY)
    if bodies is not None and not isinstance(bodies, Array):
        problems.append(Problem(path=join_path(where, BODY), message="must be an array of maps"))
    for index, body in enumerate(bodies if isinstance(bodies, Array) else []):
        path = join_path(where, BODY, index)
        if not isinstance(body, Map):
            problems.append(Problem(path=path, message="a body must be a map"))
            continue
        problems += [
            Problem(path=join_path(path, name), message="is not a body field")
            for name in body.keys()
            if name not in BODY_KEYS
        ]
        if body.get("type") == "TextualBody" and not isinstance(body.get("value"), Text):
            problems.append(
                Problem(path=join_path(path, "value"), message="a textual body's value is a Text")
            )
    for name in (TARGET, CREATOR, MOTIVATION, CREATED, MODIFIED, CANONICAL, VIA):
        if isinstance(entry.get(name), Map | Array | Text):
            problems.append(
                Problem(path=join_path(where, name), message="must be a plain JSON value")
            )
    if problems:
        return problems
    try:
        annotation = Annotation.model_validate(_entry_json(key, entry))
    except ValidationError as error:
        return from_validation_error(error, where)
    if subject is None:
        return []
    found = check_annotation(
        annotation,
        source=subject.iiif_id,
        width=subject.width,
        height=subject.height,
        kind=kind or subject.kind,
    )
    return [Problem(path=join_path(where, p.path), message=p.message) for p in found]
