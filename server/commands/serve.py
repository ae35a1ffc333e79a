"""`sinopia serve`: run the server."""

from __future__ import annotations

import argparse
from pathlib import Path

from server.settings import Settings


def register(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser("serve", help="run the server (settings: SINOPIA_* variables)")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8080)")
    serve.add_argument("--data-dir", type=Path, help="the embedded store's directory (./data)")
    serve.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from server import logs
    from server.app import Server, create_app, server_config

    overrides = {
        key: value
        for key, value in (("host", args.host), ("port", args.port), ("data_dir", args.data_dir))
        if value is not None
    }
    settings = Settings(**overrides)
    logs.configure(settings.log_level, settings.log_format)
    app = create_app(settings)
    Server(server_config(app, settings), app).run()
    return 0
