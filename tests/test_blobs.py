"""The blob store conformance suite: files in the data directory and MongoDB GridFS
(SecantusDB here) behave the same. Several stores opened on one backing are several
server instances."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from crdt.keyring import Keyring
from crdt.keys import file as keyfile
from crdt.store import Store
from crdt.stores import open_store
from server.media.blobs import BlobNotFound, Blobs, BlobTooLarge, open_blobs
from server.media.blobs.sealed import SealedBlobs
from server.settings import Settings

# Each backend plain, and encrypted at rest (server/media/blobs/sealed.py) with the data
# keys of a store beside it, as the server has.
BACKENDS = ["files", "gridfs", "files+key", "gridfs+key"]


@pytest.fixture(params=BACKENDS)
async def make_blobs(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator:
    opened: list[Blobs] = []
    stores: list[Store] = []
    gridfs = request.param.startswith("gridfs")
    mongo = request.getfixturevalue("mongo_database") if gridfs else None
    master = keyfile.create(tmp_path / "master.key") if request.param.endswith("+key") else None

    async def make() -> Blobs:
        blobs = open_blobs(Settings(data_dir=tmp_path, mongo_url=mongo))
        if master is not None:
            keyring = Keyring(master)
            store = open_store(f"sqlite://{tmp_path}/keys.db", tmp_path, keyring)
            await store.open()
            stores.append(store)
            blobs = SealedBlobs(blobs, keyring, store.ensure_data_key)
        await blobs.open()
        opened.append(blobs)
        return blobs

    yield make
    for blobs in opened:
        await blobs.close()
    for store in stores:
        await store.close()


@pytest.fixture
async def blobs(make_blobs: Callable) -> Blobs:
    return await make_blobs()


async def chunks(data: bytes, size: int = 100_000) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


# Bigger than a GridFS chunk (1 MiB) and a read chunk, not a multiple of either.
BIG = os.urandom(3 * 1024 * 1024 + 12345)


async def test_a_blob_reads_back_whole_with_its_size_and_hash(blobs: Blobs) -> None:
    info = await blobs.put("ws/a/original.bin", chunks(BIG), content_type="image/tiff")
    assert info.size == len(BIG)
    assert info.sha256 == hashlib.sha256(BIG).hexdigest()
    assert await blobs.read_all("ws/a/original.bin") == BIG
    again = await blobs.info("ws/a/original.bin")
    assert again is not None
    assert (again.size, again.sha256, again.content_type) == (
        len(BIG),
        info.sha256,
        "image/tiff",
    )


@pytest.mark.parametrize(
    ("start", "stop"),
    [(0, 10), (1024 * 1024 - 5, 1024 * 1024 + 5), (len(BIG) - 7, None), (5, 5), (100, 10**9)],
)
async def test_range_reads(blobs: Blobs, start: int, stop: int | None) -> None:
    await blobs.put("r", chunks(BIG))
    got = b"".join([c async for c in await blobs.read("r", start, stop)])
    assert got == BIG[start:stop]


async def test_another_instance_sees_the_blob(make_blobs: Callable) -> None:
    one, two = await make_blobs(), await make_blobs()
    await one.put("shared/x", chunks(b"hello"))
    assert await two.read_all("shared/x") == b"hello"


async def test_writing_a_key_again_replaces_it(blobs: Blobs) -> None:
    await blobs.put("k", chunks(BIG))
    await blobs.put("k", chunks(b"short"))
    assert await blobs.read_all("k") == b"short"
    info = await blobs.info("k")
    assert info is not None and info.size == 5


async def test_an_empty_blob(blobs: Blobs) -> None:
    info = await blobs.put("empty", chunks(b""))
    assert info.size == 0 and info.sha256 == hashlib.sha256(b"").hexdigest()
    assert await blobs.read_all("empty") == b""


async def test_missing_blobs(blobs: Blobs) -> None:
    assert await blobs.info("nothing/here") is None
    with pytest.raises(BlobNotFound):
        await blobs.read("nothing/here")
    assert await blobs.delete("nothing/here") is False


async def test_delete(make_blobs: Callable) -> None:
    one, two = await make_blobs(), await make_blobs()
    await one.put("gone", chunks(BIG))
    assert await two.delete("gone") is True
    assert await one.info("gone") is None
    with pytest.raises(BlobNotFound):
        await one.read("gone")


async def test_a_write_over_its_limit_stores_nothing(blobs: Blobs) -> None:
    with pytest.raises(BlobTooLarge):
        await blobs.put("big", chunks(BIG), max_bytes=len(BIG) - 1)
    assert await blobs.info("big") is None


async def test_a_failed_write_leaves_the_old_blob_or_nothing(blobs: Blobs) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield BIG[:2_000_000]
        raise ConnectionResetError("the client went away")

    with pytest.raises(ConnectionResetError):
        await blobs.put("half", broken())
    assert await blobs.info("half") is None
    await blobs.put("kept", chunks(b"old"))
    with pytest.raises(ConnectionResetError):
        await blobs.put("kept", broken())
    assert await blobs.read_all("kept") == b"old"


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a/../b", "", "a//b", ".hidden", "a\\b"])
async def test_keys_that_leave_the_store_are_refused(blobs: Blobs, key: str) -> None:
    with pytest.raises(ValueError):
        await blobs.put(key, chunks(b"x"))
    with pytest.raises(ValueError):
        await blobs.info(key)


async def test_a_local_file_for_readers(blobs: Blobs, tmp_path: Path) -> None:
    await blobs.put("p/pyramid.tif", chunks(BIG))
    local = await blobs.local_path("p/pyramid.tif")
    if local is None:  # a remote backend: readers copy it
        local = tmp_path / "copy.tif"
        await blobs.copy_to("p/pyramid.tif", local)
    assert local.read_bytes() == BIG
