"""Cold start: a room opened from a checkpoint answers its joiners from the stored bytes
before its document is built, and everything that then happens to it (joiners at once,
an edit during the build, a REST-style write) comes out as if it had been built first."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pycrdt import Doc, Map, create_sync_message

from crdt import RoomManager, protocol
from crdt.buses.memory import MemoryBus
from crdt.room import Room
from crdt.stores.sqlite import SQLiteStore
from crdt.types import NewEntry

from .conftest import eventually

DOC = "museum/canvas/c1"


class Client:
    """A peer with its own copy of the document, as a y-websocket client keeps it."""

    def __init__(self, name: str) -> None:
        self.id = self.principal = name
        self.can_write = self.presence = True
        self.doc: Doc = Doc()
        self.kinds: list[str] = []

    def send(self, message: bytes) -> None:
        parsed = protocol.parse(message)
        self.kinds.append(type(parsed).__name__)
        if isinstance(parsed, protocol.SyncStep2 | protocol.SyncUpdate):
            self.doc.apply_update(parsed.update)

    def close(self, code: int, reason: str) -> None:
        raise AssertionError(f"closed {code} {reason}")

    def sync_step1(self) -> bytes:
        return create_sync_message(self.doc)

    def edit(self, key: str, value: int) -> bytes:
        before = self.doc.get_state()
        self.doc.get("m", type=Map)[key] = value
        return protocol.update_message(self.doc.get_update(before))

    def content(self) -> dict:
        return self.doc.get("m", type=Map).to_py() or {}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    """A document of 30 entries: a checkpoint at 20 and a tail of 10."""
    store = SQLiteStore(tmp_path / "store.db")
    await store.open()
    author: Doc = Doc()
    m = author.get("m", type=Map)
    for i in range(30):
        before = author.get_state()
        m[f"k{i}"] = i
        await store.append_batch([(DOC, [NewEntry(author.get_update(before), "seed", "p")])])
        if i == 19:
            await store.checkpoint(DOC)
    yield store
    await store.close()


STORED = {f"k{i}": float(i) for i in range(30)}


async def test_joiners_are_synced_from_the_stored_bytes_before_the_build(
    store: SQLiteStore,
) -> None:
    manager = RoomManager(store, MemoryBus("one"))
    a, b = Client("a"), Client("b")
    room = await manager.join(DOC, a)
    room.receive(a, a.sync_step1())
    await manager.join(DOC, b)
    room.receive(b, b.sync_step1())
    # Synced (the tail, then the checkpoint as the SyncStep2) with no document built yet;
    # the room's own SyncStep1 waits for it.
    assert not room.built
    for client in (a, b):
        assert client.content() == STORED
        assert client.kinds == ["SyncUpdate", "SyncStep2"]
    # It builds a moment later by itself, and then asks each what it lacks.
    await eventually(lambda: room.built, 5, "build")
    assert room.doc.get("m", type=Map).to_py() == STORED
    assert a.kinds[-1] == b.kinds[-1] == "SyncStep1"
    await manager.close()


async def test_an_edit_while_unbuilt_is_applied_after_the_load_stored_and_relayed(
    store: SQLiteStore,
) -> None:
    manager = RoomManager(store, MemoryBus("one"))
    a, b = Client("a"), Client("b")
    room = await manager.join(DOC, a)
    await manager.join(DOC, b)
    room.receive(a, a.sync_step1())
    room.receive(b, b.sync_step1())
    assert not room.built
    room.receive(a, a.edit("new", 1))  # needs the document: built on the spot
    assert room.built
    await room.flush()
    await eventually(lambda: b.content().get("new") == 1.0, 5, "relay")
    assert b.content() == a.content() == {**STORED, "new": 1.0}
    entries = await store.read(DOC, after=30)
    # Exactly the edit was stored: nothing of the load counted as part of it.
    assert [e.client_id for e in entries] == ["a"]
    # A joiner after the build syncs the ordinary way, edit included.
    c = Client("c")
    await manager.join(DOC, c)
    room.receive(c, c.sync_step1())
    assert c.content() == {**STORED, "new": 1.0}
    await manager.close()


async def test_a_resent_update_while_unbuilt_stores_nothing(store: SQLiteStore) -> None:
    # A client reconnecting re-sends what it holds: all of it already in the checkpoint.
    manager = RoomManager(store, MemoryBus("one"))
    a = Client("a")
    room = await manager.join(DOC, a)
    room.receive(a, a.sync_step1())
    assert not room.built
    room.receive(a, protocol.update_message(a.doc.get_update()))
    await room.flush()
    assert await store.read(DOC, after=30) == []
    assert room.stats.duplicates == 1
    await manager.close()


async def test_server_writes_and_reads_build_the_document_first(store: SQLiteStore) -> None:
    manager = RoomManager(store, MemoryBus("one"))
    async with manager.hold(DOC) as room:
        assert isinstance(room, Room)

        def change(doc: Doc) -> None:
            doc.get("m", type=Map)["rest"] = 2

        _, seq = await room.write("api", change)
    assert seq == 31
    assert room.doc.get("m", type=Map).to_py() == {**STORED, "rest": 2.0}
    await manager.close()


async def test_a_room_without_a_checkpoint_is_built_at_once(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "store.db")
    await store.open()
    author: Doc = Doc()
    author.get("m", type=Map)["only"] = 1
    await store.append_batch([(DOC, [NewEntry(author.get_update(), "seed", "p")])])
    manager = RoomManager(store, MemoryBus("one"))
    a = Client("a")
    room = await manager.join(DOC, a)
    assert room.built and a.kinds == ["SyncStep1"]
    await manager.close()
    await store.close()
