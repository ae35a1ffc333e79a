"""A report as Linked Art / CIDOC-CRM JSON-LD.

The report is an E14 Condition Assessment that P34 concerned the object and P35 has
identified E3 Condition States: the overall condition, and each damage entry as a
condition state typed by its term (the Getty AAT concept once no curator check is
pending), its severity and its activity, with its extent as an E54 Dimension, its note,
the annotations that show it (P129i is subject of) and its photographs. A treatment
record adds an E11 Modification of the object, motivated by the assessment, carried out
by the conservators, made of one E11 per dated step with its methods (P32 used general
technique) and the materials added (P126 employed) or removed.

The `@context` is written out in the document (Linked Art's names, CIDOC-CRM's IRIs), so
the JSON-LD reads as RDF without fetching anything.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from .damage_terms import ATTRIBUTION
from .models import Agent
from .reports import DamageEntry, Photograph, Report, TreatmentStep
from .vocabularies import (
    ACTIVITY,
    CONDITION_GRADES,
    EXTENT_UNITS,
    LIGHTING,
    SEVERITIES,
    Vocabulary,
)

CRM = "http://www.cidoc-crm.org/cidoc-crm/"
_ID = {"@type": "@id"}

CONTEXT: dict[str, Any] = {
    "crm": CRM,
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "id": "@id",
    "type": "@type",
    "_label": "rdfs:label",
    "ConditionAssessment": "crm:E14_Condition_Assessment",
    "ConditionState": "crm:E3_Condition_State",
    "Modification": "crm:E11_Modification",
    "HumanMadeObject": "crm:E22_Human-Made_Object",
    "Person": "crm:E21_Person",
    "Group": "crm:E74_Group",
    "Type": "crm:E55_Type",
    "Material": "crm:E57_Material",
    "Identifier": "crm:E42_Identifier",
    "Name": "crm:E33_E41_Linguistic_Appellation",
    "LinguisticObject": "crm:E33_Linguistic_Object",
    "VisualItem": "crm:E36_Visual_Item",
    "TimeSpan": "crm:E52_Time-Span",
    "Dimension": "crm:E54_Dimension",
    "MeasurementUnit": "crm:E58_Measurement_Unit",
    "concerned": {"@id": "crm:P34_concerned", **_ID},
    "has_identified": {"@id": "crm:P35_has_identified", **_ID},
    "condition_of": {"@id": "crm:P44i_is_condition_of", **_ID},
    "modified": {"@id": "crm:P31_has_modified", **_ID},
    "motivated_by": {"@id": "crm:P17_was_motivated_by", **_ID},
    "motivated": {"@id": "crm:P17i_motivated", **_ID},
    "part": {"@id": "crm:P9_consists_of", **_ID},
    "employed": {"@id": "crm:P126_employed", **_ID},
    "technique": {"@id": "crm:P32_used_general_technique", **_ID},
    "carried_out_by": {"@id": "crm:P14_carried_out_by", **_ID},
    "classified_as": {"@id": "crm:P2_has_type", **_ID},
    "identified_by": {"@id": "crm:P1_is_identified_by", **_ID},
    "referred_to_by": {"@id": "crm:P67i_is_referred_to_by", **_ID},
    "subject_of": {"@id": "crm:P129i_is_subject_of", **_ID},
    "representation": {"@id": "crm:P138i_has_representation", **_ID},
    "timespan": {"@id": "crm:P4_has_time-span", **_ID},
    "dimension": {"@id": "crm:P43_has_dimension", **_ID},
    "unit": {"@id": "crm:P91_has_unit", **_ID},
    "value": {"@id": "crm:P90_has_value", "@type": "xsd:double"},
    "content": "crm:P190_has_symbolic_content",
    "begin_of_the_begin": {"@id": "crm:P82a_begin_of_the_begin", "@type": "xsd:dateTime"},
    "end_of_the_end": {"@id": "crm:P82b_end_of_the_end", "@type": "xsd:dateTime"},
    "exact_match": {"@id": "skos:exactMatch", **_ID},
}

# (vocabulary name, value) -> IRI of a term of one of our own vocabularies.
TermIri = Callable[[str, str], str]
# (subject "canvas/<id>", annotation id) -> the annotation's IRI.
AnnotationIri = Callable[[str, str], str]
# a photograph -> the IIIF Image API URL of its region (None when it cannot be resolved).
PhotoUrl = Callable[[Photograph], str | None]


def _day(value: date) -> dict[str, Any]:
    text = value.isoformat()
    return {
        "type": "TimeSpan",
        "begin_of_the_begin": f"{text}T00:00:00Z",
        "end_of_the_end": f"{text}T23:59:59Z",
    }


def _statement(text: str, label: str) -> dict[str, Any]:
    return {"type": "LinguisticObject", "_label": label, "content": text}


def _person(agent: Agent, fallback: str) -> dict[str, Any]:
    out: dict[str, Any] = {"id": agent.id or fallback, "type": "Person"}
    if agent.name:
        out["_label"] = agent.name
    return out


class _Builder:
    def __init__(
        self,
        report: Report,
        iri: str,
        term_iri: TermIri,
        annotation_iri: AnnotationIri,
        photo_url: PhotoUrl,
        damage_terms: Vocabulary,
    ) -> None:
        self.report = report
        self.iri = iri
        self.term_iri = term_iri
        self.annotation_iri = annotation_iri
        self.photo_url = photo_url
        self.damage_terms = damage_terms
        self.object_iri = f"{iri}#object"

    def type_of(self, vocabulary: Vocabulary, value: str) -> dict[str, Any]:
        term = vocabulary.get(value)
        out: dict[str, Any] = {"type": "Type", "_label": vocabulary.label(value)}
        exported = term.exported_iri if term else None
        out["id"] = exported or self.term_iri(vocabulary.name, value)
        return out

    def object(self) -> dict[str, Any]:
        info = self.report.object_info
        out: dict[str, Any] = {"id": self.object_iri, "type": "HumanMadeObject"}
        if info is None:
            return out
        out["_label"] = info.title or info.identifier
        out["identified_by"] = [{"type": "Identifier", "content": info.identifier}]
        if info.title:
            out["identified_by"].append({"type": "Name", "content": info.title})
        notes = [
            (info.maker, "maker"),
            (info.date, "date"),
            (info.materials, "materials"),
            (info.dimensions, "dimensions"),
        ]
        statements = [_statement(text, label) for text, label in notes if text]
        if statements:
            out["referred_to_by"] = statements
        return out

    def damage(self, entry: DamageEntry) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": f"{self.iri}#damage-{entry.id}",
            "type": "ConditionState",
            "_label": self.damage_terms.label(entry.term)
            + (f" ({entry.location})" if entry.location else ""),
            "condition_of": self.object_iri,
            "classified_as": [
                self.type_of(self.damage_terms, entry.term),
                self.type_of(SEVERITIES, entry.severity),
                self.type_of(ACTIVITY, entry.activity),
            ],
        }
        if entry.extent is not None:
            out["dimension"] = [
                {
                    "type": "Dimension",
                    "value": entry.extent.value,
                    "unit": self.type_of(EXTENT_UNITS, entry.extent.unit)
                    | {"type": "MeasurementUnit"},
                }
            ]
        statements = []
        if entry.location:
            statements.append(_statement(entry.location, "location"))
        if entry.note:
            statements.append(_statement(entry.note, "note"))
        if statements:
            out["referred_to_by"] = statements
        if entry.annotations:
            out["subject_of"] = [
                {"id": self.annotation_iri(link.subject, link.annotation)}
                for link in entry.annotations
            ]
        photos = [self.photo(p) for p in entry.photographs]
        if any(photos):
            out["representation"] = [p for p in photos if p]
        return out

    def photo(self, photo: Photograph) -> dict[str, Any] | None:
        url = self.photo_url(photo)
        if url is None:
            return None
        out: dict[str, Any] = {
            "id": url,
            "type": "VisualItem",
            "classified_as": [self.type_of(LIGHTING, photo.lighting)],
        }
        if photo.caption:
            out["_label"] = photo.caption
        return out

    def step(self, step: TreatmentStep) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": f"{self.iri}#step-{step.id}",
            "type": "Modification",
            "_label": step.description[:200] or "treatment step",
            "modified": self.object_iri,
            "timespan": _day(step.date),
            "referred_to_by": [_statement(step.description, "description")],
        }
        if step.methods:
            out["technique"] = [
                {"id": f"{self.iri}#method-{step.id}-{i}", "type": "Type", "_label": m}
                for i, m in enumerate(step.methods)
            ]
        if step.materials_added:
            out["employed"] = [
                {"id": f"{self.iri}#material-{step.id}-{i}", "type": "Material", "_label": m}
                for i, m in enumerate(step.materials_added)
            ]
        if step.materials_removed:
            out["referred_to_by"].append(
                _statement("; ".join(step.materials_removed), "materials removed")
            )
        if step.by is not None:
            out["carried_out_by"] = [_person(step.by, f"{self.iri}#step-{step.id}-by")]
        return out

    def build(self) -> dict[str, Any]:
        report = self.report
        identified: list[dict[str, Any]] = []
        if report.condition is not None:
            identified.append(
                {
                    "id": f"{self.iri}#overall-condition",
                    "type": "ConditionState",
                    "_label": "overall condition",
                    "condition_of": self.object_iri,
                    "classified_as": [self.type_of(CONDITION_GRADES, report.condition)],
                }
            )
        identified += [self.damage(entry) for entry in report.damage]
        doc: dict[str, Any] = {
            "@context": CONTEXT,
            "id": self.iri,
            "type": "ConditionAssessment",
            "_label": report.title or f"{report.type} report",
            "concerned": [self.object()],
            "has_identified": identified,
        }
        if report.reference:
            doc["identified_by"] = [{"type": "Identifier", "content": report.reference}]
        if report.date is not None:
            doc["timespan"] = _day(report.date)
        people = [p for p in (report.checker,) if p is not None]
        if people:
            doc["carried_out_by"] = [_person(p, f"{self.iri}#checker") for p in people]
        statements = [
            _statement(text, label)
            for text, label in (
                (report.summary, "summary"),
                (report.assessment, "technical assessment"),
                (report.recommendations, "recommendations"),
            )
            if text.strip()
        ]
        if report.recorder is not None:
            recorder = _person(report.recorder, f"{self.iri}#recorder")
            statements.append(
                _statement(f"recorded by {recorder.get('_label', recorder['id'])}", "recorder")
            )
        statements.append(_statement(ATTRIBUTION, "attribution"))
        doc["referred_to_by"] = statements
        if report.type == "treatment":
            doc["motivated"] = [self.treatment()]
        return doc

    def treatment(self) -> dict[str, Any]:
        report = self.report
        out: dict[str, Any] = {
            "id": f"{self.iri}#treatment",
            "type": "Modification",
            "_label": report.treatment_purpose[:200] or "conservation treatment",
            "modified": self.object_iri,
            "motivated_by": self.iri,
            "part": [self.step(step) for step in report.steps],
        }
        if report.conservators:
            out["carried_out_by"] = [
                _person(c, f"{self.iri}#conservator-{i}") for i, c in enumerate(report.conservators)
            ]
        statements = [
            _statement(text, label)
            for text, label in (
                (report.treatment_purpose, "purpose"),
                (report.proposal, "treatment proposal"),
                (report.treatment, "treatment notes"),
            )
            if text.strip()
        ]
        if statements:
            out["referred_to_by"] = statements
        return out


def to_linked_art(
    report: Report,
    iri: str,
    *,
    term_iri: TermIri,
    annotation_iri: AnnotationIri,
    photo_url: PhotoUrl,
    damage_terms: Vocabulary,
) -> dict[str, Any]:
    """The report as one JSON-LD document (its `@context` inline)."""
    return _Builder(report, iri, term_iri, annotation_iri, photo_url, damage_terms).build()
