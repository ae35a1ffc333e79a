"""Images: taking an uploaded file in (sniffed, checked, converted once into a tiled
pyramid per page, stored in the blob store with a small record), and finding a stored
image's pyramid as a local file for libvips to read regions from.

In the blob store, per image: `{workspace}/images/{image}/pyramid.tif` and
`{workspace}/images/{image}/image.json` (size, levels, tiles, where it came from). The
record is written last, so an image exists only once its pyramid is stored.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from server.media.blobs import BlobError, Blobs
from server.media.convert import TILE, Limits, Page, Refused, convert
from server.media.sniff import Sniffed
from server.settings import Settings

PYRAMID = "pyramid.tif"
RECORD = "image.json"
# Records of images read recently, kept in memory: every tile request needs one.
RECORDS_CACHED = 4096


@dataclass(frozen=True)
class StoredImage:
    workspace: str
    id: str
    width: int
    height: int
    bands: int
    tile: int
    levels: list[tuple[int, int]]  # full size first, each about half the one before
    sha256: str  # of the pyramid: the ETag of everything served from it
    source_format: str  # what was uploaded ("jpeg", "png", ...)
    filename: str  # as the uploader named it (a label only, never a path)
    page: int  # in the uploaded file, from 0
    created_ms: int = field(default_factory=lambda: int(time.time() * 1000))

    @property
    def scale_factors(self) -> list[int]:
        return [2**i for i in range(len(self.levels))]

    @property
    def key(self) -> str:
        return image_key(self.workspace, self.id, PYRAMID)


def limits_of(settings: Settings) -> Limits:
    return Limits(
        max_pixels=settings.media_max_pixels,
        max_pages=settings.media_max_pages,
        seconds=settings.media_convert_seconds,
        memory_bytes=settings.media_convert_memory_bytes,
    )


def image_key(workspace: str, image: str, name: str) -> str:
    return f"{workspace}/images/{image}/{name}"


def safe_filename(name: str | None) -> str:
    """The uploader's file name as a label: its last path segment, without control
    characters, bounded (it names nothing on disk)."""
    name = (name or "").replace("\\", "/").split("/")[-1]
    name = "".join(c for c in name if c.isprintable()).strip().lstrip(".")
    return name[:200] or "upload"


class Images:
    """Stored images of every workspace, over one blob store."""

    def __init__(self, blobs: Blobs, work_dir: Path, limits: Limits) -> None:
        self.blobs = blobs
        self.work_dir = work_dir  # temporary files, and local copies of remote pyramids
        self.limits = limits
        self._records: OrderedDict[tuple[str, str], StoredImage] = OrderedDict()
        self._fetching: dict[str, asyncio.Future[Path]] = {}
        # Pyramids found on this machine, by hash (stored images never change).
        self._local: dict[str, Path] = {}

    def temp_dir(self) -> Path:
        """A fresh private directory for one upload's files (the caller removes it)."""
        (self.work_dir / "tmp").mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(dir=self.work_dir / "tmp"))

    async def take(
        self,
        workspace: str,
        source: Path,
        sniffed: Sniffed,
        filename: str,
        name_page: Callable[[int], str],
    ) -> list[StoredImage]:
        """Convert `source` and store one image per page, named by `name_page(page)`;
        Refused (nothing stored) when the file cannot be taken."""
        if sniffed.format == "empty":
            raise Refused(400, "the file is empty")
        if sniffed.kind != "image":
            raise Refused(415, f"not an image we convert: {sniffed.label}")
        work = self.temp_dir()
        stored: list[StoredImage] = []
        try:
            pages = await convert(source, sniffed.format, work, self.limits)
            for page in pages:
                stored.append(
                    await self._store(workspace, name_page(page.page), page, sniffed, filename)
                )
            return stored
        except BaseException:
            # All or nothing: the pages stored before a failure go again.
            for image in stored:
                await self.delete(workspace, image.id)
            raise
        finally:
            await asyncio.to_thread(shutil.rmtree, work, True)

    async def _store(
        self, workspace: str, image_id: str, page: Page, sniffed: Sniffed, filename: str
    ) -> StoredImage:
        info = await self.blobs.put_file(
            image_key(workspace, image_id, PYRAMID), page.path, content_type="image/tiff"
        )
        image = StoredImage(
            workspace=workspace,
            id=image_id,
            width=page.width,
            height=page.height,
            bands=page.bands,
            tile=TILE,
            levels=page.levels,
            sha256=info.sha256,
            source_format=sniffed.format,
            filename=filename,
            page=page.page,
        )
        record = json.dumps(asdict(image)).encode()

        async def one() -> Any:
            yield record

        await self.blobs.put(
            image_key(workspace, image_id, RECORD), one(), content_type="application/json"
        )
        return image

    async def get(self, workspace: str, image_id: str) -> StoredImage | None:
        """The stored image's record, or None."""
        cached = self._records.get((workspace, image_id))
        if cached is not None:
            self._records.move_to_end((workspace, image_id))
            return cached
        try:
            key = image_key(workspace, image_id, RECORD)
        except ValueError:
            return None
        try:
            if await self.blobs.info(key) is None:
                return None
            data = json.loads(await self.blobs.read_all(key))
        except ValueError:
            return None
        data["levels"] = [tuple(level) for level in data["levels"]]
        image = StoredImage(**data)
        self._records[(workspace, image_id)] = image
        while len(self._records) > RECORDS_CACHED:
            self._records.popitem(last=False)
        return image

    async def delete(self, workspace: str, image_id: str) -> list[Path]:
        """Remove the image's record and pyramid (and a local copy of a remote one); the
        local files its pyramid was read from, for readers to close."""
        gone = await self.get(workspace, image_id)
        self._records.pop((workspace, image_id), None)
        read_from: list[Path] = []
        if gone is not None:
            local = self._local.pop(gone.sha256, None) or await self.blobs.local_path(gone.key)
            copy = self.work_dir / "pyramids" / f"{gone.sha256}.tif"
            read_from = [p for p in (local, copy) if p is not None]
        for name in (RECORD, PYRAMID):
            await self.blobs.delete(image_key(workspace, image_id, name))
        # A remote pyramid's local copy goes too (unless another image is the same).
        if gone is not None and not any(i.sha256 == gone.sha256 for i in self._records.values()):
            await asyncio.to_thread(copy.unlink, True)
        return read_from

    async def pyramid_file(self, image: StoredImage) -> Path:
        """A local file holding the image's pyramid: the blob store's own, or a copy of a
        remote one (made once, named by its hash, shared by concurrent readers)."""
        known = self._local.get(image.sha256)
        if known is not None:
            return known
        local = await self.blobs.local_path(image.key)
        if local is not None:
            self._local[image.sha256] = local
            return local
        copy = self.work_dir / "pyramids" / f"{image.sha256}.tif"
        if copy.exists():
            return copy
        pending = self._fetching.get(image.sha256)
        if pending is None:
            pending = asyncio.ensure_future(self.blobs.copy_to(image.key, copy))
            self._fetching[image.sha256] = pending  # type: ignore[assignment]
            pending.add_done_callback(lambda _: self._fetching.pop(image.sha256, None))
        try:
            await asyncio.shield(pending)
        except BlobError:
            raise
        return copy


__all__ = ["Images", "Limits", "Refused", "StoredImage", "image_key", "limits_of", "safe_filename"]
