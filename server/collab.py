"""The live document endpoint, `/collab/{workspace}/{kind}/{id}`: the y-websocket protocol,
unmodified, between a websocket and the document's room."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import deque
from collections.abc import Coroutine
from typing import Any

from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from crdt import CollabError, DocumentName, Room, RoomManager
from crdt.errors import InvalidName, MalformedMessage
from crdt.protocol import KEEPALIVE_MESSAGE

log = logging.getLogger("sinopia.collab")


async def _resume(coro: Coroutine[Any, Any, None], waiting: Any) -> None:
    """Finish a coroutine that was started by hand and is now waiting on `waiting`."""
    while True:
        try:
            if waiting is None:
                await asyncio.sleep(0)  # a bare yield: just let the loop run once
            else:
                await waiting
        except BaseException as exc:
            try:
                waiting = coro.throw(exc)
            except StopIteration:
                return
            continue
        try:
            waiting = coro.send(None)
        except StopIteration:
            return


class Connection:
    """One client socket, as the room sees it (`crdt.Peer`).

    A message to an idle socket is written at once, inside the room's broadcast: the ASGI
    send is started by hand and, as long as the transport takes the bytes (the common
    case), it completes without a task or a loop turn, which is most of what a delivery
    costs. If the socket pushes back (flow control), the rest of that send and everything
    after it is written by a task, in order, so one slow client never holds up a room; a
    client whose backlog passes the limit is disconnected instead of growing the server's
    memory (it resyncs when it reconnects).
    """

    def __init__(self, websocket: WebSocket, send: Send, doc: str, max_queue_bytes: int) -> None:
        self.websocket = websocket
        self._send = send
        self.doc = doc
        self.id = secrets.token_hex(8)
        self.principal = "anonymous"
        self.can_write = True
        self.max_queue_bytes = max_queue_bytes
        self.opened = time.monotonic()
        self.last_sent = self.opened
        self.messages_in = self.bytes_in = self.messages_out = self.bytes_out = 0
        self.close_code: int | None = None
        self.close_reason = ""
        # The client closed or vanished: nothing more can be delivered.
        self.disconnected = False
        self._queue: deque[bytes] = deque()
        self._queued_bytes = 0
        # The task writing the backlog (and finally the close frame), while there is one.
        self._writer: asyncio.Task[None] | None = None
        self._closed = False

    def __hash__(self) -> int:
        return id(self)

    def send(self, message: bytes) -> None:
        if self.close_code is not None or self.disconnected:
            return
        if self._writer is not None:
            self._queue.append(message)
            self._queued_bytes += len(message)
            if self._queued_bytes > self.max_queue_bytes:
                self._queue.clear()
                self._queued_bytes = 0
                # 1013 "try again later", not a 44xx code: y-websocket treats 4400-4499 as
                # permanent and would stop reconnecting, and this client should come back.
                self.close(1013, "too slow: send queue full, reconnect")
            return
        coro = self._send({"type": "websocket.send", "bytes": message})
        try:
            waiting = coro.send(None)
        except StopIteration:
            self._sent(message)
            return
        except OSError:  # uvicorn's ClientDisconnected
            self.disconnected = True
            return
        self._writer = asyncio.get_running_loop().create_task(self._write(coro, waiting, message))

    def _sent(self, message: bytes) -> None:
        self.messages_out += 1
        self.bytes_out += len(message)
        self.last_sent = time.monotonic()

    async def _write(
        self,
        started: Coroutine[Any, Any, None] | None = None,
        waiting: Any = None,
        message: bytes = b"",
    ) -> None:
        try:
            if started is not None:
                await _resume(started, waiting)
                self._sent(message)
            while self._queue:
                message = self._queue.popleft()
                self._queued_bytes -= len(message)
                await self._send({"type": "websocket.send", "bytes": message})
                self._sent(message)
            if self.close_code is not None and not self._closed:
                self._closed = True
                await self._send(
                    {
                        "type": "websocket.close",
                        "code": self.close_code,
                        "reason": self.close_reason,
                    }
                )
        except (OSError, RuntimeError):
            # The client went away (or the socket is already closed): nothing to deliver to.
            self.disconnected = True
        finally:
            self._writer = None
            if self._queue and not self.disconnected:
                self._writer = asyncio.get_running_loop().create_task(self._write())

    def close(self, code: int, reason: str) -> None:
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
        if self._writer is None and not self._closed and not self.disconnected:
            self._writer = asyncio.get_running_loop().create_task(self._write())

    def keepalive(self, idle_seconds: float, now: float) -> None:
        if now - self.last_sent >= idle_seconds and self._writer is None:
            self.send(KEEPALIVE_MESSAGE)

    async def finish(self, timeout: float = 5.0) -> None:
        """Write what is queued and the close frame, bounded by `timeout`."""
        if self.disconnected:
            if self._writer is not None:
                self._writer.cancel()
            return
        self.close(1000, "")
        writer = self._writer
        if writer is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(writer), timeout)
        except TimeoutError:
            writer.cancel()


class Collab:
    """The endpoint, bound to the app's room manager; tracks every open connection."""

    def __init__(self, manager: RoomManager, max_queue_bytes: int) -> None:
        self.manager = manager
        self.max_queue_bytes = max_queue_bytes
        self.connections: set[Connection] = set()
        self.errors: dict[int, int] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A raw ASGI app: the hot path (every frame in, every delivery out) talks to the
        # server's receive/send directly; Starlette's WebSocket serves the handshake.
        websocket = WebSocket(scope, receive, send)
        params = websocket.path_params
        raw_name = f"{params['workspace']}/{params['kind']}/{params['id']}"
        conn = Connection(websocket, send, raw_name, self.max_queue_bytes)
        await websocket.accept()
        self.connections.add(conn)
        room: Room | None = None
        try:
            try:
                name = str(DocumentName.parse(raw_name))
            except InvalidName as exc:
                raise MalformedMessage(f"invalid document name: {exc}") from None
            room = await self.manager.join(name, conn)
            await self._serve(receive, conn, room)
        except CollabError as exc:
            self._error(conn, exc)
        except Exception:
            log.exception(
                "connection failed", extra={"event": "error", "doc": raw_name, "conn": conn.id}
            )
            conn.close(1011, "internal error")
            self.errors[1011] = self.errors.get(1011, 0) + 1
        finally:
            if room is not None:
                self.manager.leave(room, conn)
            await conn.finish()
            self.connections.discard(conn)
            self._log_connection(websocket, conn)

    async def _serve(self, receive: Receive, conn: Connection, room: Room) -> None:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                conn.disconnected = True
                if conn.close_code is None:
                    conn.close_code = message.get("code", 1005)
                    conn.close_reason = message.get("reason") or ""
                return
            data = message.get("bytes")
            if data is None:
                raise MalformedMessage("text frames are not part of the protocol")
            conn.messages_in += 1
            conn.bytes_in += len(data)
            room.receive(conn, data)
            if conn.close_code is not None:
                return

    def _error(self, conn: Connection, exc: CollabError) -> None:
        self.errors[exc.code] = self.errors.get(exc.code, 0) + 1
        log.warning(
            "connection refused: %s",
            exc.reason,
            extra={"event": "error", "doc": conn.doc, "conn": conn.id, "code": exc.code},
        )
        conn.close(exc.code, exc.reason)

    def _log_connection(self, websocket: WebSocket, conn: Connection) -> None:
        client = websocket.client
        log.info(
            "connection closed",
            extra={
                "event": "connection",
                "doc": conn.doc,
                "conn": conn.id,
                "principal": conn.principal,
                "remote": f"{client.host}:{client.port}" if client else None,
                "seconds": round(time.monotonic() - conn.opened, 3),
                "messages_in": conn.messages_in,
                "bytes_in": conn.bytes_in,
                "messages_out": conn.messages_out,
                "bytes_out": conn.bytes_out,
                "code": conn.close_code,
                "reason": conn.close_reason,
            },
        )

    async def keepalive_forever(self, idle_seconds: float) -> None:
        while True:
            await asyncio.sleep(idle_seconds / 2)
            now = time.monotonic()
            for conn in list(self.connections):
                conn.keepalive(idle_seconds, now)

    async def shutdown(self) -> None:
        """Tell every client to reconnect elsewhere (1001) and let the messages go out."""
        for conn in list(self.connections):
            conn.close(1001, "server going away")
        with contextlib.suppress(Exception):
            await asyncio.gather(*(c.finish(2.0) for c in list(self.connections)))
