"""The `sinopia` command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .settings import Settings


def _serve(args: argparse.Namespace) -> int:
    from . import logs
    from .app import Server, create_app, server_config

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sinopia", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the server (settings: SINOPIA_* variables)")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8080)")
    serve.add_argument(
        "--data-dir", type=Path, help="where the embedded store lives (default ./data)"
    )
    serve.set_defaults(run=_serve)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
