"""Run pycrdt-websocket as a standalone server, the way its docs suggest (ASGIServer + uvicorn).

Used by loadtest.py as the Python baseline. In-memory rooms by default, so it does
strictly less work than a persisting server; with `--ystore FILE` each room keeps its
updates in pycrdt-store's SQLiteYStore (written after relaying, as pycrdt-websocket does).
The room name is the URL path.

    python bench/pycrdt_ws_server.py --host 127.0.0.1 --port 1234 [--ystore ystore.db]
"""

from __future__ import annotations

import argparse
import asyncio
import logging

import uvicorn
from pycrdt.store import SQLiteYStore
from pycrdt.websocket import ASGIServer, WebsocketServer, YRoom, exception_logger


class StoringServer(WebsocketServer):
    """Rooms with an SQLiteYStore each, all in one database file."""

    def __init__(self, db_path: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.db_path = db_path

    async def get_room(self, name: str) -> YRoom:
        if name not in self.rooms:
            ystore = SQLiteYStore(path=name)
            ystore.db_path = self.db_path
            self.rooms[name] = YRoom(
                ready=self.rooms_ready,
                ystore=ystore,
                exception_handler=self.exception_handler,
                log=self.log,
            )
        room = self.rooms[name]
        await self.start_room(room)
        return room


async def serve(host: str, port: int, ws: str, ystore: str | None) -> None:
    # exception_logger: a client dropping mid-send must not take the whole server down.
    websocket_server = (
        StoringServer(ystore, exception_handler=exception_logger)
        if ystore
        else WebsocketServer(exception_handler=exception_logger)
    )
    app = ASGIServer(websocket_server)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        # httptools on uvloop (see main): the fastest stock uvicorn stack.
        http="httptools",
        ws=ws,
        # The load clients offer no compression anyway; say so explicitly.
        ws_per_message_deflate=False,
        lifespan="off",
    )
    async with websocket_server:
        await uvicorn.Server(config).serve()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1234)
    parser.add_argument(
        "--ws",
        default="auto",
        help="uvicorn websocket implementation (auto = websockets-sansio with websockets>=14)",
    )
    parser.add_argument("--ystore", help="SQLite file for SQLiteYStore (default: memory only)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(args.host, args.port, args.ws, args.ystore))
    else:
        uvloop.run(serve(args.host, args.port, args.ws, args.ystore))


if __name__ == "__main__":
    main()
