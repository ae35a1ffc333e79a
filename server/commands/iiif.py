"""`sinopia iiif import WORKSPACE FILE-or-URL`: import a IIIF manifest into a workspace.

With `--server URL` (and `--token`, or `SINOPIA_TOKEN`) the running server does the
import (`POST /api/iiif/{workspace}/import`) and everyone connected sees the subjects at
once. Without it the import is written straight to the store (`--data-dir` / the
`SINOPIA_*` store settings) through the same write path, with the server stopped: a
running server's open documents would only see it once reloaded.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any

from server.settings import Settings


def register(commands: argparse._SubParsersAction) -> None:
    iiif = commands.add_parser("iiif", help="IIIF: import manifests")
    sub = iiif.add_subparsers(dest="action", required=True)
    imp = sub.add_parser(
        "import", help="make one subject per canvas and 3D model of a IIIF manifest"
    )
    imp.add_argument("workspace")
    imp.add_argument("source", help="a manifest file, or an http(s) URL to fetch")
    imp.add_argument("--data-dir", type=Path, help="the embedded store's directory")
    imp.add_argument("--server", help="import through this running server, e.g. http://host:8080")
    imp.add_argument("--token", help="a token for --server (default: $SINOPIA_TOKEN)")
    imp.set_defaults(run=run)


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def _load(source: str) -> Any:
    try:
        return json.loads(Path(source).read_text())
    except OSError as exc:
        raise SystemExit(f"sinopia: cannot read {source}: {exc.strerror}") from None
    except ValueError as exc:
        raise SystemExit(f"sinopia: {source} is not JSON: {exc}") from None


def _print(answer: dict[str, Any]) -> None:
    print(f"imported {answer['manifest']} ({answer['label'] or 'no label'})")
    for subject in answer["subjects"]:
        size = f"{subject['width']}x{subject['height']}" if subject.get("width") else "-"
        print(f"  {subject['status']:<9} {subject['document']}  {size}  {subject['label']}")
    print(f"manifest with annotations: {answer['iiif_manifest']}")


def run(args: argparse.Namespace) -> int:
    if args.server:
        return _through_server(args)
    settings = Settings(data_dir=args.data_dir) if args.data_dir else Settings()
    return asyncio.run(_into_store(args, settings))


def _through_server(args: argparse.Namespace) -> int:
    import httpx

    token = args.token or os.environ.get("SINOPIA_TOKEN")
    if not token:
        print("sinopia: --server needs --token or SINOPIA_TOKEN", file=sys.stderr)
        return 2
    body = {"url": args.source} if _is_url(args.source) else _load(args.source)
    url = f"{args.server.rstrip('/')}/api/iiif/{args.workspace}/import"
    try:
        response = httpx.post(
            url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=120
        )
    except httpx.HTTPError as exc:
        print(f"sinopia: cannot reach {args.server}: {exc}", file=sys.stderr)
        return 1
    if response.status_code != 200:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        print(f"sinopia: import refused ({response.status_code}): {detail}", file=sys.stderr)
        return 1
    _print(response.json())
    return 0


async def _into_store(args: argparse.Namespace, settings: Settings) -> int:
    from crdt import DocumentName, RoomManager
    from crdt.buses import open_bus
    from crdt.errors import InvalidName
    from crdt.stores import open_store
    from iiif import ManifestError, WorkspaceUrls
    from server.api.iiif_import import FetchError, FetchLimits, fetch_json, import_manifest
    from server.directory import open_directory

    try:
        DocumentName.of(args.workspace, "canvas", "x")
    except InvalidName as exc:
        print(f"sinopia: {args.workspace!r}: {exc}", file=sys.stderr)
        return 2
    directory = open_directory(settings.mongo_url, settings.data_dir)
    await directory.open()
    try:
        if await directory.workspace(args.workspace) is None:
            print(
                f"sinopia: no workspace {args.workspace!r} "
                f"(sinopia admin workspace add {args.workspace})",
                file=sys.stderr,
            )
            return 1
    finally:
        await directory.close()
    if _is_url(args.source):
        limits = FetchLimits(
            settings.iiif_fetch_max_bytes,
            settings.iiif_fetch_timeout_seconds,
            # The operator runs this on purpose: their own network is theirs to import from.
            allow_private=True,
        )
        try:
            data = await fetch_json(args.source, limits)
        except FetchError as exc:
            print(f"sinopia: {exc}", file=sys.stderr)
            return 1
    else:
        data = _load(args.source)
    store = open_store(settings.store_location, settings.data_dir)
    bus = open_bus("memory:", "cli")
    await store.open()
    await bus.open()
    manager = RoomManager(store, bus, limits=settings.limits)
    try:
        done = await import_manifest(manager, args.workspace, data, f"cli:{getpass.getuser()}")
    except ManifestError as exc:
        print(f"sinopia: cannot import this manifest: {exc}", file=sys.stderr)
        return 1
    finally:
        await manager.close()
        await bus.close()
        await store.close()
    base = (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")
    urls = WorkspaceUrls(base_url=base, workspace=args.workspace)
    _print(
        {
            "manifest": done.manifest,
            "label": done.label,
            "iiif_manifest": urls.manifest(done.manifest_id),
            "subjects": [
                {
                    "status": item.status,
                    "document": str(item.name),
                    "width": item.subject.width,
                    "height": item.subject.height,
                    "label": item.subject.label,
                }
                for item in done.subjects
            ],
        }
    )
    return 0
