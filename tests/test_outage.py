"""A MongoDB outage mid-session: live editing goes on, accepted updates wait in the local
spool, and every one of them reaches MongoDB in order, once, when it returns."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pycrdt import Doc, Map

from .conftest import ServerFactory, eventually, free_port
from .mongo import REPLICA_SET
from .yclient import connected

DOC = "conservation/canvas/outage"


class Mongo:
    """A SecantusDB of this test's own, stopped and started again on the same port and
    storage, as a MongoDB host that goes down and comes back."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.port = free_port()
        self.server = None

    def start(self) -> None:
        from secantus import SecantusDBServer

        self.server = SecantusDBServer(
            port=self.port, storage_path=str(self.path), replica_set_name=REPLICA_SET
        )
        self.server.start()

    def stop(self) -> None:
        assert self.server is not None
        self.server.stop()
        self.server = None

    @property
    def url(self) -> str:
        return (
            f"mongodb://127.0.0.1:{self.port}/outage?replicaSet={REPLICA_SET}"
            "&retryWrites=false&serverSelectionTimeoutMS=500&connectTimeoutMS=500"
        )


@pytest.fixture
def mongo(tmp_path: Path) -> Iterator[Mongo]:
    server = Mongo(tmp_path / "mongo")
    server.start()
    yield server
    if server.server is not None:
        server.stop()


async def test_outage_spools_then_writes_everything_once_in_order(
    make_server: ServerFactory, mongo: Mongo
) -> None:
    server = await make_server(mongo_url=mongo.url)
    assert server.app is not None
    store = server.app.state.manager.store
    a, b = await connected(server.ws(DOC), 2)
    for i in range(10):
        a.map()[f"before{i}"] = i
    await b.wait_for(lambda: len(b.content()) == 10)

    await asyncio.to_thread(mongo.stop)
    # Editing goes on between connected clients while MongoDB is down.
    for i in range(20):
        (a, b)[i % 2].map()[f"during{i}"] = i
    await a.wait_for(lambda: len(a.content()) == 30, 20, "live edits during the outage")
    await b.wait_for(lambda: len(b.content()) == 30, 20, "live edits during the outage")
    assert store.spooled > 0
    async with httpx.AsyncClient(base_url=server.url) as http:
        ready = await http.get("/readyz")
        assert ready.status_code == 503 and ready.json()["status"] == "degraded"
        assert ready.json()["bus"] == "ok"

        mongo.start()  # in this thread, as the fixture started it
        for i in range(5):
            a.map()[f"after{i}"] = i
        await b.wait_for(lambda: len(b.content()) == 35, 20)

        async def ready_again() -> bool:
            return (await http.get("/readyz")).status_code == 200

        await eventually(ready_again, 30, "spool drained")

    entries = await store.read(DOC)
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    # Replayed in order, the log adds each key once, as the clients wrote them: none lost,
    # none twice.
    replay: Doc = Doc()
    keys: list[str] = []
    for e in entries:
        before = set(replay.get("m", type=Map).keys())
        replay.apply_update(e.update)
        keys.extend(set(replay.get("m", type=Map).keys()) - before)
    assert sorted(keys) == sorted(a.content())
    assert len({(e.client_id, e.update) for e in entries}) == len(entries)
    # Spooled updates kept the time they were accepted, so history stays in time order.
    times = [e.time_ms for e in entries]
    assert times == sorted(times)


async def test_full_spool_refuses_updates_rather_than_losing_them(
    make_server: ServerFactory, mongo: Mongo
) -> None:
    server = await make_server(mongo_url=mongo.url, spool_max_bytes=600)
    a, b = await connected(server.ws(DOC), 2)
    a.map()["first"] = 0
    await b.wait_for(lambda: b.content() == {"first": 0.0})
    await asyncio.to_thread(mongo.stop)
    i = 0
    while a.close_code is None:
        a.map()[f"k{i}"] = "x" * 50
        i += 1
        # b hears of every accepted edit, and of the room closing when one is refused.
        await b.wait_for(lambda n=i: len(b.content()) > n or b.close_code is not None, 10)
    code, reason = await a.wait_closed()
    assert code == 1011
    assert "spool is full" in reason
    relayed = dict(b.content())  # what the server had accepted and relayed

    mongo.start()
    assert server.app is not None
    store = server.app.state.manager.store
    await eventually(lambda: store.spooled == 0, 30, "spool drained")
    replay: Doc = Doc()
    for e in await store.read(DOC):
        replay.apply_update(e.update)
    stored = replay.get("m", type=Map).to_py()
    assert all(stored.get(k) == v for k, v in relayed.items())
