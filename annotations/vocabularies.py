"""Controlled vocabularies: the terms annotations and reports may use, with display labels.

Motivations and body purposes are the W3C Web Annotation motivations (plus IIIF's
`painting`/`supplementing`, which imported annotations carry). The damage list is curated
from the Getty AAT (`damage_terms.py`, data in `data/damage-terms.json`); a workspace adds
terms of its own or imports a SKOS or CSV vocabulary (`vocabulary_import.py`). The other
report vocabularies are small on purpose: conservators pick from them in forms, and the
history shows their labels.

`aat` is the Getty Art & Architecture Thesaurus concept of a term, as an openly licensed
source states it. A term flagged `curator_check` keeps its candidate id for a curator to
see, but exports do not use it: a wrong thesaurus link is worse than none, because it gets
copied into every export.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pydantic import BaseModel, ConfigDict, Field

# The languages of the curated lists' labels; others fall back to English.
LANGUAGES = ("en", "fr", "de", "it")
AAT_PREFIX = "http://vocab.getty.edu/aat/"


class Term(BaseModel):
    """One controlled term: the value stored in documents, and what people read."""

    model_config = ConfigDict(frozen=True)

    value: str
    label: str
    labels: dict[str, str] = Field(default_factory=dict)  # language -> label
    aat: str | None = None  # AAT id (digits), as `source` states it
    source: str | None = None  # where the term (and its id) comes from
    uri: str | None = None  # an imported concept's own IRI
    curator_check: bool = False
    description: str | None = None

    def label_in(self, language: str | None) -> str:
        if language and language in self.labels:
            return self.labels[language]
        return self.label

    @property
    def exported_iri(self) -> str | None:
        """The concept IRI exports may use: the AAT concept once it needs no check, or an
        imported concept's own IRI."""
        if self.aat and not self.curator_check:
            return AAT_PREFIX + self.aat
        return self.uri


class Vocabulary:
    """An ordered, read-only set of terms looked up by value."""

    def __init__(self, name: str, terms: Iterable[Term]) -> None:
        self.name = name
        self._terms = {term.value: term for term in terms}

    def __contains__(self, value: object) -> bool:
        return value in self._terms

    def __iter__(self) -> Iterator[Term]:
        return iter(self._terms.values())

    def __len__(self) -> int:
        return len(self._terms)

    @property
    def values(self) -> list[str]:
        return list(self._terms)

    def get(self, value: str) -> Term | None:
        return self._terms.get(value)

    def label(self, value: str, language: str | None = None) -> str:
        """The display label of `value`, or `value` itself for a term we do not know."""
        term = self._terms.get(value)
        return term.label_in(language) if term else value

    def expect(self, value: str) -> str:
        """`value` if it is a term of this vocabulary; a ValueError naming the choices if not."""
        if value not in self._terms:
            choices = ", ".join(list(self._terms)[:60])
            more = " ..." if len(self._terms) > 60 else ""
            raise ValueError(f"unknown {self.name} {value!r}; expected one of: {choices}{more}")
        return value

    def extended(self, terms: Iterable[Term]) -> Vocabulary:
        """This vocabulary with more terms after it (a workspace's own); a term whose value
        is already here does not replace the curated one."""
        extra = [t for t in terms if t.value not in self._terms]
        return Vocabulary(self.name, [*self._terms.values(), *extra])


def _terms(*pairs: tuple[str, str]) -> list[Term]:
    return [Term(value=value, label=label) for value, label in pairs]


# W3C Web Annotation Data Model §3.3.5, plus the IIIF Presentation 3 motivations.
MOTIVATIONS = Vocabulary(
    "motivation",
    _terms(
        ("assessing", "Assessing"),
        ("bookmarking", "Bookmarking"),
        ("classifying", "Classifying"),
        ("commenting", "Commenting"),
        ("describing", "Describing"),
        ("editing", "Editing"),
        ("highlighting", "Highlighting"),
        ("identifying", "Identifying"),
        ("linking", "Linking"),
        ("moderating", "Moderating"),
        ("questioning", "Questioning"),
        ("replying", "Replying"),
        ("tagging", "Tagging"),
        ("painting", "Painting"),
        ("supplementing", "Supplementing"),
    ),
)

# The role a body plays (W3C `purpose`): the same terms as motivations.
BODY_PURPOSES = Vocabulary("body purpose", list(MOTIVATIONS))

SEVERITIES = Vocabulary(
    "severity",
    _terms(("minor", "Minor"), ("moderate", "Moderate"), ("severe", "Severe")),
)

# Whether a damage is still progressing (EN 16095: active or stable alteration).
ACTIVITY = Vocabulary(
    "activity",
    _terms(("active", "Active"), ("stable", "Stable"), ("unknown", "Not determined")),
)

EXTENT_UNITS = Vocabulary(
    "extent unit",
    _terms(
        ("mm", "mm"),
        ("cm", "cm"),
        ("m", "m"),
        ("mm2", "mm²"),
        ("cm2", "cm²"),
        ("m2", "m²"),
        ("percent", "% of the surface"),
        ("count", "occurrences"),
    ),
)

# The light a photograph was taken in: what makes a crack or a retouching visible.
LIGHTING = Vocabulary(
    "lighting",
    _terms(
        ("normal", "Normal light"),
        ("raking", "Raking light"),
        ("transmitted", "Transmitted light"),
        ("uv", "Ultraviolet fluorescence"),
        ("ir", "Infrared"),
    ),
)

# Spectrum 5.1 "Object's overall condition": the most serious individual condition.
CONDITION_GRADES = Vocabulary(
    "condition grade",
    [
        Term(value="excellent", label="Excellent", description="no notable issues"),
        Term(value="good", label="Good", description="minor changes, no treatment needed"),
        Term(value="fair", label="Fair", description="visible issues, stable, can be shown"),
        Term(value="poor", label="Poor", description="significant issues, assess before use"),
        Term(value="unstable", label="Unstable", description="actively deteriorating"),
    ],
)

COMPLETENESS = Vocabulary(
    "completeness",
    _terms(("complete", "Complete"), ("incomplete", "Incomplete"), ("fragment", "Fragment")),
)

# Spectrum 5.1 "Conservation treatment priority".
PRIORITIES = Vocabulary(
    "treatment priority",
    _terms(
        ("urgent", "Urgent"),
        ("high", "High"),
        ("medium", "Medium"),
        ("low", "Low"),
        ("none", "No treatment needed"),
    ),
)

# Spectrum 5.1 "Condition check/assessment reason".
REPORT_REASONS = Vocabulary(
    "report reason",
    _terms(
        ("acquisition", "Acquisition"),
        ("loan-out", "Outgoing loan"),
        ("loan-in", "Incoming loan"),
        ("exhibition", "Exhibition"),
        ("survey", "Collection survey"),
        ("treatment", "Conservation treatment"),
        ("incident", "Incident"),
        ("other", "Other"),
    ),
)

# Spectrum 5.1 "Condition check/assessment method".
CHECK_METHODS = Vocabulary(
    "check method",
    _terms(
        ("visual", "Visual examination"),
        ("magnification", "Under magnification"),
        ("imaging", "Technical imaging"),
        ("analysis", "Scientific analysis"),
        ("other", "Other"),
    ),
)

REPORT_STATUSES = Vocabulary(
    "report status",
    _terms(
        ("draft", "Draft"),
        ("in-review", "In review"),
        ("in-treatment", "Proposal approved, treatment under way"),
        ("approved", "Approved and signed"),
        ("superseded", "Superseded"),
    ),
)

# What kind of record a `report` document holds.
REPORT_TYPES = Vocabulary(
    "report type",
    _terms(
        ("condition", "Condition check / technical assessment"),
        ("loan", "Loan condition report"),
        ("treatment", "Treatment record"),
    ),
)

# The moment of a loan a loan condition report is made at, one report per handover.
HANDOVERS = Vocabulary(
    "handover",
    _terms(
        ("outgoing", "Outgoing (leaving the lender)"),
        ("incoming", "Incoming (arriving at the borrower)"),
        ("during", "During the loan"),
        ("returning", "Returning (back at the lender)"),
    ),
)

IMAGE_ROLES = Vocabulary(
    "image role",
    _terms(("before", "Before"), ("during", "During"), ("after", "After"), ("general", "General")),
)

ANALYSIS_KINDS = Vocabulary("analysis kind", _terms(("analysis", "Analysis"), ("sample", "Sample")))
