"""W3C Web Annotations as Sinopia uses them.

An `Annotation` here is the content of one annotation in a subject's document. Its `id` is
local (a path segment of the subject's annotation container); `jsonld.py` turns it into the
full IRI. Targets are IIIF canvases (region, shape or point), 3D models (a surface point)
or, for replies, another annotation: a local id when it is in the same container, an IRI
otherwise.

Field names and JSON forms follow the W3C model so that what a client writes into the live
document and what REST readers get differ only by ids and `@context`.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    Tag,
    field_validator,
    model_validator,
)

from .markup import check_html
from .selectors import PointSelector3D, Selector
from .vocabularies import BODY_PURPOSES, MOTIVATIONS

# One textual body of more than this (UTF-8) is refused: 64 KiB is a long essay, and every
# body is sent to every collaborator and kept in every version of the document's history.
MAX_BODY_BYTES = 64 * 1024
MAX_BODIES = 32
MAX_TARGETS = 16
MAX_SELECTORS = 4

# Annotation ids are a path segment of the container IRI, like document ids.
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
# Enough of RFC 3987 to refuse what is clearly not an IRI: a scheme, then no spaces.
IRI_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+")
_LANGUAGE = re.compile(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*")

TEXT_FORMATS = ("text/plain", "text/html", "text/markdown")


def is_iri(value: str) -> bool:
    return bool(IRI_PATTERN.fullmatch(value))


def new_annotation_id() -> str:
    """A fresh annotation id (random, so concurrent creators never collide)."""
    return uuid.uuid4().hex


def _iri(value: str) -> str:
    if not is_iri(value):
        raise ValueError(f"{value[:80]!r} is not an IRI")
    return value


def _timestamp(value: datetime) -> str:
    text = value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")
    return text.replace("+00:00", "Z")


Iri = Annotated[str, Field(max_length=2048)]  # checked as an IRI where it must be one
Timestamp = Annotated[AwareDatetime, PlainSerializer(_timestamp, return_type=str)]


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    def to_json(self) -> dict[str, Any]:
        """The W3C JSON form (aliases, no empty fields)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


# The creator id of a Sinopia user (`urn:sinopia:user:<user id>`): pseudonymous, only the
# directory maps it to the person (server.directory.people). Such a creator is stored
# without a name, which readers look up when they read, so that erasing the person leaves
# no name in a document or its history.
USER_AGENT_PREFIX = "urn:sinopia:user:"


def is_user_agent(iri: object) -> bool:
    return isinstance(iri, str) and iri.startswith(USER_AGENT_PREFIX)


class Agent(_Model):
    """Who made an annotation: a person, or software such as an importer or a model."""

    id: Iri | None = None
    type: Literal["Person", "Software", "Organization"] = "Person"
    name: str | None = Field(None, max_length=200)

    @field_validator("id")
    @classmethod
    def _id_is_iri(cls, value: str | None) -> str | None:
        return _iri(value) if value is not None else None

    @model_validator(mode="after")
    def _identified(self) -> Self:
        if self.id is None and not self.name:
            raise ValueError("a creator needs an id or a name")
        return self


# ---------------------------------------------------------------------------- bodies


class TextualBody(_Model):
    """Text people write: a comment, a description, a tag word, a reply."""

    type: Literal["TextualBody"] = "TextualBody"
    value: str
    format: str = "text/plain"
    language: str | None = None
    purpose: str | None = None

    @field_validator("value")
    @classmethod
    def _not_huge(cls, value: str) -> str:
        size = len(value.encode())
        if size > MAX_BODY_BYTES:
            raise ValueError(f"the text is {size} bytes; the limit is {MAX_BODY_BYTES}")
        return value

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if value not in TEXT_FORMATS:
            raise ValueError(f"format {value!r} is not one of {', '.join(TEXT_FORMATS)}")
        return value

    @field_validator("language")
    @classmethod
    def _language_tag(cls, value: str | None) -> str | None:
        if value is not None and not _LANGUAGE.fullmatch(value):
            raise ValueError(f"language {value!r} is not a BCP 47 tag such as 'en' or 'fr-CA'")
        return value

    @field_validator("purpose")
    @classmethod
    def _known_purpose(cls, value: str | None) -> str | None:
        return BODY_PURPOSES.expect(value) if value is not None else None

    @model_validator(mode="after")
    def _safe_html(self) -> Self:
        if self.format == "text/html":
            problems = check_html(self.value)
            if problems:
                raise ValueError("HTML refused: " + "; ".join(problems))
        return self


class Resource(_Model):
    """A web resource named by IRI: a vocabulary term (Getty AAT, Iconclass, Wikidata...),
    a related record, a bibliography entry. `label` is what people see."""

    id: Iri
    type: str | None = None
    label: str | None = Field(None, max_length=500)
    format: str | None = None

    @field_validator("id")
    @classmethod
    def _id_is_iri(cls, value: str) -> str:
        return _iri(value)


class SpecificResourceBody(_Model):
    """A resource used in a role, e.g. an AAT term with purpose `classifying` or `tagging`."""

    type: Literal["SpecificResource"] = "SpecificResource"
    source: Resource
    purpose: str | None = None

    @field_validator("source", mode="before")
    @classmethod
    def _source_iri(cls, value: Any) -> Any:
        return {"id": value} if isinstance(value, str) else value

    @field_validator("purpose")
    @classmethod
    def _known_purpose(cls, value: str | None) -> str | None:
        return BODY_PURPOSES.expect(value) if value is not None else None


def _body_tag(value: Any) -> str:
    if isinstance(value, BaseModel):
        return type(value).__name__
    if isinstance(value, dict):
        kind = value.get("type")
        if kind in ("TextualBody", "SpecificResource"):
            return "TextualBody" if kind == "TextualBody" else "SpecificResourceBody"
    return "Resource"


Body = Annotated[
    Annotated[TextualBody, Tag("TextualBody")]
    | Annotated[SpecificResourceBody, Tag("SpecificResourceBody")]
    | Annotated[Resource, Tag("Resource")],
    Discriminator(_body_tag),
]


# ---------------------------------------------------------------------------- targets


class Source(_Model):
    """What a SpecificResource target selects from: a canvas, a 3D scene or model, or an
    annotation; `part_of` is the manifest it was opened from (the IIIF pattern that lets a
    viewer find it again)."""

    id: Iri
    type: str | None = None
    part_of: Iri | None = Field(None, alias="partOf")

    @field_validator("part_of", mode="before")
    @classmethod
    def _first_manifest(cls, value: Any) -> Any:
        # IIIF writes partOf as [{"id": ..., "type": "Manifest"}]; we keep the one manifest.
        if isinstance(value, list):
            value = value[0] if value else None
        if isinstance(value, dict):
            value = value.get("id") or value.get("@id")
        return value

    def to_json(self) -> dict[str, Any] | str:  # type: ignore[override]
        if self.type is None and self.part_of is None:
            return self.id
        data: dict[str, Any] = {"id": self.id}
        if self.type:
            data["type"] = self.type
        if self.part_of:
            data["partOf"] = [{"id": self.part_of, "type": "Manifest"}]
        return data


class SpecificTarget(_Model):
    """A part of a canvas or model: its `source` and the selector(s) saying which part.

    Several selectors are alternatives describing the same part (Mirador writes a
    FragmentSelector and an SvgSelector for one shape)."""

    type: Literal["SpecificResource"] = "SpecificResource"
    source: Source
    selector: list[Selector] = Field(default_factory=list, max_length=MAX_SELECTORS)

    @field_validator("source", mode="before")
    @classmethod
    def _source_iri(cls, value: Any) -> Any:
        return {"id": value} if isinstance(value, str) else value

    @field_validator("selector", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if value is None:
            return []
        return value if isinstance(value, list) else [value]

    @property
    def is_3d(self) -> bool:
        return any(isinstance(s, PointSelector3D) for s in self.selector)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": "SpecificResource", "source": self.source.to_json()}
        selectors = [
            s.model_dump(mode="json", by_alias=True, exclude_none=True) for s in self.selector
        ]
        if selectors:
            data["selector"] = selectors[0] if len(selectors) == 1 else selectors
        return data


def _target_tag(value: Any) -> str:
    return "Iri" if isinstance(value, str) else "SpecificTarget"


Target = Annotated[
    Annotated[str, Tag("Iri")] | Annotated[SpecificTarget, Tag("SpecificTarget")],
    Discriminator(_target_tag),
]


# ---------------------------------------------------------------------------- annotation


class Annotation(_Model):
    """One annotation of a subject.

    `target` and `body` are always lists here; JSON output collapses one-element lists as the
    W3C examples do. A string target is an IRI (a whole canvas, or `canvas#xywh=...`) or, for
    a reply, the local id of an annotation in the same container.
    """

    id: str
    type: Literal["Annotation"] = "Annotation"
    motivation: str = "commenting"
    body: list[Body] = Field(default_factory=list, max_length=MAX_BODIES)
    target: list[Target] = Field(min_length=1, max_length=MAX_TARGETS)
    creator: Agent | None = None
    created: Timestamp | None = None
    modified: Timestamp | None = None
    # The Web Annotation Protocol keeps these as given: `canonical` is the annotation's
    # one authoritative IRI wherever copies live, `via` the IRI it was copied from.
    canonical: Iri | None = None
    via: Iri | None = None

    @field_validator("canonical", "via")
    @classmethod
    def _link_is_iri(cls, value: str | None) -> str | None:
        return _iri(value) if value is not None else None

    @field_validator("id")
    @classmethod
    def _safe_id(cls, value: str) -> str:
        if not ID_PATTERN.fullmatch(value):
            raise ValueError(
                f"annotation id {value[:80]!r} must be 1-128 characters of A-Z a-z 0-9 . _ -, "
                "starting with a letter or digit"
            )
        return value

    @field_validator("motivation", mode="before")
    @classmethod
    def _one_motivation(cls, value: Any) -> Any:
        # W3C allows a list; every client we serve writes one, and one is what we store.
        if isinstance(value, list):
            if len(value) != 1:
                raise ValueError("give exactly one motivation")
            value = value[0]
        if isinstance(value, str):
            value = value.removeprefix("oa:").removeprefix("sc:")
        return value

    @field_validator("motivation")
    @classmethod
    def _known_motivation(cls, value: str) -> str:
        return MOTIVATIONS.expect(value)

    @field_validator("body", "target", mode="before")
    @classmethod
    def _list(cls, value: Any) -> Any:
        if value is None:
            return []
        return value if isinstance(value, list) else [value]

    @field_validator("target")
    @classmethod
    def _targets_are_iris_or_ids(cls, value: list[Any]) -> list[Any]:
        for target in value:
            if isinstance(target, str) and not (is_iri(target) or ID_PATTERN.fullmatch(target)):
                raise ValueError(f"target {target[:80]!r} is neither an IRI nor an annotation id")
        return value

    @model_validator(mode="after")
    def _targets_fit_motivation(self) -> Self:
        for target in self.target:
            if not isinstance(target, SpecificTarget):
                continue
            if self.motivation == "replying" and target.source.type != "Annotation":
                raise ValueError("a reply targets the annotation it answers (its id), not a region")
            if target.source.type != "Annotation" and not is_iri(target.source.id):
                raise ValueError(f"target source {target.source.id[:80]!r} is not an IRI")
        if self.modified and self.created and self.modified < self.created:
            raise ValueError("modified is earlier than created")
        return self

    @property
    def text(self) -> str:
        """All textual bodies, one per line: what search and summaries look at."""
        return "\n".join(b.value for b in self.body if isinstance(b, TextualBody))

    def reply_to(self) -> list[str]:
        """The annotations this one replies to (local ids or IRIs)."""
        if self.motivation != "replying":
            return []
        out = []
        for target in self.target:
            out.append(target if isinstance(target, str) else target.source.id)
        return out

    def as_stored(self) -> Annotation:
        """This annotation as documents keep it: a Sinopia user as creator by id alone
        (the name is looked up when read, so that it can be erased)."""
        if self.creator is None or not is_user_agent(self.creator.id) or not self.creator.name:
            return self
        return self.model_copy(update={"creator": self.creator.model_copy(update={"name": None})})

    def to_json(self) -> dict[str, Any]:
        """The stored JSON form: W3C properties with the local id, no `@context`."""
        data: dict[str, Any] = {"id": self.id, "type": "Annotation", "motivation": self.motivation}
        bodies = [body.to_json() for body in self.body]
        if bodies:
            data["body"] = bodies[0] if len(bodies) == 1 else bodies
        targets = [t if isinstance(t, str) else t.to_json() for t in self.target]
        data["target"] = targets[0] if len(targets) == 1 else targets
        if self.creator:
            data["creator"] = self.creator.to_json()
        for name in ("created", "modified"):
            value = getattr(self, name)
            if value is not None:
                data[name] = _timestamp(value)
        for name in ("canonical", "via"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        return data


def now() -> datetime:
    """The current time as annotations record it (UTC, millisecond precision)."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
