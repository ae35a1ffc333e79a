"""The store interface: per document, an append-only log of updates and checkpoints.

A backend is one module under `crdt/stores/` implementing `Store`. Sequence numbers and
hashes are assigned inside the backend's write transaction (via `chain`), from the
stored head of the log, never from a process's memory: several server instances may
append to one document's log.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pycrdt import Doc

from .types import GENESIS, Checkpoint, Entry, Loaded, NewEntry, Seal, Version, entry_hash

if TYPE_CHECKING:
    from .keyring import Keyring, WrappedKey


class StoreError(Exception):
    """The store could not do what was asked (unreachable, corrupt, conflicting)."""


class Unreachable(StoreError):
    """The store cannot be reached now (network, server down): the write may be retried."""


class VersionExists(StoreError):
    """A named version with that name already exists for the document."""


class Store(ABC):
    """One backend: the embedded SQLite file, MongoDB, ..."""

    # A store across a network can be away for a while: the server then keeps accepted
    # updates in a local spool (crdt.spool) until it returns.
    remote = False

    @abstractmethod
    async def open(self) -> None:
        """Connect and create what is missing (tables, indexes)."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def ping(self) -> None:
        """Raise `StoreError` unless the store answers now."""

    @abstractmethod
    async def append_batch(
        self, batch: Sequence[tuple[str, Sequence[NewEntry]]]
    ) -> list[list[Entry]]:
        """Append to several documents' logs in one durable write: the group commit.

        Returns the stored entries of each item of `batch`, in order. Either every entry is
        durable when this returns, or it raises and none is.
        """

    @abstractmethod
    async def read(
        self, doc: str, after: int = 0, limit: int | None = None, upto: int | None = None
    ) -> list[Entry]:
        """Entries with `after < seq <= upto`, ascending, at most `limit` of them."""

    @abstractmethod
    async def read_newest(
        self, doc: str, before: int | None = None, limit: int = 50
    ) -> list[Entry]:
        """Entries with `seq < before` (or all), newest first, at most `limit`."""

    @abstractmethod
    async def seq_at(self, doc: str, time_ms: int) -> int:
        """The highest sequence number stored at or before `time_ms`, 0 if none."""

    @abstractmethod
    async def latest_checkpoint(self, doc: str, at_most: int | None = None) -> Checkpoint | None:
        """The checkpoint with the highest `seq <= at_most` (or highest of all)."""

    @abstractmethod
    async def write_checkpoint(self, checkpoint: Checkpoint) -> None: ...

    @abstractmethod
    async def head(self, doc: str) -> int:
        """The highest sequence number of the document's log, 0 if it has none."""

    @abstractmethod
    async def documents(self, prefix: str = "") -> list[str]:
        """Names of documents with a log, sorted."""

    @abstractmethod
    async def write_seal(self, seal: Seal) -> None:
        """Keep a seal; writing one with the same (doc, last_seq) again is harmless."""

    @abstractmethod
    async def seals(self, doc: str) -> list[Seal]:
        """The document's seals, by `last_seq` ascending."""

    @abstractmethod
    async def add_version(self, version: Version) -> None:
        """Name a point of history; `VersionExists` if the name is taken for that document."""

    @abstractmethod
    async def versions(self, doc: str) -> list[Version]:
        """The document's named versions, by `seq` then time, ascending."""

    # -- encryption at rest (crdt.keyring): the wrapped data keys kept beside the data --

    @abstractmethod
    async def data_keys(self) -> list[WrappedKey]:
        """Every wrapped data key the store holds (none when it is not encrypted)."""

    @abstractmethod
    async def put_data_keys(self, keys: Sequence[WrappedKey]) -> None:
        """Replace stored data keys by key id with these (rewrapped: a rotation)."""

    @abstractmethod
    async def ensure_data_key(self, workspace: str) -> None:
        """With a keyring: have the workspace's data key in it, loaded or made (for other
        stores of the workspace's data, the blobs). Without one: nothing."""

    @abstractmethod
    async def delete_workspace(self, workspace: str) -> list[str]:
        """Remove every document of `workspace` (log, checkpoints, seals, versions) and
        destroy its data key; returns the documents removed. Without the key, whatever
        copy of the data is left (free pages, backups) cannot be read."""

    @abstractmethod
    async def encrypt_existing(self, keyring: Keyring) -> int:
        """Encrypt, in place, a store written without a key (the server stopped); from
        then on it is opened with `keyring`. Returns the records encrypted. Refused if
        the store is encrypted already."""

    def describe(self) -> str:
        """Where the data lives, for the log (never with credentials)."""
        return type(self).__name__

    async def load(self, doc: str) -> Loaded:
        """The latest checkpoint and every entry after it."""
        checkpoint = await self.latest_checkpoint(doc)
        entries = await self.read(doc, after=checkpoint.seq if checkpoint else 0)
        return Loaded(checkpoint, entries)

    async def checkpoint(self, doc: str) -> Checkpoint | None:
        """Write a checkpoint at the head of the log, built from the log itself.

        Built from stored entries rather than a live document, so a checkpoint at `seq` is
        exactly the state after entries 1..seq: history can start from it too.
        """
        loaded = await self.load(doc)
        if not loaded.entries:
            return loaded.checkpoint
        state = await asyncio.to_thread(_squash, loaded)
        last = loaded.entries[-1]
        checkpoint = Checkpoint(doc, last.seq, state, last.time_ms)
        await self.write_checkpoint(checkpoint)
        return checkpoint


def _squash(loaded: Loaded) -> bytes:
    # Applying to a Doc is far faster than pycrdt.merge_updates on long logs.
    ydoc: Doc = Doc()
    if loaded.checkpoint:
        ydoc.apply_update(loaded.checkpoint.state)
    for entry in loaded.entries:
        ydoc.apply_update(entry.update)
    return ydoc.get_update()


def chain(
    doc: str,
    head: Entry | None,
    new: Sequence[NewEntry],
    now_ms: int | None = None,
) -> list[Entry]:
    """Number, timestamp and hash `new` entries after `head` (the log's last entry).

    Server time never goes backwards within one log, so "the state on a given day" is a
    prefix of the log even if instances' clocks disagree a little.
    """
    seq = head.seq if head else 0
    prev = head.hash if head else GENESIS
    now = now_ms if now_ms is not None else time.time_ns() // 1_000_000
    t = head.time_ms if head else 0
    out = []
    for item in new:
        t = max(t, item.time_ms if item.time_ms is not None else now)
        seq += 1
        digest = entry_hash(doc, seq, t, item.client_id, item.principal, prev, item.update)
        out.append(Entry(doc, seq, item.update, t, item.client_id, item.principal, prev, digest))
        prev = digest
    return out
