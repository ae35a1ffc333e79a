"""The local spool: when a remote store (MongoDB) is away, accepted updates are kept in a
file in the data directory and written to the store, in order, when it returns.

Live editing between connected clients goes on meanwhile; nothing accepted lives in
memory alone. The spool is bounded: when it is full, appends fail with a clear error and
the room refuses further updates rather than losing them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

from . import sqlitefiles
from .keyring import SPOOLED, Keyring, WrappedKey, context
from .keys import MasterKeyError
from .store import Store, StoreError, Unreachable
from .types import Checkpoint, Entry, NewEntry, Seal, Version

log = logging.getLogger("sinopia.spool")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS spool (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    doc TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    client_id TEXT NOT NULL,
    principal TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS data_keys (
    scope TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    master_id TEXT NOT NULL,
    wrapped BLOB NOT NULL,
    created_ms INTEGER NOT NULL
);
"""
# The spool's own data key: the store, which keeps the workspaces' keys, may be the very
# thing that is away. A scope no workspace can have (names start with a letter or digit).
SPOOL_SCOPE = "~spool"
# Entries moved to the store per write while draining.
_DRAIN_BATCH = 500


class SpoolFull(StoreError):
    pass


class SpooledStore(Store):
    """A remote store with a local spool in front of its appends; everything else is the
    remote store's own."""

    remote = True

    def __init__(
        self,
        store: Store,
        path: Path,
        max_bytes: int,
        retry_seconds: float = 1.0,
        keyring: Keyring | None = None,
    ) -> None:
        self.store = store
        self.keyring = keyring
        self.path = path
        self.max_bytes = max_bytes
        self.retry_seconds = retry_seconds
        self._db: sqlite3.Connection | None = None
        self.spooled = 0
        self.spooled_bytes = 0
        self._drainer: asyncio.Task[None] | None = None
        # Appends go through one at a time while spooling, to keep their order.
        self._lock = asyncio.Lock()
        self._opened = False

    def describe(self) -> str:
        return f"{self.store.describe()} (spool: {self.path})"

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlitefiles.connect(self.path)
        # Drained rows and replaced keys are zeroed in the file, not just unlinked.
        self._db.execute("PRAGMA secure_delete = ON")
        sqlitefiles.create_schema(self._db, _SCHEMA)
        self.spooled, self.spooled_bytes = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(data)), 0) FROM spool"
        ).fetchone()
        await asyncio.to_thread(self._open_key)
        try:
            await self.store.open()
            self._opened = True
        except Unreachable as exc:
            log.warning("store unreachable at start, spooling: %s", exc)
        if self.spooled or not self._opened:
            log.warning("%d updates spooled; writing them when the store answers", self.spooled)
            self._start_drain()

    def _open_key(self) -> None:
        """An empty spool takes a fresh key (or none); a spool holding updates keeps the
        one they were sealed with, and never mixes sealed and plain."""
        assert self._db is not None
        keys = _spool_keys(self._db)
        if not self.spooled:
            with self._db:
                self._db.execute("DELETE FROM data_keys")
                if self.keyring is not None:
                    key = self.keyring.new_key(SPOOL_SCOPE)
                    self._db.execute(
                        "INSERT INTO data_keys VALUES (?, ?, ?, ?, ?)",
                        (key.scope, key.key_id, key.master_id, key.wrapped, key.created_ms),
                    )
                    self.keyring.add(key)
            return
        if self.keyring is None and keys:
            raise MasterKeyError(
                f"the spool {self.path} holds updates encrypted with master key "
                f"{keys[0].master_id}: set SINOPIA_KEY_URL to that key's file"
            )
        if self.keyring is not None and not keys:
            raise MasterKeyError(
                f"the spool {self.path} holds unencrypted updates: start once without "
                "SINOPIA_KEY_URL so that they reach the store"
            )
        if self.keyring is not None:
            self.keyring.add_all(keys)

    def _seal(self, doc: str, t: int, client_id: str, principal: str, data: bytes) -> bytes:
        if self.keyring is None:
            return data
        aad = context(SPOOLED, doc, t, f"{client_id}\0{principal}")
        return self.keyring.encrypt(SPOOL_SCOPE, aad, data)

    def _unseal(self, doc: str, t: int, client_id: str, principal: str, blob: bytes) -> bytes:
        if self.keyring is None:
            return blob
        return self.keyring.decrypt(context(SPOOLED, doc, t, f"{client_id}\0{principal}"), blob)

    async def close(self) -> None:
        if self._drainer:
            self._drainer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._drainer
        with contextlib.suppress(Exception):
            await self._drain_once()
        await self.store.close()
        if self._db is not None:
            self._db.close()
            self._db = None

    async def ping(self) -> None:
        await self.store.ping()
        if self.spooled:
            raise Unreachable(f"{self.spooled} updates still spooled, being written")

    async def append_batch(
        self, batch: Sequence[tuple[str, Sequence[NewEntry]]]
    ) -> list[list[Entry]]:
        async with self._lock:
            if not self.spooled and self._opened:
                try:
                    return await self.store.append_batch(batch)
                except Unreachable as exc:
                    log.warning("store unreachable, spooling updates: %s", exc)
            spooled = await asyncio.to_thread(self._spool, batch)
            self._start_drain()
            return spooled

    def _spool(self, batch: Sequence[tuple[str, Sequence[NewEntry]]]) -> list[list[Entry]]:
        assert self._db is not None
        now = time.time_ns() // 1_000_000
        size = sum(len(e.update) for _, entries in batch for e in entries)
        if self.spooled_bytes + size > self.max_bytes:
            raise SpoolFull(
                f"store unavailable and the local spool is full ({self.max_bytes} bytes)"
            )
        rows = [
            (
                doc,
                e.time_ms or now,
                e.client_id,
                e.principal,
                self._seal(doc, e.time_ms or now, e.client_id, e.principal, e.update),
            )
            for doc, entries in batch
            for e in entries
        ]
        with self._db:
            self._db.executemany(
                "INSERT INTO spool (doc, time_ms, client_id, principal, data) "
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )
        self.spooled += len(rows)
        self.spooled_bytes += size
        # Durable here, numbered later: the store gives sequence numbers when it returns.
        return [
            [
                Entry(doc, 0, e.update, e.time_ms or now, e.client_id, e.principal, b"", b"")
                for e in entries
            ]
            for doc, entries in batch
        ]

    def _start_drain(self) -> None:
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        delay = self.retry_seconds
        while self.spooled or not self._opened:
            try:
                await self._drain_once()
                delay = self.retry_seconds
            except StoreError as exc:
                log.info("store still unavailable (%s); %d updates spooled", exc, self.spooled)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
        log.info("spool empty: every update is in the store")

    async def _drain_once(self) -> None:
        assert self._db is not None
        if not self._opened:
            await self.store.open()
            self._opened = True
        while True:
            # Only the local spool is read and changed under the lock: appends (which go to
            # the spool while it is not empty) are never held up by a store still away.
            async with self._lock:
                rows = self._db.execute(
                    "SELECT id, doc, time_ms, client_id, principal, data FROM spool "
                    "ORDER BY id LIMIT ?",
                    (_DRAIN_BATCH,),
                ).fetchall()
            if not rows:
                return
            batch: list[tuple[str, list[NewEntry]]] = []
            for _, doc, t, client, principal, data in rows:
                entry = NewEntry(
                    self._unseal(doc, t, client, principal, bytes(data)), client, principal, t
                )
                if batch and batch[-1][0] == doc:
                    batch[-1][1].append(entry)
                else:
                    batch.append((doc, [entry]))
            batch = [(doc, await self._not_stored(doc, entries)) for doc, entries in batch]
            await self.store.append_batch([(d, e) for d, e in batch if e])
            async with self._lock:
                with self._db:
                    self._db.execute("DELETE FROM spool WHERE id <= ?", (rows[-1][0],))
                self.spooled -= len(rows)
                self.spooled_bytes -= sum(len(r[5]) for r in rows)

    async def _not_stored(self, doc: str, entries: list[NewEntry]) -> list[NewEntry]:
        # A write that failed half-way (or a drain interrupted before its spool rows were
        # deleted) may have stored some of these already: each goes into the log once.
        recent = await self.store.read_newest(doc, limit=len(entries) + _DRAIN_BATCH)
        seen = {(e.client_id, e.update) for e in recent}
        return [e for e in entries if (e.client_id, e.update) not in seen]

    # Everything else is the store's.

    async def read(
        self, doc: str, after: int = 0, limit: int | None = None, upto: int | None = None
    ) -> list[Entry]:
        return await self.store.read(doc, after, limit, upto)

    async def read_newest(
        self, doc: str, before: int | None = None, limit: int = 50
    ) -> list[Entry]:
        return await self.store.read_newest(doc, before, limit)

    async def seq_at(self, doc: str, time_ms: int) -> int:
        return await self.store.seq_at(doc, time_ms)

    async def latest_checkpoint(self, doc: str, at_most: int | None = None) -> Checkpoint | None:
        return await self.store.latest_checkpoint(doc, at_most)

    async def write_checkpoint(self, checkpoint: Checkpoint) -> None:
        await self.store.write_checkpoint(checkpoint)

    async def head(self, doc: str) -> int:
        return await self.store.head(doc)

    async def documents(self, prefix: str = "") -> list[str]:
        return await self.store.documents(prefix)

    async def write_seal(self, seal: Seal) -> None:
        await self.store.write_seal(seal)

    async def seals(self, doc: str) -> list[Seal]:
        return await self.store.seals(doc)

    async def add_version(self, version: Version) -> None:
        await self.store.add_version(version)

    async def versions(self, doc: str) -> list[Version]:
        return await self.store.versions(doc)

    async def data_keys(self) -> list[WrappedKey]:
        return await self.store.data_keys()

    async def put_data_keys(self, keys: Sequence[WrappedKey]) -> None:
        await self.store.put_data_keys(keys)

    async def encrypt_existing(self, keyring: Keyring) -> int:
        if self.spooled:
            raise StoreError("updates are still spooled: let them reach the store first")
        return await self.store.encrypt_existing(keyring)

    async def ensure_data_key(self, workspace: str) -> None:
        await self.store.ensure_data_key(workspace)

    async def delete_workspace(self, workspace: str) -> list[str]:
        return await self.store.delete_workspace(workspace)


def _spool_keys(db: sqlite3.Connection) -> list[WrappedKey]:
    rows = db.execute("SELECT scope, key_id, master_id, wrapped, created_ms FROM data_keys")
    return [WrappedKey(r[0], r[1], r[2], bytes(r[3]), r[4]) for r in rows]


def rewrap_spool(path: Path, keyring: Keyring) -> int:
    """Rewrap the key of the spool file at `path` under the keyring's master key (a
    rotation, with the server stopped); how many keys were rewrapped."""
    db = sqlitefiles.connect(path)
    try:
        sqlitefiles.create_schema(db, _SCHEMA)
        keys = [k for k in _spool_keys(db) if k.master_id != keyring.master_id]
        with db:
            for key in keys:
                new = keyring.rewrap(key)
                db.execute(
                    "UPDATE data_keys SET master_id = ?, wrapped = ? WHERE key_id = ?",
                    (new.master_id, new.wrapped, new.key_id),
                )
        return len(keys)
    finally:
        db.close()
