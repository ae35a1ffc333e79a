"""`sinopia history ...`: read, compare, name, verify and export documents' history,
with the server running or not (on `--data-dir` / the `SINOPIA_*` store settings)."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from annotations import changes, schema
from crdt import keyfiles
from crdt.bundle import export, verify_bundle
from crdt.history import OutOfRange, seq_at_time
from crdt.keyring import open_keyring
from crdt.names import DocumentName
from crdt.seals import Report, Sealer, key_id, verify
from crdt.store import Store, VersionExists
from crdt.stores import open_store
from crdt.types import Version
from server.api import past as history
from server.commands.errors import Fail
from server.commands.options import command, opening, trust_option
from server.directory import open_directory
from server.directory.people import People
from server.settings import Settings

# For the examples.
DOC = "museum/canvas/folio-12r"
V2 = "v2 as sent to the lender"
Run = Callable[[argparse.Namespace], int]


def configure(history: argparse.ArgumentParser) -> None:
    sub = history.add_subparsers(dest="action", required=True, metavar="ACTION")

    def action(
        name: str, run: Run, example: str | tuple[str, ...], *, doc: bool = True, **options: bool
    ) -> argparse.ArgumentParser:
        # Most of them name a document first.
        parser = command(sub, name, run, example, **options)
        if doc:
            parser.add_argument("doc", help="the document, workspace/kind/id")
        return parser

    changes = action("list", _sync(_list), f"sinopia history list {DOC} --limit 50")
    changes.add_argument("--limit", type=int, default=20)
    changes.add_argument("--before", type=int, help="only changes before this sequence number")

    show = action("show", _sync(_show), f"sinopia history show {DOC} --at 2026-05-01T12:00:00Z")
    when = show.add_mutually_exclusive_group()
    when.add_argument("--seq", type=int, help="after this sequence number")
    when.add_argument("--at", help="at this ISO 8601 time, e.g. 2026-05-01T12:00:00Z")

    action("versions", _sync(_versions), f"sinopia history versions {DOC}")

    name = action("name", _sync(_name), f'sinopia history name {DOC} "{V2}" --by alice')
    name.add_argument("version", help="the name")
    name.add_argument("--seq", type=int, help="default: the current head")
    name.add_argument("--note", default="")
    name.add_argument("--by", default="cli", help="who names it, as recorded")

    between = action("diff", _sync(_diff), f'sinopia history diff {DOC} "{V2}"')
    between.add_argument("start", help="a version name, or a sequence number")
    between.add_argument("end", nargs="?", help="a version name or sequence number (default: now)")

    server = "--server http://127.0.0.1:8080 --token $TOKEN"
    back = action(
        "restore", _restore, f'sinopia history restore {DOC} "{V2}" {server}', storage=False
    )
    back.add_argument("version", help="a version name, or a sequence number")
    back.add_argument("--server", required=True, help="the running server, e.g. http://host:8080")
    back.add_argument("--token", help="a token of yours (default: $SINOPIA_TOKEN)")

    check = action(
        "verify",
        _sync(_verify),
        ("sinopia history verify", f"sinopia history verify {DOC}"),
        doc=False,
    )
    check.add_argument(
        "target", nargs="?", default="", help="a document, a workspace, or nothing for all"
    )

    out = action("export", _sync(_export), f"sinopia history export {DOC} folio.json")
    out.add_argument("file", type=Path, help="where to write the bundle (JSON)")

    offline = action(
        "verify-bundle",
        _verify_bundle,
        "sinopia history verify-bundle folio.json --trust 3f2a9c0d1e4b5a67",
        doc=False,
        storage=False,
    )
    offline.add_argument("file", type=Path)
    trust_option(offline, "seals")


# History is read from what a server wrote: a missing data directory is a mistake (a
# wrong --data-dir), not something to make.
_sync = opening(
    lambda s: open_store(s.store_location, s.data_dir, open_keyring(s.key_url)), create=False
)


def _name_of(name: str) -> DocumentName:
    try:
        return DocumentName.parse(name)
    except ValueError as exc:
        raise Fail(f"{name!r}: {exc}") from None


def _doc(name: str) -> str:
    return str(_name_of(name))


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


def _public_keys(settings: Settings) -> dict[str, Ed25519PublicKey]:
    path = settings.seal_key_file
    if not path.exists():
        return {}
    public = keyfiles.load_or_create(path, open_keyring(settings.key_url)).public_key()
    return {key_id(public): public}


async def _list(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    """A document's changes, newest first."""
    name = _name_of(args.doc)
    entries = await store.read_newest(str(name), before=args.before, limit=args.limit)
    if not entries:
        raise Fail(f"{name} has no history")
    said = await history.summaries(store, name, entries)
    names = await _names(settings, (e.principal for e in entries))
    for e in entries:
        who = f"{names[e.principal]} ({e.principal})" if e.principal in names else e.principal
        print(f"{e.seq:>8}  {_when(e.time_ms)}  {who}")
        for line in said[e.seq]:
            print(f"{'':>10}{line}")
    return 0


async def _names(settings: Settings, labels: Iterable[str]) -> dict[str, str]:
    """Authors' names now, from the directory (the log holds pseudonymous ids)."""
    directory = open_directory(settings.mongo_url, settings.data_dir)
    await directory.open()
    try:
        return await People(directory).labels(labels)
    finally:
        await directory.close()


async def _head(store: Store, name: DocumentName) -> int:
    head = await store.head(str(name))
    if head == 0:
        raise Fail(f"{name} has no history")
    return head


async def _point(store: Store, name: DocumentName, point: str, head: int) -> int:
    """A version name or a sequence number, as a sequence number of the log."""
    for version in await store.versions(str(name)):
        if version.name == point:
            return version.seq
    if point.isdigit() and 1 <= int(point) <= head:
        return int(point)
    raise Fail(f"{name} has no version {point!r} (and entries 1 to {head})")


async def _show(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    """The document as it was (JSON), now by default."""
    name = _name_of(args.doc)
    head = await _head(store, name)
    try:
        if args.at:
            when = datetime.fromisoformat(args.at)
            if when.tzinfo is None:
                raise Fail("--at needs a time zone, e.g. 2026-05-01T12:00:00Z")
            seq = await seq_at_time(store, str(name), int(when.timestamp() * 1000))
        else:
            seq = args.seq or head
        doc = await history.past(store, name, seq)
    except (OutOfRange, ValueError) as exc:
        raise Fail(f"{exc}") from None
    print(
        json.dumps(
            {"doc": str(name), "seq": seq, "content": schema.snapshot(doc, name.kind)}, indent=1
        )
    )
    return 0


async def _versions(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    """A document's named versions."""
    name = _name_of(args.doc)
    await _head(store, name)
    for v in await store.versions(str(name)):
        print(f"{v.seq:>8}  {_when(v.time_ms)}  {v.principal:<20}  {v.name}  {v.note}".rstrip())
    return 0


async def _name(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    """Name a point of history ("v2 as sent to the lender")."""
    name = _name_of(args.doc)
    head = await _head(store, name)
    seq = args.seq or head
    if not 1 <= seq <= head:
        raise Fail(f"{name} has entries 1 to {head}; there is no {seq}")
    entry = (await store.read(str(name), after=seq - 1, limit=1))[0]
    try:
        await store.add_version(
            Version(str(name), args.version, seq, entry.time_ms, args.by, args.note)
        )
    except VersionExists:
        raise Fail(f"{name} already has a version named {args.version!r}") from None
    print(f"{args.version}: {name} at {seq}")
    return 0


async def _diff(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    """What changed between two versions or points."""
    name = _name_of(args.doc)
    head = await _head(store, name)
    a = await _point(store, name, args.start, head)
    b = await _point(store, name, args.end, head) if args.end else head
    before = schema.snapshot(await history.past(store, name, a), name.kind)
    after = schema.snapshot(await history.past(store, name, b), name.kind)
    found = changes.diff_documents(before, after)
    print(f"{name}: {a} -> {b}, {len(found)} change(s)")
    for change in found:
        print(f"  {change.summary}")
    return 0


def _print_report(report: Report) -> None:
    if report.ok:
        print(f"ok    {report.doc}  {report.entries} entries, sealed up to {report.sealed_upto}")
    else:
        print(f"FAIL  {report.problem}")


async def _verify(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    """Check hashes and seals; prints the first entry that does not match."""
    target: str = args.target
    if target.count("/") == 2:
        docs = [_doc(target)]
    else:
        docs = await store.documents(f"{target.rstrip('/')}/" if target else "")
    if not docs:
        raise Fail(f"nothing stored under {target or 'this store'!r}")
    public = _public_keys(settings)
    failed = 0
    for doc in docs:
        report = verify(doc, await store.read(doc), await store.seals(doc), public)
        _print_report(report)
        failed += not report.ok
    print(f"{len(docs) - failed} of {len(docs)} documents verified")
    return 1 if failed else 0


async def _export(args: argparse.Namespace, settings: Settings, store: Store) -> int:
    """Write a document's history as a verifiable bundle."""
    doc = _doc(args.doc)
    if settings.seal_key_file.exists():
        # Seal what is not sealed yet, so the bundle vouches for its every entry.
        key = keyfiles.load_or_create(settings.seal_key_file, open_keyring(settings.key_url))
        await Sealer(store, key, 1).seal(doc)
    try:
        bundle = await export(store, doc, _public_keys(settings))
    except LookupError as exc:
        raise Fail(f"{exc}") from None
    args.file.write_text(json.dumps(bundle, indent=1))
    print(f"wrote {len(bundle['entries'])} entries and {len(bundle['seals'])} seals to {args.file}")
    return 0


def _restore(args: argparse.Namespace) -> int:
    # Through the server, so the restore is a live change attributed to the token's owner.
    """Make a document equal to a version again, through the running server (everyone
    connected sees it; nothing is removed from history)."""
    name = _name_of(args.doc)
    token = args.token or os.environ.get("SINOPIA_TOKEN")
    if not token:
        raise Fail("restore needs --token or SINOPIA_TOKEN")
    body = {"seq": int(args.version)} if args.version.isdigit() else {"version": args.version}
    try:
        answer = httpx.post(
            f"{args.server.rstrip('/')}/api/history/{name}/restore",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
    except httpx.HTTPError as exc:
        raise Fail(f"cannot reach {args.server}: {exc}") from None
    if answer.status_code != 200:
        detail = (
            answer.json().get("detail")
            if answer.headers.get("content-type", "").endswith("json")
            else answer.text
        )
        raise Fail(f"{answer.status_code}: {detail}")
    done = answer.json()
    print(f"{name}: restored to {done['restored_from']} as change {done['seq']}")
    return 0


def _verify_bundle(args: argparse.Namespace) -> int:
    """Verify an exported bundle offline: no server, no database."""
    try:
        bundle: Any = json.loads(args.file.read_text())
    except (OSError, ValueError) as exc:
        raise Fail(f"cannot read {args.file}: {exc}") from None
    report = verify_bundle(bundle, set(args.trust) if args.trust else None)
    _print_report(report)
    if report.ok:
        print(f"signed by key {', '.join(sorted(report.signed_by or ()))}")
    return 0 if report.ok else 1
