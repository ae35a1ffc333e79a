"""Store benchmark: appends per second with group commit, load time of a long document
with and without checkpoints, and history reads at that size. Prints a table.

    python bench/store.py                      # SQLite and SecantusDB (in-process MongoDB)
    python bench/store.py --backends sqlite --updates 100000
    SINOPIA_BENCH_MONGO_URL=mongodb://host/?replicaSet=rs0 python bench/store.py

SecantusDB is a MongoDB wire server written in Python: its figures measure it, not
MongoDB; point SINOPIA_BENCH_MONGO_URL at a real mongod for those.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from pycrdt import Doc, Map, create_sync_message

from crdt import RoomManager
from crdt.buses.memory import MemoryBus
from crdt.groupcommit import GroupCommit
from crdt.history import state_at
from crdt.store import Store
from crdt.stores import open_store
from crdt.types import NewEntry


@asynccontextmanager
async def backend(name: str, tmp: Path) -> AsyncIterator[Store]:
    server = None
    if name == "sqlite":
        url = f"sqlite://{tmp}/bench.db"
    else:
        url = os.environ.get("SINOPIA_BENCH_MONGO_URL", "")
        if not url:
            from secantus import SecantusDBServer

            server = SecantusDBServer(
                port=0, storage_path=str(tmp / "mongo"), replica_set_name="rs0"
            )
            server.start()
            host, port = server.address
            url = f"mongodb://{host}:{port}/bench?replicaSet=rs0&retryWrites=false"
    store = open_store(url, tmp)
    await store.open()
    try:
        yield store
    finally:
        await store.close()
        if server is not None:
            server.stop()


def edits(n: int, prefix: str) -> list[bytes]:
    """`n` small updates, each setting one key of a map (a typical annotation edit size)."""
    doc: Doc = Doc()
    m = doc.get("m", type=Map)
    out = []
    for i in range(n):
        state = doc.get_state()
        m[f"{prefix}{i % 500}"] = i
        out.append(doc.get_update(state))
    return out


async def appends_per_second(store: Store, writers: int, seconds: float) -> tuple[float, float]:
    log = GroupCommit(store)
    updates = edits(2000, "k")
    done = 0
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def writer(w: int) -> None:
        nonlocal done
        i = 0
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await log.append(
                f"bench/canvas/w{writers}-{w}", [NewEntry(updates[i % 2000], "c", "p")]
            )
            latencies.append(time.perf_counter() - started)
            done += 1
            i += 1

    started = time.perf_counter()
    await asyncio.gather(*(writer(w) for w in range(writers)))
    elapsed = time.perf_counter() - started
    await log.close()
    return done / elapsed, statistics.median(latencies) * 1000


async def fill(store: Store, doc: str, updates: list[bytes], checkpoint_every: int) -> None:
    """Append `updates` as a server would: batches, and a checkpoint every so often."""
    for i in range(0, len(updates), 500):
        await store.append_batch([(doc, [NewEntry(u, "c", "p") for u in updates[i : i + 500]])])
        if checkpoint_every and (i + 500) % checkpoint_every == 0:
            await store.checkpoint(doc)


async def open_document(store: Store, doc: str) -> Doc:
    """What a room does on first join: read, then apply into a live document."""
    loaded = await store.load(doc)
    ydoc: Doc = Doc()
    if loaded.checkpoint:
        ydoc.apply_update(loaded.checkpoint.state)
    for entry in loaded.entries:
        ydoc.apply_update(entry.update)
    return ydoc


class _Joiner:
    """A client joining the room: notes when the SyncStep2 answering its SyncStep1 is in."""

    id = principal = "bench"
    can_write = presence = True

    def __init__(self) -> None:
        self.synced_at = 0.0

    def send(self, message: bytes) -> None:
        if message[:2] == b"\x00\x01" and not self.synced_at:
            self.synced_at = time.perf_counter()

    def close(self, code: int, reason: str) -> None:
        pass


async def first_sync(store: Store, doc: str) -> tuple[float, float]:
    """A room opening on a first join: ms until the joiner is synced, and until the
    room's document is built (the room answers from the stored bytes meanwhile)."""
    manager = RoomManager(store, MemoryBus("bench"))
    joiner = _Joiner()
    started = time.perf_counter()
    room = await manager.join(doc, joiner)
    room.receive(joiner, create_sync_message(Doc()))
    synced = joiner.synced_at
    room.doc  # noqa: B018 (built now, if it was not)
    built = time.perf_counter()
    await manager.close()
    return (synced - started) * 1000, (built - started) * 1000


async def timed(coro) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    await coro
    return (time.perf_counter() - started) * 1000


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


async def run(args: argparse.Namespace) -> None:
    append_rows, load_rows = [], []
    for name in args.backends.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            async with backend(name, Path(tmp)) as store:
                for writers in (1, 10, 100):
                    rate, p50 = await appends_per_second(store, writers, args.seconds)
                    append_rows.append([name, str(writers), f"{rate:,.0f}", f"{p50:.2f}"])
                    print(f"  {name} {writers} writers: {rate:,.0f}/s", flush=True)
                n = args.updates if name == "sqlite" else args.mongo_updates
                updates = edits(n, "f")
                plain, checked = "bench/canvas/no-checkpoints", "bench/canvas/checkpointed"
                fill_ms = await timed(fill(store, plain, updates, 0))
                await fill(store, checked, updates, args.checkpoint_every)
                without = await timed(open_document(store, plain))
                with_cp = await timed(open_document(store, checked))
                synced, built = await first_sync(store, checked)
                listing = await timed(store.read_newest(checked, limit=50))
                middle = await timed(state_at(store, checked, n // 2 + 123))
                near_head = await timed(state_at(store, checked, n - 7))
                load_rows.append(
                    [
                        name,
                        f"{n:,}",
                        f"{n / fill_ms * 1000:,.0f}",
                        f"{without:,.0f}",
                        f"{with_cp:,.0f}",
                        f"{synced:,.0f} / {built:,.0f}",
                        f"{listing:.1f}",
                        f"{middle:,.0f}",
                        f"{near_head:,.0f}",
                    ]
                )
    print("\nAppends through group commit (one small update per append):\n")
    print(table(["store", "writers", "appends/s", "p50 ms"], append_rows))
    print("\nA document with many small updates (times in ms unless said):\n")
    print(
        table(
            [
                "store",
                "updates",
                "batched appends/s",
                "open, no checkpoints",
                f"open, checkpoint every {args.checkpoint_every}",
                "room: first joiner synced / document built",
                "newest 50 changes",
                "state at the middle",
                "state near the head",
            ],
            load_rows,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backends", default="sqlite,mongodb")
    parser.add_argument("--seconds", type=float, default=3.0, help="per append measurement")
    parser.add_argument("--updates", type=int, default=100_000, help="long document on SQLite")
    parser.add_argument(
        "--mongo-updates", type=int, default=20_000, help="long document on MongoDB"
    )
    parser.add_argument("--checkpoint-every", type=int, default=500)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
