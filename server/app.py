"""The ASGI application: wires settings to the store, the bus, the rooms and the routes."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import logging
import os
import secrets
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from crdt import RoomManager, keyfiles
from crdt.buses import open_bus
from crdt.errors import MalformedMessage
from crdt.keyring import open_keyring
from crdt.seals import Sealer
from crdt.spool import SpooledStore
from crdt.stores import open_store
from server.access.auth import create_auth
from server.api.table import exception_handlers, rest_api
from server.health import healthz, readyz
from server.http.protocol_headers import ProtocolHeaders
from server.http.security_headers import SecurityHeaders
from server.live.endpoint import Collab
from server.live.schema_check import SchemaCheck
from server.live.terms import WorkspaceTerms
from server.live.wire import WireCapture
from server.media.blobs import open_blobs
from server.media.blobs.sealed import SealedBlobs
from server.media.images import Images, limits_of
from server.media.pyramid import serve_setup
from server.media.tiles import Tiles
from server.metrics import Metrics
from server.settings import Settings
from server.webapp import routes as webapp_routes
from server.webapp.policy import NOT_FRAMED

log = logging.getLogger("sinopia.server")

# Said at every start without SINOPIA_KEY_URL (in the log, and on stderr by `sinopia serve`).
NOT_ENCRYPTED = (
    "data at rest is not encrypted: set SINOPIA_KEY_URL=file:///path/master.key "
    "(made by `sinopia admin key create FILE`) to encrypt the history and the directory"
)


async def _bad_document_path(websocket: WebSocket) -> None:
    # Without this, Starlette refuses unmatched paths before the handshake, and a client
    # sees a failed connection instead of a close code and a reason.
    await websocket.accept()
    error = MalformedMessage("invalid document name: use /collab/{workspace}/{kind}/{id}")
    await websocket.close(error.code, error.reason)


def private_work_dir(settings: Settings, instance: str) -> Path:
    """Where decrypted working copies of media go when data at rest is encrypted:
    SINOPIA_MEDIA_WORK_DIR, or a directory of this instance's own in memory (/dev/shm)
    when there is one; readable by the server's user only, removed at stop."""
    base = settings.media_work_dir
    if base is None:
        shm = Path("/dev/shm")
        base = shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir())
    path = base / f"sinopia-media-{instance}"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _version() -> str:
    try:
        return importlib.metadata.version("sinopia")
    except importlib.metadata.PackageNotFoundError:
        return "0"


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    instance = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
    # Encryption at rest (crdt.keyring): one keyring for the store, the spool and the
    # directory, each keeping its own wrapped data keys.
    keyring = open_keyring(settings.key_url)
    store = open_store(settings.store_location, settings.data_dir, keyring)
    if store.remote:
        store = SpooledStore(
            store, settings.data_dir / "spool.db", settings.spool_max_bytes, keyring=keyring
        )
    bus = open_bus(settings.bus_location, instance)
    key = keyfiles.load_or_create(settings.seal_key_file, keyring)
    sealer = Sealer(store, key, settings.seal_interval_seconds)
    # Who may do what (server/auth.py): every REST route, socket and update goes through it.
    auth = create_auth(settings, keyring)
    # Each workspace's damage vocabulary, for the live check of reports.
    terms = WorkspaceTerms(auth.directory)
    manager = RoomManager(
        store,
        bus,
        limits=settings.limits,
        checkpoint_every=settings.checkpoint_every,
        idle_seconds=settings.room_idle_seconds,
        sealer=sealer,
        # Client updates must keep the document schema (server/schema_check.py).
        check=auth.update_check(SchemaCheck(terms.for_document)),
    )

    async def admit(websocket: WebSocket, conn: object, name: str) -> None:
        await auth.admit(websocket, conn, name)
        await terms.warm(name)

    collab = Collab(manager, settings.max_send_queue_bytes, admit=admit)
    auth.bind(manager, lambda: list(collab.connections))
    metrics = Metrics(manager, collab)
    # Uploaded files and image pyramids (server/media), and the IIIF Image API's renders.
    serve_setup()
    blobs = open_blobs(settings)
    media_dir = settings.data_dir / "media"
    if keyring is not None:
        # Uploads sealed with their workspace's key; the decrypted copies libvips reads
        # (and the scratch files of conversions) kept out of the data directory.
        blobs = SealedBlobs(blobs, keyring, store.ensure_data_key)
        media_dir = private_work_dir(settings, instance)
    images = Images(blobs, media_dir, limits_of(settings))
    tiles = Tiles(images, settings.image_tile_cache_bytes)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await store.open()
        await bus.open()
        await auth.open()
        await blobs.open()
        access_watch = asyncio.get_running_loop().create_task(auth.watch_forever())
        await manager.start()
        await sealer.start()
        keepalive = asyncio.get_running_loop().create_task(
            collab.keepalive_forever(settings.keepalive_seconds)
        )
        log.info(
            "started",
            extra={
                "event": "start",
                "instance": instance,
                "store": store.describe(),
                "bus": bus.describe(),
                "encryption": keyring.master.describe() if keyring else "none",
            },
        )
        if keyring is None:
            log.warning(NOT_ENCRYPTED, extra={"event": "not-encrypted"})
        try:
            yield
        finally:
            keepalive.cancel()
            access_watch.cancel()
            await collab.shutdown()
            await manager.close()
            await bus.close()
            await store.close()
            await auth.close()
            tiles.close()
            await blobs.close()
            if keyring is not None:
                await asyncio.to_thread(shutil.rmtree, media_dir, True)
            log.info(
                "stopped: every update is stored", extra={"event": "stop", "instance": instance}
            )

    api = rest_api()

    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse(api.openapi("Sinopia", _version()))

    app = Starlette(
        routes=[
            *api.routes(auth.guard),
            Route("/api/openapi.json", openapi),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics.endpoint),
            WebSocketRoute("/collab/{workspace}/{kind}/{id}", collab.endpoint),
            WebSocketRoute("/collab/{rest:path}", _bad_document_path),
            # The browser app (built into server/webapp/dist at install).
            *webapp_routes(),
        ],
        lifespan=lifespan,
        middleware=[
            # Outermost: finds uvicorn's websocket connection for direct writes.
            Middleware(WireCapture),
            # nosniff, Referrer-Policy, not framed (but embeds), HSTS over https.
            Middleware(
                SecurityHeaders,
                not_framed=NOT_FRAMED,
                referrer_policy=settings.referrer_policy,
                hsts_seconds=settings.hsts_seconds,
                public_https=(settings.public_url or "").startswith("https://"),
            ),
            # CORS and Link headers of the annotation and IIIF interfaces.
            Middleware(ProtocolHeaders, credentialed_origins=settings.cors_origin_list),
            # Elsewhere, browsers on SINOPIA_CORS_ORIGINS only (with credentials); none by
            # default.
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origin_list,
                allow_credentials=True,
                allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                allow_headers=["Authorization", "Content-Type", "X-CSRF-Token", "If-Match"],
            ),
        ],
        exception_handlers=exception_handlers,  # type: ignore[arg-type]
    )
    app.state.settings = settings
    app.state.manager = manager
    app.state.collab = collab
    app.state.instance = instance
    app.state.seal_key = key
    app.state.keyring = keyring
    app.state.store = store
    app.state.api = api
    app.state.auth = auth
    app.state.terms = terms
    app.state.blobs = blobs
    app.state.images = images
    app.state.tiles = tiles
    return app


class Server(uvicorn.Server):
    """uvicorn, draining our clients first on shutdown (SIGTERM, SIGINT).

    uvicorn alone would close every websocket with 1012; we stop accepting, tell clients
    1001 "going away" (y-websocket reconnects, to another instance behind a load
    balancer) and let their queued messages go out, then the lifespan flushes the rooms.
    """

    def __init__(self, config: uvicorn.Config, app: Starlette) -> None:
        super().__init__(config)
        self.app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        await self.app.state.collab.shutdown()
        await super().shutdown(sockets)


def server_config(app: Starlette, settings: Settings, **overrides: object) -> uvicorn.Config:
    """How uvicorn serves the app, shared by `sinopia serve` and the tests."""
    options: dict[str, object] = dict(
        host=settings.host,
        port=settings.port,
        # Measured fastest here (bench/); wsproto is several times slower.
        ws="websockets-sansio",
        loop="auto",
        # Twice our own limit, so a message over the limit still reaches us and gets our
        # close code (4413) and reason; a frame beyond this is cut off by the protocol
        # layer with 1009 before it is read in full.
        ws_max_size=settings.max_message_bytes * 2,
        ws_per_message_deflate=settings.ws_compression,
        ws_ping_interval=settings.ping_interval,
        ws_ping_timeout=settings.ping_timeout,
        log_config=None,
        access_log=False,
        lifespan="on",
        # Bounded exit: clients were told to go at the start of the shutdown.
        timeout_graceful_shutdown=10,
    )
    options.update(overrides)
    return uvicorn.Config(app, **options)  # type: ignore[arg-type]
