"""The directory in MongoDB: collections `directory`, `directory_audit` and
`directory_counters` in the store's database, shared by every instance."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConfigurationError, DuplicateKeyError, PyMongoError

from crdt.stores.mongo import error_message
from server.directory import INDEXED, UNIQUE, AuditEvent, Directory, DirectoryError, Exists

DEFAULT_DATABASE = "sinopia"


@asynccontextmanager
async def _errors() -> AsyncIterator[None]:
    try:
        yield
    except DuplicateKeyError as exc:
        raise Exists(str(exc)) from None
    except PyMongoError as exc:
        raise DirectoryError(f"directory: {error_message(exc)}") from exc


class MongoDirectory(Directory):
    def __init__(self, url: str) -> None:
        self.url = url
        self._client: AsyncMongoClient[dict[str, Any]] | None = None
        self._db: AsyncDatabase[dict[str, Any]] | None = None

    def describe(self) -> str:
        parts = urlsplit(self.url)
        hosts = parts.netloc.rpartition("@")[2]
        return urlunsplit((parts.scheme, hosts, parts.path, "", ""))

    @property
    def db(self) -> AsyncDatabase[dict[str, Any]]:
        if self._db is None:
            raise DirectoryError("directory is not open")
        return self._db

    async def open(self) -> None:
        async with _errors():
            # Short timeouts: a sign-in or a permission check should fail fast (and the
            # client retry) rather than hang while the database is unreachable.
            try:
                client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
                    self.url, appname="sinopia-directory", serverSelectionTimeoutMS=5000
                )
            except (ValueError, ConfigurationError) as exc:  # a malformed URL
                raise DirectoryError(f"the MongoDB URL {self.describe()}: {exc}") from None
            self._client = client
            self._db = client.get_default_database(DEFAULT_DATABASE)
            indexes = [IndexModel([("kind", ASCENDING), ("rid", ASCENDING)], unique=True)]
            for kind, keys in INDEXED.items():
                for key in keys:
                    indexes.append(
                        IndexModel(
                            [(f"data.{key}", ASCENDING)],
                            name=f"{kind}_{key}",
                            unique=key in UNIQUE.get(kind, ()),
                            partialFilterExpression={"kind": kind},
                        )
                    )
            await self.db["directory"].create_indexes(indexes)
            await self.db["directory_audit"].create_indexes(
                [IndexModel([("workspace", ASCENDING), ("seq", DESCENDING)])]
            )

    async def close(self) -> None:
        client, self._client, self._db = self._client, None, None
        if client is not None:
            await client.close()

    async def _bump(self, counter: str = "generation") -> int:
        found = await self.db["directory_counters"].find_one_and_update(
            {"_id": counter},
            {"$inc": {"value": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert found is not None
        return int(found["value"])

    async def generation(self) -> int:
        async with _errors():
            found = await self.db["directory_counters"].find_one({"_id": "generation"})
            return int(found["value"]) if found else 0

    async def _get(self, kind: str, id: str) -> dict[str, Any] | None:
        async with _errors():
            found = await self.db["directory"].find_one({"kind": kind, "rid": id})
            return dict(found["data"]) if found else None

    async def _find(self, kind: str, key: str, value: Any) -> list[dict[str, Any]]:
        if key not in INDEXED[kind]:
            raise ValueError(f"{kind}.{key} is not indexed")
        async with _errors():
            cursor = self.db["directory"].find({"kind": kind, f"data.{key}": value})
            return [dict(d["data"]) async for d in cursor]

    async def _all(self, kind: str) -> list[dict[str, Any]]:
        async with _errors():
            return [dict(d["data"]) async for d in self.db["directory"].find({"kind": kind})]

    async def _insert(self, kind: str, id: str, data: dict[str, Any]) -> None:
        async with _errors():
            try:
                await self.db["directory"].insert_one({"kind": kind, "rid": id, "data": data})
            except DuplicateKeyError:
                raise Exists(f"{kind} {id!r} (or one with the same name) exists") from None
            await self._bump()

    async def _put(self, kind: str, id: str, data: dict[str, Any]) -> dict[str, Any] | None:
        async with _errors():
            previous = await self.db["directory"].find_one_and_update(
                {"kind": kind, "rid": id},
                {"$set": {"data": data}},
                upsert=True,
                return_document=ReturnDocument.BEFORE,
            )
            await self._bump()
            return dict(previous["data"]) if previous else None

    async def _claim(self, kind: str, id: str, unset: str, data: dict[str, Any]) -> bool:
        async with _errors():
            done = await self.db["directory"].update_one(
                {"kind": kind, "rid": id, f"data.{unset}": None}, {"$set": {"data": data}}
            )
            if done.modified_count:
                await self._bump()
            return done.modified_count == 1

    async def _delete(self, kind: str, id: str) -> dict[str, Any] | None:
        async with _errors():
            previous = await self.db["directory"].find_one_and_delete({"kind": kind, "rid": id})
            await self._bump()
            return dict(previous["data"]) if previous else None

    async def add_event(self, event: AuditEvent) -> AuditEvent:
        async with _errors():
            seq = await self._bump("audit")
            data = {k: v for k, v in event.__dict__.items() if k != "seq"}
            await self.db["directory_audit"].insert_one({**data, "seq": seq})
            return AuditEvent(**{**data, "seq": seq})

    async def events(
        self, workspace: str | None, *, limit: int = 100, before: int | None = None
    ) -> list[AuditEvent]:
        query: dict[str, Any] = {"workspace": workspace}
        if before is not None:
            query["seq"] = {"$lt": before}
        async with _errors():
            cursor = (
                self.db["directory_audit"]
                .find(query, {"_id": False})
                .sort("seq", DESCENDING)
                .limit(limit)
            )
            return [AuditEvent(**d) async for d in cursor]
