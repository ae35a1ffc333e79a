"""Run pycrdt-websocket as a standalone server, the way its docs suggest (ASGIServer + uvicorn).

Used by loadtest.py as the Python baseline. In-memory rooms, no YStore, so it does
strictly less work than a persisting server. The room name is the URL path.

    python bench/pycrdt_ws_server.py --host 127.0.0.1 --port 1234
"""

from __future__ import annotations

import argparse
import asyncio
import logging

import uvicorn
from pycrdt.websocket import ASGIServer, WebsocketServer, exception_logger


async def serve(host: str, port: int, ws: str) -> None:
    # exception_logger: a client dropping mid-send must not take the whole server down.
    websocket_server = WebsocketServer(exception_handler=exception_logger)
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
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(args.host, args.port, args.ws))
    else:
        uvloop.run(serve(args.host, args.port, args.ws))


if __name__ == "__main__":
    main()
