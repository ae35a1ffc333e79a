"""The directory in SQLite: `directory.db` in the data directory (WAL mode), shared by the
server and the `sinopia admin` commands, which may run at the same time."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from crdt import sqlitefiles
from server.directory import INDEXED, UNIQUE, AuditEvent, Directory, DirectoryError, Exists

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time_ms INTEGER NOT NULL,
    workspace TEXT,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_workspace ON audit (workspace, seq);
CREATE TABLE IF NOT EXISTS generation (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO generation VALUES (1, 0);
"""


def _indexes() -> str:
    statements = []
    for kind, keys in INDEXED.items():
        for key in keys:
            unique = "UNIQUE " if key in UNIQUE.get(kind, ()) else ""
            statements.append(
                f"CREATE {unique}INDEX IF NOT EXISTS records_{kind}_{key} "
                f"ON records (json_extract(data, '$.{key}')) WHERE kind = '{kind}';"
            )
    return "\n".join(statements)


class SQLiteDirectory(Directory):
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        # One thread owns the connection: calls never block the event loop and never race.
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="directory")

    def describe(self) -> str:
        return f"sqlite:{self.path}"

    async def open(self) -> None:
        await self._run(self._open)

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # The server and the admin commands write the same file: wait for each other.
        db = sqlitefiles.connect(self.path)
        # What a change frees (an erased person's record, a deleted workspace's members)
        # is zeroed in the file, not left in free pages.
        db.execute("PRAGMA secure_delete = ON")
        sqlitefiles.create_schema(db, _SCHEMA + _indexes())
        self._db = db

    async def close(self) -> None:
        if self._db is not None:
            await self._run(self._db.close)
            self._db = None
        self._thread.shutdown(wait=True)

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._thread, fn, *args)
        except sqlite3.IntegrityError as exc:
            raise Exists(str(exc)) from None
        except sqlite3.Error as exc:
            raise DirectoryError(f"{self.path}: {exc}") from exc

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise DirectoryError("directory is not open")
        return self._db

    # -- primitives ----------------------------------------------------------------------

    async def generation(self) -> int:
        def read() -> int:
            return int(self.db.execute("SELECT value FROM generation").fetchone()[0])

        return await self._run(read)

    async def _get(self, kind: str, id: str) -> dict[str, Any] | None:
        def read() -> dict[str, Any] | None:
            row = self.db.execute(
                "SELECT data FROM records WHERE kind = ? AND id = ?", (kind, id)
            ).fetchone()
            return json.loads(row[0]) if row else None

        return await self._run(read)

    async def _find(self, kind: str, key: str, value: Any) -> list[dict[str, Any]]:
        if key not in INDEXED[kind]:
            raise ValueError(f"{kind}.{key} is not indexed")

        def read() -> list[dict[str, Any]]:
            rows = self.db.execute(
                f"SELECT data FROM records WHERE kind = ? AND json_extract(data, '$.{key}') = ?",
                (kind, value),
            )
            return [json.loads(r[0]) for r in rows]

        return await self._run(read)

    async def _all(self, kind: str) -> list[dict[str, Any]]:
        def read() -> list[dict[str, Any]]:
            rows = self.db.execute("SELECT data FROM records WHERE kind = ?", (kind,))
            return [json.loads(r[0]) for r in rows]

        return await self._run(read)

    def _write(self, statements: Callable[[sqlite3.Connection], T]) -> T:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            result = statements(db)
            db.execute("UPDATE generation SET value = value + 1")
            db.execute("COMMIT")
            return result
        except BaseException:
            db.execute("ROLLBACK")
            raise

    async def _insert(self, kind: str, id: str, data: dict[str, Any]) -> None:
        def insert(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO records (kind, id, data) VALUES (?, ?, ?)",
                (kind, id, json.dumps(data)),
            )

        try:
            await self._run(self._write, insert)
        except Exists:
            raise Exists(f"{kind} {id!r} (or one with the same name) exists") from None

    async def _put(self, kind: str, id: str, data: dict[str, Any]) -> dict[str, Any] | None:
        def put(db: sqlite3.Connection) -> dict[str, Any] | None:
            row = db.execute(
                "SELECT data FROM records WHERE kind = ? AND id = ?", (kind, id)
            ).fetchone()
            db.execute(
                "INSERT INTO records (kind, id, data) VALUES (?, ?, ?) "
                "ON CONFLICT (kind, id) DO UPDATE SET data = excluded.data",
                (kind, id, json.dumps(data)),
            )
            return json.loads(row[0]) if row else None

        return await self._run(self._write, put)

    async def _claim(self, kind: str, id: str, unset: str, data: dict[str, Any]) -> bool:
        def claim(db: sqlite3.Connection) -> bool:
            cursor = db.execute(
                "UPDATE records SET data = ? WHERE kind = ? AND id = ? "
                f"AND json_extract(data, '$.{unset}') IS NULL",
                (json.dumps(data), kind, id),
            )
            return cursor.rowcount == 1

        return await self._run(self._write, claim)

    async def _delete(self, kind: str, id: str) -> dict[str, Any] | None:
        def delete(db: sqlite3.Connection) -> dict[str, Any] | None:
            row = db.execute(
                "DELETE FROM records WHERE kind = ? AND id = ? RETURNING data", (kind, id)
            ).fetchone()
            return json.loads(row[0]) if row else None

        return await self._run(self._write, delete)

    async def add_event(self, event: AuditEvent) -> AuditEvent:
        data = {k: v for k, v in event.__dict__.items() if k != "seq"}

        def add() -> int:
            cursor = self.db.execute(
                "INSERT INTO audit (time_ms, workspace, data) VALUES (?, ?, ?)",
                (event.time_ms, event.workspace, json.dumps(data)),
            )
            return int(cursor.lastrowid or 0)

        seq = await self._run(add)
        return AuditEvent(**{**data, "seq": seq})

    async def events(
        self, workspace: str | None, *, limit: int = 100, before: int | None = None
    ) -> list[AuditEvent]:
        def read() -> list[AuditEvent]:
            where = "workspace IS NULL" if workspace is None else "workspace = ?"
            args: list[Any] = [] if workspace is None else [workspace]
            rows = self.db.execute(
                f"SELECT seq, data FROM audit WHERE {where} AND seq < ? ORDER BY seq DESC LIMIT ?",
                (*args, before or (1 << 62), limit),
            )
            return [AuditEvent(**{**json.loads(d), "seq": s}) for s, d in rows]

        return await self._run(read)
