"""The document a REST path names, opened: its name from the path (404 when malformed),
its live room held while a handler uses it, and a write as one transaction on it, stored
and relayed to every connected client as a client's own update would be."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from pycrdt import Doc
from starlette.requests import Request

from crdt import DocumentName, Room, RoomManager, Store
from crdt.errors import CollabError, InvalidName, TooLarge
from server.http.problems import HTTPProblem
from server.http.requests import principal

SUBJECT_KINDS = ("canvas", "model")


def document_name(request: Request) -> DocumentName:
    """`{workspace}/{kind}/{id}` of the path; 404 if it is no valid document name."""
    p = request.path_params
    try:
        return DocumentName.of(p["workspace"], p["kind"], p["id"])
    except InvalidName as exc:
        raise HTTPProblem(404, f"no such document: {exc}") from None


def subject_name(request: Request) -> DocumentName:
    """The canvas or model document in the path; 404 for anything else."""
    name = document_name(request)
    if name.kind not in SUBJECT_KINDS:
        raise HTTPProblem(404, f"{name.kind} documents have no annotation container")
    return name


def manager_of(request: Request) -> RoomManager:
    rooms: RoomManager = request.app.state.manager
    return rooms


def store_of(request: Request) -> Store:
    return manager_of(request).store


async def existing(log: Store, name: DocumentName) -> int:
    """The head of a document's log; 404 if it has none."""
    head = await log.head(str(name))
    if head == 0:
        raise HTTPProblem(404, f"no such document: {name}")
    return head


async def stored(request: Request) -> tuple[Store, DocumentName, int]:
    """The store, the document the path names and the head of its log; 404 when the
    document has no history."""
    log = store_of(request)
    name = document_name(request)
    return log, name, await existing(log, name)


def live(request: Request, name: DocumentName) -> AbstractAsyncContextManager[Room]:
    """The live room of `name`, held (not evicted) while in use."""
    return manager_of(request).hold(str(name))


async def write(request: Request, room: Room, change: Callable[[Doc], Any], size: int = 0) -> None:
    """`change` as one transaction on the live document, attributed to the caller: stored,
    then relayed to every connected client."""
    try:
        await room.write(principal(request), change, size_hint=size)
    except TooLarge as exc:
        raise HTTPProblem(413, exc.reason) from None
    except CollabError as exc:
        raise HTTPProblem(503, exc.reason, headers={"Retry-After": "1"}) from None
