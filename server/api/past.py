"""A document's past as people read it, shared by the history API and `sinopia history`:
the document as it was at a point, and each change summarised from the document before
and after it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pycrdt import Doc

from annotations import changes, schema
from crdt import DocumentName, Entry, Store
from crdt.history import OutOfRange, seq_at_time, state_at
from server.http.problems import HTTPProblem
from server.http.requests import time_param


async def past(store: Store, name: DocumentName, seq: int) -> Doc:
    """The document as it was after entry `seq` (0: before anything); `OutOfRange` if the
    log has no such entry."""
    doc: Doc = Doc()
    if seq > 0:
        doc.apply_update(await state_at(store, str(name), seq))
    return doc


async def described(
    store: Store, name: DocumentName, entries: Sequence[Entry]
) -> dict[int, list[changes.Change]]:
    """Per entry (any order, contiguous), what it changed: kind, where, before and after."""
    ordered = sorted(entries, key=lambda e: e.seq)
    if not ordered:
        return {}
    doc = await past(store, name, ordered[0].seq - 1)
    out = {}
    before = schema.snapshot(doc, name.kind)
    for entry in ordered:
        doc.apply_update(entry.update)
        after = schema.snapshot(doc, name.kind)
        out[entry.seq] = changes.diff_documents(before, after)
        before = after
    return out


def in_words(found: Sequence[changes.Change]) -> list[str]:
    return [c.summary for c in found] or ["no visible change"]


async def summaries(
    store: Store, name: DocumentName, entries: Sequence[Entry]
) -> dict[int, list[str]]:
    """Per entry (any order, contiguous), what it changed, in words."""
    return {seq: in_words(found) for seq, found in (await described(store, name, entries)).items()}


# -- the same for REST: a point outside the log is a 404 ----------------------------------


async def past_doc(store: Store, name: DocumentName, seq: int) -> Doc:
    try:
        return await past(store, name, seq)
    except OutOfRange as exc:
        raise HTTPProblem(404, str(exc)) from None


async def seq_at(store: Store, name: DocumentName, at: str) -> int:
    try:
        return await seq_at_time(store, str(name), time_param(at, "at"))
    except OutOfRange as exc:
        raise HTTPProblem(404, str(exc)) from None


async def snapshot_at(store: Store, name: DocumentName, seq: int) -> dict[str, Any]:
    doc = await past_doc(store, name, seq)
    return schema.snapshot(doc, name.kind)
