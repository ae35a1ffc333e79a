"""The `sinopia` command: its subcommands are in server/commands/, one module each."""

from __future__ import annotations

import sys

from server.commands import admin, history, iiif, serve
from server.commands.errors import report
from server.commands.options import STORAGE, Parser, examples

COMMANDS = (serve, admin, history, iiif)


def parser() -> Parser:
    top = Parser(
        prog="sinopia",
        description="Sinopia: real-time collaborative annotation for cultural heritage.",
        epilog=examples(
            "sinopia serve --data-dir /var/lib/sinopia",
            "sinopia admin user add alice --data-dir /var/lib/sinopia",
            "sinopia history verify --data-dir /var/lib/sinopia",
            "sinopia COMMAND --help    (every command has examples)",
        ),
        parents=[STORAGE],
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(commands)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        status: int = args.run(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        return report(exc)
    return status


if __name__ == "__main__":
    sys.exit(main())
