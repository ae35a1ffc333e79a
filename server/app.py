"""The ASGI application: wires settings to the store, the bus, the rooms and the routes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from crdt import RoomManager
from crdt.buses import open_bus
from crdt.errors import MalformedMessage
from crdt.stores import open_store

from .collab import Collab
from .health import healthz, readyz
from .metrics import Metrics
from .settings import Settings


async def _bad_document_path(websocket: WebSocket) -> None:
    # Without this, Starlette refuses unmatched paths before the handshake, and a client
    # sees a failed connection instead of a close code and a reason.
    await websocket.accept()
    error = MalformedMessage("invalid document name: use /collab/{workspace}/{kind}/{id}")
    await websocket.close(error.code, error.reason)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    instance = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
    store = open_store(settings.store_location, settings.data_dir)
    bus = open_bus(settings.bus_location, instance)
    manager = RoomManager(
        store,
        bus,
        limits=settings.limits,
        checkpoint_every=settings.checkpoint_every,
        idle_seconds=settings.room_idle_seconds,
    )
    collab = Collab(manager, settings.max_send_queue_bytes)
    metrics = Metrics(manager, collab)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await store.open()
        await bus.open()
        await manager.start()
        keepalive = asyncio.get_running_loop().create_task(
            collab.keepalive_forever(settings.keepalive_seconds)
        )
        try:
            yield
        finally:
            keepalive.cancel()
            await collab.shutdown()
            await manager.close()
            await bus.close()
            await store.close()

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics.endpoint),
            WebSocketRoute("/collab/{workspace}/{kind}/{id}", collab.endpoint),
            WebSocketRoute("/collab/{rest:path}", _bad_document_path),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.manager = manager
    app.state.collab = collab
    app.state.instance = instance
    return app
