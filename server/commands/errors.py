"""One-line errors: everything a command can fail on is said as `sinopia: error: ...`
with a non-zero exit, never a traceback (`SINOPIA_LOG_LEVEL=debug` shows one, for a bug
report)."""

from __future__ import annotations

import errno
import os
import sqlite3
import sys
import traceback

from pydantic import ValidationError

from crdt.errors import CollabError
from crdt.store import StoreError
from server.directory import DirectoryError
from server.directory.operations import Refused

# Exit statuses: 1 for what went wrong while doing it, 2 for how it was asked.
FAILED = 1
USAGE = 2


class Fail(Exception):
    """What a command says when it cannot do what was asked, and the exit status."""

    def __init__(self, message: str, status: int = FAILED) -> None:
        super().__init__(message)
        self.status = status


def _database(message: str) -> str:
    if "locked" in message or "busy" in message:
        return (
            f"{message}: another process holds the database's write lock; "
            "try again when it has finished"
        )
    if "not a database" in message or "malformed" in message or "corrupt" in message:
        return (
            f"{message}: the file is damaged or not a Sinopia database; "
            "restore the data directory from a backup"
        )
    if "unable to open" in message:
        return f"{message}: check that the data directory exists and is writable"
    return message


def explain(exc: BaseException) -> tuple[str, int] | None:
    """What to tell the user about `exc` and the exit status; None for a bug."""
    if isinstance(exc, Fail):
        return str(exc), exc.status
    if isinstance(exc, Refused):
        return exc.detail, USAGE if exc.status == 400 else FAILED
    if isinstance(exc, DirectoryError | StoreError | sqlite3.Error):
        return _database(str(exc)), FAILED
    if isinstance(exc, CollabError):
        return exc.reason, FAILED
    if isinstance(exc, ValidationError):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors()
        )
        return f"invalid setting: {problems}", USAGE
    if isinstance(exc, PermissionError):
        return f"{exc.filename}: permission denied", FAILED
    if isinstance(exc, OSError) and exc.errno in (errno.ENOTDIR, errno.EEXIST, errno.EISDIR):
        return f"{exc.filename}: {exc.strerror} (a file stands where a directory should)", FAILED
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror}", FAILED
    module = type(exc).__module__.split(".")[0]
    if module in ("pymongo", "bson", "redis", "httpx", "httpcore"):
        return f"{module}: {exc}", FAILED
    if isinstance(exc, ValueError):
        # Malformed URLs and settings values are ValueErrors from the code that reads them.
        return str(exc), USAGE
    return None


def say(exc: BaseException) -> int:
    """Print `exc` as one line and return the exit status."""
    said = explain(exc)
    if said is None:
        if os.environ.get("SINOPIA_LOG_LEVEL", "").lower() == "debug":
            traceback.print_exception(exc)
        said = (
            f"internal error: {type(exc).__name__}: {exc} (this is a bug; "
            "SINOPIA_LOG_LEVEL=debug prints the details for a report)",
            FAILED,
        )
    message, status = said
    print(f"sinopia: error: {message}", file=sys.stderr)
    return status
