"""Finding the document a REST path names, and reading its past."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pycrdt import Doc
from starlette.requests import Request

from annotations import schema
from crdt import DocumentName, Store
from crdt.errors import InvalidName
from crdt.history import OutOfRange, seq_at_time
from server.api import past as history
from server.http.problems import HTTPProblem


def document_name(request: Request) -> DocumentName:
    p = request.path_params
    try:
        return DocumentName.of(p["workspace"], p["kind"], p["id"])
    except InvalidName as exc:
        raise HTTPProblem(404, f"no such document: {exc}") from None


async def existing(store: Store, name: DocumentName) -> int:
    """The head of a document's log; 404 if it has none."""
    head = await store.head(str(name))
    if head == 0:
        raise HTTPProblem(404, f"no such document: {name}")
    return head


def int_param(
    request: Request, key: str, default: int | None = None, minimum: int = 0
) -> int | None:
    raw = request.query_params.get(key)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HTTPProblem(400, f"{key} must be an integer, not {raw!r}") from None
    if value < minimum:
        raise HTTPProblem(400, f"{key} must be at least {minimum}")
    return value


def time_param(raw: str, key: str) -> int:
    """An ISO 8601 time (with a zone, or UTC) as milliseconds since the epoch."""
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise HTTPProblem(400, f"{key} must be an ISO 8601 time, not {raw!r}") from None
    if when.tzinfo is None:
        raise HTTPProblem(400, f"{key} needs a time zone, e.g. {raw}Z")
    return int(when.timestamp() * 1000)


async def past_doc(store: Store, name: DocumentName, seq: int) -> Doc:
    try:
        return await history.past(store, name, seq)
    except OutOfRange as exc:
        raise HTTPProblem(404, str(exc)) from None


async def seq_at(store: Store, name: DocumentName, at: str) -> int:
    try:
        return await seq_at_time(store, str(name), time_param(at, "at"))
    except OutOfRange as exc:
        raise HTTPProblem(404, str(exc)) from None


async def snapshot_at(store: Store, name: DocumentName, seq: int) -> dict[str, Any]:
    doc = await past_doc(store, name, seq)
    return schema.snapshot(doc, name.kind)
