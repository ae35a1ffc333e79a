"""Messages straight between the websocket connections and the rooms.

A room relays each update to every other client of the document. Through ASGI, each of
those sends is framed again and passes four layers of wrappers and a writer task. Under
uvicorn's `websockets-sansio` protocol we can do what the Node reference server does
instead: frame the message once and write the same bytes to each client's transport
(about 8 % of the server's CPU under bench/loadtest.py's load).

The other way, each message a client sends would be queued by uvicorn, reading paused
until the app's task wakes up, takes it through Starlette's receive and resumes reading:
two extra syscalls and a task switch per message. `Wire.receive_directly` hands each
binary message to the room as soon as uvicorn has parsed it, on the same turn of the
event loop (bench/README.md says what this bought).

This reaches into uvicorn's protocol object, so it is used only where it is known to be
safe, and anything else takes the ordinary ASGI path:

- the connection is uvicorn's `WebSocketsSansIOProtocol` (found by `WireCapture`, the
  outermost middleware, from the `send` callable uvicorn hands the app);
- no extension was negotiated (a permessage-deflate connection frames per connection);
- at each write: the websocket is open, no close was sent, and the transport is not
  pushing back (`writable` is uvicorn's own flow-control flag). Otherwise the caller
  queues the message for its writer task, which takes the ASGI path and waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send
from websockets.frames import Frame, Opcode
from websockets.protocol import State

try:
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
except ImportError:  # pragma: no cover - uvicorn without the websockets package
    WebSocketsSansIOProtocol = None  # type: ignore[assignment,misc]

SCOPE_KEY = "sinopia.wire"
_OPEN = State.OPEN


class WireCapture:
    """ASGI middleware: remembers uvicorn's websocket protocol object in the scope."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and WebSocketsSansIOProtocol is not None:
            protocol = getattr(send, "__self__", None)
            if isinstance(protocol, WebSocketsSansIOProtocol):
                scope[SCOPE_KEY] = protocol
        await self.app(scope, receive, send)


# The last message framed and its frame: a broadcast hands the same bytes object to every
# peer in turn, so it is framed once. Holding the message keeps its identity unique (and
# keeps one message, at most twice the message limit, alive until the next).
_last: tuple[bytes, bytes] = (b"", b"")


def binary_frame(message: bytes) -> bytes:
    """`message` as one unmasked, final binary frame (server to client, no extensions)."""
    global _last
    if _last[0] is message:
        return _last[1]
    frame = Frame(Opcode.BINARY, message).serialize(mask=False)
    _last = (message, frame)
    return frame


class Wire:
    """Direct writes to one connection; `write` returns False where the caller must take
    the ASGI path instead."""

    __slots__ = ("_protocol",)

    def __init__(self, protocol: WebSocketsSansIOProtocol) -> None:
        self._protocol = protocol

    @classmethod
    def of(cls, scope: Scope) -> Wire | None:
        """The connection's wire, once accepted; None where direct writes are not safe."""
        protocol = scope.get(SCOPE_KEY)
        # What we rely on; a uvicorn that changed it gets the ASGI path, not an error
        # (tests/test_wire.py notices that the direct path is gone).
        if not all(hasattr(protocol, a) for a in ("conn", "writable", "close_sent", "transport")):
            return None
        if protocol.conn.extensions:
            return None
        # `write` reads the flag inside uvicorn's writable Event (asyncio's own attribute).
        if not isinstance(getattr(protocol.writable, "_value", None), bool):
            return None
        return cls(protocol)

    def writable(self) -> bool:
        """False while the transport's buffer is over its high-water mark."""
        return self._protocol.writable.is_set()

    def write(self, message: bytes) -> bool:
        protocol = self._protocol
        transport = protocol.transport
        if (
            protocol.close_sent
            or not protocol.writable._value
            or protocol.conn.state is not _OPEN
            or transport.is_closing()
        ):
            return False
        # binary_frame, inlined: this runs once per client for every update relayed.
        last = _last
        transport.write(last[1] if last[0] is message else binary_frame(message))
        return True

    def receive_directly(
        self, on_message: Callable[[bytes], None], on_event: Callable[[dict[str, Any]], None]
    ) -> bool:
        """From now on, call `on_message` with each binary message as uvicorn parses it,
        and `on_event` with anything else it would have queued for the app (a text
        message, the disconnect), instead of queueing them; neither may raise. Messages
        already queued go first, in order. False (and nothing changed) where uvicorn's
        protocol is not what this relies on: the app then keeps reading through ASGI."""
        protocol = self._protocol
        queue = getattr(protocol, "queue", None)
        if not isinstance(queue, asyncio.Queue) or not isinstance(
            getattr(protocol, "read_paused", None), bool
        ):
            return False

        def put_nowait(message: dict[str, Any]) -> None:
            data = message.get("bytes") if message["type"] == "websocket.receive" else None
            if data is None:
                on_event(message)
                return
            on_message(data)
            # uvicorn pauses reading after queueing a message until the app takes it;
            # this one is handled already, so reading goes on (it only pauses when it
            # sees the flag down).
            protocol.read_paused = True

        earlier = []
        while not queue.empty():
            earlier.append(queue.get_nowait())
        queue.put_nowait = put_nowait  # type: ignore[method-assign]
        for message in earlier:
            put_nowait(message)
        if protocol.read_paused:
            protocol.transport.resume_reading()
        protocol.read_paused = True
        return True
