"""`sinopia media add WORKSPACE FILE...`: upload images, each becoming subjects (one per
image or page) with a IIIF image service and a manifest, with a progress bar for the batch.

With `--server URL` (and `--token`, or `SINOPIA_TOKEN`) the running server takes them
(`POST /api/media/{workspace}`), and everyone connected sees the subjects at once.
Without it they go straight into the data directory's store and blob store (the
`SINOPIA_*` settings), through the same path, with the server stopped.

A file that is refused (not an image, over a limit, damaged) is said and skipped; the
others are taken, and the command fails at the end saying how many were refused.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
import time
from pathlib import Path
from typing import IO, Any

from server.commands.errors import USAGE, Fail
from server.commands.options import add, data_dir, settings_from
from server.settings import Settings

# The progress bar redraws at most this often (a terminal is not worth more).
REDRAW_SECONDS = 0.1
BAR = 30


def configure(media: argparse.ArgumentParser) -> None:
    sub = media.add_subparsers(dest="action", required=True, metavar="ACTION")
    cmd = add(
        sub,
        "add",
        "upload images: one subject per image or page, with a IIIF image service",
        (
            "sinopia media add my-museum scans/*.tif --data-dir /var/lib/sinopia",
            "sinopia media add my-museum photo.jpg --server http://127.0.0.1:8080 --token $TOKEN",
        ),
    )
    cmd.add_argument("workspace")
    cmd.add_argument("files", nargs="+", metavar="FILE", help="JPEG, PNG, TIFF or WebP files")
    cmd.add_argument("--server", help="upload to this running server, e.g. http://host:8080")
    cmd.add_argument("--token", help="a token for --server (default: $SINOPIA_TOKEN)")
    cmd.add_argument("--quiet", action="store_true", help="no progress bar")
    cmd.set_defaults(run=run)


class Progress:
    """One line for the whole batch: bytes sent (or files done), of the total, and the file
    at hand, redrawn in place on a terminal. Elsewhere (a log, a pipe) there is no bar:
    the lines saying each file taken or refused are the progress."""

    def __init__(self, files: list[Path], out: IO[str], quiet: bool = False) -> None:
        self.total = sum(f.stat().st_size for f in files) or 1
        self.count = len(files)
        self.out = out
        self.quiet = quiet
        self.tty = out.isatty()
        self.done = 0
        self.index = 0
        self.name = ""
        self._drawn = 0.0

    def start(self, index: int, path: Path) -> None:
        self.index, self.name = index, path.name
        self.draw(force=True)

    def advance(self, size: int) -> None:
        self.done += size
        self.draw()

    def draw(self, force: bool = False) -> None:
        if self.quiet or not self.tty:
            return
        now = time.monotonic()
        if not force and now - self._drawn < REDRAW_SECONDS:
            return
        self._drawn = now
        share = min(1.0, self.done / self.total)
        filled = round(BAR * share)
        line = (
            f"[{'#' * filled}{'.' * (BAR - filled)}] {share:4.0%}  "
            f"{self.index + 1}/{self.count} {self.name}"
        )
        self.out.write("\r" + line[:120].ljust(120))
        self.out.flush()

    def say(self, text: str) -> None:
        """A line of its own above the bar (a file taken or refused)."""
        if self.tty and not self.quiet:
            self.out.write("\r" + " " * 120 + "\r")
        print(text, flush=True)
        self.draw(force=True)

    def finish(self) -> None:
        if self.tty and not self.quiet:
            self.out.write("\r" + " " * 120 + "\r")
            self.out.flush()


def _files(names: list[str]) -> list[Path]:
    files = []
    for name in names:
        path = Path(name)
        if not path.is_file():
            raise Fail(f"{name}: no such file", USAGE)
        if not os.access(path, os.R_OK):
            raise Fail(f"{name}: not readable")
        files.append(path)
    return files


def _head(path: Path, size: int) -> bytes:
    with open(path, "rb") as f:
        return f.read(size)


def _said(subjects: list[dict[str, Any]], name: str, original: str | None) -> str:
    lines = [f"taken {name}:"]
    for s in subjects:
        lines.append(f"  {s['document']}  {s.get('width')}x{s.get('height')}  {s['label']}")
    if original:
        # The master as sent, kept beside what it became (members download it there).
        lines.append(f"  original: {original}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    files = _files(args.files)
    progress = Progress(files, sys.stderr, args.quiet)
    if args.server:
        refused = _through_server(args, files, progress)
    else:
        settings = settings_from(args)
        if not settings.mongo_url:
            data_dir(settings, create=True)
        refused = asyncio.run(_into_store(args, settings, files, progress))
    progress.finish()
    if refused:
        raise Fail(f"{refused} of {len(files)} files were not taken (see above)")
    return 0


class _Counting:
    """A file read for upload that moves the progress bar."""

    def __init__(self, f: IO[bytes], progress: Progress) -> None:
        self.f = f
        self.progress = progress

    def read(self, size: int = -1) -> bytes:
        data = self.f.read(size)
        self.progress.advance(len(data))
        return data

    def fileno(self) -> int:
        return self.f.fileno()

    def seek(self, *args: Any) -> int:
        return self.f.seek(*args)

    def tell(self) -> int:
        return self.f.tell()


def _through_server(args: argparse.Namespace, files: list[Path], progress: Progress) -> int:
    import httpx

    token = args.token or os.environ.get("SINOPIA_TOKEN")
    if not token:
        raise Fail("--server needs --token or SINOPIA_TOKEN", USAGE)
    url = f"{args.server.rstrip('/')}/api/media/{args.workspace}"
    refused = 0
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=3600) as client:
        for index, path in enumerate(files):
            progress.start(index, path)
            with open(path, "rb") as f:
                try:
                    response = client.post(url, files={"file": (path.name, _Counting(f, progress))})
                except httpx.HTTPError as exc:
                    raise Fail(f"cannot reach {args.server}: {exc}") from None
            if response.status_code == 201:
                answer = response.json()
                progress.say(_said(answer["subjects"], path.name, answer.get("original")))
                continue
            if response.status_code in (401, 403, 404):
                raise Fail(f"upload refused ({response.status_code}): {_detail(response)}")
            refused += 1
            progress.say(f"refused {path.name} ({response.status_code}): {_detail(response)}")
    return refused


def _detail(response: Any) -> str:
    try:
        return str(response.json().get("detail", response.text))
    except ValueError:
        return str(response.text)[:200]


async def _into_store(
    args: argparse.Namespace, settings: Settings, files: list[Path], progress: Progress
) -> int:
    from crdt import DocumentName, RoomManager
    from crdt.buses import open_bus
    from crdt.errors import InvalidName
    from crdt.stores import open_store
    from server.api import models  # noqa: F401 - registers the 3D model uploader
    from server.api.media import Upload, new_upload_id, original_url, take
    from server.directory import open_directory
    from server.http.problems import HTTPProblem
    from server.media.blobs import open_blobs
    from server.media.images import Images, limits_of, safe_filename
    from server.media.sniff import HEAD_BYTES, sniff

    try:
        DocumentName.of(args.workspace, "canvas", "x")
    except InvalidName as exc:
        raise Fail(f"{args.workspace!r}: {exc}", USAGE) from None
    directory = open_directory(settings.mongo_url, settings.data_dir)
    await directory.open()
    try:
        if await directory.workspace(args.workspace) is None:
            raise Fail(
                f"no workspace {args.workspace!r} (sinopia admin workspace add {args.workspace})"
            )
    finally:
        await directory.close()
    store = open_store(settings.store_location, settings.data_dir)
    bus = open_bus("memory:", "cli")
    blobs = open_blobs(settings)
    await store.open()
    await bus.open()
    await blobs.open()
    manager = RoomManager(store, bus, limits=settings.limits)
    images = Images(blobs, settings.data_dir / "media", limits_of(settings))
    base = (settings.public_url or settings.own_url).rstrip("/")
    refused = 0
    try:
        for index, path in enumerate(files):
            progress.start(index, path)
            size = path.stat().st_size
            try:
                if size > settings.media_max_upload_bytes:
                    limit = settings.media_max_upload_bytes
                    raise HTTPProblem(413, f"the file is over the limit of {limit:,} bytes")
                job = Upload(
                    base_url=base,
                    workspace=args.workspace,
                    path=path,
                    sniffed=sniff(await asyncio.to_thread(_head, path, HEAD_BYTES)),
                    filename=safe_filename(path.name),
                    upload_id=new_upload_id(),
                    principal=f"cli:{getpass.getuser()}",
                    images=images,
                    blobs=blobs,
                    manager=manager,
                )
                subjects = await take(job)
                original = original_url(base, args.workspace, job.upload_id)
                progress.say(_said([s.model_dump() for s in subjects], path.name, original))
            except HTTPProblem as exc:
                refused += 1
                progress.say(f"refused {path.name} ({exc.status}): {exc.detail}")
            finally:
                progress.advance(size)
    finally:
        await manager.close()
        await bus.close()
        await blobs.close()
        await store.close()
    return refused
