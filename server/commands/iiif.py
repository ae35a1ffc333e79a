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
from pathlib import Path
from typing import Any

from server.commands.errors import USAGE, Fail
from server.commands.options import add, data_dir, settings_from
from server.settings import Settings


def configure(iiif: argparse.ArgumentParser) -> None:
    sub = iiif.add_subparsers(dest="action", required=True, metavar="ACTION")
    imp = add(
        sub,
        "import",
        "make one subject per canvas and 3D model of a IIIF manifest",
        (
            "sinopia iiif import my-museum manifest.json --data-dir /var/lib/sinopia",
            "sinopia iiif import my-museum https://example.org/manifest.json "
            "--server http://127.0.0.1:8080 --token $TOKEN",
        ),
    )
    imp.add_argument("workspace")
    imp.add_argument("source", help="a manifest file, or an http(s) URL to fetch")
    imp.add_argument("--server", help="import through this running server, e.g. http://host:8080")
    imp.add_argument("--token", help="a token for --server (default: $SINOPIA_TOKEN)")
    imp.set_defaults(run=run)


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def _load(source: str) -> Any:
    try:
        return json.loads(Path(source).read_text())
    except OSError as exc:
        raise Fail(f"cannot read {source}: {exc.strerror}") from None
    except ValueError as exc:
        raise Fail(f"{source} is not JSON: {exc}") from None


def _print(answer: dict[str, Any]) -> None:
    print(f"imported {answer['manifest']} ({answer['label'] or 'no label'})")
    for subject in answer["subjects"]:
        size = f"{subject['width']}x{subject['height']}" if subject.get("width") else "-"
        carried = ""
        if subject.get("annotations_imported") or subject.get("annotations_kept"):
            carried = (
                f"  annotations: {subject.get('annotations_imported', 0)} imported, "
                f"{subject.get('annotations_kept', 0)} already there"
            )
        print(
            f"  {subject['status']:<9} {subject['document']}  {size}  {subject['label']}{carried}"
        )
    for warning in answer.get("warnings", []):
        print(f"  not imported: {warning['where']}: {warning['message']}")
    print(f"manifest with annotations: {answer['iiif_manifest']}")


def run(args: argparse.Namespace) -> int:
    if args.server:
        return _through_server(args)
    settings = settings_from(args)
    if not settings.mongo_url:
        data_dir(settings, create=True)
    return asyncio.run(_into_store(args, settings))


def _through_server(args: argparse.Namespace) -> int:
    import httpx

    token = args.token or os.environ.get("SINOPIA_TOKEN")
    if not token:
        raise Fail("--server needs --token or SINOPIA_TOKEN", USAGE)
    body = {"url": args.source} if _is_url(args.source) else _load(args.source)
    url = f"{args.server.rstrip('/')}/api/iiif/{args.workspace}/import"
    try:
        response = httpx.post(
            url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=120
        )
    except httpx.HTTPError as exc:
        raise Fail(f"cannot reach {args.server}: {exc}") from None
    if response.status_code != 200:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        raise Fail(f"import refused ({response.status_code}): {detail}")
    _print(response.json())
    return 0


async def _into_store(args: argparse.Namespace, settings: Settings) -> int:
    from annotations.imported import importer_agent
    from crdt import DocumentName, RoomManager
    from crdt.buses import open_bus
    from crdt.errors import InvalidName
    from crdt.keyring import open_keyring
    from crdt.stores import open_store
    from iiif import ManifestError, WorkspaceUrls
    from server.api.iiif_import import FetchError, FetchLimits, fetch_json, import_manifest
    from server.directory import open_directory

    keyring = open_keyring(settings.key_url)

    try:
        DocumentName.of(args.workspace, "canvas", "x")
    except InvalidName as exc:
        raise Fail(f"{args.workspace!r}: {exc}", USAGE) from None
    directory = open_directory(settings.mongo_url, settings.data_dir, keyring)
    await directory.open()
    try:
        if await directory.workspace(args.workspace) is None:
            raise Fail(
                f"no workspace {args.workspace!r} (sinopia admin workspace add {args.workspace})"
            )
    finally:
        await directory.close()
    limits = FetchLimits(
        settings.iiif_fetch_max_bytes,
        settings.iiif_fetch_timeout_seconds,
        # The operator runs this on purpose: their own network is theirs to import from.
        allow_private=True,
    )
    base = (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")
    urls = WorkspaceUrls(base_url=base, workspace=args.workspace)
    if _is_url(args.source):
        try:
            data = await fetch_json(args.source, limits)
        except FetchError as exc:
            raise Fail(f"{exc}") from None
    else:
        data = _load(args.source)
    store = open_store(settings.store_location, settings.data_dir, keyring)
    bus = open_bus("memory:", "cli")
    await store.open()
    await bus.open()
    manager = RoomManager(store, bus, limits=settings.limits)
    try:
        who = f"cli:{getpass.getuser()}"
        done = await import_manifest(
            manager,
            args.workspace,
            data,
            who,
            limits=limits,
            importer=importer_agent(who),
            urls=urls,
        )
    except ManifestError as exc:
        raise Fail(f"cannot import this manifest: {exc}") from None
    finally:
        await manager.close()
        await bus.close()
        await store.close()
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
                    "annotations_imported": item.annotations_added,
                    "annotations_kept": item.annotations_kept,
                }
                for item in done.subjects
            ],
            "warnings": [{"where": w.where, "message": w.message} for w in done.warnings],
        }
    )
    return 0
