"""CSV for CollectionSpace's condition check import (the batch importer's CSV template for
the `conditioncheck` record type): one row per report, the columns named as the importer
maps them to the condition check record's fields.

Repeating fields (hazards, and one `condition` group per damage entry beside the overall
condition) hold their values separated by `|`, the importer's default delimiter, so the
n-th value of each column of a group belongs together. Overall condition grades are
written as CollectionSpace's default condition option list values.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from .damage_terms import DAMAGE_TERMS
from .reports import Report
from .vocabularies import CHECK_METHODS, COMPLETENESS, PRIORITIES, REPORT_REASONS, Vocabulary

DELIMITER = "|"

COLUMNS = (
    "conditioncheckrefnumber",
    "conditioncheckassessmentdate",
    "conditioncheckmethod",
    "conditioncheckreason",
    "conditioncheckerperson",
    "conditionchecknote",
    "condition",
    "conditiondate",
    "conditionnote",
    "completeness",
    "completenessdate",
    "completenessnote",
    "hazard",
    "hazarddate",
    "hazardnote",
    "techassessment",
    "techassessmentdate",
    "envconditionnote",
    "envconditionnotedate",
    "conservationtreatmentpriority",
    "nextconditioncheckdate",
    "displayrecommendations",
    "envrecommendations",
    "handlingrecommendations",
    "packingrecommendations",
    "securityrecommendations",
    "storagerequirements",
    "specialrequirements",
)

# Our grades as CollectionSpace's default `condition` option list values.
CONDITION_OPTIONS = {
    "excellent": "needsnowork",
    "good": "needsnowork",
    "fair": "exhibitableneedswork",
    "poor": "notexhibitablestable",
    "unstable": "injeopardy",
}


def _clean(text: str) -> str:
    # A delimiter inside a value would split it in two on import.
    return " ".join(text.replace(DELIMITER, "/").split())


def row(report: Report, *, terms: Vocabulary = DAMAGE_TERMS) -> dict[str, str]:
    """One import row for a report."""
    day = report.date.isoformat() if report.date else ""
    env = report.environment
    env_parts = []
    if env is not None:
        for value, unit in (
            (env.temperature, "°C"),
            (env.humidity, "% RH"),
            (env.light, "lux"),
            (env.uv, "µW/lm"),
        ):
            if value is not None:
                env_parts.append(f"{value:g} {unit}")
        if env.notes:
            env_parts.append(env.notes)
    conditions = [CONDITION_OPTIONS.get(report.condition or "", "")]
    notes = [_clean(report.summary)]
    for entry in report.damage:
        conditions.append("")
        extent = f", {entry.extent.value:g} {entry.extent.unit}" if entry.extent else ""
        where = f" at {entry.location}" if entry.location else ""
        notes.append(
            _clean(
                f"{terms.label(entry.term)}{where}: {entry.severity}, {entry.activity}{extent}"
                + (f". {entry.note}" if entry.note else "")
            )
        )
    requirements = report.requirements
    checker = report.checker.name or report.checker.id or "" if report.checker else ""
    return {
        "conditioncheckrefnumber": report.reference,
        "conditioncheckassessmentdate": day,
        "conditioncheckmethod": CHECK_METHODS.label(report.method) if report.method else "",
        "conditioncheckreason": REPORT_REASONS.label(report.reason),
        "conditioncheckerperson": checker,
        # The import has no column for the object: the note names it, to relate by hand.
        "conditionchecknote": _clean(
            f"{report.object_info.identifier}: {report.title}"
            if report.object_info
            else report.title
        ),
        "condition": DELIMITER.join(conditions),
        "conditiondate": DELIMITER.join([day] * len(conditions)),
        "conditionnote": DELIMITER.join(notes),
        "completeness": COMPLETENESS.label(report.completeness) if report.completeness else "",
        "completenessdate": day if report.completeness else "",
        "completenessnote": "",
        "hazard": DELIMITER.join(_clean(h) for h in report.hazards),
        "hazarddate": DELIMITER.join([day] * len(report.hazards)),
        "hazardnote": "",
        "techassessment": _clean(report.assessment),
        "techassessmentdate": day if report.assessment.strip() else "",
        "envconditionnote": _clean("; ".join(env_parts)),
        "envconditionnotedate": day if env_parts else "",
        "conservationtreatmentpriority": PRIORITIES.label(report.priority)
        if report.priority
        else "",
        "nextconditioncheckdate": report.next_check.isoformat() if report.next_check else "",
        "displayrecommendations": _clean(requirements.display) if requirements else "",
        "envrecommendations": _clean(requirements.environmental) if requirements else "",
        "handlingrecommendations": _clean(requirements.handling) if requirements else "",
        "packingrecommendations": _clean(requirements.packing) if requirements else "",
        "securityrecommendations": _clean(requirements.security) if requirements else "",
        "storagerequirements": _clean(requirements.storage) if requirements else "",
        "specialrequirements": _clean(requirements.special) if requirements else "",
    }


def to_csv(reports: Iterable[Report], *, terms: Vocabulary = DAMAGE_TERMS) -> str:
    """The import CSV of some reports (a header row, then one row each)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for report in reports:
        writer.writerow(row(report, terms=terms))
    return out.getvalue()
