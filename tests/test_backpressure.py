"""A client that reads slowly gets everything, in order; one that stops reading is
disconnected (1013) once its backlog passes the limit, and the room carries on."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct

from pycrdt import Doc, Map, handle_sync_message

from .conftest import ServerFactory, eventually
from .test_protocol import _masked_frame
from .yclient import connected

DOC = "scans/canvas/large-tiles"
CHUNK = "x" * 60_000


class RawClient:
    """A websocket client that reads only when told to, as a frozen browser tab does.

    Library clients, and asyncio's streams, keep draining the socket into their own
    buffers; this one reads the socket only inside `frame()`, so what it has not asked
    for stays in TCP (a small receive buffer) and the server feels the push-back.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()

    @classmethod
    async def open(cls, port: int, token: str) -> RawClient:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        await loop.sock_connect(sock, ("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET /collab/{DOC}?token={token} HTTP/1.1\r\nHost: x\r\n"
            "Upgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        )
        await loop.sock_sendall(sock, request.encode())
        client = cls(sock)
        while b"\r\n\r\n" not in client.buffer:
            await client._fill()
        del client.buffer[: client.buffer.index(b"\r\n\r\n") + 4]
        return client

    async def _fill(self) -> None:
        chunk = await asyncio.get_running_loop().sock_recv(self.sock, 65536)
        if not chunk:
            raise EOFError("server closed the connection")
        self.buffer += chunk

    async def _exactly(self, n: int) -> bytes:
        while len(self.buffer) < n:
            await self._fill()
        data = bytes(self.buffer[:n])
        del self.buffer[:n]
        return data

    async def send(self, message: bytes) -> None:
        await asyncio.get_running_loop().sock_sendall(self.sock, _masked_frame(message))

    async def frame(self) -> tuple[int, bytes]:
        """The next (opcode, payload) from the server (server frames are not masked)."""
        first, second = await self._exactly(2)
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack(">H", await self._exactly(2))
        elif length == 127:
            (length,) = struct.unpack(">Q", await self._exactly(8))
        return first & 0x0F, await self._exactly(length)

    def close(self) -> None:
        self.sock.close()


async def _push(writer_map: Map, count: int) -> None:
    for i in range(count):
        writer_map[f"tile{i}"] = CHUNK + str(i)


async def test_slow_reader_receives_everything_in_order(make_server: ServerFactory) -> None:
    server = await make_server(max_send_queue_bytes=256 * 1024 * 1024)
    (writer,) = await connected(server.ws(DOC))
    slow = await RawClient.open(server.port, server.token)
    await _push(writer.map(), 150)  # ~9 MB, far more than the socket buffers hold
    (watcher,) = await connected(server.ws(DOC))
    await watcher.wait_for(lambda: len(watcher.content()) == 150, 30, "the room moved on")
    assert server.app is not None
    backlog = [c for c in server.app.state.collab.connections if c._queued_bytes]
    assert backlog, "the server should be holding a backlog for the stalled client"

    # Now the slow client reads: it gets every update, in order.
    doc: Doc = Doc()
    while len(doc.get("m", type=Map)) < 150:
        opcode, message = await slow.frame()
        assert opcode == 2
        if message[0] == 0:
            reply = handle_sync_message(message[1:], doc)
            if reply:
                await slow.send(reply)
    assert doc.get("m", type=Map).to_py() == writer.content()
    slow.close()


async def test_client_that_stops_reading_is_disconnected(make_server: ServerFactory) -> None:
    server = await make_server(max_send_queue_bytes=512 * 1024, keepalive_seconds=0.2)
    (writer,) = await connected(server.ws(DOC))
    stalled = await RawClient.open(server.port, server.token)
    await _push(writer.map(), 100)  # ~6 MB, about half of it more than TCP holds

    async def all_stored() -> bool:
        return await server.metric("sinopia_updates_total") >= 100

    # A newcomer once the room has taken every edit (so its one big sync is not followed
    # by a backlog of its own under this small limit): the room carries on.
    await eventually(all_stored, 30, "every edit stored")
    (watcher,) = await connected(server.ws(DOC))
    await watcher.wait_for(lambda: len(watcher.content()) == 100, 30, "the room moved on")
    assert writer.close_code is None and watcher.close_code is None

    # Reading again, the stalled client finds what was in flight, then the close.
    while True:
        opcode, payload = await stalled.frame()
        if opcode == 8:
            break
    assert struct.unpack(">H", payload[:2])[0] == 1013, payload
    assert payload[2:] == b"too slow: send queue full, reconnect"
    stalled.close()
