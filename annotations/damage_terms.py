"""The curated damage list: Getty AAT damage and condition terms with labels in English,
French, German and Italian, read from `data/damage-terms.json`.

That file records, for every term, which openly licensed source states its AAT id and
under which label (`aat_sources`), where the sources disagree (`aat_disagreements`), where
each label comes from (`label_sources`), and why a term waits for a curator
(`curator_check`, `check_reason`). AAT data is used under the ODC Attribution License:
`ATTRIBUTION` is shown wherever the list is (the vocabulary API, exports, the PDF).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from .vocabularies import Term, Vocabulary

DATA_FILE = "damage-terms.json"


@cache
def _data() -> dict[str, Any]:
    text = resources.files("annotations").joinpath("data", DATA_FILE).read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _term(entry: dict[str, Any]) -> Term:
    sources = entry.get("aat_sources") or []
    return Term(
        value=entry["value"],
        label=entry["labels"]["en"],
        labels=dict(entry["labels"]),
        aat=entry.get("aat"),
        source=sources[0]["source"] if sources else "sinopia",
        curator_check=bool(entry.get("curator_check")),
        description=entry.get("check_reason"),
    )


DAMAGE_TERMS = Vocabulary("damage term", [_term(e) for e in _data()["terms"]])
ATTRIBUTION: str = _data()["attribution"]


def sources() -> dict[str, dict[str, Any]]:
    """The sources the list cites, by key (as `aat_sources` and `label_sources` name them)."""
    return dict(_data()["sources"])


def provenance(value: str) -> dict[str, Any] | None:
    """Everything the data file says about one term."""
    for entry in _data()["terms"]:
        if entry["value"] == value:
            return dict(entry)
    return None
