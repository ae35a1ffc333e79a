"""The room manager: opens a room on first join, shares one load among simultaneous
joiners, and evicts rooms that have been empty for a while (flushing them first)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from .bus import Bus, BusMessage
from .errors import IntegrityError
from .groupcommit import GroupCommit
from .peer import Peer
from .room import Room, Stats, UpdateCheck
from .seals import ChainVerifier, Sealer
from .store import Store
from .types import Limits, Loaded

log = logging.getLogger("sinopia.rooms")

# Awareness states not renewed for this long are dropped (Yjs clients renew every 15 s
# and time out others after 30 s).
AWARENESS_TIMEOUT_MS = 30_000
# How long a join waits for a room's re-read of the store before going ahead without it.
JOIN_CATCH_UP_SECONDS = 2.0


class RoomManager:
    def __init__(
        self,
        store: Store,
        bus: Bus,
        *,
        limits: Limits | None = None,
        checkpoint_every: int = 500,
        idle_seconds: float = 30.0,
        sealer: Sealer | None = None,
        check: UpdateCheck | None = None,
    ) -> None:
        self.store = store
        self.bus = bus
        self.limits = limits or Limits()
        self.checkpoint_every = checkpoint_every
        self.idle_seconds = idle_seconds
        self.sealer = sealer
        self.check = check
        self.stats = Stats()
        self.log = GroupCommit(store)
        self.rooms: dict[str, Room] = {}
        self._loading: dict[str, asyncio.Future[Room]] = {}
        self._evicting: dict[str, asyncio.Task[None]] = {}
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    async def join(self, name: str, peer: Peer) -> Room:
        """The room of document `name`, with `peer` in it and sent the sync opening."""
        while True:
            room = await self._room(name)
            if self.bus.shared:
                # Another instance may have stored updates the bus has not brought yet
                # (or never will: it died in between). Read them first, so the joiner
                # does not send them back to be stored a second time.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(room.catch_up(), JOIN_CATCH_UP_SECONDS)
            if not room.broken and name not in self._evicting and self.rooms.get(name) is room:
                room.join(peer)
                return room

    async def _room(self, name: str) -> Room:
        while True:
            if name in self._evicting:
                await asyncio.shield(self._evicting[name])
                continue
            room = self.rooms.get(name)
            if room is not None:
                return room
            loading = self._loading.get(name)
            if loading is not None:
                # Every simultaneous joiner waits on the one load in progress.
                return await asyncio.shield(loading)
            return await self._open(name)

    async def _open(self, name: str) -> Room:
        future: asyncio.Future[Room] = asyncio.get_running_loop().create_future()
        self._loading[name] = future
        room = Room(
            name,
            store=self.store,
            log=self.log,
            bus=self.bus,
            limits=self.limits,
            stats=self.stats,
            checkpoint_every=self.checkpoint_every,
            on_broken=self._drop,
            on_stored=self.sealer.note if self.sealer else None,
            check=self.check,
        )
        # Subscribe before loading and replay what arrived meanwhile: an update another
        # instance stores while we read is then either in what we read or in the buffer.
        early: list[BusMessage] = []
        try:
            await self.bus.subscribe(name, early.append)
            loaded = await self.store.load(name)
            await self._verify(name, loaded)
            room.load(loaded, lazily=True)
            for message in early:
                room.on_bus(message)
            await self.bus.subscribe(name, room.on_bus)
            self.rooms[name] = room
            room.ask_presence()
            future.set_result(room)
            if loaded.head - room.checkpoint_seq >= self.checkpoint_every:
                # Loaded more than a checkpoint's worth (the server stopped before writing
                # one): write it now so the next load is bounded again.
                room._maybe_checkpoint()
            return room
        except BaseException as exc:
            with contextlib.suppress(Exception):
                await self.bus.unsubscribe(name)
            future.set_exception(exc)
            future.exception()  # retrieved: waiters get it through their own await
            raise
        finally:
            del self._loading[name]

    async def _verify(self, name: str, loaded: Loaded) -> None:
        # Check the entries about to be replayed before serving them: a tampered or
        # damaged log is refused with its first bad entry named, and nothing is written.
        if not loaded.entries:
            return
        prev = None
        if loaded.checkpoint and loaded.checkpoint.seq > 0:
            before = await self.store.read(name, after=loaded.checkpoint.seq - 1, limit=1)
            prev = before[0] if before else None
        chain = ChainVerifier(name, prev)
        for entry in loaded.entries:
            problem = chain.check(entry)
            if problem:
                log.error("integrity check failed: %s", problem, extra={"doc": name})
                raise IntegrityError(f"history failed its integrity check at entry {problem.seq}")

    @contextlib.asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[Room]:
        """The live room of `name` for server-side use (REST); not evicted while held."""
        while True:
            room = await self._room(name)
            if not room.broken and name not in self._evicting:
                break
        room.holds += 1
        room.idle_since = None
        try:
            yield room
        finally:
            room.holds -= 1
            room._maybe_idle()

    def leave(self, room: Room, peer: Peer) -> None:
        room.leave(peer)

    def _drop(self, room: Room) -> None:
        room.retire()
        if self.rooms.get(room.name) is room:
            del self.rooms[room.name]
            task = asyncio.get_running_loop().create_task(self.bus.unsubscribe(room.name))
            task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def evict(self, name: str) -> None:
        room = self.rooms.get(name)
        if room is None or name in self._evicting:
            return
        task = asyncio.get_running_loop().create_task(self._evict(room))
        self._evicting[name] = task
        try:
            await asyncio.shield(task)
        finally:
            self._evicting.pop(name, None)

    async def _evict(self, room: Room) -> None:
        await room.flush()
        if self.sealer and not room.broken:
            try:
                await self.sealer.seal(room.name)
            except Exception as exc:
                log.error("sealing on eviction failed for %s: %s", room.name, exc)
        if room.head > room.checkpoint_seq and not room.broken:
            # Flushing first: the next open loads one checkpoint instead of replaying.
            try:
                checkpoint = await self.store.checkpoint(room.name)
                if checkpoint:
                    room.checkpoint_seq = checkpoint.seq
            except Exception as exc:
                log.error("checkpoint on eviction failed for %s: %s", room.name, exc)
        if self.rooms.get(room.name) is room:
            del self.rooms[room.name]
            room.retire()
            await self.bus.unsubscribe(room.name)

    async def sweep(self) -> None:
        """Evict rooms empty for `idle_seconds`; drop stale awareness states."""
        now = time.monotonic()
        for name, room in list(self.rooms.items()):
            if room.idle_since is not None and now - room.idle_since >= self.idle_seconds:
                await self.evict(name)
            else:
                room.expire_awareness(AWARENESS_TIMEOUT_MS)

    async def _sweep_forever(self) -> None:
        interval = max(0.05, min(self.idle_seconds / 2, 5.0))
        while True:
            await asyncio.sleep(interval)
            try:
                await self.sweep()
            except Exception:
                log.exception("room sweep failed")

    async def close(self) -> None:
        """Flush and evict every room, then let the last writes reach the store."""
        if self._sweeper:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        for name in list(self.rooms):
            await self.evict(name)
        await self.log.close()
        if self.sealer:
            await self.sealer.close()
