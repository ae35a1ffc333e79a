"""Condition reports and treatment records: the content of a `report` document.

A report is about one object (which may span several canvases and 3D models); its damage
entries point at the annotations that show each damage on those subjects. Approval is a
workflow: draft -> in-review -> approved -> signed, each step recorded with who and when.
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, field_validator, model_validator

from .models import ID_PATTERN, Agent, Timestamp
from .vocabularies import (
    CONDITION_GRADES,
    DAMAGE_TYPES,
    REPORT_PURPOSES,
    REPORT_STATUSES,
    REPORT_TYPES,
    SEVERITIES,
)

# Free text of one field (summary, recommendations, treatment notes): a long report is a few
# thousand words; this is ten times that.
MAX_REPORT_TEXT_BYTES = 256 * 1024
MAX_DAMAGE_ENTRIES = 500

# A subject inside the same workspace: `canvas/<id>` or `model/<id>`.
SUBJECT_REF = re.compile(r"(canvas|model)/[A-Za-z0-9][A-Za-z0-9._-]{0,127}")

Day = Annotated[date, PlainSerializer(date.isoformat, return_type=str)]


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    def to_json(self) -> dict[str, object]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def _text(value: str) -> str:
    size = len(value.encode())
    if size > MAX_REPORT_TEXT_BYTES:
        raise ValueError(f"the text is {size} bytes; the limit is {MAX_REPORT_TEXT_BYTES}")
    return value


class AnnotationLink(_Model):
    """An annotation that shows a damage: which subject's document, which annotation."""

    subject: str  # "canvas/<id>" or "model/<id>", in the report's workspace
    annotation: str

    @field_validator("subject")
    @classmethod
    def _subject_ref(cls, value: str) -> str:
        if not SUBJECT_REF.fullmatch(value):
            raise ValueError(f"subject {value[:80]!r} must be canvas/<id> or model/<id>")
        return value

    @field_validator("annotation")
    @classmethod
    def _annotation_id(cls, value: str) -> str:
        if not ID_PATTERN.fullmatch(value):
            raise ValueError(f"annotation id {value[:80]!r} is not a valid id")
        return value


class DamageEntry(_Model):
    """One observed damage: what, where on the object, how bad, and where it is shown."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    type: str
    location: str = Field("", max_length=500)
    severity: str = "minor"
    annotations: list[AnnotationLink] = Field(default_factory=list, max_length=100)
    notes: str = Field("", max_length=5000)

    @field_validator("id")
    @classmethod
    def _safe_id(cls, value: str) -> str:
        if not ID_PATTERN.fullmatch(value):
            raise ValueError(f"damage entry id {value[:80]!r} is not a valid id")
        return value

    @field_validator("type")
    @classmethod
    def _damage_type(cls, value: str) -> str:
        return DAMAGE_TYPES.expect(value)

    @field_validator("severity")
    @classmethod
    def _severity(cls, value: str) -> str:
        return SEVERITIES.expect(value)


class Approval(_Model):
    """A step of the approval workflow, signed off by someone at a time."""

    action: Literal["submitted", "approved", "rejected", "signed"]
    agent: Agent
    at: Timestamp
    note: str = Field("", max_length=2000)


class ObjectInfo(_Model):
    """The object examined, as the collection record names it."""

    identifier: str = Field(max_length=200)  # accession or loan number
    title: str = Field("", max_length=500)
    maker: str | None = Field(None, max_length=500)
    date: str | None = Field(None, max_length=100)  # as catalogued: "c. 1480"
    materials: str | None = Field(None, max_length=1000)
    dimensions: str | None = Field(None, max_length=500)
    subjects: list[str] = Field(default_factory=list, max_length=200)  # canvas/<id>, model/<id>

    @field_validator("subjects")
    @classmethod
    def _subject_refs(cls, value: list[str]) -> list[str]:
        for item in value:
            if not SUBJECT_REF.fullmatch(item):
                raise ValueError(f"subject {item[:80]!r} must be canvas/<id> or model/<id>")
        return value


class Environment(_Model):
    """Conditions where the object was examined or will be shown."""

    temperature: float | None = Field(None, ge=-50, le=80)  # degrees Celsius
    humidity: float | None = Field(None, ge=0, le=100)  # relative humidity, percent
    light: float | None = Field(None, ge=0)  # lux
    notes: str | None = Field(None, max_length=2000)


class Report(_Model):
    """A condition report or treatment record."""

    type: str = "condition"
    title: str = Field("", max_length=500)
    # Drafts are filled in together, in any order; these are required from review on.
    object_info: ObjectInfo | None = Field(None, alias="object")
    examiner: Agent | None = None
    date: Day | None = None
    condition: str | None = None
    environment: Environment | None = None
    lender: str | None = Field(None, max_length=500)
    purpose: str = "survey"
    status: str = "draft"
    summary: str = ""
    recommendations: str = ""
    treatment: str = ""
    damage: list[DamageEntry] = Field(default_factory=list, max_length=MAX_DAMAGE_ENTRIES)
    approvals: list[Approval] = Field(default_factory=list)
    modified: Timestamp | None = None

    @field_validator("type")
    @classmethod
    def _report_type(cls, value: str) -> str:
        return REPORT_TYPES.expect(value)

    @field_validator("condition")
    @classmethod
    def _grade(cls, value: str | None) -> str | None:
        return CONDITION_GRADES.expect(value) if value is not None else None

    @field_validator("purpose")
    @classmethod
    def _purpose(cls, value: str) -> str:
        return REPORT_PURPOSES.expect(value)

    @field_validator("status")
    @classmethod
    def _status(cls, value: str) -> str:
        return REPORT_STATUSES.expect(value)

    @field_validator("summary", "recommendations", "treatment")
    @classmethod
    def _bounded(cls, value: str) -> str:
        return _text(value)

    @model_validator(mode="after")
    def _workflow(self) -> Self:
        if self.status != "draft":
            missing = [
                name
                for name, value in (
                    ("object", self.object_info),
                    ("examiner", self.examiner),
                    ("date", self.date),
                )
                if value is None
            ]
            if missing:
                raise ValueError(
                    f"a report with status {self.status!r} needs: {', '.join(missing)}"
                )
        actions = [a.action for a in self.approvals]
        if self.status in ("approved", "signed") and "approved" not in actions:
            raise ValueError(f"a report with status {self.status!r} needs an approval")
        if self.status == "signed" and "signed" not in actions:
            raise ValueError("a signed report needs a signature (an approval with action signed)")
        if self.status in ("approved", "signed") and self.condition is None:
            raise ValueError("give the overall condition before approving the report")
        ids = [d.id for d in self.damage]
        if len(ids) != len(set(ids)):
            raise ValueError("two damage entries have the same id")
        return self
