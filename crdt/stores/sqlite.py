"""The embedded default store: one SQLite file in WAL mode.

One connection writes, on a thread of its own, so a commit's fsync never blocks the event
loop, and one reads; WAL lets reads proceed while a write is in flight. With `?commit=loop`
appends (the live path: every update a client sends) are instead written on the event
loop, on a connection of their own, and made durable by an fdatasync of the write-ahead
log on a thread of its own, so the loop never waits for the disk: in WAL mode,
synchronous=FULL is exactly "sync the WAL after each commit", and that is what the sync
thread does before `append_batch` returns (see `_WalSync`). Where the loop cannot write at
once (another process holds the write lock, a workspace needs a new data key), the append
goes to the writer thread, which waits for the lock. Which to choose: see `COMMIT`."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from .. import sqlitefiles
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
from ..store import Store, StoreError, VersionExists, chain
from ..types import Checkpoint, Entry, NewEntry, Seal, Version

schemes = ("sqlite",)

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    doc TEXT NOT NULL,
    seq INTEGER NOT NULL,
    time_ms INTEGER NOT NULL,
    client_id TEXT NOT NULL,
    principal TEXT NOT NULL,
    prev_hash BLOB NOT NULL,
    hash BLOB NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (doc, seq)
);
CREATE INDEX IF NOT EXISTS entries_time ON entries (doc, time_ms);
CREATE TABLE IF NOT EXISTS seals (
    doc TEXT NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    last_hash BLOB NOT NULL,
    time_ms INTEGER NOT NULL,
    key_id TEXT NOT NULL,
    signature BLOB NOT NULL,
    PRIMARY KEY (doc, last_seq)
);
CREATE TABLE IF NOT EXISTS versions (
    doc TEXT NOT NULL,
    name TEXT NOT NULL,
    seq INTEGER NOT NULL,
    time_ms INTEGER NOT NULL,
    principal TEXT NOT NULL,
    note TEXT NOT NULL,
    PRIMARY KEY (doc, name)
);
CREATE TABLE IF NOT EXISTS checkpoints (
    doc TEXT NOT NULL,
    seq INTEGER NOT NULL,
    time_ms INTEGER NOT NULL,
    state BLOB NOT NULL,
    PRIMARY KEY (doc, seq)
);
CREATE TABLE IF NOT EXISTS data_keys (
    scope TEXT PRIMARY KEY,
    key_id TEXT NOT NULL UNIQUE,
    master_id TEXT NOT NULL,
    wrapped BLOB NOT NULL,
    created_ms INTEGER NOT NULL
);
"""

# Larger than any sequence number, for open-ended ranges.
_MAX = 1 << 62

_COLUMNS = "doc, seq, data, time_ms, client_id, principal, prev_hash, hash"


# `?synchronous=` in the URL. FULL (the default): a commit is on disk, power loss
# included, before append_batch returns. NORMAL: a commit survives the process being killed
# but the last ones may be lost if the machine loses power; it saves one fsync per group
# commit (about a fifth of the server's CPU under bench/loadtest.py's load), for disks
# that protect their own cache or where that trade is acceptable.
SYNCHRONOUS = ("full", "normal")


# `?commit=` in the URL: where appends are committed. `thread` (the default): on the
# writer thread, which syncs each commit (synchronous=FULL). `loop`: on the event loop, the
# WAL synced on a thread of its own (see the module's docstring). Same durability. Measured
# in one run (bench/README.md, "Commit on the loop"): on a quiet machine the thread commit
# costs 7 % less CPU per delivery at the same p99; on a machine whose cores are taken by
# other work the loop commit halves p99 (no GIL hand-offs with a writer thread) for up to
# a fifth more CPU. So the default is the cheaper one, and a busy host may choose `loop`.
COMMIT = ("thread", "loop")


def from_url(url: str, data_dir: Path, keyring: Keyring | None = None) -> SQLiteStore:
    """`sqlite:` alone means `sinopia.db` in the data directory; `sqlite:///abs/path.db`;
    either may end in `?synchronous=full|normal` and `&commit=thread|loop`."""
    parts = urlsplit(url)
    options = parse_qs(parts.query, keep_blank_values=True)
    unknown = set(options) - {"synchronous", "commit"}
    if unknown:
        raise ValueError(f"unknown sqlite store option(s): {', '.join(sorted(unknown))}")
    synchronous = options.get("synchronous", ["full"])[-1].lower()
    if synchronous not in SYNCHRONOUS:
        raise ValueError(f"sqlite synchronous must be one of {', '.join(SYNCHRONOUS)}")
    commit = options.get("commit", ["thread"])[-1].lower()
    if commit not in COMMIT:
        raise ValueError(f"sqlite commit must be one of {', '.join(COMMIT)}")
    path = Path(parts.path) if parts.path else data_dir / "sinopia.db"
    return SQLiteStore(path, synchronous=synchronous, keyring=keyring, commit=commit)


class _Connection:
    """A sqlite3 connection confined to one thread of its own.

    Calls go to the thread through a queue and their results come back with
    `call_soon_threadsafe`: about half the CPU of an executor round trip (a future chained
    to a future), paid on every group commit.
    """

    def __init__(self, path: Path, name: str, synchronous: str = "full") -> None:
        self._name = name
        self._path = path
        self._synchronous = synchronous
        self._conn: sqlite3.Connection | None = None
        self._calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._closed = False

    def _connect(self) -> sqlite3.Connection:
        # See SYNCHRONOUS. Group commit keeps the cost of FULL to one fsync per batch.
        return sqlitefiles.connect(self._path, self._synchronous)

    def _serve(self) -> None:
        while True:
            call = self._calls.get()
            if call is None:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None
                return
            fn, loop, future = call
            try:
                if self._conn is None:
                    self._conn = self._connect()
                result, error = fn(self._conn), None
            except BaseException as exc:
                result, error = None, exc
            try:
                loop.call_soon_threadsafe(_settle, future, result, error)
            except RuntimeError:
                pass  # the loop is closed: nobody is waiting any more

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise StoreError("sqlite: the store is closed")
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name=self._name, daemon=True)
            self._thread.start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._calls.put((fn, loop, future))
        try:
            return await future
        except StoreError:
            raise
        except sqlite3.Error as exc:
            raise StoreError(f"{self._path}: {exc}") from exc

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            self._calls.put(None)
            await asyncio.to_thread(self._thread.join)


_Call = tuple[Callable[[sqlite3.Connection], Any], asyncio.AbstractEventLoop, asyncio.Future[Any]]


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():
        return  # the caller was cancelled
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def _entry(row: tuple, keyring: Keyring | None = None) -> Entry:
    doc, seq, data, time_ms, client_id, principal, prev_hash, digest = row
    update = unseal(keyring, ENTRY, doc, seq, bytes(data))
    return Entry(doc, seq, update, time_ms, client_id, principal, bytes(prev_hash), bytes(digest))


# A head is only chained after: its update is not read (nor decrypted).
_HEAD_COLUMNS = "doc, seq, x'', time_ms, client_id, principal, prev_hash, hash"


def _head(conn: sqlite3.Connection, doc: str) -> Entry | None:
    row = conn.execute(
        f"SELECT {_HEAD_COLUMNS} FROM entries WHERE doc = ? ORDER BY seq DESC LIMIT 1", (doc,)
    ).fetchone()
    return _entry(row) if row else None


# Log heads kept between appends on the loop's connection, for at most this many
# documents (then forgotten all at once: a head costs one indexed query to read again).
HEAD_CACHE_DOCS = 10_000
# The write-ahead log is copied into the database (a RESTART checkpoint, by a thread of
# its own) every this many commits on the loop's connection, which does not checkpoint
# itself as that would fsync on the loop. A commit adds a few pages to the log: this is
# about SQLite's own default of 1000 pages. RESTART, not PASSIVE: under steady writing a
# PASSIVE checkpoint never catches up with the log, which is then never rewritten from
# its start and grows without end. While a RESTART holds writers off (until the database
# file is synced), appends find the lock taken and go to the writer thread, which waits.
CHECKPOINT_EVERY_COMMITS = 256


class _WalSync:
    """fdatasync of the database's write-ahead log, on a thread of its own.

    `sync()` resolves once every commit made before it was called is on disk: a commit in
    WAL mode is its frames appended to the WAL, and recovery replays every committed
    frame it finds there, so syncing the WAL after a commit is what synchronous=FULL does
    (SQLite syncs a restarted WAL's header itself, before the frames that follow it).
    Requests that arrive while a sync is in flight share the next one. A second thread
    copies the WAL into the database now and then (see CHECKPOINT_EVERY_COMMITS; it syncs
    the database file, slow on a busy disk, so never in the way of a sync that commits
    wait for); the loop's connection never checkpoints.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._wal = Path(f"{path}-wal")
        self._fd: int | None = None
        self._calls: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._grown = threading.Event()
        self._stopping = False
        self._copier: threading.Thread | None = None

    def _put(self, call: Any) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name="sqlite-sync", daemon=True)
            self._thread.start()
        self._calls.put(call)

    def sync(self) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._put((loop, future))
        return future

    def copy_back(self) -> None:
        """Have the WAL copied into the database, soon, off the loop."""
        if self._copier is None:
            self._copier = threading.Thread(target=self._copy, name="sqlite-wal", daemon=True)
            self._copier.start()
        self._grown.set()

    def _open(self) -> int:
        # Opened once: the WAL is truncated and rewritten in place, never removed while a
        # connection to the database is open (ours is, as long as appends are made).
        if self._fd is not None:
            return self._fd
        self._fd = os.open(self._wal, os.O_RDONLY)
        # A new file is durable once its directory entry is (SQLite syncs the directory
        # of a new WAL likewise).
        dirfd = os.open(self._path.parent, os.O_RDONLY)
        try:
            os.fsync(dirfd)
        finally:
            os.close(dirfd)
        return self._fd

    def _serve(self) -> None:
        stop = False
        while not stop:
            calls = [self._calls.get()]
            while not self._calls.empty():
                calls.append(self._calls.get_nowait())
            if None in calls:
                stop = True
            waiting = [c for c in calls if c is not None]
            if not waiting:
                continue
            error: BaseException | None = None
            try:
                os.fdatasync(self._open())
            except BaseException as exc:
                error = exc
            for loop, future in waiting:
                try:
                    loop.call_soon_threadsafe(_settle, future, None, error)
                except RuntimeError:
                    pass  # the loop is closed: nobody is waiting any more
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _copy(self) -> None:
        conn: sqlite3.Connection | None = None
        while True:
            self._grown.wait()
            self._grown.clear()
            if self._stopping:
                break
            try:
                if conn is None:
                    conn = sqlitefiles.connect(self._path)
                conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
            except sqlite3.Error:
                pass  # busy (another process checkpoints): the next look tries again
        if conn is not None:
            conn.close()

    async def close(self) -> None:
        if self._thread is not None:
            self._calls.put(None)
            await asyncio.to_thread(self._thread.join)
            self._thread = None
        if self._copier is not None:
            self._stopping = True
            self._grown.set()
            await asyncio.to_thread(self._copier.join)
            self._copier = None


class _Busy(Exception):
    """Another connection holds the write lock: the loop does not wait for it."""


_KEY_COLUMNS = "scope, key_id, master_id, wrapped, created_ms"


def _data_keys(conn: sqlite3.Connection) -> list[WrappedKey]:
    rows = conn.execute(f"SELECT {_KEY_COLUMNS} FROM data_keys").fetchall()
    return [WrappedKey(r[0], r[1], r[2], bytes(r[3]), r[4]) for r in rows]


class SQLiteStore(Store):
    def __init__(
        self,
        path: Path,
        synchronous: str = "full",
        keyring: Keyring | None = None,
        commit: str = "thread",
    ) -> None:
        self.path = path
        self.synchronous = synchronous
        self.keyring = keyring
        self.commit = commit
        self._writer = _Connection(path, "sqlite-writer", synchronous)
        self._reader = _Connection(path, "sqlite-reader")
        # Appends on the event loop (see the module's docstring), with the heads of the
        # logs it appended to, good while no other connection has written since.
        self._appender: sqlite3.Connection | None = None
        self._heads: dict[str, Entry] = {}
        self._data_version = -1
        self._sync = _WalSync(path)
        self._commits = 0

    def describe(self) -> str:
        options = [] if self.synchronous == "full" else [f"synchronous={self.synchronous}"]
        if self.commit != "thread":
            options.append(f"commit={self.commit}")
        return f"sqlite:{self.path}" + ("?" + "&".join(options) if options else "")

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        await self._writer.run(lambda conn: sqlitefiles.create_schema(conn, _SCHEMA))
        await self._writer.run(self._check_keys)
        if self.commit == "loop":
            self._appender = await self._writer.run(lambda _: self._connect_appender())

    def _connect_appender(self) -> sqlite3.Connection:
        # NORMAL: the commit itself does not sync; _WalSync does, off the loop (unless
        # the store was asked for NORMAL). No busy wait, no checkpoints: neither may
        # block the loop.
        conn = sqlitefiles.connect(self.path, "normal")
        conn.execute("PRAGMA busy_timeout=0")
        conn.execute("PRAGMA wal_autocheckpoint=0")
        return conn

    def _check_keys(self, conn: sqlite3.Connection) -> None:
        """Encrypted data needs its master key, and the two never mix in one file."""
        keys = _data_keys(conn)
        if self.keyring is None:
            if keys:
                raise MasterKeyError(
                    f"{self.path} is encrypted (master key {keys[0].master_id}): "
                    "set SINOPIA_KEY_URL to that key's file"
                )
            return
        if not keys and conn.execute("SELECT 1 FROM entries LIMIT 1").fetchone():
            raise MasterKeyError(
                f"{self.path} holds unencrypted history, which is not mixed with encrypted "
                "data: start without SINOPIA_KEY_URL (or encrypt it first: "
                "`sinopia admin key encrypt`)"
            )
        self.keyring.add_all(keys)

    def _ensure_keys(self, conn: sqlite3.Connection, docs: Sequence[str]) -> None:
        """Make the data keys of workspaces that have none yet, in a transaction of their
        own, before anything is sealed with them."""
        keyring = self.keyring
        if keyring is None:
            return
        missing = {workspace_of(d) for d in docs if not keyring.has(workspace_of(d))}
        if not missing:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            for key in _data_keys(conn):  # another process's, made since we looked
                if key.scope in missing:
                    keyring.add(key)
                    missing.discard(key.scope)
            made = [keyring.new_key(scope) for scope in sorted(missing)]
            conn.executemany(
                f"INSERT INTO data_keys ({_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                [(k.scope, k.key_id, k.master_id, k.wrapped, k.created_ms) for k in made],
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        keyring.add_all(made)

    def _readable(self, conn: sqlite3.Connection, blobs: Sequence[bytes]) -> None:
        """Load data keys made by another process since we opened (a new workspace)."""
        keyring = self.keyring
        if keyring is not None and not all(keyring.knows(b) for b in blobs):
            keyring.add_all(_data_keys(conn))

    async def close(self) -> None:
        if self._appender is not None:
            self._appender.close()
            self._appender = None
        await self._sync.close()
        await self._writer.close()
        await self._reader.close()

    async def ping(self) -> None:
        await self._reader.run(lambda conn: conn.execute("SELECT 1").fetchone())

    async def append_batch(
        self, batch: Sequence[tuple[str, Sequence[NewEntry]]]
    ) -> list[list[Entry]]:
        conn = self._appender
        keyring = self.keyring
        if conn is not None and (
            keyring is None or all(keyring.has(workspace_of(doc)) for doc, _ in batch)
        ):
            try:
                results = self._append_now(conn, batch)
            except _Busy:
                pass  # the writer thread waits for the lock instead
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: {exc}") from exc
            else:
                self._commits += 1
                if self._commits % CHECKPOINT_EVERY_COMMITS == 0:
                    self._sync.copy_back()
                if self.synchronous == "full":
                    try:
                        await self._sync.sync()
                    except OSError as exc:
                        raise StoreError(f"{self.path}: syncing the log failed: {exc}") from exc
                return results
        return await self._append_on_thread(batch)

    def _insert(
        self,
        conn: sqlite3.Connection,
        batch: Sequence[tuple[str, Sequence[NewEntry]]],
        heads: dict[str, Entry],
        known: Callable[[str], Entry | None],
    ) -> list[list[Entry]]:
        """Chain each document's new entries after its head and insert them, in the open
        transaction. `heads` collects the new heads (a document may come twice in a batch);
        `known` gives a head known without reading it (the loop's cache), else it is read."""
        results = []
        for doc, new in batch:
            head = heads.get(doc) or known(doc) or _head(conn, doc)
            stored = chain(doc, head, new)
            if stored:
                heads[doc] = stored[-1]
            results.append(stored)
        conn.executemany(
            f"INSERT INTO entries ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    e.doc,
                    e.seq,
                    seal(self.keyring, ENTRY, e.doc, e.seq, e.update),
                    e.time_ms,
                    e.client_id,
                    e.principal,
                    e.prev_hash,
                    e.hash,
                )
                for stored in results
                for e in stored
            ],
        )
        return results

    def _append_now(
        self, conn: sqlite3.Connection, batch: Sequence[tuple[str, Sequence[NewEntry]]]
    ) -> list[list[Entry]]:
        """The append, on the loop: no waiting for a lock, no sync (the caller's)."""
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise _Busy from exc
            raise
        heads = self._heads
        try:
            # Another connection (a process, our writer thread) wrote since our last
            # commit: the heads we know may be stale.
            version = conn.execute("PRAGMA data_version").fetchone()[0]
            if version != self._data_version:
                heads.clear()
            new_heads: dict[str, Entry] = {}
            results = self._insert(conn, batch, new_heads, lambda doc: heads.get(doc))
            conn.execute("COMMIT")
        except BaseException:
            heads.clear()
            self._data_version = -1
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self._data_version = version
        if len(heads) + len(new_heads) > HEAD_CACHE_DOCS:
            heads.clear()
        # Only what chaining after a head needs: not its update, which may be big.
        for doc, head in new_heads.items():
            heads[doc] = dataclasses.replace(head, update=b"")
        return results

    async def _append_on_thread(
        self, batch: Sequence[tuple[str, Sequence[NewEntry]]]
    ) -> list[list[Entry]]:
        def write(conn: sqlite3.Connection) -> list[list[Entry]]:
            # IMMEDIATE takes the write lock first, so the head we read cannot move under us
            # even if another process appends to the same file.
            self._ensure_keys(conn, [doc for doc, new in batch if new])
            conn.execute("BEGIN IMMEDIATE")
            try:
                results = self._insert(conn, batch, {}, lambda _doc: None)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return results

        return await self._writer.run(write)

    async def read(
        self, doc: str, after: int = 0, limit: int | None = None, upto: int | None = None
    ) -> list[Entry]:
        def read(conn: sqlite3.Connection) -> list[Entry]:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM entries WHERE doc = ? AND seq > ? AND seq <= ? "
                "ORDER BY seq LIMIT ?",
                (doc, after, _MAX if upto is None else upto, -1 if limit is None else limit),
            ).fetchall()
            return self._entries(conn, rows)

        return await self._reader.run(read)

    async def read_newest(
        self, doc: str, before: int | None = None, limit: int = 50
    ) -> list[Entry]:
        def read(conn: sqlite3.Connection) -> list[Entry]:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM entries WHERE doc = ? AND seq < ? "
                "ORDER BY seq DESC LIMIT ?",
                (doc, _MAX if before is None else before, limit),
            ).fetchall()
            return self._entries(conn, rows)

        return await self._reader.run(read)

    def _entries(self, conn: sqlite3.Connection, rows: list[tuple]) -> list[Entry]:
        self._readable(conn, [bytes(r[2]) for r in rows[:1]] + [bytes(r[2]) for r in rows[-1:]])
        return [_entry(row, self.keyring) for row in rows]

    async def seq_at(self, doc: str, time_ms: int) -> int:
        def read(conn: sqlite3.Connection) -> int:
            row = conn.execute(
                "SELECT MAX(seq) FROM entries WHERE doc = ? AND time_ms <= ?", (doc, time_ms)
            ).fetchone()
            return row[0] or 0

        return await self._reader.run(read)

    async def write_seal(self, seal: Seal) -> None:
        s = seal
        await self._writer.run(
            lambda conn: conn.execute(
                "INSERT OR IGNORE INTO seals (doc, first_seq, last_seq, last_hash, time_ms, "
                "key_id, signature) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (s.doc, s.first_seq, s.last_seq, s.last_hash, s.time_ms, s.key_id, s.signature),
            )
        )

    async def seals(self, doc: str) -> list[Seal]:
        def read(conn: sqlite3.Connection) -> list[Seal]:
            rows = conn.execute(
                "SELECT doc, first_seq, last_seq, last_hash, time_ms, key_id, signature "
                "FROM seals WHERE doc = ? ORDER BY last_seq",
                (doc,),
            ).fetchall()
            return [Seal(r[0], r[1], r[2], bytes(r[3]), r[4], r[5], bytes(r[6])) for r in rows]

        return await self._reader.run(read)

    async def add_version(self, version: Version) -> None:
        v = version

        def write(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    "INSERT INTO versions (doc, name, seq, time_ms, principal, note) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (v.doc, v.name, v.seq, v.time_ms, v.principal, self._seal_note(v)),
                )
            except sqlite3.IntegrityError:
                raise VersionExists(f"version {v.name!r} already exists") from None

        await self._writer.run(write)

    async def versions(self, doc: str) -> list[Version]:
        def read(conn: sqlite3.Connection) -> list[Version]:
            rows = conn.execute(
                "SELECT doc, name, seq, time_ms, principal, note FROM versions WHERE doc = ? "
                "ORDER BY seq, time_ms, name",
                (doc,),
            ).fetchall()
            self._readable(conn, [bytes(r[5]) for r in rows if isinstance(r[5], bytes)])
            return [Version(*row[:5], self._unseal_note(row)) for row in rows]

        return await self._reader.run(read)

    def _seal_note(self, v: Version) -> str | bytes:
        if self.keyring is None:
            return v.note
        return seal(self.keyring, VERSION_NOTE, v.doc, v.seq, v.note.encode(), v.name)

    def _unseal_note(self, row: tuple) -> str:
        doc, name, seq, _, _, note = row
        if self.keyring is None:
            return str(note)
        return unseal(self.keyring, VERSION_NOTE, doc, seq, bytes(note), name).decode()

    async def latest_checkpoint(self, doc: str, at_most: int | None = None) -> Checkpoint | None:
        def read(conn: sqlite3.Connection) -> Checkpoint | None:
            row = conn.execute(
                "SELECT doc, seq, state, time_ms FROM checkpoints WHERE doc = ? AND seq <= ? "
                "ORDER BY seq DESC LIMIT 1",
                (doc, _MAX if at_most is None else at_most),
            ).fetchone()
            if row is None:
                return None
            self._readable(conn, [bytes(row[2])])
            state = unseal(self.keyring, CHECKPOINT, row[0], row[1], bytes(row[2]))
            return Checkpoint(row[0], row[1], state, row[3])

        return await self._reader.run(read)

    async def write_checkpoint(self, checkpoint: Checkpoint) -> None:
        c = checkpoint

        def write(conn: sqlite3.Connection) -> None:
            self._ensure_keys(conn, [c.doc])
            state = seal(self.keyring, CHECKPOINT, c.doc, c.seq, c.state)
            conn.execute(
                "INSERT OR IGNORE INTO checkpoints (doc, seq, state, time_ms) VALUES (?, ?, ?, ?)",
                (c.doc, c.seq, state, c.time_ms),
            )

        await self._writer.run(write)

    async def head(self, doc: str) -> int:
        def read(conn: sqlite3.Connection) -> int:
            row = conn.execute("SELECT MAX(seq) FROM entries WHERE doc = ?", (doc,)).fetchone()
            return row[0] or 0

        return await self._reader.run(read)

    async def documents(self, prefix: str = "") -> list[str]:
        def read(conn: sqlite3.Connection) -> list[str]:
            escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            rows = conn.execute(
                "SELECT DISTINCT doc FROM entries WHERE doc LIKE ? ESCAPE '\\' ORDER BY doc",
                (escaped + "%",),
            ).fetchall()
            return [row[0] for row in rows]

        return await self._reader.run(read)

    # -- data keys ---------------------------------------------------------------------

    async def data_keys(self) -> list[WrappedKey]:
        return await self._reader.run(_data_keys)

    async def put_data_keys(self, keys: Sequence[WrappedKey]) -> None:
        def write(conn: sqlite3.Connection) -> None:
            # The key records as they were (under the old master key) leave the file.
            conn.execute("PRAGMA secure_delete = ON")
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(
                    "UPDATE data_keys SET master_id = ?, wrapped = ? WHERE key_id = ?",
                    [(k.master_id, k.wrapped, k.key_id) for k in keys],
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            _checkpoint(conn)

        await self._writer.run(write)

    async def encrypt_existing(self, keyring: Keyring) -> int:
        def encrypt(conn: sqlite3.Connection) -> int:
            if _data_keys(conn):
                raise MasterKeyError(f"{self.path} is encrypted already")
            docs = [r[0] for r in conn.execute("SELECT DISTINCT doc FROM entries")]
            docs += [r[0] for r in conn.execute("SELECT DISTINCT doc FROM checkpoints")]
            self.keyring = keyring
            self._ensure_keys(conn, docs)
            # Old pages zeroed as they are freed, then the file rewritten without them.
            conn.execute("PRAGMA secure_delete = ON")
            conn.execute("BEGIN IMMEDIATE")
            try:
                done = _encrypt_rows(conn, keyring)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("VACUUM")
            _checkpoint(conn)
            return done

        return await self._writer.run(encrypt)

    async def ensure_data_key(self, workspace: str) -> None:
        keyring = self.keyring
        if keyring is not None and not keyring.has(workspace):
            await self._writer.run(lambda conn: self._ensure_keys(conn, [workspace + "/"]))

    async def delete_workspace(self, workspace: str) -> list[str]:
        prefix = workspace + "/"
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        like = "doc LIKE ? ESCAPE '\\'"

        def delete(conn: sqlite3.Connection) -> list[str]:
            conn.execute("PRAGMA secure_delete = ON")
            conn.execute("BEGIN IMMEDIATE")
            try:
                docs = [
                    r[0]
                    for r in conn.execute(
                        f"SELECT DISTINCT doc FROM entries WHERE {like} ORDER BY doc", (escaped,)
                    )
                ]
                for table in ("entries", "checkpoints", "seals", "versions"):
                    conn.execute(f"DELETE FROM {table} WHERE {like}", (escaped,))
                conn.execute("DELETE FROM data_keys WHERE scope = ?", (workspace,))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            _checkpoint(conn)
            return docs

        docs = await self._writer.run(delete)
        if self.keyring is not None:
            self.keyring.forget(workspace)
        return docs


def _encrypt_rows(conn: sqlite3.Connection, keyring: Keyring) -> int:
    done = 0
    rows = conn.execute("SELECT doc, seq, data FROM entries").fetchall()
    conn.executemany(
        "UPDATE entries SET data = ? WHERE doc = ? AND seq = ?",
        [(seal(keyring, ENTRY, doc, seq, bytes(data)), doc, seq) for doc, seq, data in rows],
    )
    done += len(rows)
    rows = conn.execute("SELECT doc, seq, state FROM checkpoints").fetchall()
    conn.executemany(
        "UPDATE checkpoints SET state = ? WHERE doc = ? AND seq = ?",
        [(seal(keyring, CHECKPOINT, d, s, bytes(state)), d, s) for d, s, state in rows],
    )
    done += len(rows)
    rows = conn.execute("SELECT doc, name, seq, note FROM versions").fetchall()
    conn.executemany(
        "UPDATE versions SET note = ? WHERE doc = ? AND name = ?",
        [
            (seal(keyring, VERSION_NOTE, d, s, str(note).encode(), n), d, n)
            for d, n, s, note in rows
        ],
    )
    return done + len(rows)


def _checkpoint(conn: sqlite3.Connection) -> None:
    """Leave no copy of deleted or replaced rows in the files: with secure_delete on, what
    a change frees is zeroed, and a TRUNCATE checkpoint writes that into the database
    file and empties the write-ahead log, whose older frames held the rows as they were."""
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
