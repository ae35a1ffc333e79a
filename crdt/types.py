"""Value types shared by rooms, stores and buses."""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

# The hash of "no previous entry": the first entry of every document's log chains to it.
GENESIS = bytes(32)


@dataclass(frozen=True, slots=True)
class NewEntry:
    """An update on its way into a document's log; the store gives it a sequence number."""

    update: bytes
    client_id: str
    principal: str
    # When the server accepted it, if earlier than the append (an update held in the
    # local spool during a store outage keeps its time).
    time_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """One stored update of a document's append-only log."""

    doc: str
    seq: int
    update: bytes
    time_ms: int
    client_id: str
    principal: str
    prev_hash: bytes
    hash: bytes


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The full state of a document after applying every entry up to and including `seq`."""

    doc: str
    seq: int
    state: bytes
    time_ms: int


@dataclass(frozen=True, slots=True)
class Seal:
    """A signature over a document's log up to `last_seq`.

    Entries are hash-chained, so signing the hash of entry `last_seq` commits to every entry
    before it too; `first_seq` says where the range this seal added starts.
    """

    doc: str
    first_seq: int
    last_seq: int
    last_hash: bytes
    time_ms: int
    key_id: str
    signature: bytes


@dataclass(frozen=True, slots=True)
class Version:
    """A named point in a document's history ("report v2 as sent to the lender")."""

    doc: str
    name: str
    seq: int
    time_ms: int
    principal: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Loaded:
    """What a room needs to open a document: a checkpoint (if any) and the entries after it."""

    checkpoint: Checkpoint | None
    entries: list[Entry]

    @property
    def head(self) -> int:
        if self.entries:
            return self.entries[-1].seq
        return self.checkpoint.seq if self.checkpoint else 0


def _field(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def entry_hash(
    doc: str,
    seq: int,
    time_ms: int,
    client_id: str,
    principal: str,
    prev_hash: bytes,
    update: bytes,
) -> bytes:
    """SHA-256 over every field of an entry and the previous entry's hash.

    Fields are length-prefixed so that no two different entries encode alike; chaining
    `prev_hash` means rewriting any entry changes every hash after it.
    """
    h = hashlib.sha256()
    h.update(b"sinopia-entry-v1")
    h.update(_field(doc.encode()))
    h.update(struct.pack(">QQ", seq, time_ms))
    h.update(_field(client_id.encode()))
    h.update(_field(principal.encode()))
    h.update(_field(prev_hash))
    h.update(_field(hashlib.sha256(update).digest()))
    return h.digest()


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-connection and per-document limits; every one is a setting (see server.settings)."""

    # Largest single websocket message accepted (a SyncStep2 of offline work can be big).
    max_message_bytes: int = 8 * 1024 * 1024
    # Largest stored size of one document (checkpoint plus updates since), checked before
    # an update is applied so a refused update leaves the document as it was.
    max_document_bytes: int = 64 * 1024 * 1024
    # Clients that can write (editors and above) in one document's room.
    max_clients_per_room: int = 200
    # Read-only clients (viewers, share links: an exhibition page's visitors) in one room,
    # counted apart from the editors.
    max_watchers_per_room: int = 10_000
    # Bytes queued to one slow client before it is disconnected (it resyncs on reconnect).
    max_send_queue_bytes: int = 16 * 1024 * 1024
