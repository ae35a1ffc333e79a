"""The `sinopia` command."""

from __future__ import annotations

import argparse
import sys

from server.commands import admin, history, iiif, report, serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sinopia", description="Sinopia annotation server")
    commands = parser.add_subparsers(dest="command", required=True)
    for command in (serve, history, admin, iiif, report):
        command.register(commands)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
