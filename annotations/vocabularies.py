"""Controlled vocabularies: the terms annotations and reports may use, with display labels.

Motivations and body purposes are the W3C Web Annotation motivations (plus IIIF's
`painting`/`supplementing`, which imported annotations carry). Report vocabularies are small
on purpose: conservators pick from them in forms, and the history shows their labels.

`aat` is the Getty Art & Architecture Thesaurus concept for a term. It is left empty until a
curator has checked the concept: a wrong thesaurus link is worse than none, because it gets
copied into every export.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict


class Term(BaseModel):
    """One controlled term: the value stored in documents, and what people read."""

    model_config = ConfigDict(frozen=True)

    value: str
    label: str
    aat: str | None = None
    description: str | None = None


class Vocabulary:
    """An ordered, read-only set of terms looked up by value."""

    def __init__(self, name: str, terms: list[Term]) -> None:
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

    def label(self, value: str) -> str:
        """The display label of `value`, or `value` itself for a term we do not know."""
        term = self._terms.get(value)
        return term.label if term else value

    def expect(self, value: str) -> str:
        """`value` if it is a term of this vocabulary; a ValueError naming the choices if not."""
        if value not in self._terms:
            choices = ", ".join(self._terms)
            raise ValueError(f"unknown {self.name} {value!r}; expected one of: {choices}")
        return value


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

DAMAGE_TYPES = Vocabulary(
    "damage type",
    _terms(
        ("abrasion", "Abrasion"),
        ("accretion", "Accretion"),
        ("biological", "Biological attack (mould, insects)"),
        ("blistering", "Blistering"),
        ("break", "Break"),
        ("corrosion", "Corrosion"),
        ("crack", "Crack"),
        ("craquelure", "Craquelure"),
        ("deformation", "Deformation"),
        ("delamination", "Delamination"),
        ("discoloration", "Discoloration"),
        ("fading", "Fading"),
        ("flaking", "Flaking"),
        ("foxing", "Foxing"),
        ("hole", "Hole"),
        ("loss", "Loss"),
        ("scratch", "Scratch"),
        ("stain", "Stain"),
        ("tear", "Tear"),
        ("old-repair", "Old repair"),
        ("other", "Other"),
    ),
)

SEVERITIES = Vocabulary(
    "severity",
    _terms(("minor", "Minor"), ("moderate", "Moderate"), ("severe", "Severe")),
)

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

REPORT_PURPOSES = Vocabulary(
    "report purpose",
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

REPORT_STATUSES = Vocabulary(
    "report status",
    _terms(
        ("draft", "Draft"),
        ("in-review", "In review"),
        ("approved", "Approved"),
        ("signed", "Signed"),
    ),
)

# What kind of record a `report` document holds.
REPORT_TYPES = Vocabulary(
    "report type",
    _terms(("condition", "Condition report"), ("treatment", "Treatment record")),
)
