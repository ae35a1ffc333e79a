"""Reading the past from the log: the state at a sequence number or a point in time.

Checkpoints are exact (built from the log), so the state at `seq` is the latest
checkpoint at or before it plus the entries after it, never more than a checkpoint
interval of replay.
"""

from __future__ import annotations

import asyncio

from pycrdt import Doc

from .store import Store
from .types import Entry


class OutOfRange(LookupError):
    """A sequence number or time outside the document's log."""


async def state_at(store: Store, doc: str, seq: int) -> bytes:
    """The document as a Yjs update containing exactly entries 1..seq."""
    head = await store.head(doc)
    if head == 0:
        raise OutOfRange(f"{doc} has no history")
    if not 0 <= seq <= head:
        raise OutOfRange(f"{doc} has entries 1 to {head}; there is no {seq}")
    checkpoint = await store.latest_checkpoint(doc, at_most=seq)
    entries = await store.read(doc, after=checkpoint.seq if checkpoint else 0, upto=seq)
    base = checkpoint.state if checkpoint else None
    return await asyncio.to_thread(_replay, base, entries)


def _replay(base: bytes | None, entries: list[Entry]) -> bytes:
    ydoc: Doc = Doc()
    if base:
        ydoc.apply_update(base)
    for entry in entries:
        ydoc.apply_update(entry.update)
    return ydoc.get_update()


async def seq_at_time(store: Store, doc: str, time_ms: int) -> int:
    """The last sequence number stored at or before `time_ms`."""
    head = await store.head(doc)
    if head == 0:
        raise OutOfRange(f"{doc} has no history")
    seq = await store.seq_at(doc, time_ms)
    if seq == 0:
        first = (await store.read(doc, limit=1))[0]
        raise OutOfRange(f"{doc} did not exist yet: its first entry is from {first.time_ms} ms")
    return seq
