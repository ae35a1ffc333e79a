"""Values inside pycrdt documents: plain JSON out of them, and text edits into them that
keep what other people are typing at the same moment."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from pycrdt import Array, Map, Text


def plain(value: Any) -> Any:
    """JSON-compatible Python from a shared value or pycrdt's `to_py()` output.

    Yjs stores every number as a double, so 3 comes back as 3.0; whole floats become ints
    again (a float field that happened to be whole reads the same in JSON).
    """
    if isinstance(value, Text):
        return str(value)
    if isinstance(value, Map | Array):
        return plain(value.to_py())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def replace_text(text: Text, value: str) -> None:
    """Make `text` read `value` by one deletion and one insertion around the changed middle.

    Replacing the whole Text (or all its content) would drop a collaborator's concurrent
    keystrokes; editing only the part that differs merges with them as the CRDT intends.
    Call inside a transaction. pycrdt counts positions in UTF-8 bytes.
    """
    old = str(text)
    if old == value:
        return
    start = 0
    limit = min(len(old), len(value))
    while start < limit and old[start] == value[start]:
        start += 1
    end = 0
    while end < limit - start and old[len(old) - 1 - end] == value[len(value) - 1 - end]:
        end += 1
    offset = len(old[:start].encode())
    removed = len(old[start : len(old) - end].encode())
    if removed:
        del text[offset : offset + removed]
    inserted = value[start : len(value) - end]
    if inserted:
        text.insert(offset, inserted)


def update_map(target: Map, fields: dict[str, Any], keep: Collection[str] = ()) -> None:
    """Make `target` hold exactly `fields` (plus the keys in `keep`), writing only the keys
    whose value differs, so unchanged fields make no update and no history."""
    for key in [k for k in target.keys() if k not in fields and k not in keep]:
        del target[key]
    for key, value in fields.items():
        if plain(target.get(key)) != value:
            target[key] = value
