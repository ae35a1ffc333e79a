"""The store conformance suite: every backend behaves the same (run per backend)."""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from pycrdt import Doc, Map

from crdt.groupcommit import GroupCommit
from crdt.keyring import Keyring
from crdt.keys import file as keyfile
from crdt.store import Store, StoreError
from crdt.stores import open_store
from crdt.types import GENESIS, Checkpoint, Entry, NewEntry, entry_hash
from tests.mongo import mongo_database, mongo_server  # noqa: F401 (fixtures)

DOC = "ws/canvas/c1"
# Each backend plain, and encrypted at rest (crdt.keyring): everything behaves the same.
BACKENDS = ["sqlite", "sqlite+key", "mongodb", "mongodb+key"]


def _url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend.startswith("mongodb"):
        # Requested lazily, so a run without MongoDB tests starts no server.
        return request.getfixturevalue("mongo_database")
    return f"sqlite://{tmp_path}/store.db"


StoreFactory = Callable[[], "asyncio.Future[Store]"]


@pytest.fixture(params=BACKENDS)
async def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator:
    """Open stores on one backing database: several are several server instances."""
    opened: list[Store] = []
    url = _url(request.param, tmp_path, request)
    master = keyfile.create(tmp_path / "master.key") if request.param.endswith("+key") else None

    async def make() -> Store:
        # A keyring of its own per store, as each instance has.
        store = open_store(url, tmp_path, Keyring(master) if master else None)
        await store.open()
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.close()


@pytest.fixture
async def store(make_store) -> Store:
    return await make_store()


def _edits(n: int, prefix: str = "k") -> list[bytes]:
    doc: Doc = Doc()
    m = doc.get("m", type=Map)
    updates = []
    for i in range(n):
        state = doc.get_state()
        m[f"{prefix}{i}"] = i
        updates.append(doc.get_update(state))
    return updates


def _new(updates: list[bytes], client: str = "conn-1", who: str = "alice") -> list[NewEntry]:
    return [NewEntry(u, client, who) for u in updates]


def _assert_chain(entries: list[Entry]) -> None:
    prev = GENESIS
    for i, e in enumerate(entries, start=1):
        assert e.seq == i
        assert e.prev_hash == prev
        digest = entry_hash(e.doc, e.seq, e.time_ms, e.client_id, e.principal, prev, e.update)
        assert e.hash == digest
        prev = e.hash


async def test_empty_document(store: Store) -> None:
    assert await store.head(DOC) == 0
    assert await store.read(DOC) == []
    assert await store.latest_checkpoint(DOC) is None
    loaded = await store.load(DOC)
    assert loaded.checkpoint is None and loaded.entries == [] and loaded.head == 0
    assert await store.documents() == []


async def test_append_numbers_timestamps_and_chains_entries(store: Store) -> None:
    updates = _edits(7)
    first = await store.append_batch([(DOC, _new(updates[:3]))])
    second = await store.append_batch([(DOC, _new(updates[3:], "conn-2", "bob"))])
    assert [e.seq for e in first[0]] == [1, 2, 3]
    assert [e.seq for e in second[0]] == [4, 5, 6, 7]
    entries = await store.read(DOC)
    assert entries == first[0] + second[0]
    assert [e.update for e in entries] == updates
    assert [e.principal for e in entries] == ["alice"] * 3 + ["bob"] * 4
    assert [e.client_id for e in entries] == ["conn-1"] * 3 + ["conn-2"] * 4
    times = [e.time_ms for e in entries]
    assert times == sorted(times) and times[0] > 1_700_000_000_000
    _assert_chain(entries)
    assert await store.head(DOC) == 7


async def test_one_batch_spans_documents_and_repeats_one(store: Store) -> None:
    a, b = _edits(4, "a"), _edits(2, "b")
    results = await store.append_batch(
        [(DOC, _new(a[:2])), ("ws/model/m1", _new(b)), (DOC, _new(a[2:]))]
    )
    assert [[e.seq for e in r] for r in results] == [[1, 2], [1, 2], [3, 4]]
    _assert_chain(await store.read(DOC))
    _assert_chain(await store.read("ws/model/m1"))
    assert await store.documents() == [DOC, "ws/model/m1"]


async def test_read_after_and_limit(store: Store) -> None:
    await store.append_batch([(DOC, _new(_edits(10)))])
    assert [e.seq for e in await store.read(DOC, after=6)] == [7, 8, 9, 10]
    assert [e.seq for e in await store.read(DOC, after=2, limit=3)] == [3, 4, 5]
    assert await store.read(DOC, after=10) == []


async def test_instances_appending_to_one_log_get_distinct_sequence_numbers(make_store) -> None:
    # Sequence numbers come from the store: two instances appending at once never collide.
    one, two = await make_store(), await make_store()
    updates = _edits(40)
    await asyncio.gather(
        *(
            (one if i % 2 else two).append_batch([(DOC, _new([u], f"conn-{i % 2}"))])
            for i, u in enumerate(updates)
        )
    )
    entries = await one.read(DOC)
    assert len(entries) == 40
    _assert_chain(entries)
    assert sorted(e.update for e in entries) == sorted(updates)


async def test_instances_appending_batches_across_documents_store_each_entry_once(
    make_store,
) -> None:
    # Batches from several instances interleave on shared logs, so a batch can find one of
    # its documents moved on after it stored the ones before it (here, its own document,
    # always first): those must be stored once, and what each append returns must be
    # exactly what is stored.
    stores = [await make_store() for _ in range(3)]
    shared = [f"ws/canvas/{i}" for i in range(3)]
    docs = shared + [f"ws/canvas/own-{k}" for k in range(3)]
    per_doc = {d: _edits(30, f"{d}-") for d in docs}
    returned: dict[tuple[str, int], Entry] = {}

    async def writer(k: int, store: Store) -> None:
        own = f"ws/canvas/own-{k}"
        for r in range(5):
            i = (k * 5 + r) * 2
            batch = [(own, _new(per_doc[own][r * 2 : r * 2 + 2], f"conn-{k}"))]
            batch += [(d, _new(per_doc[d][i : i + 2], f"conn-{k}")) for d in shared]
            results = await store.append_batch(batch)
            for (_, new), stored in zip(batch, results, strict=True):
                assert [e.update for e in stored] == [n.update for n in new]
                returned.update(((e.doc, e.seq), e) for e in stored)

    await asyncio.gather(*(writer(k, s) for k, s in enumerate(stores)))
    for d in docs:
        entries = await stores[0].read(d)
        _assert_chain(entries)
        expected = per_doc[d] if d in shared else per_doc[d][:10]
        assert sorted(e.update for e in entries) == sorted(expected)
        assert all(returned[(d, e.seq)] == e for e in entries)
    assert len(returned) == 3 * 30 + 3 * 10


async def test_checkpoint_is_the_state_after_the_log(store: Store) -> None:
    updates = _edits(25)
    await store.append_batch([(DOC, _new(updates[:20]))])
    checkpoint = await store.checkpoint(DOC)
    assert checkpoint is not None and checkpoint.seq == 20
    await store.append_batch([(DOC, _new(updates[20:]))])

    loaded = await store.load(DOC)
    assert loaded.checkpoint == checkpoint
    assert [e.seq for e in loaded.entries] == [21, 22, 23, 24, 25]
    doc: Doc = Doc()
    doc.apply_update(loaded.checkpoint.state)
    assert doc.get("m", type=Map).to_py() == {f"k{i}": float(i) for i in range(20)}
    for e in loaded.entries:
        doc.apply_update(e.update)
    assert len(doc.get("m", type=Map)) == 25

    # Checkpoints never replace the log: history before them is all still there.
    assert len(await store.read(DOC)) == 25
    later = await store.checkpoint(DOC)
    assert later is not None and later.seq == 25
    assert await store.latest_checkpoint(DOC, at_most=24) == checkpoint
    assert await store.latest_checkpoint(DOC, at_most=19) is None
    # Writing the same checkpoint twice is harmless.
    await store.write_checkpoint(checkpoint)
    assert await store.latest_checkpoint(DOC, at_most=24) == checkpoint


async def test_checkpoint_larger_than_a_database_record(store: Store) -> None:
    # Checkpoints may grow to max_document_bytes (64 MiB); MongoDB records stop at 16 MiB.
    big = Checkpoint(DOC, 7, os.urandom(20 * 1024 * 1024), 5)
    await store.write_checkpoint(big)
    await store.write_checkpoint(big)
    assert await store.latest_checkpoint(DOC) == big


async def test_documents_by_prefix_treats_wildcards_literally(store: Store) -> None:
    for name in ["a_b/canvas/1", "axb/canvas/1", "a%/canvas/1", "b/report/1"]:
        await store.append_batch([(name, _new(_edits(1)))])
    assert await store.documents("a_b/") == ["a_b/canvas/1"]
    assert await store.documents("a%") == ["a%/canvas/1"]
    assert await store.documents("b/") == ["b/report/1"]


async def test_data_survives_reopening(make_store) -> None:
    store = await make_store()
    await store.append_batch([(DOC, _new(_edits(3)))])
    await store.close()
    again = await make_store()
    _assert_chain(await again.read(DOC))
    assert await again.head(DOC) == 3


async def test_group_commit_batches_concurrent_appends(store: Store) -> None:
    commits: list[int] = []
    log = GroupCommit(store, on_commit=lambda n, _s: commits.append(n))
    docs = [f"ws/canvas/{i}" for i in range(20)]
    per_doc = {d: _edits(10, d) for d in docs}
    await asyncio.gather(
        *(log.append(d, _new([u])) for i in range(10) for d in docs for u in [per_doc[d][i]])
    )
    assert sum(commits) == 200
    # Appends that arrived while a write was in flight shared the next one.
    assert len(commits) < 200 / 4
    for d in docs:
        entries = await store.read(d)
        assert [e.update for e in entries] == per_doc[d]
        _assert_chain(entries)
    await log.close()


async def test_read_ranges_and_newest_first(store: Store) -> None:
    await store.append_batch([(DOC, _new(_edits(10)))])
    assert [e.seq for e in await store.read(DOC, after=2, upto=5)] == [3, 4, 5]
    assert [e.seq for e in await store.read(DOC, upto=0)] == []
    assert [e.seq for e in await store.read_newest(DOC, limit=3)] == [10, 9, 8]
    assert [e.seq for e in await store.read_newest(DOC, before=8, limit=3)] == [7, 6, 5]
    assert [e.seq for e in await store.read_newest(DOC, before=3, limit=10)] == [2, 1]
    assert await store.read_newest("ws/canvas/none") == []


async def test_seq_at_a_point_in_time(store: Store) -> None:
    first = (await store.append_batch([(DOC, _new(_edits(3)))]))[0]
    t = first[-1].time_ms
    assert await store.seq_at(DOC, t) == 3
    assert await store.seq_at(DOC, t - 1_000_000) == 0
    assert await store.seq_at(DOC, t + 10**9) == 3


async def test_seals_are_kept_once_per_range(store: Store) -> None:
    from crdt.types import Seal

    entries = (await store.append_batch([(DOC, _new(_edits(4)))]))[0]
    one = Seal(DOC, 1, 2, entries[1].hash, 1, "key-a", b"sig-1")
    two = Seal(DOC, 3, 4, entries[3].hash, 2, "key-a", b"sig-2")
    await store.write_seal(two)
    await store.write_seal(one)
    await store.write_seal(one)
    assert await store.seals(DOC) == [one, two]
    assert await store.seals("ws/canvas/other") == []


async def test_named_versions_are_unique_per_document(store: Store) -> None:
    from crdt.store import VersionExists
    from crdt.types import Version

    await store.append_batch([(DOC, _new(_edits(5)))])
    v1 = Version(DOC, "v1 as sent to the lender", 3, 10, "alice", "loan 2026-114")
    v2 = Version(DOC, "v2", 5, 20, "bob")
    await store.add_version(v2)
    await store.add_version(v1)
    with pytest.raises(VersionExists):
        await store.add_version(Version(DOC, "v2", 4, 30, "carol"))
    assert await store.versions(DOC) == [v1, v2]
    # The same name on another document is another version.
    await store.add_version(Version("ws/canvas/other", "v2", 1, 1, "bob"))
    assert await store.versions(DOC) == [v1, v2]


# -- MongoDB specifics -----------------------------------------------------------------


async def test_mongodb_unreachable_is_a_store_error(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"mongodb://127.0.0.1:{port}/db?serverSelectionTimeoutMS=300&connectTimeoutMS=300"
    store = open_store(url, tmp_path)
    with pytest.raises(StoreError, match="no server available"):
        await store.open()
    with pytest.raises(StoreError):
        await store.ping()
    await store.close()
    await store.close()


def test_mongodb_describe_leaves_out_credentials(tmp_path: Path) -> None:
    url = (
        "mongodb://u:secret@h1:27017,h2/annotations?replicaSet=rs0&tlsCertificateKeyFilePassword=x"
    )
    assert open_store(url, tmp_path).describe() == "mongodb://h1:27017,h2/annotations"
    assert open_store("mongodb+srv://u:p@cluster.example", tmp_path).describe() == (
        "mongodb+srv://cluster.example/sinopia"
    )


async def test_sqlite_synchronous_is_chosen_in_the_url(tmp_path: Path) -> None:
    default = open_store("sqlite:", tmp_path)
    relaxed = open_store(f"sqlite://{tmp_path}/other.db?synchronous=normal", tmp_path)
    assert default.describe() == f"sqlite:{tmp_path}/sinopia.db"
    assert relaxed.describe() == f"sqlite:{tmp_path}/other.db?synchronous=normal"
    for store, expected in ((default, 2), (relaxed, 1)):  # SQLite's FULL and NORMAL
        await store.open()
        (stored,) = await store.append_batch([(DOC, [NewEntry(b"\x00\x00", "c1", "p1")])])
        assert [e.seq for e in stored] == [1]
        writer = store._writer  # type: ignore[attr-defined]
        assert await writer.run(lambda c: c.execute("PRAGMA synchronous").fetchone()[0]) == (
            expected
        )
        await store.close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:?synchronous=off", "synchronous must be one of full, normal"),
        ("sqlite:?sync=normal", "unknown sqlite store option"),
        ("sqlite:?commit=later", "commit must be one of thread, loop"),
    ],
)
def test_sqlite_url_options_are_checked(tmp_path: Path, url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        open_store(url, tmp_path)


_OPEN_AT_ONCE = """
import asyncio, os, sys, time
from pathlib import Path
from crdt.stores import open_store
from crdt.types import NewEntry

async def main() -> None:
    go = Path(sys.argv[2])
    print("ready", flush=True)
    given_up = time.monotonic() + 300  # a test that died never says go: do not spin on
    while not go.exists():  # all start together
        if time.monotonic() > given_up:
            sys.exit("never told to go")
        time.sleep(0.001)
    store = open_store(sys.argv[1], go.parent)
    await store.open()
    for i in range(20):
        await store.append_batch([("ws/canvas/c1", [NewEntry(bytes([0, 0]), str(i), "p")])])
    await store.close()

asyncio.run(main())
"""


def test_sqlite_file_opened_by_many_processes_at_once(tmp_path: Path) -> None:
    """Instances (or `sinopia admin` beside a starting server) opening one new SQLite file
    at the same moment all get it: none fails on the switch to WAL mode."""
    root = Path(__file__).resolve().parent.parent
    # A race: each attempt catches the old failure about one time in ten.
    for attempt in range(10):
        go = tmp_path / f"go{attempt}"
        url = f"sqlite://{tmp_path}/shared{attempt}.db"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", _OPEN_AT_ONCE, url, str(go)],
                cwd=root,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(6)
        ]
        try:
            for proc in procs:  # every one has started and waits
                assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
            go.touch()
            for proc in procs:
                _, err = proc.communicate(timeout=60)
                assert proc.returncode == 0, err[-500:]
        finally:  # a failed or timed-out attempt leaves no process behind
            for proc in procs:
                proc.kill()
                proc.wait()
        with sqlite3.connect(tmp_path / f"shared{attempt}.db") as db:
            seqs = [row[0] for row in db.execute("SELECT seq FROM entries ORDER BY seq")]
        assert seqs == list(range(1, 6 * 20 + 1))  # every append, numbered once


async def test_sqlite_append_returns_once_its_log_is_synced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With `commit=loop`, appends commit on the event loop without syncing; the WAL is then
    # fdatasync'd off the loop (what synchronous=FULL does in WAL mode), and only then does
    # the append return: a relayed update is on disk, power loss included.
    store = open_store("sqlite:?commit=loop", tmp_path)
    await store.open()
    synced: list[tuple[str, int]] = []
    returned = 0
    real = os.fdatasync

    def fdatasync(fd: int) -> None:
        real(fd)
        synced.append((os.readlink(f"/proc/self/fd/{fd}"), returned))

    monkeypatch.setattr(os, "fdatasync", fdatasync)
    for i in range(3):
        await store.append_batch([(DOC, _new(_edits(1, f"s{i}")))])
        returned += 1
    wal = str(tmp_path / "sinopia.db-wal")
    # Each append saw a sync of the log start after it committed and end before it returned.
    assert [n for path, n in synced if path == wal] == [0, 1, 2]
    await store.close()


@pytest.mark.parametrize("options", ["", "?commit=loop"])
async def test_sqlite_append_waits_for_another_process_lock_off_the_loop(
    tmp_path: Path, options: str
) -> None:
    store = open_store(f"sqlite:{options}", tmp_path)
    assert store.describe() == f"sqlite:{tmp_path}/sinopia.db{options}"
    await store.open()
    await store.append_batch([(DOC, _new(_edits(1, "a")))])
    # Another process (a `sinopia admin` command) holds the write lock for a while.
    other = sqlite3.connect(tmp_path / "sinopia.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    append = asyncio.ensure_future(store.append_batch([(DOC, _new(_edits(1, "b")))]))
    started = time.monotonic()
    for _ in range(20):  # the loop keeps turning meanwhile, never stuck in a busy wait
        await asyncio.sleep(0.005)
    assert time.monotonic() - started < 2.0
    assert not append.done()
    other.execute("COMMIT")
    other.close()
    (stored,) = await asyncio.wait_for(append, 10)
    assert [e.seq for e in stored] == [2]
    _assert_chain(await store.read(DOC))
    await store.close()


async def test_sqlite_log_is_copied_back_and_rewritten_under_steady_appends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With `commit=loop`, the loop's connection never checkpoints; a thread does, often
    # enough that the WAL is rewritten from its start instead of growing for as long as
    # edits keep coming.
    from crdt.stores import sqlite as sqlite_store

    monkeypatch.setattr(sqlite_store, "CHECKPOINT_EVERY_COMMITS", 32)
    store = open_store("sqlite:?commit=loop", tmp_path)
    await store.open()
    update = _edits(1)[0]
    for i in range(400):
        await store.append_batch([(f"ws/canvas/c{i % 10}", _new([update]))])
    # 400 commits of three pages or more: over 4 MB in a log never rewritten.
    assert (tmp_path / "sinopia.db-wal").stat().st_size < 1_500_000
    assert sum([len(await store.read(f"ws/canvas/c{k}")) for k in range(10)]) == 400
    await store.close()
