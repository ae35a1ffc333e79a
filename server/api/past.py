"""History as people read it, shared by the REST API and the command line: each change
summarised from the document before and after it."""

from __future__ import annotations

from collections.abc import Sequence

from pycrdt import Doc

from annotations import changes, schema
from crdt import DocumentName, Entry, Store
from crdt.history import state_at


async def past(store: Store, name: DocumentName, seq: int) -> Doc:
    """The document as it was after entry `seq` (0: before anything); `OutOfRange` if the
    log has no such entry."""
    doc: Doc = Doc()
    if seq > 0:
        doc.apply_update(await state_at(store, str(name), seq))
    return doc


async def summaries(
    store: Store, name: DocumentName, entries: Sequence[Entry]
) -> dict[int, list[str]]:
    """Per entry (any order, contiguous), what it changed, in words."""
    ordered = sorted(entries, key=lambda e: e.seq)
    if not ordered:
        return {}
    doc = await past(store, name, ordered[0].seq - 1)
    out = {}
    before = schema.snapshot(doc, name.kind)
    for entry in ordered:
        doc.apply_update(entry.update)
        after = schema.snapshot(doc, name.kind)
        out[entry.seq] = changes.summarize(before, after) or ["no visible change"]
        before = after
    return out
