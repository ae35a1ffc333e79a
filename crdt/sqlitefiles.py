"""Opening an SQLite file that other processes open too: server instances sharing a data
directory, `sinopia admin` beside a running server.

SQLite waits for another connection's lock (the busy timeout) in most places, but not in
two that matter here, which fail at once with "database is locked": switching a file to
WAL mode while another process opens it, and a transaction that read first and then wants
to write after another process wrote. `connect` retries the first; `create_schema` avoids
the second by taking the write lock before reading.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

# How long a connection waits for another process's lock before it gives up with
# "database is locked" (SINOPIA_SQLITE_BUSY_SECONDS: read here, where every SQLite file
# of the store, the directory and the spool is opened, for every process alike).
BUSY_SECONDS = float(os.environ.get("SINOPIA_SQLITE_BUSY_SECONDS", "10"))


def connect(path: Path, synchronous: str = "full") -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL journal."""
    conn = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, timeout=BUSY_SECONDS
    )
    deadline = time.monotonic() + BUSY_SECONDS
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                conn.close()
                raise
            # Callers connect on a thread of their own, never on the event loop.
            time.sleep(0.01)
    conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
    return conn


def create_schema(conn: sqlite3.Connection, script: str) -> None:
    """Run `script` (statements separated by `;`, none containing one) in one transaction
    that takes the write lock first, so it waits for other processes instead of failing."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in script.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
