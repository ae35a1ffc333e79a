"""Crowded rooms: what arrives while a commit is in flight is stored as one batch and goes
out as one merged frame per peer, still stored before it is relayed, still in each
sender's order, and every peer converges."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from pycrdt import Awareness, Doc, Map

from crdt import RoomManager, protocol
from crdt.buses.memory import MemoryBus
from crdt.stores.sqlite import SQLiteStore
from crdt.types import Entry, NewEntry


class GatedStore(SQLiteStore):
    """The SQLite store, with commits held until the test lets them through, and a
    record of what is durable."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.gate = asyncio.Event()
        self.stored: list[Entry] = []

    async def append_batch(
        self, batch: Sequence[tuple[str, Sequence[NewEntry]]]
    ) -> list[list[Entry]]:
        await self.gate.wait()
        results = await super().append_batch(batch)
        self.stored += [e for entries in results for e in entries]
        return results


class Editor:
    """A peer with its own copy of the document; notes, for every frame it is sent, how
    much of the log was durable at that moment."""

    def __init__(self, name: str, store: GatedStore) -> None:
        self.id = self.principal = name
        self.can_write = self.presence = True
        self.store = store
        self.doc: Doc = Doc()
        self.frames: list[tuple[bytes, int]] = []

    def send(self, message: bytes) -> None:
        if message[:2] in (b"\x00\x01", b"\x00\x02"):
            self.frames.append((message, len(self.store.stored)))
            self.doc.apply_update(protocol.parse(message).update)  # type: ignore[union-attr]

    def close(self, code: int, reason: str) -> None:
        raise AssertionError(f"closed {code} {reason}")

    def edit(self, key: str, value: int) -> bytes:
        before = self.doc.get_state()
        self.doc.get("m", type=Map)[key] = value
        return protocol.update_message(self.doc.get_update(before))


async def test_a_burst_goes_out_merged_stored_first_in_order(tmp_path: Path) -> None:
    store = GatedStore(tmp_path / "log.db")
    await store.open()
    manager = RoomManager(store, MemoryBus("one"))
    editors = [Editor(f"e{i}", store) for i in range(5)]
    room = None
    for editor in editors:
        room = await manager.join("crowd/canvas/review", editor)
    assert room is not None
    updates_before = [len(e.frames) for e in editors]

    # The first edit goes to the store, which holds it; a burst arrives meanwhile.
    room.receive(editors[0], editors[0].edit("opening", 0))
    await asyncio.sleep(0)  # its batch is handed over at the end of the turn
    await asyncio.sleep(0)
    for round_ in range(6):
        for i, editor in enumerate(editors):
            room.receive(editor, editor.edit(f"e{i}", round_))
    assert not any(len(e.frames) > n for e, n in zip(editors, updates_before, strict=True))
    store.gate.set()
    await room.flush()

    # One frame for the first edit (not to its sender), then one for all thirty.
    counts = [len(e.frames) - n for e, n in zip(editors, updates_before, strict=True)]
    assert counts == [1, 2, 2, 2, 2], counts
    assert len(store.stored) == 31

    # Stored before relayed: each frame adds nothing to what the log held when it left.
    updates = [e.update for e in store.stored]
    for editor in editors:
        for message, durable in editor.frames:
            log = Doc()
            for update in updates[:durable]:
                log.apply_update(update)
            before = log.get_update()
            log.apply_update(protocol.parse(message).update)  # type: ignore[union-attr]
            assert log.get_update() == before, "relayed before it was stored"

    # In each sender's order: replaying the log, each editor's key takes its values in
    # the order they were sent.
    replay: Doc = Doc()
    seen: dict[str, list[object]] = {e.id: [] for e in editors}
    for entry in sorted(store.stored, key=lambda e: e.seq):
        replay.apply_update(entry.update)
        seen[entry.client_id].append(replay.get("m", type=Map).to_py().get(entry.client_id))
    assert seen == {
        e.id: ([None] if e.id == "e0" else []) + [float(r) for r in range(6)] for e in editors
    }
    # And everyone converged on the room's state.
    want = room.doc.get("m", type=Map).to_py()
    assert want == {"opening": 0.0, **{f"e{i}": 5.0 for i in range(5)}}
    for editor in editors:
        assert editor.doc.get("m", type=Map).to_py() == want
    await manager.close()
    await store.close()


class Watcher(Editor):
    """An editor that also keeps the presence frames it is sent."""

    def __init__(self, name: str, store: GatedStore) -> None:
        super().__init__(name, store)
        self.presence_frames: list[bytes] = []

    def send(self, message: bytes) -> None:
        if message[:1] == b"\x01":
            self.presence_frames.append(message)
        super().send(message)


async def test_presence_arriving_together_goes_out_as_one_message(tmp_path: Path) -> None:
    """Two presence messages in one turn, one of them the removal of a client the room never
    saw (a tab closed before its first state arrived): the others get one merged message,
    with the state of the person who is there and nothing of the closed tab."""
    store = GatedStore(tmp_path / "log.db")
    store.gate.set()
    await store.open()
    manager = RoomManager(store, MemoryBus("one"))
    sender, watcher = Watcher("s", store), Watcher("w", store)
    room = await manager.join("crowd/canvas/presence", sender)
    await manager.join("crowd/canvas/presence", watcher)

    watcher.presence_frames.clear()  # what joining brought
    here = Awareness(Doc())
    here.set_local_state({"user": {"name": "Lena", "color": "#aa3300"}})
    gone = Awareness(Doc())
    gone.set_local_state({"user": {"name": "closed tab"}})
    gone.set_local_state(None)
    room.receive(sender, protocol.awareness_message(here.encode_awareness_update([here.client_id])))
    room.receive(sender, protocol.awareness_message(gone.encode_awareness_update([gone.client_id])))
    await asyncio.sleep(0)  # the batch goes out at the end of the turn
    await asyncio.sleep(0)

    assert len(watcher.presence_frames) == 1, watcher.presence_frames
    seen = Awareness(Doc())
    for frame in watcher.presence_frames:
        seen.apply_awareness_update(protocol.parse(frame).payload, "test")  # type: ignore[union-attr]
    assert seen.states[here.client_id]["user"]["name"] == "Lena"
    assert gone.client_id not in seen.states
    await manager.close()
    await store.close()
