"""What every command shares: its parser (errors as one line, examples in every --help),
the options that say where the data is, and the settings they make.

The storage options go after the subcommand (`sinopia history verify --data-dir d`) and
also before it, at any level (`sinopia --data-dir d history verify`, `sinopia history
--data-dir d verify`): each level's parser carries them, defaulting to nothing, so
whichever level names one sets it. Each is also a `SINOPIA_*` variable."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, NoReturn, Protocol, TypeVar

from server.commands.errors import USAGE, Fail
from server.settings import Settings


class Parser(argparse.ArgumentParser):
    """argparse, with the examples of `--help` kept as written and usage errors on one
    line, naming the help to read."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        print(f"sinopia: error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(USAGE)


def _storage() -> Parser:
    shared = Parser(add_help=False)
    where = shared.add_argument_group("where the data is (also SINOPIA_* variables)")
    where.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="the data directory (default ./data; SINOPIA_DATA_DIR)",
    )
    where.add_argument(
        "--store-url",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="the history store, e.g. sqlite:///path/file.db (SINOPIA_STORE_URL)",
    )
    where.add_argument(
        "--mongo-url",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="history and directory in MongoDB (SINOPIA_MONGO_URL)",
    )
    return shared


STORAGE = _storage()
SETTING_OPTIONS = ("data_dir", "store_url", "mongo_url", "redis_url", "host", "port")


def examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def add(
    parent: argparse._SubParsersAction,
    name: str,
    help: str,
    example: str | tuple[str, ...],
    *,
    storage: bool = True,
    **kwargs: Any,
) -> Parser:
    """A subcommand with an example in its --help (and the storage options, by default)."""
    lines = (example,) if isinstance(example, str) else example
    parser: Parser = parent.add_parser(
        name,
        help=help,
        description=help[:1].upper() + help[1:] + ".",
        epilog=examples(*lines),
        parents=[STORAGE] if storage else [],
        **kwargs,
    )
    return parser


def command(
    parent: argparse._SubParsersAction,
    name: str,
    run: Callable[[argparse.Namespace], int],
    example: str | tuple[str, ...],
    *,
    storage: bool = True,
) -> Parser:
    """A subcommand that runs `run`, whose docstring's first paragraph is its help."""
    help = " ".join((run.__doc__ or "").split("\n\n")[0].split()).rstrip(".")
    parser = add(parent, name, help[:1].lower() + help[1:], example, storage=storage)
    parser.set_defaults(run=run)
    return parser


def trust_option(parser: argparse.ArgumentParser, what: str) -> None:
    """`--trust KEY_ID`: the keys an offline check accepts (default: the file's own)."""
    parser.add_argument(
        "--trust",
        action="append",
        metavar="KEY_ID",
        help=f"only accept {what} by this key fingerprint (repeatable)",
    )


def settings_from(args: argparse.Namespace) -> Settings:
    """The settings: `SINOPIA_*` variables, with the command line's options on top."""
    overrides = {
        key: getattr(args, key) for key in SETTING_OPTIONS if getattr(args, key, None) is not None
    }
    return Settings(**overrides)


def data_dir(settings: Settings, *, create: bool) -> Path:
    """The data directory, checked before anything opens a file in it: made when `create`
    (commands that write), otherwise it must exist."""
    path = settings.data_dir
    if path.exists() and not path.is_dir():
        raise Fail(f"the data directory {path} is a file, not a directory (see --data-dir)")
    if not path.exists():
        if not create:
            raise Fail(f"there is no data directory {path} (give --data-dir or SINOPIA_DATA_DIR)")
        try:
            path.mkdir(parents=True)
        except OSError as exc:
            raise Fail(f"cannot make the data directory {path}: {exc.strerror}") from None
    if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
        raise Fail(f"cannot read and write the data directory {path}: permission denied")
    return path


class Opens(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...


R = TypeVar("R", bound=Opens)
Run = Callable[[argparse.Namespace], int]


def opening(
    make: Callable[[Settings], R], *, create: bool
) -> Callable[[Callable[[argparse.Namespace, Settings, R], Awaitable[int]]], Run]:
    """Commands that work on one store or directory: the settings from the options, the
    data directory checked (made when `create`), the thing opened, the command run on
    it, and it closed again whatever happens. The command's docstring is its help."""

    def wrap(command: Callable[[argparse.Namespace, Settings, R], Awaitable[int]]) -> Run:
        def run(args: argparse.Namespace) -> int:
            settings = settings_from(args)
            # With MongoDB the data directory holds only per-instance files: make it.
            data_dir(settings, create=create or bool(settings.mongo_url))

            async def main() -> int:
                opened = make(settings)
                await opened.open()
                try:
                    return await command(args, settings, opened)
                finally:
                    await opened.close()

            return asyncio.run(main())

        run.__doc__ = command.__doc__
        return run

    return wrap
