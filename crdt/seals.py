"""Seals: Ed25519 signatures over a document's hash-chained log.

A seal signs the hash of entry `last_seq`; because every entry's hash covers the previous
one, that signature vouches for the whole log up to it. Verification recomputes every
hash from the stored content, so a changed byte anywhere shows as the first entry whose
hash no longer matches, and a rewritten-and-rehashed log shows as a seal that no longer
verifies.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import struct
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .store import Store
from .types import GENESIS, Entry, Seal, entry_hash

log = logging.getLogger("sinopia.seals")


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """A short fingerprint to name a key in seals, logs and bundles."""
    return hashlib.sha256(public_bytes(key)).hexdigest()[:16]


def _message(doc: str, first_seq: int, last_seq: int, last_hash: bytes, time_ms: int) -> bytes:
    encoded = doc.encode()
    return (
        b"sinopia-seal-v1"
        + struct.pack(">I", len(encoded))
        + encoded
        + struct.pack(">QQQ", first_seq, last_seq, time_ms)
        + last_hash
    )


def seal(key: Ed25519PrivateKey, doc: str, first_seq: int, last: Entry) -> Seal:
    now = time.time_ns() // 1_000_000
    signature = key.sign(_message(doc, first_seq, last.seq, last.hash, now))
    return Seal(doc, first_seq, last.seq, last.hash, now, key_id(key.public_key()), signature)


@dataclass(frozen=True, slots=True)
class Problem:
    """The first thing found wrong in a document's history."""

    doc: str
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"{self.doc} entry {self.seq}: {self.reason}"


@dataclass(slots=True)
class Report:
    doc: str
    entries: int = 0
    sealed_upto: int = 0
    problem: Problem | None = None
    signed_by: set[str] | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


class ChainVerifier:
    """Checks entries in order as they stream past: hashes, links and numbering."""

    def __init__(self, doc: str, prev: Entry | None = None) -> None:
        self.doc = doc
        self.seq = prev.seq if prev else 0
        self.prev_hash = prev.hash if prev else GENESIS

    def check(self, entry: Entry) -> Problem | None:
        if entry.doc != self.doc:
            return Problem(self.doc, entry.seq, f"belongs to {entry.doc!r}")
        if entry.seq != self.seq + 1:
            return Problem(self.doc, self.seq + 1, f"missing (next stored entry is {entry.seq})")
        if entry.prev_hash != self.prev_hash:
            return Problem(self.doc, entry.seq, "does not link to the entry before it")
        digest = entry_hash(
            entry.doc,
            entry.seq,
            entry.time_ms,
            entry.client_id,
            entry.principal,
            entry.prev_hash,
            entry.update,
        )
        if digest != entry.hash:
            return Problem(self.doc, entry.seq, "content does not match its hash")
        self.seq, self.prev_hash = entry.seq, entry.hash
        return None


def check_seal(
    seal: Seal, entry_hash_at: bytes | None, keys: Mapping[str, Ed25519PublicKey]
) -> str | None:
    """Why `seal` does not hold, or None. `entry_hash_at` is the stored entry's hash."""
    key = keys.get(seal.key_id)
    if key is None:
        return f"sealed by unknown key {seal.key_id}"
    try:
        key.verify(
            seal.signature,
            _message(seal.doc, seal.first_seq, seal.last_seq, seal.last_hash, seal.time_ms),
        )
    except InvalidSignature:
        return "seal signature does not verify"
    if entry_hash_at is None:
        return "sealed entry is missing"
    if entry_hash_at != seal.last_hash:
        return "entry differs from what was sealed"
    return None


def verify(
    doc: str,
    entries: Iterable[Entry],
    seals: Sequence[Seal],
    keys: Mapping[str, Ed25519PublicKey],
) -> Report:
    """Verify a whole log and its seals: the first problem, in log order, is reported."""
    report = Report(doc, signed_by=set())
    chain = ChainVerifier(doc)
    pending = sorted(seals, key=lambda s: s.last_seq)
    i = 0
    for entry in entries:
        problem = chain.check(entry)
        if problem:
            report.problem = problem
            return report
        report.entries += 1
        while i < len(pending) and pending[i].last_seq == entry.seq:
            reason = check_seal(pending[i], entry.hash, keys)
            if reason:
                report.problem = Problem(doc, entry.seq, reason)
                return report
            report.sealed_upto = entry.seq
            assert report.signed_by is not None
            report.signed_by.add(pending[i].key_id)
            i += 1
        if i < len(pending) and pending[i].last_seq < entry.seq:
            report.problem = Problem(doc, pending[i].last_seq, "sealed entry is missing")
            return report
    if i < len(pending):
        report.problem = Problem(doc, pending[i].last_seq, "sealed entry is missing")
    return report


class Sealer:
    """Seals documents that received entries, at most once per `interval` seconds each.

    Reads the head from the store, so entries appended by other instances are sealed too;
    two instances sealing the same head write the same (doc, last_seq) once.
    """

    def __init__(self, store: Store, key: Ed25519PrivateKey, interval: float) -> None:
        self.store = store
        self.key = key
        self.interval = interval
        self._dirty: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    def note(self, doc: str) -> None:
        self._dirty.add(doc)

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.seal_dirty()

    async def seal_dirty(self) -> None:
        docs, self._dirty = self._dirty, set()
        for doc in sorted(docs):
            try:
                await self.seal(doc)
            except Exception as exc:
                self._dirty.add(doc)  # try again next round
                log.error("sealing %s failed: %s", doc, exc, extra={"doc": doc})

    async def seal(self, doc: str) -> Seal | None:
        """Seal `doc` up to its current head, if anything is unsealed."""
        newest = await self.store.read_newest(doc, limit=1)
        if not newest:
            return None
        seals = await self.store.seals(doc)
        sealed = seals[-1].last_seq if seals else 0
        if newest[0].seq <= sealed:
            return None
        made = seal(self.key, doc, sealed + 1, newest[0])
        await self.store.write_seal(made)
        return made

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.seal_dirty()
