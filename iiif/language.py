"""IIIF labels: Presentation 3 language maps, and the strings and `@value` objects of
Presentation 2, as one shape (`{"en": ["Folio 12 recto"]}`) plus the string people see."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

LanguageMap = dict[str, list[str]]

NO_LANGUAGE = "none"


def language_map(value: Any) -> LanguageMap:
    """Any IIIF label form as a language map; ValueError for something that is no label."""
    out: LanguageMap = {}
    _collect(value, out, NO_LANGUAGE)
    return out


def _collect(value: Any, out: LanguageMap, language: str) -> None:
    if value is None:
        return
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        text = str(value).strip()
        if text:
            out.setdefault(language, []).append(text)
    elif isinstance(value, list):
        for item in value:
            _collect(item, out, language)
    elif isinstance(value, dict) and "@value" in value:
        _collect(value["@value"], out, str(value.get("@language") or NO_LANGUAGE))
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError("a language map's keys must be language codes")
            _collect(item, out, key or NO_LANGUAGE)
    else:
        raise ValueError(f"expected a label (string or language map), got {type(value).__name__}")


def pick(labels: LanguageMap, preferred: Iterable[str] = ("en", NO_LANGUAGE)) -> str:
    """The string to show: the first value in the first preferred language there is, else the
    first value of any language, else ""."""
    for language in preferred:
        for key, values in labels.items():
            if values and (key == language or key.split("-")[0] == language):
                return values[0]
    for values in labels.values():
        if values:
            return values[0]
    return ""
