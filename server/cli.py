"""The `sinopia` command: its subcommands are in server/commands/, one module each."""

from __future__ import annotations

import sys
from types import ModuleType

from server.commands import admin, history, iiif, media, report, serve
from server.commands.errors import say
from server.commands.options import STORAGE, Parser, add, examples

# Each subcommand: its module (whose `configure` adds its options and actions), its help,
# and the examples its --help shows.
COMMANDS: dict[str, tuple[ModuleType, str, tuple[str, ...]]] = {
    "serve": (
        serve,
        "run the server (every setting is also a SINOPIA_* variable)",
        (
            "sinopia serve",
            "sinopia serve --host 0.0.0.0 --port 8080 --data-dir /var/lib/sinopia",
            "SINOPIA_REDIS_URL=redis://redis:6379/0 sinopia serve --mongo-url "
            "'mongodb://db/sinopia?replicaSet=rs0'",
        ),
    ),
    "admin": (
        admin,
        "users, workspaces, members, tokens, share links and the audit log",
        (
            "sinopia admin workspace add my-museum",
            "sinopia admin user add alice --data-dir /var/lib/sinopia",
            "sinopia admin member add my-museum alice owner",
            "sinopia admin token create alice --workspace my-museum --expires 30d",
        ),
    ),
    "history": (
        history,
        "read, compare, name, verify and export documents' history",
        (
            "sinopia history list museum/canvas/folio-12r --data-dir /var/lib/sinopia",
            "sinopia history verify",
            "sinopia history export museum/canvas/folio-12r folio.json",
        ),
    ),
    "iiif": (iiif, "IIIF: import manifests", ("sinopia iiif import my-museum manifest.json",)),
    "media": (
        media,
        "upload images (one subject per image or page, with a IIIF image service)",
        (
            "sinopia media add my-museum scans/*.tif --data-dir /var/lib/sinopia",
            "sinopia media add my-museum photo.jpg --server http://127.0.0.1:8080 --token $TOKEN",
        ),
    ),
    "report": (
        report,
        "verify, list and export condition reports",
        (
            "sinopia report verify r1.signed.json",
            "sinopia report list museum --due 2026-01-01 --data-dir /var/lib/sinopia",
            "sinopia report export museum r1 --format pdf -o r1.pdf --server $SERVER",
        ),
    ),
}


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
    for name, (module, help, shown) in COMMANDS.items():
        module.configure(add(commands, name, help, shown))
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        status: int = args.run(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        return say(exc)
    return status


if __name__ == "__main__":
    sys.exit(main())
