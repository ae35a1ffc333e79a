"""`sinopia report ...`: what a registrar does with reports from the command line.

sinopia report verify FILE [--trust KEY_ID]   a signed record, offline: no server, no
                                             database; names what does not match
sinopia report list WS [--due DATE] [--status S]   reports of a workspace, from the store
sinopia report export WS ID --format pdf|jsonld|csv|json|signed -o FILE
                                             through the running server (--server,
                                             --token or $SINOPIA_TOKEN)
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pycrdt import Doc

from annotations import Invalid
from annotations.report_document import migrate, parse_report, report_json
from annotations.signed_record import fingerprint, verify
from crdt.history import state_at
from crdt.keyring import open_keyring
from crdt.names import DocumentName
from crdt.seals import check_seal
from crdt.stores import open_store
from crdt.types import Seal
from server.commands.errors import USAGE, Fail
from server.commands.options import command, data_dir, settings_from, trust_option

FORMATS = {
    "pdf": "application/pdf",
    "jsonld": "application/ld+json",
    "csv": "text/csv",
    "json": "application/json",
}


def configure(report: argparse.ArgumentParser) -> None:
    sub = report.add_subparsers(dest="action", required=True, metavar="ACTION")

    example = "sinopia report verify r1.signed.json --trust 3f2a9c0d1e4b5a67"
    check = command(sub, "verify", _verify, example, storage=False)
    check.add_argument("file", type=Path)
    trust_option(check, "a signature")

    listing = command(sub, "list", _list, "sinopia report list museum --due 2026-01-01")
    listing.add_argument("workspace")
    listing.add_argument("--due", help="only checks due by this date (YYYY-MM-DD)")
    listing.add_argument("--status", help="only reports with this status")

    example = (
        "sinopia report export museum r1 --format pdf -o r1.pdf --server http://127.0.0.1:8080"
    )
    out = command(sub, "export", _export, example, storage=False)
    out.add_argument("workspace")
    out.add_argument("id")
    out.add_argument("--format", choices=[*FORMATS, "signed"], default="pdf")
    out.add_argument("-o", "--output", type=Path, required=True, help="the file to write")
    out.add_argument("--server", required=True, help="the running server, e.g. http://host:8080")
    out.add_argument("--token", help="a token of yours (default: $SINOPIA_TOKEN)")


def _seal_check(
    seal: dict[str, Any], seq: int, digest: str, document: str, key: Ed25519PublicKey
) -> str | None:
    """The history seal in the file, checked as the history machinery checks seals."""
    try:
        made = Seal(
            document,
            int(seal["first_seq"]),
            int(seal["last_seq"]),
            bytes.fromhex(str(seal["hash"])),
            int(seal["time_ms"]),
            str(seal["key_id"]),
            base64.urlsafe_b64decode(str(seal["signature"]) + "=" * (-len(seal["signature"]) % 4)),
        )
    except (KeyError, ValueError, TypeError):
        return "malformed seal"
    return check_seal(made, bytes.fromhex(digest), {fingerprint(key): key})


def _verify(args: argparse.Namespace) -> int:
    """Check a signed record offline (from GET .../signed or export): no server, no database."""
    try:
        data: Any = json.loads(args.file.read_text())
    except (OSError, ValueError) as exc:
        raise Fail(f"cannot read {args.file}: {exc}") from None
    result = verify(data, trusted=set(args.trust) if args.trust else None, check_seal=_seal_check)
    if not result.ok:
        for problem in result.problems:
            print(f"FAIL {result.document or args.file}: {problem}")
        return 1
    print(
        f"OK {result.document}: the record as signed at history entry {result.seq}, "
        f"by key {result.key_id}"
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    """A workspace's reports, newest first, from the store (server running or not)."""
    settings = settings_from(args)
    data_dir(settings, create=bool(settings.mongo_url))
    try:
        due = date.fromisoformat(args.due) if args.due else None
    except ValueError:
        raise Fail(f"--due must be YYYY-MM-DD, not {args.due!r}", USAGE) from None

    async def main() -> int:
        store = open_store(
            settings.store_location, settings.data_dir, open_keyring(settings.key_url)
        )
        await store.open()
        rows = []
        try:
            for name in await store.documents(f"{args.workspace}/report/"):
                head = await store.head(name)
                doc = Doc()
                doc.apply_update(await state_at(store, name, head))
                try:
                    report = parse_report(migrate(report_json(doc)))
                except Invalid:
                    continue
                if args.status and report.status != args.status:
                    continue
                if due and (report.next_check is None or report.next_check > due):
                    continue
                rows.append((DocumentName.parse(name).id, report))
        finally:
            await store.close()
        rows.sort(key=lambda r: r[1].date or date.min, reverse=True)
        for report_id, report in rows:
            when = report.date.isoformat() if report.date else "no date"
            nxt = f"  next check {report.next_check}" if report.next_check else ""
            obj = report.object_info.identifier if report.object_info else "-"
            print(f"{report_id:<24} {report.type:<10} {report.status:<12} {when}  {obj}{nxt}")
        return 0

    return asyncio.run(main())


def _export(args: argparse.Namespace) -> int:
    """Write a report as PDF, JSON-LD, CSV, JSON or its signed record, through the server."""
    token = args.token or os.environ.get("SINOPIA_TOKEN")
    if not token:
        raise Fail("export needs --token or SINOPIA_TOKEN")
    url = f"{args.server.rstrip('/')}/api/reports/{args.workspace}/{args.id}"
    headers = {"Authorization": f"Bearer {token}"}
    if args.format == "signed":
        url += "/signed"
    else:
        headers["Accept"] = FORMATS[args.format]
    try:
        answer = httpx.get(url, headers=headers, timeout=120)
    except httpx.HTTPError as exc:
        raise Fail(f"cannot reach {args.server}: {exc}") from None
    if answer.status_code != 200:
        detail = (
            answer.json().get("detail")
            if "json" in answer.headers.get("content-type", "")
            else answer.text
        )
        raise Fail(f"{answer.status_code}: {detail}")
    args.output.write_bytes(answer.content)
    print(f"wrote {args.output} ({len(answer.content)} bytes)")
    return 0
