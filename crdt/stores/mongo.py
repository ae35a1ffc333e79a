"""MongoDB store, for several server instances sharing one database.

`mongodb://user:pass@host1,host2/dbname?replicaSet=rs0` (database `sinopia` if the path is
empty). Uses pymongo's native asyncio client. Every write waits for the journal on a
majority (`w=majority, j=true, wtimeoutMS=10000`) unless the URL sets its own.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel, WriteConcern
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import (
    BulkWriteError,
    ConfigurationError,
    ConnectionFailure,
    DuplicateKeyError,
    NetworkTimeout,
    OperationFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
    WTimeoutError,
)

from ..keyring import (
    CHECKPOINT,
    ENTRY,
    VERSION_NOTE,
    Keyring,
    WrappedKey,
    seal,
    unseal,
    workspace_of,
)
from ..keys import MasterKeyError
from ..store import Store, StoreError, Unreachable, VersionExists, chain
from ..types import Checkpoint, Entry, NewEntry, Seal, Version

schemes = ("mongodb", "mongodb+srv")

DEFAULT_DATABASE = "sinopia"

# Fail fast when the server is down, so an outage shows as StoreError (and /readyz
# failing) within seconds instead of pymongo's 30 s default. The URL can override both.
_DEFAULT_OPTIONS = {"serverSelectionTimeoutMS": 3000, "connectTimeoutMS": 3000}

# A majority that cannot be reached (secondaries down) must surface as StoreError rather
# than hold the group commit, and every room behind it, forever.
_WRITE_TIMEOUT_MS = 10_000

# Rounds of "read heads, chain, insert" before giving up on a log other instances keep
# appending to. Every round stores at least one instance's entries, so this is ample.
MAX_APPEND_ATTEMPTS = 100

# BSON documents are limited to 16 MiB; checkpoints may be larger, so their state is split.
CHECKPOINT_CHUNK = 8 * 1024 * 1024

_DUPLICATE_KEY = 11000

# Documents whose head seq is remembered as a search hint; forgotten all at once beyond.
_MAX_SEEN = 100_000

_Doc = dict[str, Any]

# Records read per page while encrypting an existing database in place.
_ENCRYPT_PAGE = 1000


def from_url(url: str, data_dir: Path, keyring: Keyring | None = None) -> MongoStore:
    return MongoStore(url, keyring)


def _options(url: str) -> dict[str, Any]:
    """Our defaults for options the URL does not set (URL option names are case-blind)."""
    present = {key.lower() for key, _ in parse_qsl(urlsplit(url).query)}
    return {k: v for k, v in _DEFAULT_OPTIONS.items() if k.lower() not in present}


def error_message(exc: PyMongoError) -> str:
    """A pymongo error in one short line, for logs and refusals."""
    # pymongo's own messages can run to kilobytes (a whole topology description).
    if isinstance(exc, ServerSelectionTimeoutError):
        return "mongodb: no server available (server selection timed out)"
    if isinstance(exc, NetworkTimeout):
        return "mongodb: network timeout"
    if isinstance(exc, ConnectionFailure):
        return "mongodb: connection lost"
    if isinstance(exc, OperationFailure):
        detail = (exc.details or {}).get("errmsg") or str(exc)
        return f"mongodb: {detail}"[:300]
    return f"mongodb: {type(exc).__name__}: {exc}"[:300]


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except (ConnectionFailure, WTimeoutError) as exc:
        # Server selection timeouts, dropped connections, an unreachable majority: the
        # store is away and the caller may keep the write for later.
        raise Unreachable(error_message(exc)) from exc
    except PyMongoError as exc:
        raise StoreError(error_message(exc)) from exc


def _entry_doc(e: Entry, keyring: Keyring | None) -> _Doc:
    # bytes are stored as BSON binary (subtype 0) and read back as bytes.
    return {
        "doc": e.doc,
        "seq": e.seq,
        "time_ms": e.time_ms,
        "client_id": e.client_id,
        "principal": e.principal,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
        "data": seal(keyring, ENTRY, e.doc, e.seq, e.update),
    }


def _entry(d: Mapping[str, Any], keyring: Keyring | None = None) -> Entry:
    # Without a keyring: as stored (a head, read without its update, is never decrypted).
    return Entry(
        d["doc"],
        d["seq"],
        unseal(keyring, ENTRY, d["doc"], d["seq"], bytes(d.get("data", b""))),
        d["time_ms"],
        d["client_id"],
        d["principal"],
        bytes(d["prev_hash"]),
        bytes(d["hash"]),
    )


_NO_ID = {"_id": False}
# A head is only chained after: its update is not needed.
_HEAD = {"_id": False, "data": False}


class MongoStore(Store):
    remote = True

    def __init__(self, url: str, keyring: Keyring | None = None) -> None:
        self.url = url
        self.keyring = keyring
        parts = urlsplit(url)
        self.database_name = parts.path.lstrip("/") or DEFAULT_DATABASE
        self._client: AsyncMongoClient[_Doc] | None = None
        self._db: AsyncDatabase[_Doc] | None = None
        # Appends from one instance never race each other; conflicts are only ever
        # with other instances, which the unique (doc, seq) index arbitrates.
        self._append_lock = asyncio.Lock()
        # Per document, the highest seq seen stored: only ever a hint (see `_last`).
        self._seen: dict[str, int] = {}

    def describe(self) -> str:
        parts = urlsplit(self.url)
        # Neither the user info nor the options (which may hold TLS key passwords).
        hosts = parts.netloc.rpartition("@")[2]
        return urlunsplit((parts.scheme, hosts, "/" + self.database_name, "", ""))

    @property
    def db(self) -> AsyncDatabase[_Doc]:
        if self._db is None:
            raise StoreError("mongodb: store is not open")
        return self._db

    def _coll(self, name: str) -> AsyncCollection[_Doc]:
        return self.db[name]

    async def open(self) -> None:
        with _errors():
            try:
                client: AsyncMongoClient[_Doc] = AsyncMongoClient(
                    self.url, appname="sinopia", **_options(self.url)
                )
            except (ValueError, ConfigurationError) as exc:  # a malformed URL
                raise StoreError(f"the MongoDB URL {self.describe()}: {exc}") from None
            self._client = client
            if not client.write_concern.acknowledged:
                raise StoreError("mongodb: unacknowledged writes (w=0) cannot be used")
            # The URL's write concern wins; what it leaves out is durable by default.
            wc = dict(client.write_concern.document)
            wc.setdefault("w", "majority")
            wc.setdefault("wtimeout", _WRITE_TIMEOUT_MS)
            if "fsync" not in wc:
                wc.setdefault("j", True)
            self._db = client.get_default_database(
                DEFAULT_DATABASE, write_concern=WriteConcern(**wc)
            )
            by_doc_seq = [("doc", ASCENDING), ("seq", ASCENDING)]
            # (doc, time_ms, seq) rather than (doc, time_ms): seq_at sorts on both.
            by_time = [("doc", ASCENDING), ("time_ms", ASCENDING), ("seq", ASCENDING)]
            await asyncio.gather(
                self._coll("entries").create_indexes(
                    [IndexModel(by_doc_seq, unique=True), IndexModel(by_time)]
                ),
                self._coll("checkpoints").create_indexes([IndexModel(by_doc_seq, unique=True)]),
                self._coll("checkpoint_chunks").create_indexes(
                    [IndexModel([("doc", 1), ("seq", 1), ("write", 1), ("n", 1)], unique=True)]
                ),
                self._coll("seals").create_indexes(
                    [IndexModel([("doc", ASCENDING), ("last_seq", ASCENDING)], unique=True)]
                ),
                self._coll("versions").create_indexes(
                    [IndexModel([("doc", ASCENDING), ("name", ASCENDING)], unique=True)]
                ),
                self._coll("data_keys").create_indexes(
                    [IndexModel([("scope", ASCENDING)], unique=True), IndexModel([("key_id", 1)])]
                ),
            )
            await self._check_keys()

    async def _check_keys(self) -> None:
        """Encrypted data needs its master key, and the two never mix in one database."""
        keys = await self.data_keys()
        if self.keyring is None:
            if keys:
                raise MasterKeyError(
                    f"{self.describe()} is encrypted (master key {keys[0].master_id}): "
                    "set SINOPIA_KEY_URL to that key's file"
                )
            return
        if not keys and await self._coll("entries").find_one({}, {"_id": True}):
            raise MasterKeyError(
                f"{self.describe()} holds unencrypted history, which is not mixed with "
                "encrypted data: start without SINOPIA_KEY_URL (or encrypt it first: "
                "`sinopia admin key encrypt`)"
            )
        await asyncio.to_thread(self.keyring.add_all, keys)

    async def _ensure_keys(self, docs: Sequence[str]) -> None:
        """Make the data keys of workspaces that have none yet, before anything is sealed
        with them; of two instances making one at once, the first stored wins."""
        keyring = self.keyring
        if keyring is None:
            return
        missing = sorted({workspace_of(d) for d in docs if not keyring.has(workspace_of(d))})
        for scope in missing:
            key = keyring.new_key(scope)
            try:
                await self._coll("data_keys").insert_one(_key_doc(key))
            except DuplicateKeyError:
                found = await self._coll("data_keys").find_one({"scope": scope}, _NO_ID)
                if found is None:
                    raise StoreError(f"mongodb: the data key of {scope!r} vanished") from None
                key = _key(found)
            await asyncio.to_thread(keyring.add, key)

    async def _readable(self, blobs: Sequence[bytes]) -> None:
        """Load data keys made by another instance since we opened (a new workspace)."""
        keyring = self.keyring
        if keyring is not None and not all(keyring.knows(b) for b in blobs):
            await asyncio.to_thread(keyring.add_all, await self.data_keys())

    async def close(self) -> None:
        client, self._client, self._db = self._client, None, None
        if client is not None:
            await client.close()

    async def ping(self) -> None:
        with _errors():
            await self.db.command("ping")

    # -- the log -----------------------------------------------------------------------

    def _saw(self, doc: str, seq: int) -> None:
        if seq > self._seen.get(doc, 0):
            if len(self._seen) >= _MAX_SEEN:
                self._seen.clear()
            self._seen[doc] = seq

    async def _last(self, doc: str, projection: Mapping[str, bool]) -> _Doc | None:
        """The entry with the highest seq, from the store.

        Logs only grow, so the highest seq this instance has seen stored is a lower bound
        that keeps the index scan short: some servers (SecantusDB) read the whole range
        before applying the sort's limit. With nothing at or above it (a restored
        database), ask again unbounded.
        """
        entries = self._coll("entries")
        newest = [("seq", DESCENDING)]
        found = None
        if seen := self._seen.get(doc):
            found = await entries.find_one(
                {"doc": doc, "seq": {"$gte": seen}}, projection, sort=newest
            )
        if found is None:
            found = await entries.find_one({"doc": doc}, projection, sort=newest)
        if found is not None:
            self._saw(doc, found["seq"])
        return found

    async def _heads(self, docs: Sequence[str]) -> dict[str, Entry | None]:
        """The last entry of each document's log, from the store, without its update.

        One query per document: SecantusDB answers `$or` and `$in` with a scan of the
        whole collection.
        """
        found = await asyncio.gather(*(self._last(doc, _HEAD) for doc in docs))
        return {doc: _entry(f) if f else None for doc, f in zip(docs, found, strict=True)}

    async def append_batch(
        self, batch: Sequence[tuple[str, Sequence[NewEntry]]]
    ) -> list[list[Entry]]:
        results: list[list[Entry]] = [[] for _ in batch]
        # What is still to be stored, per item of the batch.
        pending: list[Sequence[NewEntry]] = [new for _, new in batch]
        async with self._append_lock:
            with _errors():
                await self._ensure_keys([doc for doc, new in batch if new])
                for _ in range(MAX_APPEND_ATTEMPTS):
                    if await self._append_round(batch, pending, results):
                        return results
        raise StoreError("mongodb: gave up appending, the log keeps moving (contention)")

    async def _append_round(
        self,
        batch: Sequence[tuple[str, Sequence[NewEntry]]],
        pending: list[Sequence[NewEntry]],
        results: list[list[Entry]],
    ) -> bool:
        """One try: chain what is pending after the stored heads and insert it in order.

        True when everything is stored. After a duplicate (doc, seq), another instance
        got there first: what was inserted before it is stored and recorded in
        `results`, and the rest stays in `pending` for the next round.
        """
        docs = list(dict.fromkeys(doc for (doc, _), new in zip(batch, pending, strict=True) if new))
        heads = await self._heads(docs)
        chained: list[tuple[int, Entry]] = []
        for i, ((doc, _), new) in enumerate(zip(batch, pending, strict=True)):
            if not new:
                continue
            stored = chain(doc, heads[doc], new)
            heads[doc] = stored[-1]
            chained.extend((i, e) for e in stored)
        if not chained:
            return True
        # Ordered: a failure stops the insert there, so what went in is a prefix.
        try:
            await self._coll("entries").insert_many(
                [_entry_doc(e, self.keyring) for _, e in chained], ordered=True
            )
            inserted = len(chained)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if exc.details.get("writeConcernErrors") or not all(
                e.get("code") == _DUPLICATE_KEY for e in errors
            ):
                raise
            inserted = exc.details["nInserted"]
        done = [0] * len(batch)
        for i, e in chained[:inserted]:
            results[i].append(e)
            done[i] += 1
        for i, n in enumerate(done):
            pending[i] = pending[i][n:]
            if n:
                self._saw(results[i][-1].doc, results[i][-1].seq)
        return inserted == len(chained)

    async def read(
        self, doc: str, after: int = 0, limit: int | None = None, upto: int | None = None
    ) -> list[Entry]:
        if limit is not None and limit <= 0:
            return []  # MongoDB reads limit 0 as "no limit"
        seq: _Doc = {"$gt": after}
        if upto is not None:
            seq["$lte"] = upto
        cursor = self._coll("entries").find({"doc": doc, "seq": seq}, _NO_ID).sort("seq", 1)
        if limit is not None:
            cursor = cursor.limit(limit)
        with _errors():
            entries = await self._entries([d async for d in cursor])
        if entries:
            self._saw(doc, entries[-1].seq)
        return entries

    async def read_newest(
        self, doc: str, before: int | None = None, limit: int = 50
    ) -> list[Entry]:
        if limit <= 0:
            return []
        query: _Doc = {"doc": doc}
        if before is not None:
            query["seq"] = {"$lt": before}
        cursor = self._coll("entries").find(query, _NO_ID).sort("seq", -1).limit(limit)
        with _errors():
            return await self._entries([d async for d in cursor])

    async def _entries(self, found: list[_Doc]) -> list[Entry]:
        if self.keyring is not None and found:
            await self._readable([bytes(found[0]["data"]), bytes(found[-1]["data"])])
        return [_entry(d, self.keyring) for d in found]

    async def seq_at(self, doc: str, time_ms: int) -> int:
        # Times never go backwards along a log, so the latest time has the highest seq.
        # `$lt t + 1` rather than `$lte t` (the same for integers): SecantusDB's index scan
        # drops keys equal to a `$lte` bound on a field that is not the index's last.
        with _errors():
            found = await self._coll("entries").find_one(
                {"doc": doc, "time_ms": {"$lt": time_ms + 1}},
                {"_id": False, "seq": True},
                sort=[("time_ms", DESCENDING), ("seq", DESCENDING)],
            )
        return found["seq"] if found else 0

    async def head(self, doc: str) -> int:
        with _errors():
            found = await self._last(doc, {"_id": False, "seq": True})
        return found["seq"] if found else 0

    async def documents(self, prefix: str = "") -> list[str]:
        match: _Doc = {"doc": {"$regex": "^" + re.escape(prefix)}} if prefix else {}
        # $sort then $group on the index prefix lets mongod use a DISTINCT_SCAN of the index.
        pipeline: list[_Doc] = [
            {"$match": match},
            {"$sort": {"doc": 1}},
            {"$group": {"_id": "$doc"}},
            {"$sort": {"_id": 1}},
        ]
        with _errors():
            cursor = await self._coll("entries").aggregate(pipeline)
            return [d["_id"] async for d in cursor]

    # -- checkpoints -------------------------------------------------------------------

    async def latest_checkpoint(self, doc: str, at_most: int | None = None) -> Checkpoint | None:
        query: _Doc = {"doc": doc}
        if at_most is not None:
            query["seq"] = {"$lte": at_most}
        with _errors():
            found = await self._coll("checkpoints").find_one(
                query, _NO_ID, sort=[("seq", DESCENDING)]
            )
            if found is None:
                return None
            self._saw(doc, found["seq"])
            state = bytes(found["state"])
            if found.get("chunks", 1) > 1:
                cursor = (
                    self._coll("checkpoint_chunks")
                    .find({"doc": doc, "seq": found["seq"], "write": found["write"]}, _NO_ID)
                    .sort("n", 1)
                )
                rest = [bytes(c["data"]) async for c in cursor]
                if len(rest) != found["chunks"] - 1:
                    raise StoreError(f"mongodb: checkpoint {doc}@{found['seq']} is incomplete")
                state = b"".join([state, *rest])
            if self.keyring is not None:
                await self._readable([state])
            state = unseal(self.keyring, CHECKPOINT, doc, found["seq"], state)
        return Checkpoint(found["doc"], found["seq"], state, found["time_ms"])

    async def write_checkpoint(self, checkpoint: Checkpoint) -> None:
        c = checkpoint
        with _errors():
            await self._ensure_keys([c.doc])
        # Sealed whole, then split: a chunk alone opens nothing, and a chunk moved breaks
        # the whole checkpoint's authentication.
        state = seal(self.keyring, CHECKPOINT, c.doc, c.seq, c.state)
        chunks = [state[i : i + CHECKPOINT_CHUNK] for i in range(0, len(state), CHECKPOINT_CHUNK)]
        chunks = chunks or [b""]
        # Chunks past the first carry this write's id and go in before the checkpoint that
        # names them, so a checkpoint is never visible incomplete, and two instances
        # writing the same checkpoint at once never mix their chunks.
        write = uuid.uuid4().hex
        extra = [
            {"doc": c.doc, "seq": c.seq, "write": write, "n": n, "data": data}
            for n, data in enumerate(chunks[1:], start=1)
        ]
        with _errors():
            for part in extra:  # one at a time: each is up to CHECKPOINT_CHUNK bytes
                await self._coll("checkpoint_chunks").insert_one(part)
            try:
                await self._coll("checkpoints").insert_one(
                    {
                        "doc": c.doc,
                        "seq": c.seq,
                        "time_ms": c.time_ms,
                        "state": chunks[0],
                        "chunks": len(chunks),
                        "write": write,
                    }
                )
            except DuplicateKeyError:
                # Already checkpointed at this seq: the same state, so keep that one.
                if extra:
                    await self._coll("checkpoint_chunks").delete_many(
                        {"doc": c.doc, "seq": c.seq, "write": write}
                    )

    # -- seals and versions ------------------------------------------------------------

    async def write_seal(self, seal: Seal) -> None:
        s = seal
        with _errors():
            try:
                await self._coll("seals").insert_one(
                    {
                        "doc": s.doc,
                        "first_seq": s.first_seq,
                        "last_seq": s.last_seq,
                        "last_hash": s.last_hash,
                        "time_ms": s.time_ms,
                        "key_id": s.key_id,
                        "signature": s.signature,
                    }
                )
            except DuplicateKeyError:
                pass

    async def seals(self, doc: str) -> list[Seal]:
        cursor = self._coll("seals").find({"doc": doc}, _NO_ID).sort("last_seq", 1)
        with _errors():
            return [
                Seal(
                    d["doc"],
                    d["first_seq"],
                    d["last_seq"],
                    bytes(d["last_hash"]),
                    d["time_ms"],
                    d["key_id"],
                    bytes(d["signature"]),
                )
                async for d in cursor
            ]

    async def add_version(self, version: Version) -> None:
        v = version
        with _errors():
            try:
                await self._coll("versions").insert_one(
                    {
                        "doc": v.doc,
                        "name": v.name,
                        "seq": v.seq,
                        "time_ms": v.time_ms,
                        "principal": v.principal,
                        "note": v.note
                        if self.keyring is None
                        else seal(
                            self.keyring, VERSION_NOTE, v.doc, v.seq, v.note.encode(), v.name
                        ),
                    }
                )
            except DuplicateKeyError:
                raise VersionExists(f"version {v.name!r} already exists") from None

    async def versions(self, doc: str) -> list[Version]:
        cursor = (
            self._coll("versions")
            .find({"doc": doc}, _NO_ID)
            .sort([("seq", 1), ("time_ms", 1), ("name", 1)])
        )
        with _errors():
            found = [d async for d in cursor]
            if self.keyring is not None:
                await self._readable([bytes(d["note"]) for d in found])
        return [
            Version(d["doc"], d["name"], d["seq"], d["time_ms"], d["principal"], self._note(d))
            for d in found
        ]

    def _note(self, d: _Doc) -> str:
        if self.keyring is None:
            return str(d["note"])
        note = unseal(self.keyring, VERSION_NOTE, d["doc"], d["seq"], bytes(d["note"]), d["name"])
        return note.decode()

    # -- data keys ---------------------------------------------------------------------

    async def data_keys(self) -> list[WrappedKey]:
        with _errors():
            return [_key(d) async for d in self._coll("data_keys").find({}, _NO_ID)]

    async def put_data_keys(self, keys: Sequence[WrappedKey]) -> None:
        with _errors():
            for k in keys:
                await self._coll("data_keys").update_one(
                    {"key_id": k.key_id},
                    {"$set": {"master_id": k.master_id, "wrapped": k.wrapped}},
                )

    async def encrypt_existing(self, keyring: Keyring) -> int:
        with _errors():
            if await self.data_keys():
                raise MasterKeyError(f"{self.describe()} is encrypted already")
            self.keyring = keyring
            done = 0
            for name, field, kind in (
                ("entries", "data", ENTRY),
                ("checkpoints", "state", CHECKPOINT),
                ("versions", "note", VERSION_NOTE),
            ):
                async for d in self._plain_records(name):
                    await self._ensure_keys([d["doc"]])
                    value = d[field]
                    if name == "checkpoints" and d.get("chunks", 1) > 1:
                        await self._encrypt_chunked(d)
                        done += 1
                        continue
                    plain = value.encode() if isinstance(value, str) else bytes(value)
                    extra = d["name"] if name == "versions" else ""
                    sealed = seal(keyring, kind, d["doc"], d["seq"], plain, extra)
                    await self._coll(name).update_one({"_id": d["_id"]}, {"$set": {field: sealed}})
                    done += 1
        return done

    async def _plain_records(self, name: str) -> AsyncIterator[_Doc]:
        # Pages by _id, each read before any is rewritten: a record is never seen twice
        # (a checkpoint written again has a new _id, beyond the ones listed first).
        ids = [d["_id"] async for d in self._coll(name).find({}, {"_id": True}).sort("_id", 1)]
        for start in range(0, len(ids), _ENCRYPT_PAGE):
            page = ids[start : start + _ENCRYPT_PAGE]
            cursor = self._coll(name).find({"_id": {"$gte": page[0], "$lte": page[-1]}})
            found = {d["_id"]: d async for d in cursor}
            for i in page:
                if i in found:
                    yield found[i]

    async def _encrypt_chunked(self, found: _Doc) -> None:
        # A checkpoint split over chunks is sealed whole: written again, then the old one
        # (and its chunks) removed.
        checkpoint = await self._plain_checkpoint(found)
        await self._coll("checkpoints").delete_one({"_id": found["_id"]})
        await self._coll("checkpoint_chunks").delete_many(
            {"doc": found["doc"], "seq": found["seq"], "write": found["write"]}
        )
        await self.write_checkpoint(checkpoint)

    async def _plain_checkpoint(self, found: _Doc) -> Checkpoint:
        cursor = (
            self._coll("checkpoint_chunks")
            .find({"doc": found["doc"], "seq": found["seq"], "write": found["write"]}, _NO_ID)
            .sort("n", 1)
        )
        rest = [bytes(c["data"]) async for c in cursor]
        state = b"".join([bytes(found["state"]), *rest])
        return Checkpoint(found["doc"], found["seq"], state, found["time_ms"])

    async def ensure_data_key(self, workspace: str) -> None:
        with _errors():
            await self._ensure_keys([workspace + "/"])

    async def delete_workspace(self, workspace: str) -> list[str]:
        docs = await self.documents(workspace + "/")
        match = {"doc": {"$regex": "^" + re.escape(workspace + "/")}}
        with _errors():
            # The key first: from then on nothing left of the workspace can be read, even
            # if deleting the rest is interrupted.
            await self._coll("data_keys").delete_many({"scope": workspace})
            for name in ("entries", "checkpoints", "checkpoint_chunks", "seals", "versions"):
                await self._coll(name).delete_many(match)
        if self.keyring is not None:
            self.keyring.forget(workspace)
        self._seen = {d: s for d, s in self._seen.items() if not d.startswith(workspace + "/")}
        return docs


def _key_doc(k: WrappedKey) -> _Doc:
    return {
        "scope": k.scope,
        "key_id": k.key_id,
        "master_id": k.master_id,
        "wrapped": k.wrapped,
        "created_ms": k.created_ms,
    }


def _key(d: Mapping[str, Any]) -> WrappedKey:
    return WrappedKey(d["scope"], d["key_id"], d["master_id"], bytes(d["wrapped"]), d["created_ms"])
