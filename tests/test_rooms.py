"""Rooms under load: simultaneous joins, many rooms, eviction and bounded loading."""

from __future__ import annotations

import asyncio

from .conftest import Running, ServerFactory, eventually
from .yclient import YClient, connected

DOC = "review/canvas/session-1"


async def test_fifty_clients_joining_at_once_all_sync_and_converge(
    make_server: ServerFactory,
) -> None:
    server = await make_server(room_idle_seconds=0.05)
    # Something stored before the stampede, and the room evicted: all fifty joins arrive
    # while the document is being loaded, the moment pycrdt-websocket gets wrong.
    (seed,) = await connected(server.ws(DOC))
    seed.map()["seed"] = "present"
    await seed.close()
    assert server.app is not None
    await eventually(lambda: not server.app.state.manager.rooms, 5, "eviction")

    clients = [YClient(server.ws(DOC)) for _ in range(50)]
    await asyncio.gather(*(c.connect(wait_synced=False) for c in clients))
    for client in clients:
        await client.wait_for(lambda c=client: c.content().get("seed") == "present", 20)
    for i, client in enumerate(clients):
        client.map()[f"c{i}"] = i
    expected = {"seed": "present", **{f"c{i}": float(i) for i in range(50)}}
    for client in clients:
        await client.wait_for(lambda c=client: c.content() == expected, 30, "convergence")
    assert await server.metric("sinopia_rooms") == 1
    assert await server.metric("sinopia_sockets") == 50


async def test_two_hundred_rooms_open_at_once_stay_independent(server: Running) -> None:
    names = [f"museum/canvas/page-{i:03d}" for i in range(200)]
    clients = await asyncio.gather(*(YClient(server.ws(n)).connect() for n in names))
    for i, client in enumerate(clients):
        client.map()["page"] = i
    watchers = await asyncio.gather(
        *(YClient(server.ws(n)).connect(wait_synced=False) for n in names)
    )
    for i, watcher in enumerate(watchers):
        await watcher.wait_for(lambda w=watcher, i=i: w.content() == {"page": float(i)}, 30)
    assert await server.metric("sinopia_rooms") == 200
    assert server.app is not None
    store = server.app.state.manager.store
    assert await store.documents("museum/") == sorted(names)
    for name in names[:5]:
        assert len(await store.read(name)) == 1


async def test_idle_room_is_flushed_evicted_and_reopened_intact(make_server: ServerFactory) -> None:
    server = await make_server(room_idle_seconds=0.1)
    (a,) = await connected(server.ws(DOC))
    for i in range(20):
        a.map()[f"k{i}"] = i
    (b,) = await connected(server.ws(DOC))
    await b.wait_for(lambda: len(b.content()) == 20)
    await a.close()
    await b.close()
    assert server.app is not None
    manager = server.app.state.manager
    await eventually(lambda: not manager.rooms, 5, "eviction")
    # Eviction checkpointed the document: the next load replays nothing.
    loaded = await manager.store.load(DOC)
    assert loaded.checkpoint is not None and loaded.checkpoint.seq == 20
    assert loaded.entries == []
    (c,) = await connected(server.ws(DOC))
    await c.wait_for(lambda: c.content() == {f"k{i}": float(i) for i in range(20)})


async def test_loading_never_replays_more_than_the_checkpoint_interval(
    make_server: ServerFactory,
) -> None:
    server = await make_server(checkpoint_every=10, room_idle_seconds=3600)
    assert server.app is not None
    store = server.app.state.manager.store
    (a,) = await connected(server.ws(DOC))
    for i in range(95):
        a.map()[f"k{i}"] = i
        if i % 7 == 0:
            # Let stored batches and checkpoints interleave with the edits.
            await a.drain()
    (b,) = await connected(server.ws(DOC))
    await b.wait_for(lambda: len(b.content()) == 95, 20)
    room = server.app.state.manager.rooms[DOC]
    await room.flush()
    loaded = await store.load(DOC)
    assert loaded.head == 95
    assert len(loaded.entries) < 10
    # The checkpoint plus the tail is exactly the document.
    checkpoints = loaded.checkpoint
    assert checkpoints is not None and checkpoints.seq >= 86
