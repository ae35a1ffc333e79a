"""Durability of the real `sinopia serve` process: nothing a client was sent is lost."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3

import pytest

from .conftest import Process
from .yclient import YClient, connected

DOC = "studio/report/cr-2026-114"


# `synchronous=normal` gives up only power-loss durability: a killed process loses nothing.
@pytest.mark.parametrize(
    "store_url", ["sqlite:", "sqlite:?commit=loop", "sqlite:?synchronous=normal"]
)
async def test_sigkill_loses_nothing_that_was_broadcast(process_factory, store_url: str) -> None:
    proc: Process = process_factory("killed", env={"SINOPIA_STORE_URL": store_url})
    server = await proc.start()
    writers = await connected(server.ws(DOC), 3)
    (observer,) = await connected(server.ws(DOC))

    stop = asyncio.Event()

    async def write(i: int, client: YClient) -> None:
        n = 0
        while not stop.is_set():
            client.map()[f"w{i}-{n}"] = n
            n += 1
            await asyncio.sleep(0.002)  # pacing the edits, not synchronisation

    tasks = [asyncio.create_task(write(i, c)) for i, c in enumerate(writers)]
    await observer.wait_for(lambda: len(observer.content()) >= 150, 30, "edits flowing")
    # Kill mid-stream, while edits are in flight.
    proc.kill()
    seen = dict(observer.content())
    stop.set()
    await asyncio.gather(*tasks)
    for client in [*writers, observer]:
        await client.wait_closed()

    server = await proc.start()
    (fresh,) = await connected(server.ws(DOC))
    restored = fresh.content()
    missing = {k for k in seen if k not in restored}
    assert not missing, f"{len(missing)} broadcast updates lost, e.g. {sorted(missing)[:5]}"

    # The writers reconnect with what the server never stored: everything converges.
    for client in writers:
        await client.connect()
    everything: dict[str, float] = {}
    for client in writers:
        everything.update(client.content())
    await fresh.wait_for(lambda: fresh.content() == everything, 30, "writers' resync")
    proc.terminate()

    # The log on disk holds every key exactly as the clients have them.
    with sqlite3.connect(proc.data_dir / "sinopia.db") as db:
        seqs = [
            row[0]
            for row in db.execute("SELECT seq FROM entries WHERE doc = ? ORDER BY seq", (DOC,))
        ]
    assert seqs == list(range(1, len(seqs) + 1))


async def test_serve_flags_and_environment_are_honoured(process_factory, tmp_path) -> None:
    proc: Process = process_factory("flags", env={"SINOPIA_MAX_CLIENTS_PER_ROOM": "1"})
    server = await proc.start()
    (first,) = await connected(server.ws(DOC))
    second = YClient(server.ws(DOC))
    await second.connect(wait_synced=False)
    assert (await second.wait_closed())[0] == 4429
    first.map()["x"] = 1
    await first.wait_for(lambda: first.close_code is None and first.content() == {"x": 1.0})
    await first.close()
    # SIGTERM: a graceful stop (uvicorn re-raises the signal once it has shut down).
    assert proc.terminate() in (0, -signal.SIGTERM)
    # --data-dir was used for the embedded store; the log is JSON lines with one per connection.
    assert (proc.data_dir / "sinopia.db").exists()
    lines = [json.loads(line) for line in proc.log.read_text().splitlines() if line.startswith("{")]
    connections = [line for line in lines if line.get("event") == "connection"]
    assert {c["code"] for c in connections} >= {4429}
    assert all(c["doc"] == DOC for c in connections)
    assert any(line.get("event") == "stop" for line in lines)


async def test_sigterm_tells_clients_to_go_and_keeps_every_update(process_factory) -> None:
    proc: Process = process_factory("drained")
    server = await proc.start()
    a, b = await connected(server.ws(DOC), 2)
    for i in range(50):
        a.map()[f"k{i}"] = i
    await b.wait_for(lambda: len(b.content()) == 50)
    proc.proc.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
    # Clients hear 1001 "going away" (y-websocket then reconnects), not a dropped socket.
    assert await a.wait_closed() == (1001, "server going away")
    assert await b.wait_closed() == (1001, "server going away")
    assert proc.proc.wait(15) in (0, -signal.SIGTERM)  # type: ignore[union-attr]
    with sqlite3.connect(proc.data_dir / "sinopia.db") as db:
        (count,) = db.execute("SELECT COUNT(*) FROM entries WHERE doc = ?", (DOC,)).fetchone()
    assert count == 50
