"""Blob storage: large immutable files (uploads, image pyramids, attachments) behind one
small interface, one module per backend.

- `files`: a directory under the data directory (the default).
- `gridfs`: MongoDB GridFS, when `SINOPIA_MONGO_URL` is set, so that every instance behind
  a load balancer serves the same files.

Writes stream (nothing is held whole in memory) and are all-or-nothing: a blob is visible
only once every byte is stored, so a failed or refused upload leaves nothing behind. Every
blob carries its size and the SHA-256 of its content, computed while it streams in.
tests/test_blobs.py is the one conformance suite, run against every backend.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.settings import Settings

# Reads and file copies go by this much: big enough for few calls, small enough that
# many concurrent downloads stay cheap in memory.
CHUNK = 256 * 1024
# A key is a relative path of safe segments: never `.`/`..`, never absolute.
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}(/[A-Za-z0-9][A-Za-z0-9._-]{0,127}){0,7}")


class BlobError(Exception):
    """The blob store cannot do this now (unreachable, disk full); the message says why."""


class BlobNotFound(BlobError):
    """No blob under this key."""


class BlobTooLarge(BlobError):
    """A write went over its `max_bytes`; nothing was stored."""


@dataclass(frozen=True)
class BlobInfo:
    key: str
    size: int
    sha256: str  # hex
    content_type: str
    created_ms: int


def check_key(key: str) -> str:
    """`key` if it is a safe relative path of segments, else ValueError."""
    if not isinstance(key, str) or not _KEY.fullmatch(key) or ".." in key.split("/"):
        raise ValueError(f"invalid blob key: {key[:80]!r}")
    return key


def check_range(size: int, start: int, stop: int | None) -> tuple[int, int]:
    """The byte range [start, stop) clamped to a blob of `size` bytes."""
    if start < 0 or (stop is not None and stop < start):
        raise ValueError(f"invalid byte range {start}-{stop}")
    stop = size if stop is None else min(stop, size)
    return min(start, size), stop


class Hashing:
    """Counts and hashes the bytes of a write as they stream, enforcing `max_bytes`."""

    def __init__(self, max_bytes: int | None) -> None:
        self.size = 0
        self.digest = hashlib.sha256()
        self.max_bytes = max_bytes

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.max_bytes is not None and self.size > self.max_bytes:
            raise BlobTooLarge(f"over {self.max_bytes} bytes")
        self.digest.update(chunk)


class Blobs(ABC):
    """A store of immutable blobs by key. Writing a key again replaces the blob whole."""

    # True when the bytes live elsewhere (readers may keep a local copy).
    remote: bool = False

    @abstractmethod
    async def open(self) -> None:
        """Connect or create what the backend needs."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections."""

    @abstractmethod
    def describe(self) -> str:
        """Where the blobs are, for logs (no credentials)."""

    @abstractmethod
    async def put(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        *,
        content_type: str = "application/octet-stream",
        max_bytes: int | None = None,
    ) -> BlobInfo:
        """Store the streamed `chunks` under `key`, all or nothing; `BlobTooLarge` (and
        nothing stored) past `max_bytes`."""

    @abstractmethod
    async def info(self, key: str) -> BlobInfo | None:
        """The blob's size, hash and type, or None."""

    @abstractmethod
    async def read(self, key: str, start: int = 0, stop: int | None = None) -> AsyncIterator[bytes]:
        """The bytes [start, stop) of the blob, streamed; `BlobNotFound` at once if none."""

    @abstractmethod
    async def delete(self, key: str) -> bool:
        """Remove the blob; False if there was none."""

    async def local_path(self, key: str) -> Path | None:
        """A file on this machine holding the blob, when the backend keeps one (readers
        such as libvips want a file); None otherwise."""
        return None

    async def put_file(
        self, key: str, path: Path, *, content_type: str = "application/octet-stream"
    ) -> BlobInfo:
        """Store a local file, streamed."""
        return await self.put(key, file_chunks(path), content_type=content_type)

    async def read_all(self, key: str) -> bytes:
        """A whole (small) blob."""
        return b"".join([chunk async for chunk in await self.read(key)])

    async def copy_to(self, key: str, path: Path) -> BlobInfo:
        """Write the blob to `path` (streamed; atomically replaced)."""
        import asyncio

        found = await self.info(key)
        if found is None:
            raise BlobNotFound(key)
        part = path.with_name(path.name + ".part")
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(part, "wb") as out:  # noqa: ASYNC230 - chunked; each write is small
            async for chunk in await self.read(key):
                await asyncio.to_thread(out.write, chunk)
        part.replace(path)
        return found


async def file_chunks(path: Path, start: int = 0, stop: int | None = None) -> AsyncIterator[bytes]:
    """A file's bytes [start, stop) in chunks, read off the event loop."""
    import asyncio

    f = await asyncio.to_thread(open, path, "rb")
    try:
        f.seek(start)
        left = None if stop is None else stop - start
        while left is None or left > 0:
            chunk = await asyncio.to_thread(f.read, CHUNK if left is None else min(CHUNK, left))
            if not chunk:
                return
            if left is not None:
                left -= len(chunk)
            yield chunk
    finally:
        f.close()


def open_blobs(settings: Settings) -> Blobs:
    """GridFS when `SINOPIA_MONGO_URL` is set, else files in the data directory."""
    if settings.mongo_url:
        from server.media.blobs.gridfs import GridFSBlobs

        return GridFSBlobs(settings.mongo_url)
    from server.media.blobs.files import FileBlobs

    return FileBlobs(settings.data_dir / "blobs")


__all__ = [
    "BlobError",
    "BlobInfo",
    "BlobNotFound",
    "BlobTooLarge",
    "Blobs",
    "check_key",
    "open_blobs",
]
