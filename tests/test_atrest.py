"""Encryption at rest in the stores (both backends) and the spool: no plaintext in the
files or collections, blocks bound to their place, the right key or a clear refusal,
rotation without rewriting data, and crypto-shredding of a deleted workspace."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import bson
import pytest
from pycrdt import Doc, Text
from pymongo import MongoClient

from crdt.keyring import Keyring, Undecryptable, rotate
from crdt.keys import MasterKeyError, open_master_key
from crdt.keys import file as keyfile
from crdt.spool import SpooledStore
from crdt.store import Store, Unreachable
from crdt.stores import open_store
from crdt.types import Checkpoint, NewEntry, Version
from tests.mongo import mongo_database, mongo_server  # noqa: F401 (fixtures)

MARKER = "cinnabar-vermilion-4711"
DOC = "museum/canvas/folio-12r"
OTHER = "archive/canvas/c1"


def typed(text: str) -> list[bytes]:
    """The updates of someone typing `text` into a Yjs text, one keystroke at a time."""
    doc: Doc = Doc(client_id=7)  # the same updates every time
    t = doc.get("t", type=Text)
    updates = []
    for ch in text:
        before = doc.get_state()
        t += ch
        updates.append(doc.get_update(before))
    # And the word in one piece too (a paste), which a byte search finds most easily.
    before = doc.get_state()
    t += " " + text
    updates.append(doc.get_update(before))
    return updates


def entries(updates: list[bytes]) -> list[NewEntry]:
    return [NewEntry(u, "conn-1", "user:alice") for u in updates]


@pytest.fixture(params=["sqlite", "mongodb"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "mongodb":
        return str(request.getfixturevalue("mongo_database"))
    return f"sqlite://{tmp_path}/data/sinopia.db"


@pytest.fixture
def master(tmp_path: Path) -> keyfile.FileMasterKey:
    return keyfile.create(tmp_path / "keys" / "master.key")


@pytest.fixture
async def opened(tmp_path: Path) -> AsyncIterator[list[Store]]:
    stores: list[Store] = []
    yield stores
    for store in stores:
        await store.close()


async def open_(url: str, tmp_path: Path, keyring: Keyring | None, opened: list[Store]) -> Store:
    store = open_store(url, tmp_path / "data", keyring)
    opened.append(store)
    await store.open()
    return store


def at_rest(url: str, tmp_path: Path) -> bytes:
    """Every byte the store keeps: the files of the data directory, or every document of
    every collection of the database as BSON."""
    if url.startswith("sqlite"):
        return b"".join(p.read_bytes() for p in sorted((tmp_path / "data").glob("*")))
    client: MongoClient = MongoClient(url, serverSelectionTimeoutMS=5000)
    try:
        db = client.get_default_database()
        return b"".join(
            bson.encode(d) for name in db.list_collection_names() for d in db[name].find()
        )
    finally:
        client.close()


async def fill(store: Store, doc: str = DOC) -> None:
    await store.append_batch([(doc, entries(typed(MARKER)))])
    await store.checkpoint(doc)
    head = await store.head(doc)
    await store.add_version(Version(doc, "v1", head, 1, "user:alice", f"note: {MARKER}"))


async def test_nothing_typed_is_readable_at_rest(
    url: str, tmp_path: Path, master: keyfile.FileMasterKey, opened: list[Store]
) -> None:
    store = await open_(url, tmp_path, Keyring(master), opened)
    await fill(store)
    assert MARKER.encode() not in at_rest(url, tmp_path)
    assert MARKER[:6].encode() not in at_rest(url, tmp_path)
    # ... and everything reads back as written, through the store.
    doc: Doc = Doc()
    loaded = await store.load(DOC)
    assert loaded.checkpoint is not None
    doc.apply_update(loaded.checkpoint.state)
    assert str(doc.get("t", type=Text)) == f"{MARKER} {MARKER}"
    read = await store.read(DOC)
    assert [e.update for e in read] == typed(MARKER)
    assert (await store.versions(DOC))[0].note == f"note: {MARKER}"


async def test_without_a_key_the_word_is_there(
    url: str, tmp_path: Path, opened: list[Store]
) -> None:
    # The search above can find the word: unencrypted, it does.
    store = await open_(url, tmp_path, None, opened)
    await fill(store)
    assert MARKER.encode() in at_rest(url, tmp_path)


def _swap_sqlite(path: Path) -> None:
    with sqlite3.connect(path) as db:
        one, two = (r[0] for r in db.execute("SELECT data FROM entries ORDER BY seq LIMIT 2"))
        db.execute("UPDATE entries SET data = ? WHERE seq = 1", (two,))
        db.execute("UPDATE entries SET data = ? WHERE seq = 2", (one,))


def _swap_mongo(url: str) -> None:
    client: MongoClient = MongoClient(url, serverSelectionTimeoutMS=5000)
    try:
        coll = client.get_default_database()["entries"]
        one, two = coll.find_one({"seq": 1}), coll.find_one({"seq": 2})
        assert one and two
        coll.update_one({"seq": 1}, {"$set": {"data": two["data"]}})
        coll.update_one({"seq": 2}, {"$set": {"data": one["data"]}})
    finally:
        client.close()


async def test_blocks_cannot_be_swapped(
    url: str, tmp_path: Path, master: keyfile.FileMasterKey, opened: list[Store]
) -> None:
    store = await open_(url, tmp_path, Keyring(master), opened)
    await store.append_batch([(DOC, entries(typed("ab")))])
    if url.startswith("sqlite"):
        _swap_sqlite(tmp_path / "data" / "sinopia.db")
    else:
        _swap_mongo(url)
    with pytest.raises(Undecryptable, match="damaged or moved"):
        await store.read(DOC)


async def test_an_encrypted_store_needs_its_own_key(
    url: str, tmp_path: Path, master: keyfile.FileMasterKey, opened: list[Store]
) -> None:
    store = await open_(url, tmp_path, Keyring(master), opened)
    await fill(store)
    await store.close()
    # No key: refused, naming the key it needs by fingerprint (never the key).
    with pytest.raises(MasterKeyError, match=f"master key {master.key_id}.*SINOPIA_KEY_URL"):
        await open_(url, tmp_path, None, opened)
    # Another key: refused, naming both.
    other = keyfile.create(tmp_path / "keys" / "other.key")
    with pytest.raises(MasterKeyError) as refused:
        await open_(url, tmp_path, Keyring(other), opened)
    assert master.key_id in str(refused.value) and other.key_id in str(refused.value)
    key_text = (tmp_path / "keys" / "master.key").read_text().split()[1]
    assert key_text not in str(refused.value)


async def test_unencrypted_data_is_not_mixed_with_encrypted(
    url: str, tmp_path: Path, master: keyfile.FileMasterKey, opened: list[Store]
) -> None:
    store = await open_(url, tmp_path, None, opened)
    await fill(store)
    await store.close()
    with pytest.raises(MasterKeyError, match="holds unencrypted history"):
        await open_(url, tmp_path, Keyring(master), opened)
    # Without the key it goes on working as before.
    again = await open_(url, tmp_path, None, opened)
    assert len(await again.read(DOC)) == len(MARKER) + 1


async def test_rotation_rewraps_the_keys_and_rewrites_no_data(
    url: str, tmp_path: Path, master: keyfile.FileMasterKey, opened: list[Store]
) -> None:
    store = await open_(url, tmp_path, Keyring(master), opened)
    await fill(store)
    await fill(store, OTHER)
    await store.close()
    raw_before = at_rest(url, tmp_path)

    new = keyfile.create(tmp_path / "keys" / "new.key")
    keyring = Keyring(new, retired=[master])
    rotating = await open_(url, tmp_path, keyring, opened)
    keys = await rotating.data_keys()
    assert {k.scope for k in keys} == {"museum", "archive"}
    await rotating.put_data_keys(rotate(keyring, keys))
    assert {k.master_id for k in await rotating.data_keys()} == {new.key_id}
    await rotating.close()

    with pytest.raises(MasterKeyError, match=f"encrypted with master key {new.key_id}"):
        await open_(url, tmp_path, Keyring(master), opened)
    store = await open_(url, tmp_path, Keyring(new), opened)
    assert [e.update for e in await store.read(DOC)] == typed(MARKER)
    assert [e.update for e in await store.read(OTHER)] == typed(MARKER)
    # The data itself was not rewritten: every stored ciphertext is still there as it was.
    raw_after = at_rest(url, tmp_path)
    for e in await store.read(DOC):
        assert e.hash in raw_before and e.hash in raw_after
    if url.startswith("sqlite"):
        with sqlite3.connect(tmp_path / "data" / "sinopia.db") as db:
            for (data,) in db.execute("SELECT data FROM entries"):
                assert data in raw_before


async def test_deleting_a_workspace_destroys_its_key(
    url: str, tmp_path: Path, master: keyfile.FileMasterKey, opened: list[Store]
) -> None:
    store = await open_(url, tmp_path, Keyring(master), opened)
    await fill(store)
    await fill(store, OTHER)
    (museum,) = [k for k in await store.data_keys() if k.scope == "museum"]
    if url.startswith("sqlite"):
        with sqlite3.connect(tmp_path / "data" / "sinopia.db") as db:
            sealed = [
                bytes(r[0]) for r in db.execute("SELECT data FROM entries WHERE doc = ?", (DOC,))
            ]
    else:
        client: MongoClient = MongoClient(url)
        sealed = [
            bytes(d["data"]) for d in client.get_default_database()["entries"].find({"doc": DOC})
        ]
        client.close()

    assert await store.delete_workspace("museum") == [DOC]
    assert await store.documents() == [OTHER]
    assert await store.read(DOC) == [] and await store.latest_checkpoint(DOC) is None
    assert [k.scope for k in await store.data_keys()] == ["archive"]
    # The wrapped key is gone from every byte the store keeps (zeroed in the SQLite file
    # and its write-ahead log, not just unlinked).
    assert museum.wrapped not in at_rest(url, tmp_path)
    await store.close()

    # Whatever copy of the old ciphertexts survives somewhere (a backup, a free page)
    # opens with no key the store holds, even with the master key at hand.
    fresh = await open_(url, tmp_path, Keyring(master), opened)
    keyring = fresh.keyring  # type: ignore[attr-defined]
    from crdt.keyring import ENTRY, unseal

    for seq, blob in enumerate(sealed, start=1):
        with pytest.raises(Undecryptable, match="not in the store"):
            unseal(keyring, ENTRY, DOC, seq, blob)
    assert [e.update for e in await fresh.read(OTHER)] == typed(MARKER)
    # A workspace made again under the same name gets a new key.
    await fresh.append_batch([(DOC, entries(typed("x")))])
    (again,) = [k for k in await fresh.data_keys() if k.scope == "museum"]
    assert again.key_id != museum.key_id


async def test_spooled_updates_are_encrypted_too(
    tmp_path: Path, master: keyfile.FileMasterKey
) -> None:
    spool_path = tmp_path / "data" / "spool.db"
    # A MongoDB that does not answer: updates wait in the spool.
    away = open_store("mongodb://127.0.0.1:9/db?serverSelectionTimeoutMS=200", tmp_path)
    spooled = SpooledStore(away, spool_path, 1 << 20, retry_seconds=60, keyring=Keyring(master))
    await spooled.open()
    await spooled.append_batch([(DOC, entries(typed(MARKER)))])
    assert spooled.spooled == len(MARKER) + 1
    files = b"".join(p.read_bytes() for p in (tmp_path / "data").glob("spool.db*"))
    assert MARKER.encode() not in files and MARKER[:6].encode() not in files
    spooled._drainer.cancel()  # type: ignore[union-attr]
    spooled._db.close()  # type: ignore[union-attr]

    # Without the key the spool is not read (nor lost).
    with pytest.raises(MasterKeyError, match=master.key_id):
        await SpooledStore(away, spool_path, 1 << 20).open()
    # The store is back (here an SQLite file standing in for it): the spool drains into it.
    back = open_store(f"sqlite://{tmp_path}/back.db", tmp_path, Keyring(master))
    drained = SpooledStore(back, spool_path, 1 << 20, keyring=Keyring(master))
    await drained.open()
    await drained._drainer  # type: ignore[misc]
    assert [e.update for e in await drained.read(DOC)] == typed(MARKER)
    await drained.close()


async def test_unreachable_is_still_unreachable(
    tmp_path: Path, master: keyfile.FileMasterKey
) -> None:
    # Keys do not change how an outage shows: the caller may still retry.
    away = open_store(
        "mongodb://127.0.0.1:9/db?serverSelectionTimeoutMS=200", tmp_path, Keyring(master)
    )
    with pytest.raises(Unreachable):
        await away.open()
    await away.close()


def test_key_file_is_private_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    key = keyfile.create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        keyfile.create(path)
    loaded = open_master_key(f"file://{path}")
    assert loaded.key_id == key.key_id
    # The fingerprint tells nothing of the key.
    assert loaded.key_id[3:] not in path.read_text()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "there is no master key file"),
        ("hello\n", "is not a Sinopia master key file"),
        ("sinopia-master-key-v1 AAAA\n", "is damaged"),
    ],
)
def test_bad_key_files_are_refused_clearly(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "master.key"
    if content is not None:
        path.write_text(content)
        os.chmod(path, 0o600)
    with pytest.raises(MasterKeyError, match=message):
        open_master_key(f"file://{path}")


def test_unknown_key_provider_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyError, match="no key provider for 'vault'"):
        open_master_key("vault://vault.example/transit/sinopia")


async def test_a_checkpoint_moved_to_another_document_does_not_open(
    tmp_path: Path, master: keyfile.FileMasterKey, opened: list[Store]
) -> None:
    url = f"sqlite://{tmp_path}/data/sinopia.db"
    store = await open_(url, tmp_path, Keyring(master), opened)
    await store.append_batch(
        [(DOC, entries(typed("ab"))), ("museum/canvas/c2", entries(typed("c")))]
    )
    await store.write_checkpoint(Checkpoint(DOC, 3, b"\x00\x00", 1))
    with sqlite3.connect(tmp_path / "data" / "sinopia.db") as db:
        db.execute("UPDATE checkpoints SET doc = 'museum/canvas/c2'")
    with pytest.raises(Undecryptable):
        await store.latest_checkpoint("museum/canvas/c2")


async def test_an_unencrypted_store_is_encrypted_in_place(
    url: str,
    tmp_path: Path,
    master: keyfile.FileMasterKey,
    opened: list[Store],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from crdt.stores import mongo

    # Checkpoints split over several MongoDB records are encrypted whole too.
    monkeypatch.setattr(mongo, "CHECKPOINT_CHUNK", 64)
    store = await open_(url, tmp_path, None, opened)
    await fill(store)
    before = await store.read(DOC)
    state = (await store.latest_checkpoint(DOC)).state  # type: ignore[union-attr]
    assert await store.encrypt_existing(Keyring(master)) >= len(before) + 2
    await store.close()
    assert MARKER.encode() not in at_rest(url, tmp_path)
    assert MARKER[:6].encode() not in at_rest(url, tmp_path)

    with pytest.raises(MasterKeyError, match=master.key_id):
        await open_(url, tmp_path, None, opened)
    again = await open_(url, tmp_path, Keyring(master), opened)
    assert await again.read(DOC) == before  # the same entries, hashes and all
    assert (await again.latest_checkpoint(DOC)).state == state  # type: ignore[union-attr]
    assert (await again.versions(DOC))[0].note == f"note: {MARKER}"
    with pytest.raises(MasterKeyError, match="encrypted already"):
        await again.encrypt_existing(Keyring(master))


async def test_a_spool_holding_updates_is_rewrapped_by_a_rotation(
    tmp_path: Path, master: keyfile.FileMasterKey
) -> None:
    from crdt.spool import rewrap_spool

    spool_path = tmp_path / "data" / "spool.db"
    away = open_store("mongodb://127.0.0.1:9/db?serverSelectionTimeoutMS=200", tmp_path)
    spooled = SpooledStore(away, spool_path, 1 << 20, retry_seconds=60, keyring=Keyring(master))
    await spooled.open()
    await spooled.append_batch([(DOC, entries(typed("ochre")))])
    spooled._drainer.cancel()  # type: ignore[union-attr]
    spooled._db.close()  # type: ignore[union-attr]

    new = keyfile.create(tmp_path / "keys" / "new.key")
    assert rewrap_spool(spool_path, Keyring(new, retired=[master])) == 1
    assert rewrap_spool(spool_path, Keyring(new, retired=[master])) == 0  # done already
    with pytest.raises(MasterKeyError, match=new.key_id):
        await SpooledStore(away, spool_path, 1 << 20, keyring=Keyring(master)).open()
    back = open_store(f"sqlite://{tmp_path}/back.db", tmp_path, Keyring(new))
    drained = SpooledStore(back, spool_path, 1 << 20, keyring=Keyring(new))
    await drained.open()
    await drained._drainer  # type: ignore[misc]
    assert [e.update for e in await drained.read(DOC)] == typed("ochre")
    await drained.close()
