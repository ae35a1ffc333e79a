"""Several `sinopia serve` processes over one MongoDB (SecantusDB) and one Redis: clients
spread over them converge, joins race edits safely, and neither a Redis restart nor a
killed instance loses or duplicates anything. Every test ends with the store checks: each
document's log is numbered 1..n, hash-chained, holds no update twice, replays to what
the clients hold, and `sinopia history verify` passes."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from pycrdt import Doc, Map

from crdt.bus import BusMessage, Kind
from crdt.buses import open_bus
from crdt.buses.redis import RedisBus, stream_key
from crdt.seals import verify
from crdt.stores.mongo import MongoStore
from server.settings import Settings

from .conftest import ROOT, Process, ServerFactory, eventually, free_port
from .mongo import mongo_database, mongo_server  # noqa: F401
from .yclient import YClient, connected


class RedisServer:
    """A `redis-server` of the test's own on a free port, keeping nothing on disk (so a
    restart loses every stream, as a cache-only Redis would)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.workdir)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not self._answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.02)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc = None


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    assert shutil.which("redis-server"), (
        "redis-server is needed (Debian: apt-get install redis-server)"
    )
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    if server.proc is not None:
        server.kill()


class Cluster:
    """Server processes sharing the store, the bus and the sealing key."""

    def __init__(self, factory: Callable[..., Process], env: dict[str, str]) -> None:
        self.factory = factory
        self.env = env
        self.procs: list[Process] = []

    async def start(self, count: int, **extra: str) -> list[Process]:
        new = [
            self.factory(f"instance{len(self.procs) + i}", {**self.env, **extra})
            for i in range(count)
        ]
        for p in new:
            # Users, tokens and workspaces live beside the store: one directory for all.
            p.settings = Settings(data_dir=p.data_dir, mongo_url=self.env["SINOPIA_MONGO_URL"])
        self.procs += new
        await asyncio.gather(*(p.start() for p in new))
        return new

    async def stop(self) -> None:
        # SIGTERM drains: clients told 1001, rooms flushed and sealed, in bounded time.
        for p in self.procs:
            if p.proc is not None and p.proc.poll() is None:
                p.proc.send_signal(signal.SIGTERM)
        for p in self.procs:
            if p.proc is not None and p.proc.returncode != -signal.SIGKILL:
                # uvicorn exits by re-raising the signal once it has drained.
                code = await asyncio.to_thread(p.proc.wait, 20)
                assert code in (0, -signal.SIGTERM), p.log.read_text()[-2000:]
                assert "stopped: every update is stored" in p.log.read_text()


@pytest.fixture
async def cluster(
    process_factory: Callable[..., Process],
    redis: RedisServer,
    mongo_database: str,  # noqa: F811
    tmp_path: Path,
) -> AsyncIterator[Cluster]:
    env = {
        "SINOPIA_REDIS_URL": redis.url,
        "SINOPIA_MONGO_URL": mongo_database,
        "SINOPIA_SEAL_KEY_PATH": str(tmp_path / "seal-key.pem"),
        "SINOPIA_SEAL_INTERVAL_SECONDS": "1",
    }
    yield Cluster(process_factory, env)


async def ready(proc: Process) -> dict[str, Any]:
    response = await proc.running.get("/readyz")
    return {"code": response.status_code, **response.json()}


async def edit(client: YClient, prefix: str, count: int, interval: float = 0.0) -> None:
    """Set `count` keys of its own, one update each, paced by `interval` (0: a burst)."""
    for i in range(count):
        client.map()[f"{prefix}{i}"] = i
        if interval:
            await asyncio.sleep(interval)
        elif i % 20 == 19:
            await client.drain()
    await client.drain()


def expected(*spec: tuple[str, int]) -> dict[str, float]:
    return {f"{prefix}{i}": float(i) for prefix, count in spec for i in range(count)}


async def converge(clients: list[YClient], want: dict[str, Any], timeout: float = 20) -> None:
    await asyncio.gather(
        *(
            c.wait_for(lambda c=c: c.content() == want, timeout, f"convergence of {c.url}")
            for c in clients
        )
    )


async def check_store(env: dict[str, str], docs: dict[str, dict[str, Any]]) -> None:
    """The store-level checks, with `docs` the content each document must replay to."""
    store = MongoStore(env["SINOPIA_MONGO_URL"])
    await store.open()
    try:
        for doc, want in docs.items():
            entries = await store.read(doc)
            assert entries, doc
            assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
            assert len({e.update for e in entries}) == len(entries), "an update stored twice"
            report = verify(doc, entries, [], {})  # the hash chain, in order
            assert report.ok, report.problem
            # Replayed in order, every entry adds something (none repeats an earlier
            # one's content), and the log holds exactly what the clients converged to.
            ydoc: Doc = Doc()
            changes: list[object] = []
            ydoc.observe(changes.append)
            for e in entries:
                before = len(changes)
                ydoc.apply_update(e.update)
                assert len(changes) > before, f"entry {e.seq} of {doc} adds nothing"
            assert ydoc.get("m", type=Map).to_py() == want
    finally:
        await store.close()
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "server.cli", "history", "verify"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(docs)} of {len(docs)} documents verified" in done.stdout, done.stdout
    # Sealed by the instances with their shared key, and the seals verify.
    assert "sealed up to 0" not in done.stdout, done.stdout


async def test_instances_converge_share_presence_and_serve_late_joiners(
    cluster: Cluster,
) -> None:
    doc = "scale/canvas/spread"
    one, two, three = await cluster.start(3)
    # Two instances first: clients spread over them.
    clients = [
        *await connected(one.running.ws(doc), 2),
        *await connected(two.running.ws(doc), 2),
    ]
    await asyncio.gather(*(edit(c, f"c{n}-", 25) for n, c in enumerate(clients)))
    want = expected(*((f"c{n}-", 25) for n in range(4)))
    await converge(clients, want)
    # Presence crosses instances, both ways.
    await clients[0].set_state({"user": "on one"})
    await clients[3].set_state({"user": "on two"})
    await clients[3].wait_for(lambda: clients[0].doc.client_id in clients[3].peers())
    await clients[0].wait_for(lambda: clients[3].doc.client_id in clients[0].peers())

    # A late joiner on a third instance gets the full state in its first sync.
    (late,) = await connected(three.running.ws(doc))
    assert late.content() == want
    await late.wait_for(lambda: clients[0].doc.client_id in late.peers(), what="presence")

    # Three instances, everyone editing.
    clients.append(late)
    clients += await connected(three.running.ws(doc))
    await asyncio.gather(*(edit(c, f"d{n}-", 15, 0.002) for n, c in enumerate(clients)))
    want |= expected(*((f"d{n}-", 15) for n in range(len(clients))))
    await converge(clients, want)

    # Shutting down, every instance tells its clients to reconnect elsewhere.
    await cluster.stop()
    for c in clients:
        assert (await c.wait_closed())[0] == 1001
    await check_store(cluster.env, {doc: want})


async def test_join_races_edits_on_another_instance(cluster: Cluster) -> None:
    (a,) = await cluster.start(1)
    # B drops its room soon after its client leaves, so every round opens it afresh
    # (subscribe, load, replay what arrived meanwhile) while A's clients are mid-burst.
    (b,) = await cluster.start(1, SINOPIA_ROOM_IDLE_SECONDS="0.1")
    doc = "scale/canvas/race"
    writers = await connected(a.running.ws(doc), 2)
    want: dict[str, Any] = {}
    rng = random.Random(7)

    async def join_late() -> YClient:
        # Pacing, not synchronisation: a random point within the burst.
        await asyncio.sleep(rng.uniform(0, 0.05))
        return await YClient(b.running.ws(doc)).connect()

    for round_ in range(12):
        prefixes = [f"r{round_}w{n}-" for n in range(len(writers))]
        *_, joiner = await asyncio.gather(
            *(edit(w, prefix, 80) for w, prefix in zip(writers, prefixes, strict=True)),
            join_late(),
        )
        want |= expected(*((prefix, 80) for prefix in prefixes))
        await converge([*writers, joiner], want)
        await joiner.close()
        await eventually(lambda: rooms_open(b, 0), 15, "B to drop the room")
    # B's rooms took live updates from the bus, not only what they loaded.
    assert await b.running.metric("sinopia_remote_updates_total") > 0
    for w in writers:
        await w.close()
    await cluster.stop()
    await check_store(cluster.env, {doc: want})


async def test_instance_alone_on_a_document_wakes_when_another_opens_it(
    cluster: Cluster, redis: RedisServer
) -> None:
    """A goes quiet on a document it alone has open; a room opening on B makes A read the
    stream live again at once (the periodic read is put out of reach here)."""
    # A's grace is short so that it goes quiet soon, yet long enough that it stays live
    # through the checks after waking on a busy machine; B never goes quiet, so the last
    # step (A's edits reaching B) does not hang on B's own quiet poll.
    quiet = {"SINOPIA_REDIS_URL": f"{redis.url}?live_grace=2&quiet_poll=600"}
    live = {"SINOPIA_REDIS_URL": f"{redis.url}?live_grace=600&quiet_poll=600"}
    (a,) = await cluster.start(1, **quiet)
    doc = "scale/canvas/quiet"
    (on_a,) = await connected(a.running.ws(doc))
    assert await a.running.metric("sinopia_bus_shared_documents") == 1  # live at first
    await edit(on_a, "a", 5)

    async def alone() -> bool:
        # One more edit of A's own wakes its reader, which then leaves the quiet stream out.
        await edit(on_a, f"a{time.monotonic_ns()}-", 1)
        return await a.running.metric("sinopia_bus_shared_documents") == 0

    await eventually(alone, 15, "A to go quiet on the document")
    (b,) = await cluster.start(1, **live)
    (on_b,) = await connected(b.running.ws(doc))
    # Only B edits now, so A sees no hole in its own sequence numbers that would have it
    # read B's updates back from the store: they must come over the bus.
    await edit(on_b, "b", 5)
    want = {**on_a.content(), **expected(("b", 5))}
    await converge([on_a, on_b], want, timeout=15)
    assert await a.running.metric("sinopia_bus_shared_documents") == 1
    await edit(on_a, "c", 5)
    want |= expected(("c", 5))
    await converge([on_a, on_b], want, timeout=15)
    for c in (on_a, on_b):
        await c.close()
    await cluster.stop()
    await check_store(cluster.env, {doc: want})


async def rooms_open(proc: Process, count: int) -> bool:
    return await proc.running.metric("sinopia_rooms") == count


async def test_redis_restart_mid_session_loses_and_duplicates_nothing(
    cluster: Cluster, redis: RedisServer
) -> None:
    doc = "scale/canvas/redis-restart"
    a, b = await cluster.start(2)
    on_a = await connected(a.running.ws(doc), 2)
    on_b = await connected(b.running.ws(doc), 2)
    clients = on_a + on_b
    editing = [asyncio.create_task(edit(c, f"c{n}-", 200, 0.01)) for n, c in enumerate(clients)]
    await clients[0].wait_for(lambda: "c2-10" in clients[0].content(), what="edits across")
    redis.kill()
    # Both instances say the bus is down...
    for proc in (a, b):
        await eventually(lambda p=proc: _bus_down(p), 10, "readyz to report the bus down")
    # ...and keep serving their own clients live meanwhile.
    sent = sum(k.startswith("c0-") for k in clients[0].content())
    mark = f"c0-{min(sent + 20, 199)}"
    await on_a[1].wait_for(lambda: mark in on_a[1].content(), what="local edits in outage")
    redis.start()
    for proc in (a, b):
        await eventually(lambda p=proc: _ready(p), 15, "readyz ok again")
    await asyncio.gather(*editing)
    want = expected(*((f"c{n}-", 200) for n in range(len(clients))))
    await converge(clients, want)
    # What each instance's clients wrote during the outage reached the other instance's
    # room from the store.
    for proc in (a, b):
        assert await proc.running.metric("sinopia_resynced_updates_total") > 0
    for c in clients:
        await c.close()
    await cluster.stop()
    await check_store(cluster.env, {doc: want})


async def _bus_down(proc: Process) -> bool:
    state = await ready(proc)
    return state["code"] == 503 and state["bus"] != "ok"


async def _ready(proc: Process) -> bool:
    return (await ready(proc))["code"] == 200


async def test_killed_instance_loses_nothing_it_relayed(cluster: Cluster) -> None:
    doc = "scale/canvas/sigkill"
    a, b = await cluster.start(2)
    c1, c2 = await connected(a.running.ws(doc), 2)
    (c3,) = await connected(b.running.ws(doc))
    editing = [asyncio.create_task(edit(c, f"c{n}-", 400, 0.004)) for n, c in enumerate((c1, c2))]
    await c2.wait_for(lambda: "c0-40" in c2.content(), what="edits on A")
    a.kill()
    # What A relayed to c2 from c1 was stored first: it must reach B, whose own client
    # goes on editing, even before anyone reconnects.
    relayed = {k: v for k, v in c2.content().items() if k.startswith("c0-")}
    for task in editing:
        task.cancel()
    await asyncio.gather(*editing, return_exceptions=True)
    await edit(c3, "c2-", 30, 0.01)
    await c3.wait_for(lambda: relayed.items() <= c3.content().items(), 15, "relayed edits")

    # A's clients reconnect to B with what they hold, and finish their work there.
    moved = [await YClient(b.running.ws(doc), doc=c.doc).connect() for c in (c1, c2)]
    await asyncio.gather(*(edit(c, f"after{n}-", 20) for n, c in enumerate(moved)))
    clients = [*moved, c3]
    want = dict(c3.content())
    for c in moved:
        want |= c.content()
    await converge(clients, want)
    assert relayed.items() <= want.items()
    assert all(f"after{n}-19" in want for n in range(2))
    for c in clients:
        await c.close()
    await cluster.stop()
    await check_store(cluster.env, {doc: want})


async def test_redis_bus_positions_resets_and_recovers(redis: RedisServer) -> None:
    """The bus alone: a subscription starts at the stream's end, an outage fails ping at
    once, and afterwards the rooms are told to re-sync (RESET) and messages flow again."""
    doc = "scale/canvas/bus"
    a, b = open_bus(redis.url + "?maxlen=50", "A"), open_bus(redis.url, "B")
    await a.open()
    await b.open()
    got: list[BusMessage] = []
    try:
        await a.subscribe(doc, lambda m: None)
        a.publish(BusMessage(doc, Kind.UPDATE, b"before", 1, "A"))
        raw = aioredis.Redis.from_url(redis.url)
        await eventually(lambda: _xlen(raw, doc, 1), what="the first update on the stream")
        await raw.aclose()

        await b.subscribe(doc, got.append)
        a.publish(BusMessage(doc, Kind.UPDATE, b"after", 2, "A"))
        a.publish(BusMessage(doc, Kind.AWARENESS, b"presence", 0, "A"))
        await eventually(lambda: len(got) == 2, what="delivery")
        # (Updates and awareness travel separately: no order between them.)
        assert {(m.kind, m.payload, m.seq, m.origin) for m in got} == {
            (Kind.UPDATE, b"after", 2, "A"),
            (Kind.AWARENESS, b"presence", 0, "A"),
        }
        await b.ping()

        redis.kill()
        await eventually(lambda: _fails(b.ping), 5, "ping to fail")
        started = time.monotonic()
        assert await _fails(b.ping)
        assert time.monotonic() - started < 0.1  # /readyz must not wait on a timeout
        a.publish(BusMessage(doc, Kind.UPDATE, b"lost", 3, "A"))
        redis.start()
        await eventually(lambda: any(m.kind == Kind.RESET for m in got), 15, "a RESET")
        for bus in (a, b):
            await eventually(lambda bus=bus: _works(bus.ping), 15, "ping to work")
        a.publish(BusMessage(doc, Kind.UPDATE, b"again", 4, "A"))
        await eventually(lambda: got[-1].payload == b"again", what="delivery after restart")
        assert b"lost" not in [m.payload for m in got]  # the store is what repairs it
    finally:
        await a.close()
        await b.close()


async def test_quiet_document_still_hears_other_instances(redis: RedisServer) -> None:
    """A document no other instance has shown itself on is not read back entry by entry
    (quiet), yet another instance's updates reach it: by the periodic read when nothing
    announced that instance, at once when its presence query did."""
    doc = "scale/canvas/quiet"
    a, b = open_bus(redis.url, "A"), open_bus(redis.url, "B")
    assert isinstance(a, RedisBus)
    a.live_grace, a.quiet_poll = 0.3, 0.2
    await a.open()
    await b.open()
    got: list[BusMessage] = []
    try:
        await a.subscribe(doc, got.append)
        sub = a._subs[doc]

        def quiet() -> bool:
            return sub.live_until <= time.monotonic()

        await eventually(quiet, what="the document going quiet")
        a.publish(BusMessage(doc, Kind.UPDATE, b"own", 1, "A"))
        # B publishes with no presence message first (as if pub/sub had lost it).
        b.publish(BusMessage(doc, Kind.UPDATE, b"from-b", 2, "B"))
        await eventually(lambda: [m.payload for m in got] == [b"from-b"], 5, "the update")
        assert not quiet()  # live again

        # Quiet again, and the periodic read now far off: only B's presence query (a room
        # opening on B) can make A read the stream in time.
        await eventually(quiet, what="the document going quiet again")
        a.quiet_poll = 600
        await eventually(lambda: a._next_poll > time.monotonic() + 60, what="a far poll")
        b.publish(BusMessage(doc, Kind.AWARENESS_QUERY, b"", 0, "B"))
        await eventually(lambda: not quiet(), 5, "the presence query")
        b.publish(BusMessage(doc, Kind.UPDATE, b"after-query", 3, "B"))
        await eventually(lambda: got[-1].payload == b"after-query", 5, "live delivery")
    finally:
        await a.close()
        await b.close()


@pytest.mark.parametrize("option", ["maxlen=0", "live_grace=-1", "quiet_poll=0", "quiet_poll=x"])
def test_redis_bus_options_are_checked(option: str) -> None:
    name = option.split("=")[0]
    with pytest.raises(ValueError, match=f"{name} must be a positive number"):
        open_bus(f"redis://127.0.0.1:1/0?{option}", "A")


async def _xlen(client: aioredis.Redis, doc: str, count: int) -> bool:
    return await client.xlen(stream_key(doc)) == count


async def _fails(ping: Callable[[], Any]) -> bool:
    try:
        await ping()
    except Exception:
        return True
    return False


async def _works(ping: Callable[[], Any]) -> bool:
    return not await _fails(ping)


async def test_update_missing_from_the_bus_is_read_back_from_the_store(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    """An instance that stored and relayed updates but never published them (it died in
    between): the other instance notices the hole in the sequence numbers and reads them
    from the store, and a client moving over does not store them a second time."""
    store = f"sqlite://{tmp_path}/shared.db"
    one = await make_server(store_url=store, bus_url="memory://gap")
    two = await make_server(store_url=store, bus_url="memory://gap")
    doc = "scale/canvas/gap"
    (a,) = await connected(one.ws(doc))
    (b,) = await connected(two.ws(doc))
    assert one.app is not None
    bus = one.app.state.manager.bus
    publish = bus.publish
    room = one.app.state.manager.rooms[doc]

    async def lose(prefix: str, count: int) -> None:
        # Stored and relayed on instance one, never published.
        bus.publish = lambda m: None if m.kind == Kind.UPDATE else publish(m)
        head = room.head
        for i in range(count):
            a.map()[f"{prefix}{i}"] = i
        await a.drain()
        await eventually(lambda: room.head == head + count, what="the updates to be stored")
        bus.publish = publish

    await lose("lost", 5)
    # The next update that does arrive shows the hole; the store fills it.
    a.map()["after"] = 1
    await b.wait_for(lambda: b.content() == a.content(), what="the hole to be filled")
    assert await two.metric("sinopia_resynced_updates_total") == 5

    # A client joining the other instance gets such updates at once: joins re-read it.
    await lose("unseen", 3)
    (late,) = await connected(two.ws(doc))
    assert late.content() == a.content()
    assert await two.metric("sinopia_resynced_updates_total") == 8

    # `a` moves to the other instance with everything it holds: nothing new to store.
    moved = await YClient(two.ws(doc), doc=a.doc).connect()
    await moved.close()
    for c in (a, b, late):
        await c.close()
    entries = await one.app.state.manager.store.read(doc)
    assert [e.seq for e in entries] == list(range(1, 10))


async def test_instance_starts_without_redis_and_joins_when_it_comes(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    assert shutil.which("redis-server"), (
        "redis-server is needed (Debian: apt-get install redis-server)"
    )
    redis = RedisServer(tmp_path / "late-redis")  # not started yet
    store = f"sqlite://{tmp_path}/shared.db"
    one = await make_server(store_url=store, redis_url=redis.url)
    doc = "scale/canvas/late-redis"
    a, b = await connected(one.ws(doc), 2)
    a.map()["local"] = 1
    await b.wait_for(lambda: b.content() == {"local": 1.0}, what="local editing")
    assert (await one.get("/readyz")).status_code == 503
    redis.start()
    try:
        await eventually(lambda: _status(one, 200), 15, "readyz ok")
        two = await make_server(store_url=store, redis_url=redis.url)
        (c,) = await connected(two.ws(doc))
        c.map()["remote"] = 2
        await a.wait_for(lambda: a.content() == {"local": 1.0, "remote": 2.0}, what="bus")
        for client in (a, b, c):
            await client.close()
    finally:
        redis.kill()


async def _status(server: Any, code: int) -> bool:
    return (await server.get("/readyz")).status_code == code
