"""`sinopia serve`: run the server."""

from __future__ import annotations

import argparse
import asyncio
import sys

from server.commands.options import data_dir, settings_from
from server.settings import Settings


def configure(serve: argparse.ArgumentParser) -> None:
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1; SINOPIA_HOST)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8080; SINOPIA_PORT)")
    serve.add_argument(
        "--redis-url",
        help="the bus between instances, e.g. redis://host:6379/0 (SINOPIA_REDIS_URL)",
    )
    serve.set_defaults(run=run)


async def check_keys(settings: Settings) -> None:
    """Open the store and the directory with the configured key (or none) and close them:
    a missing or wrong key stops the start with one line naming the key needed, before
    anything listens. The spool is checked when the server opens it."""
    from crdt.keyring import open_keyring
    from crdt.keys import MasterKeyError
    from crdt.store import Unreachable
    from crdt.stores import open_store
    from server.directory import open_directory

    keyring = open_keyring(settings.key_url)
    store = open_store(settings.store_location, settings.data_dir, keyring)
    try:
        await store.open()
    except Unreachable:
        pass  # the server starts anyway and spools; it checks the keys when the store is back
    finally:
        await store.close()
    directory = open_directory(settings.mongo_url, settings.data_dir, keyring)
    try:
        await directory.open()
        await directory.close()
    except MasterKeyError:
        raise
    except Exception:
        pass  # the server's own start says what else is wrong, as it always did


def run(args: argparse.Namespace) -> int:
    from server import logs
    from server.app import NOT_ENCRYPTED, Server, create_app, server_config

    settings = settings_from(args)
    data_dir(settings, create=True)
    asyncio.run(check_keys(settings))
    if not settings.key_url:
        # Besides the log's warning: a person starting the server reads this line.
        print(f"sinopia: warning: {NOT_ENCRYPTED}", file=sys.stderr)
    logs.configure(settings.log_level, settings.log_format)
    app = create_app(settings)
    Server(server_config(app, settings), app).run()
    return 0
