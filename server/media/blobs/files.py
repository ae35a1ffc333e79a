"""Blobs as files in a directory (by default `blobs/` in the data directory).

`data/<key>` holds the bytes, `meta/<key>.json` the size, hash and type. A write goes to
`tmp/` first and is renamed into place, bytes then metadata: a blob exists once its
metadata does, so a crash mid-write leaves only a temporary file (removed on open)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

from server.media.blobs import (
    BlobError,
    BlobInfo,
    BlobNotFound,
    Blobs,
    Hashing,
    check_key,
    check_range,
    file_chunks,
)

T = TypeVar("T")


class FileBlobs(Blobs):
    def __init__(self, root: Path) -> None:
        self.root = root

    def describe(self) -> str:
        return f"files:{self.root}"

    async def open(self) -> None:
        for part in ("data", "meta", "tmp"):
            (self.root / part).mkdir(parents=True, exist_ok=True)
        # Writes interrupted by a crash: nobody can see them, so nobody misses them.
        shutil.rmtree(self.root / "tmp", ignore_errors=True)
        (self.root / "tmp").mkdir(exist_ok=True)

    async def close(self) -> None:
        """Nothing is held open between calls."""

    def _data(self, key: str) -> Path:
        return self.root / "data" / check_key(key)

    def _meta(self, key: str) -> Path:
        return self.root / "meta" / (check_key(key) + ".json")

    async def put(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        *,
        content_type: str = "application/octet-stream",
        max_bytes: int | None = None,
    ) -> BlobInfo:
        check_key(key)
        tmp = self.root / "tmp" / uuid.uuid4().hex
        tmp.parent.mkdir(parents=True, exist_ok=True)
        counted = Hashing(max_bytes)
        try:
            out = _disk(key, open, tmp, "wb")
            try:
                async for chunk in chunks:
                    counted.add(chunk)
                    await asyncio.to_thread(_disk, key, out.write, chunk)
                await asyncio.to_thread(_disk, key, out.flush)
                await asyncio.to_thread(_disk, key, os.fsync, out.fileno())
            finally:
                out.close()
            info = BlobInfo(
                key, counted.size, counted.digest.hexdigest(), content_type, int(time.time() * 1000)
            )
            tmp_meta = tmp.with_suffix(".json")
            _disk(key, self._commit, tmp, tmp_meta, info)
            return info
        finally:
            tmp.unlink(missing_ok=True)
            tmp.with_suffix(".json").unlink(missing_ok=True)

    def _commit(self, tmp: Path, tmp_meta: Path, info: BlobInfo) -> None:
        data, meta = self._data(info.key), self._meta(info.key)
        data.parent.mkdir(parents=True, exist_ok=True)
        meta.parent.mkdir(parents=True, exist_ok=True)
        tmp_meta.write_text(json.dumps(info.__dict__))
        # Old metadata goes first: between the two renames the key reads as absent,
        # never as the new bytes with the old hash.
        meta.unlink(missing_ok=True)
        tmp.replace(data)
        tmp_meta.replace(meta)

    async def info(self, key: str) -> BlobInfo | None:
        try:
            return BlobInfo(**json.loads(self._meta(key).read_text()))
        except FileNotFoundError:
            return None

    async def read(self, key: str, start: int = 0, stop: int | None = None) -> AsyncIterator[bytes]:
        found = await self.info(key)
        if found is None:
            raise BlobNotFound(key)
        start, stop = check_range(found.size, start, stop)
        return file_chunks(self._data(key), start, stop)

    async def delete(self, key: str) -> bool:
        meta = self._meta(key)
        if not meta.exists():
            return False
        meta.unlink(missing_ok=True)
        self._data(key).unlink(missing_ok=True)
        return True

    async def local_path(self, key: str) -> Path | None:
        return self._data(key) if await self.info(key) is not None else None


def _disk(key: str, call: Callable[..., T], *args: Any) -> T:
    """`call(*args)`, a disk operation: its OSError (disk full, permissions) as BlobError."""
    try:
        return call(*args)
    except OSError as exc:
        raise BlobError(f"cannot store {key}: {exc.strerror or exc}") from None
