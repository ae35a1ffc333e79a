"""A room: one live document, the peers editing it, and the path of every update.

An update from a peer is validated and applied to the live `pycrdt.Doc` at once (so the
next message from anyone sees it), then appended to the store; only once it is durable is
it relayed to the other peers and the bus. What a client has been sent is therefore
always in the store, and a crash can lose only updates their senders still hold and will
send again on reconnect.

Everything that touches the document runs synchronously on the event loop; the only
awaits are the store and the bus, in the room's flush task.

A room opens without building its document: applying a big checkpoint takes pycrdt a
tenth of a second or more, and the first joiner need not wait for it. Until the document
is needed (an update, a REST call, anything that reads `room.doc`) or a moment has
passed, a joiner's SyncStep1 is answered from the stored bytes themselves: the log's tail
merged (small updates, cheap to merge) and then the checkpoint, as a SyncStep2. Yjs keeps
an update whose dependencies it lacks until they arrive, so the client is in sync once
the SyncStep2 is in. The room's own SyncStep1 (what it lacks of the client's) follows
once the document is built.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple, TypeVar

from pycrdt import (
    Awareness,
    Doc,
    TransactionEvent,
    create_sync_message,
    handle_sync_message,
    merge_updates,
)

from . import protocol
from .bus import Bus, BusMessage, Kind
from .errors import MalformedMessage, RoomFull, StoreUnavailable, TooLarge
from .groupcommit import GroupCommit
from .peer import Peer
from .store import Store, StoreError
from .types import Entry, Limits, Loaded, NewEntry

log = logging.getLogger("sinopia.room")

T = TypeVar("T")

# Yjs' empty update: two zero varints (no structs, no deletions).
_EMPTY_UPDATE = b"\x00\x00"

# A hole in the sequence numbers a room has applied that lasts this long means a bus
# message was lost (an instance died between storing and publishing, a stream was
# trimmed past a slow reader): the room re-reads the store. Shorter holes are messages
# still on their way, as instances' appends interleave.
GAP_GRACE_SECONDS = 1.0
# Entries read per store round trip when catching up.
CATCH_UP_PAGE = 500
# Updates relayed together are merged into frames of at most this size: a frame is written
# to a client's socket at once, so a merge must not grow past what back-pressure allows
# for (see server/live); most updates are a few hundred bytes.
MERGED_FRAME_BYTES = 256 * 1024
# A room opened from a checkpoint builds its document this long after opening, unless
# something needs it sooner: long enough for the joiners that opened it to have their
# SyncStep1 answered from the stored bytes first.
BUILD_DELAY_SECONDS = 0.02


@dataclass(slots=True)
class Stats:
    """Counters the server exports as metrics; shared by all rooms of a manager."""

    updates: int = 0
    duplicates: int = 0
    # Updates delivered to peers (an update in a merged frame counts once per receiver),
    # and the update frames that carried them.
    deliveries: int = 0
    frames: int = 0
    awareness: int = 0
    refused: int = 0
    remote_updates: int = 0
    # Entries a room missed on the bus and read back from the store.
    resynced_updates: int = 0


class Refusal(NamedTuple):
    """Why an update is refused before it is applied. `close`: the update is malformed
    for this document (4400); otherwise the sender is told "permission denied" style, on
    the y-websocket auth channel, and stays connected."""

    reason: str
    close: bool = False


# (room, sender, update) -> None to accept, called before the update is applied to
# `room.doc`. Installed by the server, which knows the document schema and the roles; the
# room only enforces the verdict.
UpdateCheck = Callable[["Room", Peer, bytes], Refusal | None]


@dataclass(eq=False)
class ServerPeer:
    """The author of a change the server makes for someone (REST, restore): recorded in
    the log like a connection, but nothing is sent to it."""

    principal: str
    id: str = field(default_factory=lambda: "api-" + secrets.token_hex(6))
    can_write: bool = True
    presence: bool = False

    def send(self, message: bytes) -> None:
        pass

    def close(self, code: int, reason: str) -> None:
        pass


class Room:
    def __init__(
        self,
        name: str,
        *,
        store: Store,
        log: GroupCommit,
        bus: Bus,
        limits: Limits,
        stats: Stats,
        checkpoint_every: int,
        on_broken: Callable[[Room], None],
        on_stored: Callable[[str], None] | None = None,
        check: UpdateCheck | None = None,
    ) -> None:
        self.name = name
        self.store = store
        self.log = log
        self.bus = bus
        self.limits = limits
        self.stats = stats
        self.checkpoint_every = checkpoint_every
        self.on_broken = on_broken
        self.on_stored = on_stored
        self.check = check

        self._doc: Doc = Doc()
        # What the document is to be built from, until it is (see the module docstring);
        # the SyncStep1 reply made from it; peers still owed the room's SyncStep1.
        self._unbuilt: Loaded | None = None
        self._stored_reply: list[bytes] | None = None
        self._sync_later: list[Peer] = []
        self._build_timer: asyncio.TimerHandle | None = None
        self.awareness = Awareness(self._doc)
        # The server itself is not a participant: no presence of its own.
        self.awareness.set_local_state(None)
        # peer -> awareness client ids it has announced (removed when it leaves)
        self.peers: dict[Peer, set[int]] = {}
        # Of those, the ones that take part in presence (not share-link sockets), and
        # the read-only ones, which count against their own limit.
        self._aware: dict[Peer, None] = {}
        self._watchers: set[Peer] = set()
        # Awareness updates received this turn of the event loop, relayed together.
        self._awareness_batch: list[tuple[bytes, bytes, Peer | None]] = []
        self._awareness_ids: set[int] = set()
        # Updates from other instances applied this turn, relayed together.
        self._remote_batch: list[tuple[bytes, Peer | None]] = []
        self.idle_since: float | None = time.monotonic()
        self.broken = False

        self.head = 0  # highest stored sequence number this room has applied
        # Every entry up to `applied_upto` is applied, and those in `_applied_above`
        # beyond it: a hole between them is an update not (yet) received from the bus.
        self.applied_upto = 0
        self._applied_above: set[int] = set()
        self._gap_timer: asyncio.TimerHandle | None = None
        # Re-reads of the store: requests and completions are counted, so a caller can
        # wait for a read that started after it asked.
        self._catch_up_task: asyncio.Task[None] | None = None
        self._catch_up_asked = 0
        self._catch_up_done = 0
        self._catch_up_waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._catch_up_retry: asyncio.TimerHandle | None = None
        self._catch_up_backoff = GAP_GRACE_SECONDS
        self.retired = False  # left memory: nothing more to catch up
        self.checkpoint_seq = 0
        self.size = 0  # bytes: the loaded state plus every update accepted since

        # The delta of the transaction being applied, caught by the doc observer. Only the
        # part new to the document is stored and relayed: a re-sent update adds nothing.
        self._delta: bytes | None = None
        self._capture = False
        # Transactions that changed the live document, by any path: a check that keeps a
        # copy of it knows from this whether the copy is still in step.
        self.changes = 0
        self._doc.observe(self._on_transaction)

        # Applied, not yet stored: (delta, from whom, future of a server-side writer).
        self._pending: list[tuple[bytes, Peer, asyncio.Future[int] | None]] = []
        # Server-side users of the room (REST calls): it is not idle while they hold it.
        self.holds = 0
        self._applied = 0  # updates applied to the doc, counted locally
        self._stored = 0  # of which durable
        self._deferred: list[tuple[int, Peer, bytes]] = []  # (needs _stored >=, to, message)
        # The batch handed to the group commit and not yet stored (one at a time, so a
        # document's updates are stored and relayed in order), and whether handing over
        # the next one is scheduled.
        self._writing: list[tuple[bytes, Peer, asyncio.Future[int] | None]] | None = None
        self._submit_scheduled = False
        self._flushed: list[asyncio.Future[None]] = []  # flush() callers
        self._checkpoint_task: asyncio.Task[None] | None = None

    # -- loading -----------------------------------------------------------------------

    @property
    def doc(self) -> Doc:
        """The live document, built from the store first if it is not yet."""
        if self._unbuilt is not None:
            self._build()
        return self._doc

    @property
    def built(self) -> bool:
        return self._unbuilt is None

    def load(self, loaded: Loaded, *, lazily: bool = False) -> None:
        """Take what the store holds; `lazily`: build the document only when it is needed
        (or after BUILD_DELAY_SECONDS), answering joiners from the stored bytes until then.
        Only worth it from a checkpoint: a log alone is cheap to apply or too long to
        answer from."""
        if loaded.checkpoint:
            self.checkpoint_seq = loaded.checkpoint.seq
        self.head = self.applied_upto = loaded.head
        self._applied_above.clear()
        self._unbuilt = loaded
        # What is stored, until the build says exactly (limits are checked against it).
        self.size = len(loaded.checkpoint.state) if loaded.checkpoint else 0
        self.size += sum(len(e.update) for e in loaded.entries)
        if lazily and loaded.checkpoint is not None:
            self._build_timer = asyncio.get_running_loop().call_later(
                BUILD_DELAY_SECONDS, self._build
            )
        else:
            self._build()

    def _build(self) -> None:
        loaded, self._unbuilt = self._unbuilt, None
        self._stored_reply = None
        if self._build_timer is not None:
            self._build_timer.cancel()
            self._build_timer = None
        if loaded is None:
            return
        doc = self._doc
        # Built on first use, which may be in the middle of taking an update: what the
        # load applies is no delta of that update's.
        capture, self._capture = self._capture, False
        try:
            if loaded.checkpoint:
                doc.apply_update(loaded.checkpoint.state)
            for entry in loaded.entries:
                doc.apply_update(entry.update)
        finally:
            self._capture = capture
        self.size = len(doc.get_update())
        waiting, self._sync_later = self._sync_later, []
        for peer in waiting:
            if peer in self.peers:
                peer.send(create_sync_message(doc))

    def _reply_from_store(self) -> list[bytes]:
        """Everything stored, as messages answering any SyncStep1 (see the docstring)."""
        if self._stored_reply is None:
            loaded = self._unbuilt
            assert loaded is not None and loaded.checkpoint is not None
            reply = []
            if loaded.entries:
                tail = merge_updates(*(e.update for e in loaded.entries))
                reply.append(protocol.update_message(tail))
            reply.append(protocol.sync_step2_message(loaded.checkpoint.state))
            self._stored_reply = reply
        return self._stored_reply

    # -- peers -------------------------------------------------------------------------

    @property
    def watchers(self) -> int:
        """Peers that can only read (viewers, share links)."""
        return len(self._watchers)

    @property
    def editors(self) -> int:
        return len(self.peers) - len(self._watchers)

    def join(self, peer: Peer) -> None:
        # Read-only audiences (an exhibition page's visitors) have a limit of their own,
        # so a crowd of watchers never keeps the people at work out, nor the reverse. A
        # peer counts where it stood when it joined.
        watcher = not peer.can_write
        if watcher and len(self._watchers) >= self.limits.max_watchers_per_room:
            raise RoomFull(f"room is full ({self.limits.max_watchers_per_room} watchers)")
        if not watcher and self.editors >= self.limits.max_clients_per_room:
            raise RoomFull(f"room is full ({self.limits.max_clients_per_room} editing clients)")
        self.peers[peer] = set()
        if watcher:
            self._watchers.add(peer)
        if peer.presence:
            self._aware[peer] = None
        self.idle_since = None
        # As the y-websocket server does: our state vector, so the client sends what we
        # lack (once there is a document to say it of), then everyone's presence (to
        # those who take part in it).
        if self._unbuilt is None:
            peer.send(create_sync_message(self._doc))
        else:
            self._sync_later.append(peer)
        if peer.presence and self.awareness.states:
            ids = list(self.awareness.states)
            peer.send(protocol.awareness_message(self.awareness.encode_awareness_update(ids)))

    def leave(self, peer: Peer) -> None:
        ids = self.peers.pop(peer, None)
        self._watchers.discard(peer)
        self._aware.pop(peer, None)
        self._maybe_idle()
        if self._deferred:
            self._deferred = [d for d in self._deferred if d[1] is not peer]
        if ids:
            gone = [i for i in ids if i in self.awareness.states]
            self.awareness.remove_awareness_states(gone, peer)
            if gone:
                payload = self.awareness.encode_awareness_update(gone)
                self._queue_awareness(protocol.awareness_message(payload), payload, None, gone)

    # -- incoming ----------------------------------------------------------------------

    def receive(self, peer: Peer, frame: bytes) -> None:
        """Handle one frame from `peer`; raises `CollabError` to have it disconnected."""
        if len(frame) > self.limits.max_message_bytes:
            raise TooLarge(f"message exceeds {self.limits.max_message_bytes} bytes")
        message = protocol.parse(frame)
        if isinstance(message, protocol.SyncStep1):
            if self._unbuilt is not None:
                # Nothing applied since the load, so all of it is stored: sent at once.
                for reply_message in self._reply_from_store():
                    peer.send(reply_message)
                return
            try:
                reply = handle_sync_message(frame[1:], self.doc)
            except ValueError:
                raise MalformedMessage("invalid state vector") from None
            assert reply is not None
            self._send_when_stored(peer, reply)
        elif isinstance(message, protocol.SyncStep2 | protocol.SyncUpdate):
            self._apply(peer, message.update)
        elif isinstance(message, protocol.AwarenessUpdate):
            self._receive_awareness(peer, frame, message)
        elif isinstance(message, protocol.QueryAwareness):
            if peer.presence:
                ids = list(self.awareness.states)
                payload = self.awareness.encode_awareness_update(ids)
                peer.send(protocol.awareness_message(payload))

    def _apply(self, peer: Peer, update: bytes) -> None:
        if update == _EMPTY_UPDATE:
            return
        if not peer.can_write:
            self.stats.refused += 1
            peer.send(protocol.permission_denied_message("permission denied"))
            return
        if self.size + len(update) > self.limits.max_document_bytes:
            raise TooLarge(f"document would exceed {self.limits.max_document_bytes} bytes")
        if self.check is not None:
            refusal = self.check(self, peer, update)
            if refusal is not None:
                self.stats.refused += 1
                if refusal.close:
                    raise MalformedMessage(refusal.reason)
                # Refused as a whole: nothing of it is applied, stored or relayed.
                peer.send(protocol.permission_denied_message(refusal.reason))
                return
        self._delta = None
        self._capture = True
        try:
            # pycrdt decodes the whole update before integrating any of it, so an update
            # it cannot decode changes nothing.
            self.doc.apply_update(update)
        except ValueError:
            raise MalformedMessage("invalid update") from None
        finally:
            self._capture = False
        delta, self._delta = self._delta, None
        if delta is None:
            self.stats.duplicates += 1
            return
        self._accept(delta, peer, None)

    def _accept(self, delta: bytes, peer: Peer, waiter: asyncio.Future[int] | None) -> None:
        self.size += len(delta)
        self._applied += 1
        self._pending.append((delta, peer, waiter))
        if self._writing is None and not self._submit_scheduled:
            # At the end of this turn: everything received in it goes as one batch.
            self._submit_scheduled = True
            asyncio.get_running_loop().call_soon(self._submit)

    def _maybe_idle(self) -> None:
        if not self.peers and not self.holds:
            self.idle_since = time.monotonic()

    async def write(
        self, principal: str, change: Callable[[Doc], T], *, size_hint: int = 0
    ) -> tuple[T, int | None]:
        """Change the document on the server, on behalf of `principal` (a REST write, a
        restore): one transaction that travels the path of a client's update, stored and
        then relayed to every peer. Returns what `change` returned and the sequence number
        the change was stored at (None if it changed nothing)."""
        if self.broken:
            raise StoreUnavailable("document unavailable, try again")
        if self.size + size_hint > self.limits.max_document_bytes:
            raise TooLarge(f"document would exceed {self.limits.max_document_bytes} bytes")
        self._delta = None
        self._capture = True
        try:
            with self.doc.transaction():
                result = change(self.doc)
        finally:
            self._capture = False
        delta, self._delta = self._delta, None
        if delta is None:
            return result, None
        waiter: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._accept(delta, ServerPeer(principal), waiter)
        return result, await waiter

    def _on_transaction(self, event: TransactionEvent) -> None:
        self.changes += 1
        if self._capture:
            self._delta = event.update

    def _receive_awareness(
        self, peer: Peer, frame: bytes, message: protocol.AwarenessUpdate
    ) -> None:
        ids = self.peers.get(peer)
        # A peer outside presence (a share link: the public) publishes none: what it
        # sends is dropped, so nobody learns it is there.
        if ids is None or not peer.presence:
            return
        self.awareness.apply_awareness_update(message.payload, peer)
        changed = []
        for client_id, _, state in message.entries:
            changed.append(client_id)
            if state is None:
                ids.discard(client_id)
            else:
                ids.add(client_id)
        self._queue_awareness(frame, message.payload, peer, changed)

    def _queue_awareness(
        self, frame: bytes, payload: bytes, origin: Peer | None, client_ids: list[int]
    ) -> None:
        # Relayed at the end of this turn of the event loop: several updates that arrive
        # together go out as one message with each client's latest state.
        if not self._awareness_batch:
            asyncio.get_running_loop().call_soon(self._flush_awareness)
        self._awareness_batch.append((frame, payload, origin))
        self._awareness_ids.update(client_ids)

    def _flush_awareness(self) -> None:
        batch, self._awareness_batch = self._awareness_batch, []
        ids, self._awareness_ids = self._awareness_ids, set()
        if not batch:
            return
        self.stats.awareness += len(batch)
        if len(batch) == 1:
            frame, payload, origin = batch[0]
        else:
            origin = None
            # Only clients the awareness knows: a removal of a client it never saw (a tab
            # closed before its first state arrived) leaves no clock to encode.
            known = self.awareness.meta
            payload = self.awareness.encode_awareness_update(sorted(i for i in ids if i in known))
            frame = protocol.awareness_message(payload)
        for other in self._aware:
            if other is not origin:
                other.send(frame)
        message = BusMessage(self.name, Kind.AWARENESS, payload, 0, self.bus.instance)
        self.bus.publish(message)

    # -- durability, then fan-out ------------------------------------------------------

    def _send_when_stored(self, peer: Peer, message: bytes) -> None:
        # A sync reply carries everything applied so far; it may leave only once all of
        # that is durable.
        if self._stored >= self._applied:
            peer.send(message)
        else:
            self._deferred.append((self._applied, peer, message))

    def _submit(self) -> None:
        self._submit_scheduled = False
        if self._writing is not None or not self._pending or self.broken:
            self._notify_flushed()
            return
        batch, self._pending = self._pending, []
        self._writing = batch
        entries = [NewEntry(delta, peer.id, peer.principal) for delta, peer, _ in batch]
        self.log.submit(self.name, entries, self._stored_batch)

    def _stored_batch(self, stored: list[Entry] | None, exc: Exception | None) -> None:
        """The group commit's answer for the batch in `_writing`: relay it, or break."""
        batch, self._writing = self._writing, None
        assert batch is not None
        if exc is not None or stored is None:
            for _, _, waiter in batch:
                if waiter and not waiter.done():
                    waiter.set_exception(StoreUnavailable("store unavailable"))
            self._break(exc or StoreError("nothing stored"))
            self._notify_flushed()
            return
        self._stored += len(batch)
        self.head = max(self.head, stored[-1].seq)
        self.stats.updates += len(batch)
        if self.on_stored:
            self.on_stored(self.name)
        fresh: list[tuple[bytes, Peer | None]] = []
        for (delta, origin, waiter), entry in zip(batch, stored, strict=True):
            if waiter and not waiter.done():
                waiter.set_result(entry.seq)
            # Not fresh: a catch-up read it from the store first and relayed it.
            if self._note_applied(entry.seq):
                fresh.append((delta, origin))
            self.bus.publish(
                BusMessage(self.name, Kind.UPDATE, delta, entry.seq, self.bus.instance)
            )
        if fresh:
            self._broadcast(fresh)
        if self._deferred:
            ready = [d for d in self._deferred if d[0] <= self._stored]
            self._deferred = [d for d in self._deferred if d[0] > self._stored]
            for _, peer, msg in ready:
                peer.send(msg)
        self._maybe_checkpoint()
        # What arrived during the write goes next, at once: it has waited a commit.
        self._submit()

    def _notify_flushed(self) -> None:
        if self._flushed and self._writing is None and (not self._pending or self.broken):
            waiters, self._flushed = self._flushed, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    def _broadcast(self, fresh: list[tuple[bytes, Peer | None]]) -> None:
        """Relay stored updates to the peers: one frame per peer for everything stored in
        one commit (at least all that arrived in one turn of the event loop), in frames
        of at most MERGED_FRAME_BYTES unless one update alone is bigger."""
        start = size = 0
        for i, (delta, _) in enumerate(fresh):
            if i > start and size + len(delta) > MERGED_FRAME_BYTES:
                self._relay(fresh[start:i])
                start, size = i, 0
            size += len(delta)
        self._relay(fresh[start:])

    def _relay(self, fresh: list[tuple[bytes, Peer | None]]) -> None:
        """One frame of updates to every peer but one all of them came from; a peer that
        sent some gets its own back inside the merged update, which Yjs ignores (the
        y-websocket and Hocuspocus servers echo every update)."""
        if len(fresh) == 1:
            update, origin = fresh[0]
        else:
            update = merge_updates(*(delta for delta, _ in fresh))
            first = fresh[0][1]
            origin = first if all(o is first for _, o in fresh) else None
        message = protocol.update_message(update)
        sent = 0
        for peer in self.peers:
            if peer is not origin:
                peer.send(message)
                sent += 1
        stats = self.stats
        stats.frames += sent
        if origin is not None:
            stats.deliveries += sent * len(fresh)
        else:
            # Each peer receives the updates that are not its own.
            own = sum(1 for _, o in fresh if o in self.peers)
            stats.deliveries += len(self.peers) * len(fresh) - own

    def _break(self, exc: Exception) -> None:
        # The document holds updates the store refused. Rather than serve state that is not
        # durable, drop the room: clients reconnect, resync from the store and re-send
        # what they hold.
        log.error("store append failed for %s: %s", self.name, exc, extra={"doc": self.name})
        self.broken = True
        for _, _, waiter in self._pending:
            if waiter and not waiter.done():
                waiter.set_exception(StoreUnavailable("store unavailable"))
        self._pending.clear()
        # Say why (e.g. the spool is full), never more than a close reason can hold.
        error = StoreUnavailable(f"update not stored: {exc}" if str(exc) else "store unavailable")
        for peer in list(self.peers):
            peer.close(error.code, error.reason)
        self.on_broken(self)

    # -- from other instances ----------------------------------------------------------

    def on_bus(self, message: BusMessage) -> None:
        if self.broken:
            return
        if message.kind == Kind.UPDATE:
            if self._is_applied(message.seq):
                return  # already read from the store, or a duplicate on the bus
            self.stats.remote_updates += 1
            self._apply_stored(message.seq, message.payload)
        elif message.kind == Kind.RESET:
            self.request_catch_up()
        elif message.kind == Kind.AWARENESS_QUERY:
            self._tell_presence()
        else:
            self.awareness.apply_awareness_update(message.payload, "bus")
            frame = protocol.awareness_message(message.payload)
            for peer in self._aware:
                peer.send(frame)

    def ask_presence(self) -> None:
        """Ask the other instances for their clients' presence: this room just opened, and
        a joiner should see everyone at once, not at their next renewal (15 s)."""
        self.bus.publish(BusMessage(self.name, Kind.AWARENESS_QUERY, b"", 0, self.bus.instance))

    def _tell_presence(self) -> None:
        # Only our own peers' states: each instance answers for its clients.
        ids = [i for ids in self.peers.values() for i in ids if i in self.awareness.states]
        if ids:
            payload = self.awareness.encode_awareness_update(ids)
            self.bus.publish(BusMessage(self.name, Kind.AWARENESS, payload, 0, self.bus.instance))

    def _apply_stored(self, seq: int, update: bytes) -> bool:
        """Apply a stored update (from another instance), and relay to our peers what it
        changes; False if it changed nothing (we had it: our own, drained from a spool)."""
        self._note_applied(seq)
        self._delta = None
        self._capture = True
        try:
            self.doc.apply_update(update)
        except ValueError:
            log.error("invalid stored update %d for %s", seq, self.name)
            return False
        finally:
            self._capture = False
        delta, self._delta = self._delta, None
        if delta is None:
            return False
        self.size += len(delta)
        # Relayed at the end of this turn, merged with whatever else arrives in it (a
        # page of a catch-up, several entries from one read of the bus).
        if not self._remote_batch:
            asyncio.get_running_loop().call_soon(self._flush_remote)
        self._remote_batch.append((delta, None))
        return True

    def _flush_remote(self) -> None:
        batch, self._remote_batch = self._remote_batch, []
        if batch and not self.broken:
            self._broadcast(batch)

    def _is_applied(self, seq: int) -> bool:
        # 0: stored but not numbered yet (held in a spool); never tracked.
        return 0 < seq and (seq <= self.applied_upto or seq in self._applied_above)

    def _note_applied(self, seq: int) -> bool:
        """Record entry `seq` as applied; False if it already was."""
        if seq <= 0:
            return True
        if self._is_applied(seq):
            return False
        self.head = max(self.head, seq)
        if seq == self.applied_upto + 1:
            self.applied_upto = seq
            above = self._applied_above
            while self.applied_upto + 1 in above:
                self.applied_upto += 1
                above.remove(self.applied_upto)
        else:
            self._applied_above.add(seq)
        if self._applied_above and self._gap_timer is None and not self.retired:
            self._gap_timer = asyncio.get_running_loop().call_later(
                GAP_GRACE_SECONDS, self._check_gap, self.applied_upto
            )
        return True

    def _check_gap(self, upto_then: int) -> None:
        self._gap_timer = None
        if not self._applied_above or self.broken or self.retired:
            return
        idle = self._catch_up_task is None and self._catch_up_retry is None
        if self.applied_upto == upto_then and idle:
            # The same hole for the whole grace period: that message is not coming.
            log.info("missed update %d of %s on the bus: catching up", upto_then + 1, self.name)
            self.request_catch_up()
        self._gap_timer = asyncio.get_running_loop().call_later(
            GAP_GRACE_SECONDS, self._check_gap, self.applied_upto
        )

    def request_catch_up(self) -> asyncio.Future[None]:
        """Re-read the store for entries this room has not applied (the bus may have lost
        some); they are applied and relayed to the peers. The future resolves once a read
        that started after this call is done (successful or not: see the log)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        if self.broken or self.retired:
            future.set_result(None)
            return future
        self._catch_up_asked += 1
        self._catch_up_waiters.append((self._catch_up_asked, future))
        if self._catch_up_task is None:
            self._catch_up_task = loop.create_task(self._catch_up())
        return future

    async def catch_up(self) -> None:
        await self.request_catch_up()

    async def _catch_up(self) -> None:
        try:
            while self._catch_up_done < self._catch_up_asked and not self.broken:
                round_ = self._catch_up_asked
                try:
                    await self._read_missing()
                    self._catch_up_backoff = GAP_GRACE_SECONDS
                except Exception as exc:
                    # Try again later: what the bus missed is still missing.
                    log.warning("catch-up from the store failed for %s: %s", self.name, exc)
                    if self._catch_up_retry is None and not self.retired:
                        self._catch_up_retry = asyncio.get_running_loop().call_later(
                            self._catch_up_backoff, self._retry_catch_up
                        )
                        self._catch_up_backoff = min(self._catch_up_backoff * 2, 30.0)
                self._catch_up_done = round_
                self._resolve_catch_up(round_)
        finally:
            self._catch_up_task = None
            self._resolve_catch_up(None)

    def _retry_catch_up(self) -> None:
        self._catch_up_retry = None
        self.request_catch_up()

    def _resolve_catch_up(self, upto: int | None) -> None:
        waiting = []
        for round_, future in self._catch_up_waiters:
            if upto is None or round_ <= upto:
                if not future.done():
                    future.set_result(None)
            else:
                waiting.append((round_, future))
        self._catch_up_waiters = waiting

    async def _read_missing(self) -> None:
        while not self.broken and not self.retired:
            after = self.applied_upto
            entries = await self.store.read(self.name, after=after, limit=CATCH_UP_PAGE)
            if self.broken or self.retired:
                return
            for entry in entries:
                if not self._is_applied(entry.seq) and self._apply_stored(entry.seq, entry.update):
                    self.stats.resynced_updates += 1
            if len(entries) < CATCH_UP_PAGE or self.applied_upto == after:
                return

    def retire(self) -> None:
        """The room leaves memory: stop watching for missed updates."""
        self.retired = True
        for timer in (self._gap_timer, self._catch_up_retry, self._build_timer):
            if timer is not None:
                timer.cancel()
        self._gap_timer = self._catch_up_retry = self._build_timer = None
        self._resolve_catch_up(None)

    # -- upkeep ------------------------------------------------------------------------

    def _maybe_checkpoint(self) -> None:
        if self.head - self.checkpoint_seq < self.checkpoint_every:
            return
        if self._checkpoint_task is None:
            self._checkpoint_task = asyncio.get_running_loop().create_task(self._checkpoint())

    async def _checkpoint(self) -> None:
        try:
            # Edits go on while a checkpoint is built; catch up before stopping.
            while self.head - self.checkpoint_seq >= self.checkpoint_every and not self.broken:
                checkpoint = await self.store.checkpoint(self.name)
                if checkpoint is None or checkpoint.seq <= self.checkpoint_seq:
                    break
                self.checkpoint_seq = checkpoint.seq
        except Exception as exc:
            log.error("checkpoint failed for %s: %s", self.name, exc, extra={"doc": self.name})
        finally:
            self._checkpoint_task = None

    async def flush(self) -> None:
        """Wait until every applied update is durable (and any checkpoint is written)."""
        while True:
            if self._writing is not None or (self._pending and not self.broken):
                waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                self._flushed.append(waiter)
                await asyncio.shield(waiter)
            elif self._checkpoint_task is not None:
                await asyncio.shield(self._checkpoint_task)
            else:
                return

    def expire_awareness(self, older_than_ms: int) -> None:
        # States of clients that stopped renewing (an instance died, a socket vanished):
        # Yjs clients renew every 15 s, so a state older than the timeout is gone.
        now = int(time.time() * 1000)
        stale = [
            cid
            for cid, meta in self.awareness.meta.items()
            if cid in self.awareness.states and now - meta["lastUpdated"] > older_than_ms
        ]
        if stale:
            self.awareness.remove_awareness_states(stale, "timeout")
