"""A Yjs client for tests: pycrdt over a real websocket, speaking the y-websocket protocol.

Local edits are sent as they happen (like WebsocketProvider); everything received is
recorded so a test can wait on a condition instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

import websockets
from pycrdt import (
    Awareness,
    Doc,
    Map,
    Text,
    TransactionEvent,
    create_awareness_message,
    create_sync_message,
    create_update_message,
    handle_sync_message,
)
from websockets.asyncio.client import ClientConnection

from crdt import protocol


class Closed(Exception):
    pass


class YClient:
    def __init__(
        self,
        url: str,
        doc: Doc | None = None,
        local_addr: tuple[str, int] | None = None,
        origin: str | None = None,
    ) -> None:
        self.url = url
        # The web page a browser would say the socket comes from (its `Origin` header).
        self.origin = origin
        # Where to connect from (another loopback address is another client address).
        self.local_addr = local_addr
        self.doc: Doc = doc or Doc()
        self.awareness = Awareness(self.doc)
        self.ws: ClientConnection | None = None
        self.synced = asyncio.Event()
        self.received: list[bytes] = []
        self.denied: list[str] = []
        self.close_code: int | None = None
        self.close_reason: str = ""
        self._changed = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._remote = False
        self._sending: set[asyncio.Task[None]] = set()
        self.doc.observe(self._on_local_change)

    # -- connection --------------------------------------------------------------------

    async def connect(self, *, wait_synced: bool = True, timeout: float = 10.0) -> YClient:
        self.synced.clear()
        self.close_code = None
        options: dict[str, Any] = {"local_addr": self.local_addr} if self.local_addr else {}
        if self.origin:
            options["origin"] = self.origin
        self.ws = await websockets.connect(self.url, max_size=None, open_timeout=timeout, **options)
        self._reader = asyncio.get_running_loop().create_task(self._read(self.ws))
        # The server may refuse us at once (room full): then the close code tells why.
        with contextlib.suppress(websockets.ConnectionClosed):
            await self.ws.send(create_sync_message(self.doc))
            if self.awareness.get_local_state():
                await self.send_awareness()
        if wait_synced:
            await self.wait_for(self.synced.is_set, timeout, "initial sync")
        return self

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for message in ws:
                assert isinstance(message, bytes)
                self.received.append(message)
                self._handle(message)
                self._changed.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            if ws.close_code is not None:
                self.close_code = ws.close_code
                self.close_reason = ws.close_reason or ""
            elif ws.protocol.close_rcvd is not None:
                self.close_code = ws.protocol.close_rcvd.code
                self.close_reason = ws.protocol.close_rcvd.reason
            else:
                self.close_code = 1006
            self._changed.set()

    def _handle(self, message: bytes) -> None:
        parsed = protocol.parse(message) if message[0] != protocol.MESSAGE_AUTH else None
        if parsed is None:
            # auth: [2, 0 = permission denied, reason]
            self.denied.append(message[3:].decode())
        elif isinstance(parsed, protocol.SyncStep1):
            reply = handle_sync_message(message[1:], self.doc)
            if reply is not None and self.ws is not None:
                asyncio.get_running_loop().create_task(self._send_quietly(reply))
        elif isinstance(parsed, protocol.SyncStep2 | protocol.SyncUpdate):
            self._remote = True
            try:
                handle_sync_message(message[1:], self.doc)
            finally:
                self._remote = False
            if isinstance(parsed, protocol.SyncStep2):
                self.synced.set()
        elif isinstance(parsed, protocol.AwarenessUpdate):
            self.awareness.apply_awareness_update(parsed.payload, "remote")

    def _on_local_change(self, event: TransactionEvent) -> None:
        if not self._remote and self.ws is not None and self.close_code is None:
            update = event.update
            task = asyncio.get_running_loop().create_task(
                self._send_quietly(create_update_message(update))
            )
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def round_trip(self, timeout: float = 10.0) -> None:
        """Ask the server for its state and wait for the answer: everything the server
        sent this client before handling that request has arrived by then."""
        answered = sum(1 for m in self.received if m[:2] == b"\x00\x01")
        await self.send(create_sync_message(self.doc))
        await self.wait_for(
            lambda: sum(1 for m in self.received if m[:2] == b"\x00\x01") > answered,
            timeout,
            "the server's answer",
        )

    async def drain(self) -> None:
        """Wait until every local edit so far has been handed to the socket."""
        while self._sending:
            await asyncio.gather(*self._sending)

    async def _send_quietly(self, message: bytes) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            if self.ws is not None:
                await self.ws.send(message)

    async def send(self, message: bytes | str) -> None:
        assert self.ws is not None
        await self.ws.send(message)

    async def close(self) -> None:
        await self.drain()
        if self.ws is not None:
            await self.ws.close()
            if self._reader:
                await self._reader
            self.ws = None

    def drop(self) -> None:
        """Go offline without a goodbye: the socket is aborted, edits stay local."""
        if self.ws is not None:
            self.ws.transport.abort()
            self.ws = None

    # -- document helpers --------------------------------------------------------------

    def map(self, name: str = "m") -> Map:
        return self.doc.get(name, type=Map)

    def text(self, name: str = "t") -> Text:
        return self.doc.get(name, type=Text)

    def content(self, name: str = "m") -> dict[str, Any]:
        return self.map(name).to_py() or {}

    async def set_state(self, state: dict[str, Any] | None) -> None:
        self.awareness.set_local_state(state)
        await self.send_awareness()

    async def send_awareness(self) -> None:
        payload = self.awareness.encode_awareness_update([self.awareness.client_id])
        await self.send(create_awareness_message(payload))

    def peers(self) -> dict[int, dict[str, Any]]:
        """Other clients' awareness states."""
        return {k: v for k, v in self.awareness.states.items() if k != self.awareness.client_id}

    # -- waiting -----------------------------------------------------------------------

    async def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition"
    ) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"timed out waiting for {what}")
            self._changed.clear()
            if predicate():
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def wait_closed(self, timeout: float = 10.0) -> tuple[int, str]:
        await self.wait_for(lambda: self.close_code is not None, timeout, "close")
        assert self.close_code is not None
        return self.close_code, self.close_reason


async def connected(url: str, count: int = 1, **kwargs: Any) -> list[YClient]:
    return list(await asyncio.gather(*(YClient(url).connect(**kwargs) for _ in range(count))))
