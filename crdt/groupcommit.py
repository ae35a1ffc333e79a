"""Group commit: appends from every room that arrive while a write is in flight share the
next write, so durability costs one transaction per batch instead of one per update.

A write starts on the turn of the event loop after the first append that finds the
writer idle, so the appends of one turn (rooms handing over what they received in it)
share a transaction too. Rooms are told through a callback, on the event loop, right
after the write: no task or future per append.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence

from .store import Store
from .types import Entry, NewEntry

# Upper bound on entries per transaction, so one enormous burst cannot hold the write lock
# (and every waiting room) for long.
MAX_BATCH_ENTRIES = 2000

# Called with the stored entries, or with the exception that kept them from the store.
Done = Callable[[list[Entry] | None, Exception | None], None]

_Item = tuple[str, Sequence[NewEntry], Done]

log = logging.getLogger("sinopia.store")


def _tell(done: Done, stored: list[Entry] | None, exc: Exception | None) -> None:
    # One room's failure to take the news must not keep it from the others.
    try:
        done(stored, exc)
    except Exception:
        log.exception("a room failed to take a commit's result")


class GroupCommit:
    def __init__(
        self,
        store: Store,
        on_commit: Callable[[int, float], None] | None = None,
    ) -> None:
        self.store = store
        # Called with (entries written, seconds taken) after each durable write: metrics.
        self.on_commit = on_commit
        self._queue: deque[_Item] = deque()
        self._task: asyncio.Task[None] | None = None
        self._starting = False

    def submit(self, doc: str, entries: Sequence[NewEntry], done: Done) -> None:
        """Append `entries` to `doc`'s log; `done` is called once they are durable (or
        could not be stored). Appends of one document are written in submission order."""
        self._queue.append((doc, entries, done))
        if self._task is None and not self._starting:
            self._starting = True
            asyncio.get_running_loop().call_soon(self._start)

    async def append(self, doc: str, entries: Sequence[NewEntry]) -> list[Entry]:
        """Append `entries` to `doc`'s log; returns once they are durable."""
        future: asyncio.Future[list[Entry]] = asyncio.get_running_loop().create_future()

        def done(stored: list[Entry] | None, exc: Exception | None) -> None:
            if future.done():
                return
            if exc is not None:
                future.set_exception(exc)
            else:
                assert stored is not None
                future.set_result(stored)

        self.submit(doc, entries, done)
        return await future

    def _start(self) -> None:
        self._starting = False
        if self._task is None and self._queue:
            self._task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        # Runs while there is work; appends that arrive during a write form the next batch.
        try:
            while self._queue:
                batch: list[_Item] = []
                count = 0
                while self._queue and count < MAX_BATCH_ENTRIES:
                    item = self._queue.popleft()
                    batch.append(item)
                    count += len(item[1])
                started = time.perf_counter()
                try:
                    results = await self.store.append_batch([(d, e) for d, e, _ in batch])
                except Exception as exc:
                    for _, _, done in batch:
                        _tell(done, None, exc)
                    continue
                if self.on_commit:
                    self.on_commit(count, time.perf_counter() - started)
                for (_, _, done), stored in zip(batch, results, strict=True):
                    _tell(done, stored, None)
        finally:
            self._task = None

    async def close(self) -> None:
        """Let the write in flight and everything queued reach the store."""
        while self._task is not None or self._queue:
            if self._task is None:
                self._start()
            if self._task is not None:
                await asyncio.shield(self._task)
