"""The live document endpoint, `/collab/{workspace}/{kind}/{id}`: the y-websocket protocol,
unmodified, between a websocket and the document's room."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from crdt import CollabError, DocumentName, Room, RoomManager
from crdt.errors import InvalidName, MalformedMessage, RateLimited, TryLater
from crdt.protocol import KEEPALIVE_MESSAGE
from server.live.wire import Wire

log = logging.getLogger("sinopia.collab")


# (websocket, connection, document name): sets the connection's principal and rights.
Admit = Callable[[WebSocket, "Connection", str], Awaitable[None]]


class Connection:
    """One client socket, as the room sees it (`crdt.Peer`).

    A message goes straight onto the socket (`server.live.wire`) when nothing is waiting
    before it and the socket takes it; otherwise it is queued and written by a task of its
    own, so one slow client never holds up a room's broadcast. That task exists only while
    there is something queued (an idle watcher costs no task of its own). A client whose
    backlog passes the limit while its socket pushes back is disconnected instead of
    growing the server's memory (it resyncs when it reconnects).
    """

    def __init__(self, websocket: WebSocket, doc: str, max_queue_bytes: int) -> None:
        self.websocket = websocket
        # Set once the socket is accepted, where direct writes are possible.
        self.wire: Wire | None = None
        self.doc = doc
        self.id = secrets.token_hex(8)
        self.principal = "anonymous"
        self.can_write = True
        # Share-link sockets (the public): no presence either way, and refusals for load
        # are "try again later" (1013), which y-websocket retries.
        self.presence = True
        self.public = False
        # Set by the server's admission check (server.auth.Access): who, where, which role;
        # kept up to date while the socket is open.
        self.access: object | None = None
        self.max_queue_bytes = max_queue_bytes
        self.opened = time.monotonic()
        self.last_sent = self.opened
        self.messages_in = self.bytes_in = self.messages_out = self.bytes_out = 0
        self._out_at_tick = 0
        self.close_code: int | None = None
        self.close_reason = ""
        # The client closed or vanished: nothing more can be delivered.
        self.disconnected = False
        self._queue: deque[bytes] = deque()
        self._queued_bytes = 0
        self._blocked = False
        self._writer: asyncio.Task[None] | None = None
        # Told once a close is under way (the endpoint stops waiting for messages).
        self.on_close: Callable[[], None] | None = None

    def __hash__(self) -> int:
        return id(self)

    def _wake(self) -> None:
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write())

    def send(self, message: bytes) -> None:
        # Called once per client for every update relayed: kept to the few checks needed.
        if self.close_code is not None:
            return
        # In order: only when nothing is queued or being written ahead of it.
        wire = self.wire
        if wire is not None and not self._queue and not self._blocked and wire.write(message):
            self.messages_out += 1
            self.bytes_out += len(message)
            return
        self._queue.append(message)
        self._queued_bytes += len(message)
        self._check_backlog()
        self._wake()

    def _check_backlog(self) -> None:
        # Only a backlog behind a socket that pushes back counts (a write is blocked, or
        # the transport refused a direct write): messages waiting for the writer's next
        # turn, such as a big document's full-state sync, do not mean the client is slow.
        if self._queued_bytes <= self.max_queue_bytes:
            return
        if self._blocked or (self.wire is not None and not self.wire.writable()):
            self._queue.clear()
            self._queued_bytes = 0
            # 1013 "try again later", not a 44xx code: y-websocket treats 4400-4499 as
            # permanent and would stop reconnecting, and this client should come back.
            self.close(1013, "too slow: send queue full, reconnect")

    def close(self, code: int, reason: str) -> None:
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
        self._wake()
        if self.on_close is not None:
            self.on_close()

    def keepalive(self, idle_seconds: float, now: float) -> None:
        # Also a periodic look at the backlog, for a room that went quiet meanwhile.
        self._check_backlog()
        # When the last message went out, to within a tick of this check (cheaper than
        # reading the clock on every send).
        if self.messages_out != self._out_at_tick:
            self._out_at_tick = self.messages_out
            self.last_sent = now
        if now - self.last_sent >= idle_seconds and not self._queue:
            self.send(KEEPALIVE_MESSAGE)

    async def _write(self) -> None:
        # Writes what is queued, then the close if one is due, and ends: the next message
        # queued (or a close) starts it again.
        send = self.websocket.send
        try:
            while self._queue:
                message = self._queue.popleft()
                self._queued_bytes -= len(message)
                # Seen as True from outside only while this send is suspended, that is
                # while the transport refuses more bytes.
                self._blocked = True
                await send({"type": "websocket.send", "bytes": message})
                self._blocked = False
                self.messages_out += 1
                self.bytes_out += len(message)
            self.last_sent = time.monotonic()
            if self.close_code is not None:
                await self.websocket.close(self.close_code, self.close_reason)
        except (WebSocketDisconnect, RuntimeError, OSError):
            # The client went away (or the socket is already closed): nothing to deliver to.
            self._queue.clear()
            self._queued_bytes = 0
        finally:
            self._blocked = False
            self._writer = None

    async def finish(self, timeout: float = 5.0) -> None:
        """Flush what is queued (a close included), bounded by `timeout`."""
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
        except asyncio.CancelledError:
            # The writer was cancelled (the client vanished meanwhile), not this call.
            if not writer.cancelled():
                raise


class Collab:
    """The endpoint, bound to the app's room manager; tracks every open connection."""

    def __init__(
        self, manager: RoomManager, max_queue_bytes: int, admit: Admit | None = None
    ) -> None:
        self.manager = manager
        self.max_queue_bytes = max_queue_bytes
        # Authenticates a socket before it joins a room (server.auth.Auth.admit).
        self.admit = admit
        self.connections: set[Connection] = set()
        self.errors: dict[int, int] = {}

    async def endpoint(self, websocket: WebSocket) -> None:
        params = websocket.path_params
        raw_name = f"{params['workspace']}/{params['kind']}/{params['id']}"
        conn = Connection(websocket, raw_name, self.max_queue_bytes)
        await websocket.accept()
        conn.wire = Wire.of(websocket.scope)
        self.connections.add(conn)
        room: Room | None = None
        try:
            try:
                name = str(DocumentName.parse(raw_name))
            except InvalidName as exc:
                raise MalformedMessage(f"invalid document name: {exc}") from None
            if self.admit is not None:
                # Raises the CollabError (4401, 4403, 4404, 4429) to close with.
                await self.admit(websocket, conn, name)
            room = await self.manager.join(name, conn)
            if not await self._serve_directly(conn, room):
                await self._serve(websocket, conn, room)
        except CollabError as exc:
            self._error(conn, exc)
        except Exception:
            self._failed(conn)
        finally:
            if room is not None:
                self.manager.leave(room, conn)
            await conn.finish()
            self.connections.discard(conn)
            self._log_connection(websocket, conn)

    async def _serve(self, websocket: WebSocket, conn: Connection, room: Room) -> None:
        receive = websocket.receive
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                self._disconnected(conn, message)
                return
            data = message.get("bytes")
            if data is None:
                raise MalformedMessage("text frames are not part of the protocol")
            conn.messages_in += 1
            conn.bytes_in += len(data)
            room.receive(conn, data)
            if conn.close_code is not None:
                return

    async def _serve_directly(self, conn: Connection, room: Room) -> bool:
        """Serve the socket with its messages handed to the room as they arrive (see
        `Wire.receive_directly`); False where that is not possible. Returns once the
        client is gone or the connection is being closed."""
        if conn.wire is None:
            return False
        ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def end() -> None:
            if not ended.done():
                ended.set_result(None)

        def on_message(data: bytes) -> None:
            if conn.close_code is not None:
                return
            conn.messages_in += 1
            conn.bytes_in += len(data)
            try:
                room.receive(conn, data)
            except CollabError as exc:
                self._error(conn, exc)
            except Exception:
                self._failed(conn)

        def on_event(message: dict[str, Any]) -> None:
            if message["type"] == "websocket.disconnect":
                self._disconnected(conn, message)
                end()
            elif conn.close_code is None:
                self._error(conn, MalformedMessage("text frames are not part of the protocol"))

        if not conn.wire.receive_directly(on_message, on_event):
            return False
        conn.on_close = end
        if conn.close_code is not None:
            end()
        await ended
        return True

    @staticmethod
    def _disconnected(conn: Connection, message: dict[str, Any]) -> None:
        conn.disconnected = True
        if conn.close_code is None:
            conn.close_code = message.get("code", 1005)
            conn.close_reason = message.get("reason") or ""

    def _failed(self, conn: Connection) -> None:
        log.exception(
            "connection failed", extra={"event": "error", "doc": conn.doc, "conn": conn.id}
        )
        conn.close(1011, "internal error")
        self.errors[1011] = self.errors.get(1011, 0) + 1

    def _error(self, conn: Connection, exc: CollabError) -> None:
        if conn.public and isinstance(exc, RateLimited):
            # Refused for load (a full room, a rate limit): an embed should come back, and
            # y-websocket gives up for good on 44xx codes.
            exc = TryLater(exc.reason)
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
