"""`sinopia serve`: run the server."""

from __future__ import annotations

import argparse

from server.commands.options import data_dir, settings_from


def configure(serve: argparse.ArgumentParser) -> None:
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1; SINOPIA_HOST)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8080; SINOPIA_PORT)")
    serve.add_argument(
        "--redis-url",
        help="the bus between instances, e.g. redis://host:6379/0 (SINOPIA_REDIS_URL)",
    )
    serve.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from server import logs
    from server.app import Server, create_app, server_config

    settings = settings_from(args)
    data_dir(settings, create=True)
    logs.configure(settings.log_level, settings.log_format)
    app = create_app(settings)
    Server(server_config(app, settings), app).run()
    return 0
