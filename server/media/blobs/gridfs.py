"""Blobs in MongoDB GridFS (`SINOPIA_MONGO_URL`), bucket `blobs`, so that every instance
serves the same files.

GridFS writes the chunks first and the file document last, so a blob whose upload failed
is never seen (its chunks are removed by `abort`). Writing a key again uploads a new
revision and then removes the older ones; readers take the newest."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from typing import Any

from gridfs import AsyncGridFSBucket, NoFile
from pymongo import AsyncMongoClient
from pymongo.errors import ConfigurationError, PyMongoError

from server.media.blobs import (
    CHUNK,
    BlobError,
    BlobInfo,
    BlobNotFound,
    Blobs,
    Hashing,
    check_key,
    check_range,
)

DEFAULT_DATABASE = "sinopia"
BUCKET = "blobs"
# GridFS splits files into chunks of this size (its default is 255 KiB): larger chunks,
# fewer documents per pyramid.
CHUNK_BYTES = 1024 * 1024


@contextlib.contextmanager
def _errors(key: str) -> Iterator[None]:
    try:
        yield
    except PyMongoError as exc:
        raise BlobError(f"the blob store (MongoDB) failed on {key}: {exc}") from None


class GridFSBlobs(Blobs):
    remote = True

    def __init__(self, url: str) -> None:
        self.url = url
        self._client: AsyncMongoClient[dict[str, Any]] | None = None
        self._bucket: AsyncGridFSBucket | None = None
        self._files: Any = None

    def describe(self) -> str:
        from urllib.parse import urlsplit

        parts = urlsplit(self.url)
        return f"gridfs:{parts.hostname}:{parts.port or 27017}{parts.path}"

    async def open(self) -> None:
        try:
            client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
                self.url, appname="sinopia-blobs", serverSelectionTimeoutMS=5000
            )
        except (ValueError, ConfigurationError) as exc:
            raise BlobError(f"the MongoDB URL {self.describe()}: {exc}") from None
        self._client = client
        db = client.get_default_database(DEFAULT_DATABASE)
        self._bucket = AsyncGridFSBucket(db, bucket_name=BUCKET, chunk_size_bytes=CHUNK_BYTES)
        self._files = db[f"{BUCKET}.files"]

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    @property
    def bucket(self) -> AsyncGridFSBucket:
        if self._bucket is None:
            raise BlobError("the blob store is not open")
        return self._bucket

    async def put(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        *,
        content_type: str = "application/octet-stream",
        max_bytes: int | None = None,
    ) -> BlobInfo:
        check_key(key)
        counted = Hashing(max_bytes)
        created = int(time.time() * 1000)
        with _errors(key):
            stream = self.bucket.open_upload_stream(
                key, metadata={"content_type": content_type, "created_ms": created}
            )
            try:
                async for chunk in chunks:
                    counted.add(chunk)
                    await stream.write(chunk)
            except BaseException:
                await stream.abort()
                raise
            # The hash is known only at the end: it goes into the metadata just before
            # the file document is written by close().
            await stream.set(
                "metadata",
                {
                    "content_type": content_type,
                    "created_ms": created,
                    "sha256": counted.digest.hexdigest(),
                },
            )
            await stream.close()
            new_id = stream._id
            async for old in self._files.find({"filename": key, "_id": {"$ne": new_id}}):
                with contextlib.suppress(NoFile):
                    await self.bucket.delete(old["_id"])
        return BlobInfo(key, counted.size, counted.digest.hexdigest(), content_type, created)

    async def _newest(self, key: str) -> dict[str, Any] | None:
        check_key(key)
        with _errors(key):
            found: dict[str, Any] | None = await self._files.find_one(
                {"filename": key}, sort=[("uploadDate", -1), ("_id", -1)]
            )
            return found

    @staticmethod
    def _info(doc: dict[str, Any]) -> BlobInfo:
        meta = doc.get("metadata") or {}
        return BlobInfo(
            doc["filename"],
            int(doc["length"]),
            meta.get("sha256", ""),
            meta.get("content_type", "application/octet-stream"),
            int(meta.get("created_ms", 0)),
        )

    async def info(self, key: str) -> BlobInfo | None:
        doc = await self._newest(key)
        return None if doc is None else self._info(doc)

    async def read(self, key: str, start: int = 0, stop: int | None = None) -> AsyncIterator[bytes]:
        doc = await self._newest(key)
        if doc is None:
            raise BlobNotFound(key)
        start, stop = check_range(int(doc["length"]), start, stop)
        return self._stream(key, doc["_id"], start, stop)

    async def _stream(self, key: str, file_id: Any, start: int, stop: int) -> AsyncIterator[bytes]:
        with _errors(key):
            try:
                stream = await self.bucket.open_download_stream(file_id)
            except NoFile:
                raise BlobNotFound(key) from None
            try:
                if start:
                    await stream.seek(start)
                left = stop - start
                while left > 0:
                    chunk = await stream.read(min(CHUNK, left))
                    if not chunk:
                        return
                    left -= len(chunk)
                    yield chunk
            finally:
                await stream.close()

    async def delete(self, key: str) -> bool:
        check_key(key)
        deleted = False
        with _errors(key):
            async for doc in self._files.find({"filename": key}):
                with contextlib.suppress(NoFile):
                    await self.bucket.delete(doc["_id"])
                    deleted = True
        return deleted
