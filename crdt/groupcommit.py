"""Group commit: appends from every room that arrive while a write is in flight share the
next write, so durability costs one transaction per batch instead of one per update."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence

from .store import Store
from .types import Entry, NewEntry

# Upper bound on entries per transaction, so one enormous burst cannot hold the write lock
# (and every waiting room) for long.
MAX_BATCH_ENTRIES = 2000

_Item = tuple[str, Sequence[NewEntry], "asyncio.Future[list[Entry]]"]


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

    async def append(self, doc: str, entries: Sequence[NewEntry]) -> list[Entry]:
        """Append `entries` to `doc`'s log; returns once they are durable."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Entry]] = loop.create_future()
        self._queue.append((doc, entries, future))
        if self._task is None:
            self._task = loop.create_task(self._drain())
        return await future

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
                    for _, _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                if self.on_commit:
                    self.on_commit(count, time.perf_counter() - started)
                for (_, _, future), stored in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(stored)
        finally:
            self._task = None

    async def close(self) -> None:
        """Let the write in flight and everything queued reach the store."""
        while self._task is not None:
            await asyncio.shield(self._task)
