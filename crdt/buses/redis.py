"""The Redis bus: several server instances behind a load balancer.

`redis://[user:password@]host:port/db` (`rediss://` for TLS); `?maxlen=N` bounds each
document's stream (default 1000 entries); `live_grace` and `quiet_poll` (seconds) tune
quiet documents (below).

Updates travel on one Redis Stream per document, `sinopia:u:{doc}`, trimmed with
`MAXLEN ~`: each entry holds the update, the sequence number the store gave it, the
instance that published it and when. An instance reads the streams of the documents it
has open with one blocking XREAD, from the last entry id it has seen of each, so a slow
reader or a short hiccup resumes where it stopped. A reader that fell behind past the
trim sees a hole in the sequence numbers, and the room repairs it from the store.

When this instance cannot be sure it saw every entry (its connection broke, Redis
restarted with nothing on disk) it moves each cursor to its stream's current end and then
sends the rooms a RESET: they re-read the store from what they have applied. In that
order nothing falls between: an update added to a stream after the cursor moved is read
from the stream, one added before was stored before, so the store has it. Updates this
instance could not publish are followed, once Redis answers again, by a reset entry on
their stream, so the other instances re-read the store too.

Awareness is ephemeral and goes over pub/sub, `sinopia:a:{doc}`. Publishing never
blocks: messages queue and one task sends them, many per pipeline round trip.

A document is read live (its stream in the blocking XREAD, so every entry wakes the
reader) while another instance has shown itself on it within `live_grace` seconds: its
entries on the stream, its presence messages, the presence query a room sends when it
opens. Otherwise the document is quiet: every entry on its stream is our own, and reading
each one back would cost a round trip per update for nothing (when a load balancer routes
each document to one instance, that is every document). A quiet document's stream is
still read, every `quiet_poll` seconds, from its cursor: an entry of another instance
found there is delivered and makes the document live again. The presence query is the
prompt path; the poll catches what pub/sub lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from ..bus import Bus, BusMessage, BusUnavailable, Handler, Kind

schemes = ("redis", "rediss")

log = logging.getLogger("sinopia.bus")

PREFIX = "sinopia:"
DEFAULT_MAXLEN = 1000
# How long one XREAD waits for entries; also bounds how late a broken socket is noticed
# when Redis vanishes without closing it.
BLOCK_MS = 2000
READ_COUNT = 1000  # entries per stream per XREAD
SEND_BATCH = 1000  # messages per pipeline
# Messages waiting to be sent beyond this are dropped (their documents get a reset
# entry instead): a Redis that cannot keep up must not grow our memory.
MAX_OUTBOX = 100_000
BACKOFF_MIN, BACKOFF_MAX = 0.05, 5.0
# See the module's docstring. The grace is longer than the 15 s in which Yjs clients
# renew their presence, so a document with clients on two instances stays live.
LIVE_GRACE = 30.0
QUIET_POLL = 0.5
PING_TIMEOUT = 1.0
CLOSE_TIMEOUT = 2.0
# A document's stream disappears this long after its last update (refreshed at most
# once a minute per document and instance), so Redis holds only live documents.
STREAM_TTL_MS = 3_600_000
_EXPIRE_REFRESH = 60.0

_NETWORK_ERRORS = (RedisError, OSError)


def from_url(url: str, instance: str) -> RedisBus:
    """Our options in the query: `maxlen`, and `live_grace` and `quiet_poll` in seconds
    (see above); the rest is redis-py's."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    ours: dict[str, float] = {}
    rest = []
    for key, value in query:
        if key in ("maxlen", "live_grace", "quiet_poll"):
            try:
                ours[key] = float(value)
            except ValueError:
                ours[key] = 0.0
            # A zero poll interval would have the reader spin.
            if not ours[key] > 0:
                raise ValueError(f"redis bus option {key} must be a positive number")
        else:
            rest.append((key, value))
    bus = RedisBus(
        instance,
        urlunsplit(parts._replace(query=urlencode(rest))),
        int(ours.get("maxlen", DEFAULT_MAXLEN)),
    )
    bus.live_grace = ours.get("live_grace", LIVE_GRACE)
    bus.quiet_poll = ours.get("quiet_poll", QUIET_POLL)
    return bus


def stream_key(doc: str) -> str:
    return f"{PREFIX}u:{doc}"


def channel(doc: str) -> str:
    return f"{PREFIX}a:{doc}"


@dataclass(eq=False)
class _Sub:
    handler: Handler
    # The last stream entry id seen; None until positioned (Redis was away).
    cursor: bytes | None = None
    # Read live until then (time.monotonic()); quiet after.
    live_until: float = 0.0


class RedisBus(Bus):
    def __init__(self, instance: str, url: str, maxlen: int = DEFAULT_MAXLEN) -> None:
        super().__init__(instance)
        self.url = url
        self.maxlen = maxlen
        self._subs: dict[str, _Sub] = {}
        self._outbox: deque[BusMessage] = deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        # Documents with updates we failed to publish: each gets a reset entry.
        self._lost: set[str] = set()
        # Why reading or sending is failing; None while it works.
        self._reader_down: str | None = "not connected yet"
        self._up = asyncio.Event()  # set while the reader is positioned and reading
        self._sender_down: str | None = None
        self._channels_changed = asyncio.Event()
        self._pubsub: PubSub | None = None
        self._control = f"{PREFIX}ctl:{instance}"
        self._control_cursor = b"0-0"
        self._expire_after: dict[str, float] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._cmd: aioredis.Redis | None = None
        self._blocking: aioredis.Redis | None = None
        self.live_grace = LIVE_GRACE
        self.quiet_poll = QUIET_POLL
        self._next_poll = 0.0
        self._live = 0  # documents in the reader's current XREAD as live
        self._wakers: set[asyncio.Task[None]] = set()

    def describe(self) -> str:
        parts = urlsplit(self.url)
        return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))

    @property
    def cmd(self) -> aioredis.Redis:
        if self._cmd is None:
            raise BusUnavailable("redis: bus is not open")
        return self._cmd

    async def open(self) -> None:
        # Commands may retry once on a fresh connection (a pooled one may predate a Redis
        # restart); the reader never retries behind our back, since a broken read means
        # entries may be lost and the rooms must re-sync.
        self._cmd = aioredis.Redis.from_url(
            self.url,
            socket_timeout=3,
            socket_connect_timeout=2,
            retry=Retry(NoBackoff(), 1),
        )
        self._blocking = aioredis.Redis.from_url(
            self.url,
            socket_timeout=BLOCK_MS / 1000 + 3,
            socket_connect_timeout=2,
            retry=Retry(NoBackoff(), 0),
            single_connection_client=True,
        )
        self._pubsub = self._cmd.pubsub()
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._read_forever()),
            loop.create_task(self._send_forever()),
            loop.create_task(self._listen_forever()),
        ]
        # Serve even if Redis is away at start: the reader connects when it can.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._up.wait(), PING_TIMEOUT * 2)
        if self._reader_down:
            log.warning("redis unreachable at start, retrying: %s", self._reader_down)

    async def close(self) -> None:
        # What is queued goes out first (bounded), so other instances get the last updates
        # without a store read.
        if self._sender_down is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), CLOSE_TIMEOUT)
        for task in [*self._tasks, *self._wakers]:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
        if self._cmd is not None:
            with contextlib.suppress(*_NETWORK_ERRORS):
                await asyncio.wait_for(self._cmd.delete(self._control), PING_TIMEOUT)
        for client in (self._cmd, self._blocking):
            if client is not None:
                with contextlib.suppress(Exception):
                    await client.aclose()
        self._cmd = self._blocking = None

    async def ping(self) -> None:
        # Fails at once while we know Redis is away: /readyz must not wait on a timeout
        # to say so.
        down = self._reader_down or self._sender_down
        if down:
            raise BusUnavailable(f"redis: {down}")
        await asyncio.wait_for(self.cmd.ping(), PING_TIMEOUT)

    # -- subscriptions -----------------------------------------------------------------

    async def subscribe(self, doc: str, handler: Handler) -> None:
        sub = self._subs.get(doc)
        if sub is not None:
            sub.handler = handler  # before any await: nothing falls in between
            return
        # Live at first: another instance may have the document open already.
        sub = _Sub(handler, live_until=time.monotonic() + self.live_grace)
        self._subs[doc] = sub
        self._channels_changed.set()
        if self._reader_down is None:
            try:
                # The stream's end now: anything stored after this returns is added after
                # it. The reader's XREAD is woken to include the new stream at once.
                found = await self.cmd.xrevrange(stream_key(doc), count=1)
                if self._subs.get(doc) is sub and sub.cursor is None:
                    sub.cursor = found[0][0] if found else b"0-0"
                await self.cmd.xadd(self._control, {b"w": b""}, maxlen=10)
            except _NETWORK_ERRORS as exc:
                # Unpositioned: the reader's recovery positions it and sends a RESET.
                self._went_down(exc)
        if self._pubsub is not None:
            # At once (not by the listener's next turn): the room's presence query goes
            # out next, and the answers must find us subscribed.
            try:
                await self._pubsub.subscribe(channel(doc))
            except _NETWORK_ERRORS:
                pass  # the listener rebuilds its subscriptions

    async def unsubscribe(self, doc: str) -> None:
        if self._subs.pop(doc, None) is None:
            return
        self._expire_after.pop(doc, None)
        self._channels_changed.set()
        if self._pubsub is not None and self._pubsub.connection is not None:
            with contextlib.suppress(*_NETWORK_ERRORS):
                await self._pubsub.unsubscribe(channel(doc))

    def shared_documents(self) -> int:
        # As the reader reads now: a document turns quiet when its XREAD is next issued.
        return self._live

    def _other_instance_seen(self, sub: _Sub, wake: bool = True) -> None:
        now = time.monotonic()
        was_quiet = sub.live_until <= now
        sub.live_until = now + self.live_grace
        if was_quiet and wake and self._cmd is not None:
            # Wake the blocking XREAD so that it takes this stream in at once.
            task = asyncio.get_running_loop().create_task(self._wake_reader())
            self._wakers.add(task)
            task.add_done_callback(self._wakers.discard)

    async def _wake_reader(self) -> None:
        with contextlib.suppress(*_NETWORK_ERRORS, BusUnavailable):
            await self.cmd.xadd(self._control, {b"w": b""}, maxlen=10)

    def _deliver(self, sub: _Sub, message: BusMessage) -> None:
        try:
            sub.handler(message)
        except Exception:
            log.exception("bus handler failed for %s", message.doc)

    # -- reading updates ---------------------------------------------------------------

    def _went_down(self, exc: BaseException) -> None:
        if self._reader_down is None:
            log.warning("redis unreachable, serving local clients only: %s", exc)
            self._reader_down = f"{type(exc).__name__}: {exc}"[:200]
            self._up.clear()

    async def _read_forever(self) -> None:
        assert self._blocking is not None
        failures = 0
        while True:
            if self._reader_down is not None:
                if failures:
                    # Redis answers but reading fails (a key of the wrong type?): not in
                    # a tight loop.
                    await asyncio.sleep(min(BACKOFF_MAX, BACKOFF_MIN * 2**failures))
                await self._recover()
            streams: dict[Any, Any] = {self._control: self._control_cursor}
            watched: dict[bytes, tuple[str, _Sub]] = {}
            now = time.monotonic()
            poll = now >= self._next_poll
            if poll:
                self._next_poll = now + self.quiet_poll
            quiet = False
            self._live = 0
            for doc, sub in self._subs.items():
                if sub.cursor is None:
                    continue
                if sub.live_until <= now:
                    quiet = True
                    if not poll:
                        continue
                else:
                    self._live += 1
                key = stream_key(doc)
                streams[key] = sub.cursor
                watched[key.encode()] = (doc, sub)
            block = BLOCK_MS
            if quiet:  # back in time for the next poll
                block = max(1, min(BLOCK_MS, int((self._next_poll - now) * 1000)))
            try:
                reply = await self._blocking.xread(streams, count=READ_COUNT, block=block)
            except _NETWORK_ERRORS as exc:
                failures += 1
                self._went_down(exc)
                continue
            failures = 0
            try:
                self._dispatch(reply, watched)
            except Exception:
                # A malformed entry (not ours?) must not stop the reader.
                log.exception("could not read a bus entry")

    def _dispatch(self, reply: Any, watched: dict[bytes, tuple[str, _Sub]]) -> None:
        if not reply:
            return
        items = reply.items() if isinstance(reply, dict) else reply
        now = time.time()
        control = self._control.encode()
        for key, entries in items:
            if isinstance(entries, list) and entries and isinstance(entries[0], list):
                entries = entries[0]  # RESP3 wraps each stream's entries once more
            if key == control:
                if entries:
                    self._control_cursor = entries[-1][0]
                continue
            target = watched.get(key)
            if target is None:
                continue
            doc, sub = target
            for entry_id, fields in entries:
                if self._subs.get(doc) is not sub:
                    break  # unsubscribed (or subscribed afresh) meanwhile
                sub.cursor = entry_id
                origin = fields.get(b"o", b"").decode()
                if origin == self.instance:
                    continue
                self._other_instance_seen(sub, wake=False)  # the reader is awake
                if fields.get(b"k") == b"r":
                    self._deliver(sub, BusMessage(doc, Kind.RESET, b"", 0, origin))
                    continue
                if self.on_delay is not None:
                    self.on_delay(max(0.0, now - float(fields.get(b"t", now))))
                seq = int(fields.get(b"s", 0))
                self._deliver(sub, BusMessage(doc, Kind.UPDATE, fields[b"d"], seq, origin))

    async def _recover(self) -> None:
        """Wait (backing off) until Redis answers, move every cursor to its stream's end,
        then have every room re-read the store."""
        assert self._blocking is not None
        delay = BACKOFF_MIN
        while True:
            try:
                await self._blocking.ping()
                self._control_cursor = await self._stream_end(self._control)
                # Until no subscription is left unpositioned (subscribe() may add one
                # while we wait); no await between that check and clearing the flag.
                while True:
                    subs = list(self._subs.items())
                    pipe = self._blocking.pipeline(transaction=False)
                    for doc, _ in subs:
                        pipe.xrevrange(stream_key(doc), count=1)
                    ends = await pipe.execute() if subs else []
                    for (doc, sub), found in zip(subs, ends, strict=True):
                        if self._subs.get(doc) is sub:
                            sub.cursor = found[0][0] if found else b"0-0"
                    if all(s.cursor is not None for s in self._subs.values()):
                        break
                break
            except _NETWORK_ERRORS as exc:
                log.debug("redis still unreachable: %s", exc)
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, BACKOFF_MAX)
        first = self._reader_down == "not connected yet"
        self._reader_down = None
        self._up.set()
        if not first:
            log.info("redis reachable again: re-syncing %d open documents", len(self._subs))
        for doc, sub in list(self._subs.items()):
            self._deliver(sub, BusMessage(doc, Kind.RESET, b"", 0, self.instance))

    async def _stream_end(self, key: str) -> bytes:
        assert self._blocking is not None
        found = await self._blocking.xrevrange(key, count=1)
        return found[0][0] if found else b"0-0"

    # -- awareness ---------------------------------------------------------------------

    async def _listen_forever(self) -> None:
        delay = BACKOFF_MIN
        while True:
            try:
                if self._pubsub is None:
                    self._pubsub = self.cmd.pubsub()
                    self._channels_changed.set()
                pubsub = self._pubsub
                if self._channels_changed.is_set():
                    # subscribe() subscribes at once; this catches what it could not (the
                    # connection being replaced meanwhile) and drops what is closed.
                    self._channels_changed.clear()
                    await self._reconcile(pubsub)
                if not pubsub.subscribed:
                    await self._channels_changed.wait()
                    continue
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                delay = BACKOFF_MIN
            except Exception as exc:  # the listener must outlive any failure
                log.debug("redis pub/sub failed: %s", exc)
                if self._pubsub is not None:
                    with contextlib.suppress(Exception):
                        await self._pubsub.aclose()
                    self._pubsub = None
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, BACKOFF_MAX)
                continue
            if message is None or message.get("type") != "message":
                continue
            name = message["channel"]
            doc = (name.decode() if isinstance(name, bytes) else name)[len(channel("")) :]
            data: bytes = message["data"]
            head, _, payload = data.partition(b"\n")
            kind = Kind.AWARENESS_QUERY if head[:1] == b"q" else Kind.AWARENESS
            origin = head[1:].decode()
            sub = self._subs.get(doc)
            if sub is not None and origin != self.instance:
                self._other_instance_seen(sub)
                self._deliver(sub, BusMessage(doc, kind, payload, 0, origin))

    async def _reconcile(self, pubsub: PubSub) -> None:
        wanted = {channel(doc).encode() for doc in self._subs}
        have = {c if isinstance(c, bytes) else c.encode() for c in pubsub.channels}
        if wanted - have:
            await pubsub.subscribe(*(wanted - have))
        if have - wanted and pubsub.connection is not None:
            await pubsub.unsubscribe(*(have - wanted))

    # -- sending -----------------------------------------------------------------------

    def publish(self, message: BusMessage) -> None:
        if self._sender_down is not None:
            # Nothing gets through now: remember which documents to reset instead.
            if message.kind == Kind.UPDATE:
                self._lost.add(message.doc)
            return
        self._outbox.append(message)
        if len(self._outbox) > MAX_OUTBOX:
            dropped = self._outbox.popleft()
            if dropped.kind == Kind.UPDATE:
                self._lost.add(dropped.doc)
        self._idle.clear()
        self._wake.set()

    async def _send_forever(self) -> None:
        delay = BACKOFF_MIN
        while True:
            # While sending fails, keep trying (with backoff) even with nothing queued:
            # /readyz reports the bus down until a send gets through.
            if self._sender_down is None and not self._outbox and not self._lost:
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            batch = [self._outbox.popleft() for _ in range(min(SEND_BATCH, len(self._outbox)))]
            lost = set(self._lost)
            try:
                await self._send(batch, lost)
            except _NETWORK_ERRORS as exc:
                if self._sender_down is None:
                    log.warning("redis unreachable, updates not published: %s", exc)
                    self._sender_down = f"{type(exc).__name__}: {exc}"[:200]
                self._lost.update(m.doc for m in batch if m.kind == Kind.UPDATE)
                self._lost.update(m.doc for m in self._outbox if m.kind == Kind.UPDATE)
                self._outbox.clear()
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, BACKOFF_MAX)
                continue
            self._lost -= lost
            if self._sender_down is not None:
                log.info("redis reachable again: publishing")
                self._sender_down = None
            delay = BACKOFF_MIN

    async def _send(self, batch: list[BusMessage], lost: set[str]) -> None:
        now = time.time()
        pipe = self.cmd.pipeline(transaction=False)
        for doc in sorted(lost):
            # Others may have missed updates of these: have them re-read the store.
            pipe.xadd(stream_key(doc), {b"k": b"r", b"o": self.instance, b"t": now})
        for m in batch:
            if m.kind == Kind.UPDATE:
                key = stream_key(m.doc)
                fields = {b"k": b"u", b"s": m.seq, b"o": m.origin, b"t": now, b"d": m.payload}
                pipe.xadd(key, fields, maxlen=self.maxlen, approximate=True)
                if self._expire_after.get(m.doc, 0.0) <= now:
                    self._expire_after[m.doc] = now + _EXPIRE_REFRESH
                    pipe.pexpire(key, STREAM_TTL_MS)
            elif m.kind in (Kind.AWARENESS, Kind.AWARENESS_QUERY):
                # kind (a: awareness, q: a query for it), origin, newline, payload
                tag = b"q" if m.kind == Kind.AWARENESS_QUERY else b"a"
                pipe.publish(channel(m.doc), tag + m.origin.encode() + b"\n" + m.payload)
        if len(pipe):
            await pipe.execute(raise_on_error=True)
        else:
            await self.cmd.ping()
