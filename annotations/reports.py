"""Condition reports, loan condition reports and treatment records: the content of a
`report` document.

Fields follow Spectrum 5.1 ("Condition checking and technical assessment", "Conservation
and collections care") and EN 16095 (condition recording for movable heritage), as the
NFDI4Objects conservation data framework reads them element by element:

- every report: reference number, date, method, reason, the checker (who observed) and the
  recorder (who typed), the object, its overall condition (the most serious individual
  condition), completeness, hazards, the environment at the check (temperature, RH, lux,
  UV), technical assessment, treatment priority, next check date, and the object's
  requirements (display, environmental, handling, packing, security, storage, special);
- a loan condition report: one per handover (outgoing, incoming, during, returning),
  signed by both parties, registrar and courier;
- a treatment record: purpose, conservators, the proposal (approved by a lead before work
  starts), dated steps with methods and materials added or removed, analyses and samples,
  before/after images.

Damage entries name a term of the damage vocabulary, its extent with a unit, severity,
whether it is active or stable, a note, and where it is: links to annotations (2D regions
on canvases, points on 3D models) and photographs as IIIF regions with the lighting used.

A report is about one object (which may span several canvases and 3D models). Its status
moves only through the workflow (`workflow.py`); validation here says what each status
needs.
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .damage_terms import DAMAGE_TERMS
from .models import ID_PATTERN, Agent, Timestamp, is_iri
from .vocabularies import (
    ACTIVITY,
    ANALYSIS_KINDS,
    CHECK_METHODS,
    COMPLETENESS,
    CONDITION_GRADES,
    EXTENT_UNITS,
    HANDOVERS,
    IMAGE_ROLES,
    LIGHTING,
    PRIORITIES,
    REPORT_REASONS,
    REPORT_STATUSES,
    REPORT_TYPES,
    SEVERITIES,
    Vocabulary,
)

# Free text of one field (summary, recommendations, proposal, ...): a long report is a few
# thousand words; this is ten times that.
MAX_REPORT_TEXT_BYTES = 256 * 1024
MAX_DAMAGE_ENTRIES = 500
MAX_STEPS = 500
MAX_ANALYSES = 200
MAX_IMAGES = 200
MAX_ATTACHMENTS = 50  # legacy reports attached to one report
MAX_STEP_ITEMS = 50  # methods, materials added or materials removed of one treatment step
MAX_COMMENTS = 500  # review comments on one report (a long review has a few dozen)
MAX_LINKS = 100  # annotations or photographs of one damage entry
SHORT = 500  # a name, a place, a one-line field
NOTE = 5000  # a note on one entry

# A subject inside the same workspace: `canvas/<id>` or `model/<id>`.
SUBJECT_REF = re.compile(r"(canvas|model)/[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
# IIIF Image API 3 region: full, square, x,y,w,h or pct:x,y,w,h.
REGION = re.compile(r"full|square|(pct:)?\d+(\.\d+)?(,\d+(\.\d+)?){3}")
REPORT_ID = ID_PATTERN

Day = Annotated[date, PlainSerializer(date.isoformat, return_type=str)]

# Statuses in which a report is a record that no longer changes (except by the workflow).
LOCKED_STATUSES = frozenset({"approved", "superseded"})


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def _text(value: str) -> str:
    size = len(value.encode())
    if size > MAX_REPORT_TEXT_BYTES:
        raise ValueError(f"the text is {size} bytes; the limit is {MAX_REPORT_TEXT_BYTES}")
    return value


def _safe_id(value: str, what: str) -> str:
    if not ID_PATTERN.fullmatch(value):
        raise ValueError(f"{what} id {value[:80]!r} is not a valid id")
    return value


def _subject(value: str) -> str:
    if not SUBJECT_REF.fullmatch(value):
        raise ValueError(f"subject {value[:80]!r} must be canvas/<id> or model/<id>")
    return value


def _new_id() -> str:
    return uuid.uuid4().hex[:12]


def damage_vocabulary(info: ValidationInfo | None) -> Vocabulary:
    """The damage terms a report may use: the curated list, plus the workspace's own terms
    when the caller validates with `context={"terms": ...}`."""
    context = info.context if info is not None else None
    if isinstance(context, dict) and isinstance(context.get("terms"), Vocabulary):
        return context["terms"]
    return DAMAGE_TERMS


class AnnotationLink(_Model):
    """An annotation that shows a damage: which subject's document, which annotation."""

    subject: str  # "canvas/<id>" or "model/<id>", in the report's workspace
    annotation: str

    @field_validator("subject")
    @classmethod
    def _subject_ref(cls, value: str) -> str:
        return _subject(value)

    @field_validator("annotation")
    @classmethod
    def _annotation_id(cls, value: str) -> str:
        return _safe_id(value, "annotation")


class Photograph(_Model):
    """An image of the object as a IIIF region: of a canvas in the workspace (`subject`) or
    of any IIIF image service (`service`, its base IRI), with the light it was taken in."""

    id: str = Field(default_factory=_new_id)
    subject: str | None = None
    service: str | None = Field(None, max_length=2048)
    region: str = "full"
    lighting: str = "normal"
    caption: str = Field("", max_length=SHORT)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _safe_id(value, "photograph")

    @field_validator("subject")
    @classmethod
    def _subject_ref(cls, value: str | None) -> str | None:
        return _subject(value) if value is not None else None

    @field_validator("service")
    @classmethod
    def _service_iri(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"service {value[:80]!r} must be an http(s) IIIF image service")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not REGION.fullmatch(value):
            raise ValueError(f"region {value[:80]!r} must be full, square, x,y,w,h or pct:x,y,w,h")
        return value

    @field_validator("lighting")
    @classmethod
    def _lighting(cls, value: str) -> str:
        return LIGHTING.expect(value)

    @model_validator(mode="after")
    def _located(self) -> Self:
        if self.subject is None and self.service is None:
            raise ValueError("a photograph needs a subject (canvas/<id>) or an image service")
        return self


class Extent(_Model):
    """How big a damage is: a length, an area, a share of the surface or a count."""

    value: float = Field(ge=0, le=1e9)
    unit: str

    @field_validator("unit")
    @classmethod
    def _unit(cls, value: str) -> str:
        return EXTENT_UNITS.expect(value)


class DamageEntry(_Model):
    """One observed damage: what, where on the object, how bad, and where it is shown."""

    id: str = Field(default_factory=_new_id)
    term: str
    location: str = Field("", max_length=SHORT)
    extent: Extent | None = None
    severity: str = "minor"
    activity: str = "unknown"
    note: str = Field("", max_length=NOTE)
    annotations: list[AnnotationLink] = Field(default_factory=list, max_length=MAX_LINKS)
    photographs: list[Photograph] = Field(default_factory=list, max_length=MAX_LINKS)
    # The entry of the previous report this one continues, when its id differs (an entry
    # carried over from the previous report keeps its id and needs none).
    tracks: str | None = None

    @field_validator("id", "tracks")
    @classmethod
    def _ids(cls, value: str | None) -> str | None:
        return _safe_id(value, "damage entry") if value is not None else None

    @field_validator("term")
    @classmethod
    def _term(cls, value: str, info: ValidationInfo) -> str:
        return damage_vocabulary(info).expect(value)

    @field_validator("severity")
    @classmethod
    def _severity(cls, value: str) -> str:
        return SEVERITIES.expect(value)

    @field_validator("activity")
    @classmethod
    def _activity(cls, value: str) -> str:
        return ACTIVITY.expect(value)


class Approval(_Model):
    """A step of the workflow, taken by someone in a role at a time (written by the
    workflow only)."""

    action: Literal[
        "submitted", "returned", "approved-proposal", "approved", "signed", "superseded"
    ]
    agent: Agent
    role: str | None = Field(None, max_length=20)
    at: Timestamp
    note: str = Field("", max_length=2000)


class ReviewComment(_Model):
    """A comment in the discussion of a report under review: a lead asking, the author
    answering. Written by the server for the person who sent it (who and when cannot be
    forged), appended in order, never changed afterwards; separate from the workflow's
    notes (a return's note says what to change, the discussion is everything else)."""

    id: str = Field(default_factory=_new_id)
    author: Agent
    role: str | None = Field(None, max_length=20)
    at: Timestamp
    text: str = Field(min_length=1, max_length=NOTE)
    # The comment this one answers (an earlier one of the same report).
    reply_to: str | None = None

    @field_validator("id", "reply_to")
    @classmethod
    def _ids(cls, value: str | None) -> str | None:
        return _safe_id(value, "comment") if value is not None else None

    @field_validator("text")
    @classmethod
    def _said_something(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a comment says something")
        return value


class ObjectInfo(_Model):
    """The object examined, as the collection record names it."""

    identifier: str = Field(max_length=200)  # accession or loan number
    title: str = Field("", max_length=SHORT)
    maker: str | None = Field(None, max_length=SHORT)
    date: str | None = Field(None, max_length=100)  # as catalogued: "c. 1480"
    materials: str | None = Field(None, max_length=1000)
    dimensions: str | None = Field(None, max_length=SHORT)
    subjects: list[str] = Field(default_factory=list, max_length=200)  # canvas/<id>, model/<id>

    @field_validator("subjects")
    @classmethod
    def _subject_refs(cls, value: list[str]) -> list[str]:
        return [_subject(item) for item in value]


class Environment(_Model):
    """Conditions where the object was examined: EN 16095's environment at the check."""

    temperature: float | None = Field(None, ge=-50, le=80)  # degrees Celsius
    humidity: float | None = Field(None, ge=0, le=100)  # relative humidity, percent
    light: float | None = Field(None, ge=0, le=200000)  # lux
    uv: float | None = Field(None, ge=0, le=100000)  # microwatts per lumen
    notes: str | None = Field(None, max_length=2000)


class Requirements(_Model):
    """Spectrum 5.1 object requirements: what the object needs, field by field."""

    display: str = Field("", max_length=NOTE)
    environmental: str = Field("", max_length=NOTE)
    handling: str = Field("", max_length=NOTE)
    packing: str = Field("", max_length=NOTE)
    security: str = Field("", max_length=NOTE)
    storage: str = Field("", max_length=NOTE)
    special: str = Field("", max_length=NOTE)


class Loan(_Model):
    """The loan a loan condition report belongs to, and the handover it is made at."""

    handover: str
    number: str = Field("", max_length=200)  # the loan agreement's number
    lender: str = Field("", max_length=SHORT)
    borrower: str = Field("", max_length=SHORT)
    venue: str = Field("", max_length=SHORT)
    courier: Agent | None = None
    registrar: Agent | None = None

    @field_validator("handover")
    @classmethod
    def _handover(cls, value: str) -> str:
        return HANDOVERS.expect(value)


class TreatmentStep(_Model):
    """One dated step of a treatment: what was done, how, with which materials."""

    id: str = Field(default_factory=_new_id)
    date: Day
    description: str = Field(max_length=NOTE)
    methods: list[str] = Field(default_factory=list, max_length=MAX_STEP_ITEMS)
    materials_added: list[str] = Field(default_factory=list, max_length=MAX_STEP_ITEMS)
    materials_removed: list[str] = Field(default_factory=list, max_length=MAX_STEP_ITEMS)
    by: Agent | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _safe_id(value, "step")

    @field_validator("methods", "materials_added", "materials_removed")
    @classmethod
    def _short_items(cls, value: list[str]) -> list[str]:
        for item in value:
            if not item.strip() or len(item) > SHORT:
                raise ValueError(f"each entry is 1 to {SHORT} characters")
        return value


class Analysis(_Model):
    """An analysis made, or a sample taken, during an assessment or a treatment."""

    id: str = Field(default_factory=_new_id)
    kind: str = "analysis"
    date: Day | None = None
    method: str = Field("", max_length=SHORT)  # "XRF", "cross-section", ...
    location: str = Field("", max_length=SHORT)  # where on the object
    sample: str = Field("", max_length=200)  # the sample's number
    result: str = Field("", max_length=NOTE)
    by: Agent | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _safe_id(value, "analysis")

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        return ANALYSIS_KINDS.expect(value)


class ReportImage(Photograph):
    """A before, during or after image of a treatment (or a general view)."""

    role: str = "general"

    @field_validator("role")
    @classmethod
    def _role(cls, value: str) -> str:
        return IMAGE_ROLES.expect(value)


class Attachment(_Model):
    """A legacy report (a scanned PDF, a photograph of a handwritten report) attached to
    this one: a blob of the workspace's media store."""

    id: str = Field(default_factory=_new_id)
    blob: str = Field(max_length=200)  # the media store's id of the file
    filename: str = Field("", max_length=SHORT)
    media_type: str = Field("", max_length=100)
    caption: str = Field("", max_length=SHORT)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _safe_id(value, "attachment")


class Report(_Model):
    """A condition report, loan condition report or treatment record."""

    type: str = "condition"
    title: str = Field("", max_length=SHORT)
    reference: str = Field("", max_length=200)  # condition check reference number
    # Drafts are filled in together, in any order; some fields are required from review on.
    object_info: ObjectInfo | None = Field(None, alias="object")
    date: Day | None = None
    method: str | None = None
    reason: str = "survey"
    checker: Agent | None = None  # who observed
    recorder: Agent | None = None  # who wrote the record
    condition: str | None = None
    completeness: str | None = None
    hazards: list[str] = Field(default_factory=list, max_length=50)
    environment: Environment | None = None
    priority: str | None = None
    next_check: Day | None = None
    requirements: Requirements | None = None
    loan: Loan | None = None
    treatment_purpose: str = Field("", max_length=NOTE)
    conservators: list[Agent] = Field(default_factory=list, max_length=50)
    # Links between reports of the same workspace: the check this one started from, the
    # record it replaces, and the one that replaced it.
    previous: str | None = None
    supersedes: str | None = None
    superseded_by: str | None = None
    status: str = "draft"
    modified: Timestamp | None = None
    # Texts, co-written live.
    summary: str = ""
    recommendations: str = ""
    assessment: str = ""  # technical assessment
    proposal: str = ""  # treatment proposal
    treatment: str = ""  # treatment notes
    damage: list[DamageEntry] = Field(default_factory=list, max_length=MAX_DAMAGE_ENTRIES)
    steps: list[TreatmentStep] = Field(default_factory=list, max_length=MAX_STEPS)
    analyses: list[Analysis] = Field(default_factory=list, max_length=MAX_ANALYSES)
    images: list[ReportImage] = Field(default_factory=list, max_length=MAX_IMAGES)
    attachments: list[Attachment] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)
    approvals: list[Approval] = Field(default_factory=list)
    comments: list[ReviewComment] = Field(default_factory=list, max_length=MAX_COMMENTS)
    # The signed record made at approval (`signed_record.py`); written by the workflow.
    signature: dict[str, Any] | None = None

    @field_validator("type")
    @classmethod
    def _report_type(cls, value: str) -> str:
        return REPORT_TYPES.expect(value)

    @field_validator("method")
    @classmethod
    def _method(cls, value: str | None) -> str | None:
        return CHECK_METHODS.expect(value) if value is not None else None

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        return REPORT_REASONS.expect(value)

    @field_validator("condition")
    @classmethod
    def _grade(cls, value: str | None) -> str | None:
        return CONDITION_GRADES.expect(value) if value is not None else None

    @field_validator("completeness")
    @classmethod
    def _completeness(cls, value: str | None) -> str | None:
        return COMPLETENESS.expect(value) if value is not None else None

    @field_validator("priority")
    @classmethod
    def _priority(cls, value: str | None) -> str | None:
        return PRIORITIES.expect(value) if value is not None else None

    @field_validator("status")
    @classmethod
    def _status(cls, value: str) -> str:
        return REPORT_STATUSES.expect(value)

    @field_validator("previous", "supersedes", "superseded_by")
    @classmethod
    def _report_ids(cls, value: str | None) -> str | None:
        return _safe_id(value, "report") if value is not None else None

    @field_validator("hazards")
    @classmethod
    def _hazards(cls, value: list[str]) -> list[str]:
        for item in value:
            if not item.strip() or len(item) > SHORT:
                raise ValueError(f"each hazard is 1 to {SHORT} characters")
        return value

    @field_validator("summary", "recommendations", "assessment", "proposal", "treatment")
    @classmethod
    def _bounded(cls, value: str) -> str:
        return _text(value)

    @field_validator("checker", "recorder")
    @classmethod
    def _person(cls, value: Agent | None) -> Agent | None:
        if value is not None and value.id is not None and not is_iri(value.id):
            raise ValueError("a person's id must be an IRI")
        return value

    @property
    def proposal_approved(self) -> bool:
        return any(a.action == "approved-proposal" for a in self.approvals)

    @property
    def locked(self) -> bool:
        return self.status in LOCKED_STATUSES

    def missing_for_review(self) -> list[str]:
        """What a report needs before it can be submitted for review."""
        wanted: list[tuple[str, object]] = [
            ("object", self.object_info),
            ("checker", self.checker),
            ("date", self.date),
        ]
        if self.type == "loan":
            wanted.append(("loan", self.loan))
        if self.type == "treatment" and not self.proposal_approved:
            wanted.append(("proposal", self.proposal.strip() or None))
        return [name for name, value in wanted if value is None]

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.status != "draft":
            missing = [m for m in self.missing_for_review() if m != "proposal"]
            if missing:
                raise ValueError(
                    f"a report with status {self.status!r} needs: {', '.join(missing)}"
                )
        actions = [a.action for a in self.approvals]
        approved = "approved" in actions or (self.type == "loan" and actions.count("signed") >= 2)
        if self.status == "approved" and not approved:
            raise ValueError("an approved report needs an approval (only the workflow approves)")
        if self.status == "in-treatment" and "approved-proposal" not in actions:
            raise ValueError("treatment starts only after a lead has approved the proposal")
        if self.status == "approved" and self.type != "treatment" and self.condition is None:
            raise ValueError("give the overall condition before approving the report")
        if self.type == "loan" and self.loan is None and self.status != "draft":
            raise ValueError("a loan condition report needs its loan and handover")
        if self.steps and not self.proposal_approved:
            raise ValueError("steps: record treatment steps after a lead has approved the proposal")
        for name, items in (
            ("damage", self.damage),
            ("steps", self.steps),
            ("analyses", self.analyses),
            ("images", self.images),
        ):
            ids = [item.id for item in items]
            if len(ids) != len(set(ids)):
                raise ValueError(f"{name}: two entries have the same id")
        earlier: set[str] = set()
        for comment in self.comments:
            if comment.id in earlier:
                raise ValueError("comments: two comments have the same id")
            if comment.reply_to is not None and comment.reply_to not in earlier:
                raise ValueError(f"comments: {comment.reply_to!r} is not an earlier comment")
            earlier.add(comment.id)
        return self
