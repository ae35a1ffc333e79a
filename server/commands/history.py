"""`sinopia history ...`: read, verify and export documents' history, with the server
running or not (on `--data-dir` / the `SINOPIA_*` store settings)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from crdt.bundle import export, verify_bundle
from crdt.names import DocumentName
from crdt.seals import Report, Sealer, key_id, verify
from crdt.store import Store
from crdt.stores import open_store

from .. import keys
from ..settings import Settings


def register(commands: argparse._SubParsersAction) -> None:
    history = commands.add_parser("history", help="read, verify and export history")
    history.add_argument("--data-dir", type=Path, help="the embedded store's directory")
    sub = history.add_subparsers(dest="action", required=True)

    changes = sub.add_parser("list", help="a document's changes, newest first")
    changes.add_argument("doc", help="workspace/kind/id")
    changes.add_argument("--limit", type=int, default=20)
    changes.add_argument("--before", type=int, help="only changes before this sequence number")
    changes.set_defaults(run=_sync(_list))

    check = sub.add_parser(
        "verify", help="check hashes and seals; prints the first entry that does not match"
    )
    check.add_argument(
        "target", nargs="?", default="", help="a document, a workspace, or nothing for all"
    )
    check.set_defaults(run=_sync(_verify))

    out = sub.add_parser("export", help="write a document's history as a verifiable bundle")
    out.add_argument("doc", help="workspace/kind/id")
    out.add_argument("file", type=Path, help="where to write the bundle (JSON)")
    out.set_defaults(run=_sync(_export))

    offline = sub.add_parser(
        "verify-bundle", help="verify an exported bundle offline: no server, no database"
    )
    offline.add_argument("file", type=Path)
    offline.add_argument(
        "--trust",
        action="append",
        metavar="KEY_ID",
        help="only accept seals by this key fingerprint (repeatable)",
    )
    offline.set_defaults(run=_verify_bundle)


def _settings(args: argparse.Namespace) -> Settings:
    return Settings(data_dir=args.data_dir) if args.data_dir else Settings()


def _sync(
    command: Callable[[argparse.Namespace, Settings, Store], Awaitable[int]],
) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        settings = _settings(args)

        async def main() -> int:
            store = open_store(settings.store_location, settings.data_dir)
            await store.open()
            try:
                return await command(args, settings, store)
            finally:
                await store.close()

        return asyncio.run(main())

    return run


def _doc(name: str) -> str:
    try:
        return str(DocumentName.parse(name))
    except ValueError as exc:
        raise SystemExit(f"sinopia: {name!r}: {exc}") from None


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


def _public_keys(settings: Settings) -> dict[str, Ed25519PublicKey]:
    path = settings.seal_key_file
    if not path.exists():
        return {}
    public = keys.load_or_create(path).public_key()
    return {key_id(public): public}


async def _list(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    doc = _doc(args.doc)
    entries = await store.read_newest(doc, before=args.before, limit=args.limit)
    if not entries:
        print(f"sinopia: {doc} has no history", file=sys.stderr)
        return 1
    for e in entries:
        print(f"{e.seq:>8}  {_when(e.time_ms)}  {e.principal:<20}  {len(e.update):>7} bytes")
    return 0


def _print_report(report: Report) -> None:
    if report.ok:
        print(f"ok    {report.doc}  {report.entries} entries, sealed up to {report.sealed_upto}")
    else:
        print(f"FAIL  {report.problem}")


async def _verify(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    target: str = args.target
    if target.count("/") == 2:
        docs = [_doc(target)]
    else:
        docs = await store.documents(f"{target.rstrip('/')}/" if target else "")
    if not docs:
        print(f"sinopia: nothing stored under {target or 'this store'!r}", file=sys.stderr)
        return 1
    public = _public_keys(settings)
    failed = 0
    for doc in docs:
        report = verify(doc, await store.read(doc), await store.seals(doc), public)
        _print_report(report)
        failed += not report.ok
    print(f"{len(docs) - failed} of {len(docs)} documents verified")
    return 1 if failed else 0


async def _export(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    doc = _doc(args.doc)
    if settings.seal_key_file.exists():
        # Seal what is not sealed yet, so the bundle vouches for its every entry.
        await Sealer(store, keys.load_or_create(settings.seal_key_file), 1).seal(doc)
    try:
        bundle = await export(store, doc, _public_keys(settings))
    except LookupError as exc:
        print(f"sinopia: {exc}", file=sys.stderr)
        return 1
    args.file.write_text(json.dumps(bundle, indent=1))
    print(f"wrote {len(bundle['entries'])} entries and {len(bundle['seals'])} seals to {args.file}")
    return 0


def _verify_bundle(args: argparse.Namespace) -> int:
    try:
        bundle: Any = json.loads(args.file.read_text())
    except (OSError, ValueError) as exc:
        print(f"sinopia: cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    report = verify_bundle(bundle, set(args.trust) if args.trust else None)
    _print_report(report)
    if report.ok:
        print(f"signed by key {', '.join(sorted(report.signed_by or ()))}")
    return 0 if report.ok else 1
