"""Blobs encrypted at rest: a wrapper around any backend, with the workspace's data key.

A blob is stored as a header and a run of segments, each `SEGMENT` bytes of plaintext
sealed on its own (AES-256-GCM through crdt.keyring), so a write streams and a range read
decrypts only the segments it covers. Each segment's associated data names the blob's
key, the segment's index and whether it is the last, so segments cannot be reordered,
moved to another blob or cut off at the end unnoticed. A sealed trailer after the last
segment holds the plaintext's size and SHA-256, which `info` reports as an unencrypted
backend would. A blob's key starts with its workspace (`ws/images/...`): its data key is
the workspace's, so deleting the workspace shreds its uploads too.

Readers that want a file (libvips) get a decrypted copy through `copy_to`, in the media
working directory, which with a key is kept out of the data directory (server.app).
"""

from __future__ import annotations

import struct
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from pathlib import Path

from crdt.keyring import OVERHEAD, Keyring, Undecryptable, context, workspace_of
from server.media.blobs import (
    BlobError,
    BlobInfo,
    BlobNotFound,
    Blobs,
    Hashing,
    check_key,
    check_range,
)

MAGIC = b"sinopia-blob-v1\n"
# Plaintext per sealed segment: a range read decrypts at most one segment more than it
# returns at each end; 37 bytes of overhead per 64 KiB is 0.06 %.
SEGMENT = 64 * 1024
_SEALED = SEGMENT + OVERHEAD
_TRAILER_PLAIN = 8 + 32  # size, SHA-256
_TRAILER = _TRAILER_PLAIN + OVERHEAD
BLOB, TRAILER = "blob-segment", "blob-trailer"


class SealedBlobs(Blobs):
    def __init__(
        self, inner: Blobs, keyring: Keyring, data_key: Callable[[str], Awaitable[None]]
    ) -> None:
        """`data_key(workspace)` has the workspace's data key loaded or made (the store's
        `ensure_data_key`: the keys live with the history)."""
        self.inner = inner
        self.keyring = keyring
        self.data_key = data_key
        self.remote = inner.remote

    def describe(self) -> str:
        return f"{self.inner.describe()} (encrypted)"

    async def open(self) -> None:
        await self.inner.open()

    async def close(self) -> None:
        await self.inner.close()

    async def _key_for(self, key: str) -> str:
        scope = workspace_of(check_key(key))
        if not self.keyring.has(scope):
            await self.data_key(scope)
        return scope

    async def put(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        *,
        content_type: str = "application/octet-stream",
        max_bytes: int | None = None,
    ) -> BlobInfo:
        scope = await self._key_for(key)
        counted = Hashing(max_bytes)

        def segment(index: int, data: bytes, last: bool) -> bytes:
            aad = context(BLOB, key, index, "last" if last else "")
            return self.keyring.encrypt(scope, aad, data)

        async def sealed() -> AsyncIterator[bytes]:
            yield MAGIC
            buffer = bytearray()
            index = 0
            async for chunk in chunks:
                counted.add(chunk)
                buffer += chunk
                # A segment goes out once more follows it: the last one is marked last.
                while len(buffer) > SEGMENT:
                    yield segment(index, bytes(buffer[:SEGMENT]), False)
                    del buffer[:SEGMENT]
                    index += 1
            yield segment(index, bytes(buffer), True)
            summary = struct.pack(">Q", counted.size) + counted.digest.digest()
            yield self.keyring.encrypt(scope, context(TRAILER, key, index), summary)

        stored = await self.inner.put(key, sealed(), content_type=content_type)
        return BlobInfo(
            key, counted.size, counted.digest.hexdigest(), content_type, stored.created_ms
        )

    @staticmethod
    def _segments(stored_size: int) -> int:
        body = stored_size - len(MAGIC) - _TRAILER
        if body < OVERHEAD:
            raise Undecryptable("a stored blob is cut short")
        return -(-body // _SEALED)

    async def _stored(self, key: str) -> tuple[BlobInfo, int, int, str]:
        """The backend's info, the segment count, the plaintext size, and the scope."""
        scope = await self._key_for(key)
        stored = await self.inner.info(key)
        if stored is None:
            raise BlobNotFound(key)
        n = self._segments(stored.size)
        size = stored.size - len(MAGIC) - _TRAILER - n * OVERHEAD
        return stored, n, size, scope

    def _open(self, key: str, index: int, n: int, blob: bytes) -> bytes:
        aad = context(BLOB, key, index, "last" if index == n - 1 else "")
        return self.keyring.decrypt(aad, blob)

    async def info(self, key: str) -> BlobInfo | None:
        try:
            stored, n, size, _ = await self._stored(key)
        except BlobNotFound:
            return None
        tail = b"".join(
            [c async for c in await self.inner.read(key, stored.size - _TRAILER, stored.size)]
        )
        summary = self.keyring.decrypt(context(TRAILER, key, n - 1), tail)
        (plain_size,) = struct.unpack(">Q", summary[:8])
        if plain_size != size:
            raise Undecryptable(f"blob {key}: its size does not match its trailer")
        return BlobInfo(key, size, summary[8:].hex(), stored.content_type, stored.created_ms)

    async def read(self, key: str, start: int = 0, stop: int | None = None) -> AsyncIterator[bytes]:
        stored, n, size, _ = await self._stored(key)
        start, stop = check_range(size, start, stop)
        return self._read(key, n, start, stop, stored.size)

    async def _read(
        self, key: str, n: int, start: int, stop: int, stored_size: int
    ) -> AsyncIterator[bytes]:
        if start >= stop:
            return
        first, last = start // SEGMENT, (stop - 1) // SEGMENT
        body_end = stored_size - _TRAILER

        def bounds(index: int) -> tuple[int, int]:
            at = len(MAGIC) + index * _SEALED
            return at, min(at + _SEALED, body_end)

        index = first
        want = bounds(index)[1] - bounds(index)[0]
        buffer = bytearray()
        async for chunk in await self.inner.read(key, bounds(first)[0], bounds(last)[1]):
            buffer += chunk
            while index <= last and len(buffer) >= want:
                plain = self._open(key, index, n, bytes(buffer[:want]))
                del buffer[:want]
                offset = index * SEGMENT
                yield plain[max(0, start - offset) : stop - offset]
                index += 1
                if index <= last:
                    want = bounds(index)[1] - bounds(index)[0]
        if index <= last:
            raise BlobError(f"blob {key} is cut short")

    async def delete(self, key: str) -> bool:
        return await self.inner.delete(key)

    async def local_path(self, key: str) -> Path | None:
        return None  # the stored file is ciphertext: readers take a decrypted copy
