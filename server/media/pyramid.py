"""Reading a stored pyramid (a tiled, JPEG-compressed, pyramidal BigTIFF made by
server/media/convert.py): regions at any size, turned, toned and encoded by libvips; and
a fast path for what viewers ask most, a whole tile of a level as JPEG, which is the
stored tile's own bytes (its JPEG tables joined in), or for a tile at the right or bottom
edge the copy cut to size that the converter appended to the file: decoded and encoded by
nobody.
"""

from __future__ import annotations

import json
import math
import os
import struct
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyvips

from iiif.image_api import ImageRequest
from server.media.convert import EDGE_MARK

# Output JPEG quality: what image servers commonly answer with; tiles on the fast path
# keep the stored quality.
JPEG_QUALITY = 85
WEBP_QUALITY = 80
# zlib level of PNG answers: 1-3 cost little CPU and compress nearly as well.
PNG_COMPRESSION = 3

# libvips' cache of recent operations (loads, crops): small, renders rarely repeat.
OPERATIONS_CACHED = 100

# TIFF tags we read.
WIDTH, LENGTH, COMPRESSION, TILE_WIDTH, TILE_LENGTH = 256, 257, 259, 322, 323
TILE_OFFSETS, TILE_BYTES, JPEG_TABLES, SAMPLES = 324, 325, 347, 277
JPEG_COMPRESSION = 7
_TYPES = {1: "B", 2: "B", 3: "H", 4: "I", 7: "B", 16: "Q", 17: "q", 18: "Q"}


def serve_setup() -> None:
    """libvips in the server: only the TIFF loader (our pyramids), one thread per render
    (concurrency comes from rendering several requests at once), a small operation cache."""
    import logging

    from server.media.convert import restrict_loaders

    # libvips says "threadpool completed" at info level for every render.
    logging.getLogger("pyvips").setLevel(logging.WARNING)
    restrict_loaders()
    pyvips.concurrency_set(1)
    pyvips.cache_set_max(OPERATIONS_CACHED)


def drop_cached_operations() -> None:
    """Empty libvips' operation cache, whose loads hold their files open (a deleted
    image's pyramid would keep its disk space)."""
    pyvips.cache_set_max(0)
    pyvips.cache_set_max(OPERATIONS_CACHED)


@dataclass(frozen=True)
class Level:
    width: int
    height: int
    tile_width: int
    tile_height: int
    jpeg: bool
    samples: int
    offsets: tuple[int, ...]
    counts: tuple[int, ...]
    tables: bytes

    @property
    def across(self) -> int:
        return math.ceil(self.width / self.tile_width)


def read_levels(path: Path) -> list[Level]:
    """The tile tables of every page (level) of a classic or Big TIFF."""
    with open(path, "rb") as f:
        head = f.read(16)
        order = {b"II": "<", b"MM": ">"}[head[:2]]
        (version,) = struct.unpack(order + "H", head[2:4])
        big = version == 43
        (offset,) = struct.unpack(order + ("Q" if big else "I"), head[8:16] if big else head[4:8])
        levels: list[Level] = []
        while offset and len(levels) < 64:
            f.seek(offset)
            count_size, entry_size = (8, 20) if big else (2, 12)
            (count,) = struct.unpack(order + ("Q" if big else "H"), f.read(count_size))
            raw = f.read(count * entry_size)
            tags: dict[int, Any] = {}
            for i in range(count):
                entry = raw[i * entry_size : (i + 1) * entry_size]
                tag, kind = struct.unpack(order + "HH", entry[:4])
                n, field = (
                    (struct.unpack(order + "Q", entry[4:12])[0], entry[12:20])
                    if big
                    else (struct.unpack(order + "I", entry[4:8])[0], entry[8:12])
                )
                if kind not in _TYPES:
                    continue
                code = _TYPES[kind]
                size = struct.calcsize(code) * n
                if size <= len(field):
                    data = field[:size]
                else:
                    where = f.tell()
                    (pointer,) = struct.unpack(order + ("Q" if big else "I"), field)
                    f.seek(pointer)
                    data = f.read(size)
                    f.seek(where)
                tags[tag] = data if tag == JPEG_TABLES else struct.unpack(order + code * n, data)
            (offset,) = struct.unpack(order + ("Q" if big else "I"), f.read(8 if big else 4))
            if TILE_OFFSETS not in tags:
                continue
            levels.append(
                Level(
                    width=tags[WIDTH][0],
                    height=tags[LENGTH][0],
                    tile_width=tags[TILE_WIDTH][0],
                    tile_height=tags[TILE_LENGTH][0],
                    jpeg=tags.get(COMPRESSION, (1,))[0] == JPEG_COMPRESSION,
                    samples=tags.get(SAMPLES, (1,))[0],
                    offsets=tags[TILE_OFFSETS],
                    counts=tags[TILE_BYTES],
                    tables=tags.get(JPEG_TABLES, b""),
                )
            )
        return levels


def read_edges(fd: int) -> dict[tuple[int, int, int], tuple[int, int]]:
    """Where the edge tiles cut to size are, (level, col, row) -> (offset, length), if the
    converter appended them (server/media/convert.py); pyramids made before have none."""
    end = os.fstat(fd).st_size
    if end < 16:
        return {}
    trailer = os.pread(fd, 16, end - 16)
    if trailer[8:] != EDGE_MARK:
        return {}
    length = int.from_bytes(trailer[:8], "little")
    if length > end - 16:
        return {}
    try:
        index = json.loads(os.pread(fd, length, end - 16 - length))
        return {(lv, col, row): (at, n) for lv, col, row, at, n in index}
    except (ValueError, TypeError):
        return {}


class Pyramid:
    """One stored pyramid, open for reading by many threads at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.levels = read_levels(path)
        self._fd = os.open(path, os.O_RDONLY)
        self.edges = read_edges(self._fd)
        self._in_memory = in_memory(path)
        self._pages: dict[int, pyvips.Image] = {}
        self._lock = threading.Lock()

    def _read(self, count: int, offset: int, wait: bool) -> bytes:
        if wait or self._in_memory:
            return os.pread(self._fd, count, offset)
        if not hasattr(os, "RWF_NOWAIT"):
            raise BlockingIOError("no non-blocking reads here")
        buffer = bytearray(count)
        try:
            got = os.preadv(self._fd, [buffer], offset, os.RWF_NOWAIT)
        except OSError as exc:  # EAGAIN: not all cached; EOPNOTSUPP: not on this file system
            raise BlockingIOError(str(exc)) from None
        if got != count:
            raise BlockingIOError("partly cached")
        return bytes(buffer)

    def close(self) -> None:
        fd, self._fd = getattr(self, "_fd", -1), -1
        if fd >= 0:
            os.close(fd)

    def __del__(self) -> None:
        # Readers drop a pyramid (LRU, deleted image) without closing it: a thread may be
        # reading it still, and a closed descriptor's number can be reused by another
        # file at once. The last reference closes it.
        self.close()

    def _page(self, level: int) -> pyvips.Image:
        with self._lock:
            page = self._pages.get(level)
            if page is None:
                page = pyvips.Image.tiffload(str(self.path), page=level, access="random")
                self._pages[level] = page
            return page

    def tile_at(self, index: int, region: tuple[int, int, int, int]) -> tuple[int, int] | None:
        """The column and row of the tile of level `index` whose area is `region` (at full
        size, as a viewer reckons it: the last column and row cut at the image's edge)."""
        x, y, w, h = region
        full, level = self.levels[0], self.levels[index]
        factor = 2**index
        tw, th = level.tile_width, level.tile_height
        span_w, span_h = tw * factor, th * factor
        if x % span_w or y % span_h:
            return None
        col, row = x // span_w, y // span_h
        if col * tw >= level.width or row * th >= level.height:
            return None
        if (w, h) != (min(span_w, full.width - x), min(span_h, full.height - y)):
            return None
        # A whole tile of the level must be a whole span at full size (the levels' sizes
        # are rounded, so at the edge they may disagree by a pixel).
        size = self.tile_size(index, col, row)
        if size == (tw, th) and (w, h) != (span_w, span_h):
            return None
        return col, row

    def tile_size(self, index: int, col: int, row: int) -> tuple[int, int]:
        level = self.levels[index]
        tw, th = level.tile_width, level.tile_height
        return (min(tw, level.width - col * tw), min(th, level.height - row * th))

    def stored_tile(self, req: ImageRequest, *, wait: bool = True) -> bytes | None:
        """The answer as the stored JPEG tile itself, when the request is exactly one whole
        tile of a level (or an edge tile cut to size), untouched; None otherwise. With
        `wait=False` the tile is read only if it is in the page cache already, else
        BlockingIOError: the event loop may call it so, and hand the request to a thread
        only when the disk must be read."""
        if req.format != "jpg" or req.mirror or req.rotation or req.quality == "bitonal":
            return None
        for index, level in enumerate(self.levels):
            at = self.tile_at(index, req.region)
            if at is None or req.size != self.tile_size(index, *at):
                continue
            if req.quality == "gray" and level.samples != 1:
                return None
            return self._tile_jpeg(index, *at, wait)
        return None

    def _tile_jpeg(self, index: int, col: int, row: int, wait: bool) -> bytes | None:
        """Tile `col`, `row` of level `index` as a JPEG of its own pixels: the stored tile
        (its tables joined in), or at the right and bottom edges the copy cut to size;
        None where there is none (pyramids made before edge copies, or not JPEG)."""
        level = self.levels[index]
        tw, th = level.tile_width, level.tile_height
        if (col + 1) * tw > level.width or (row + 1) * th > level.height:
            edge = self.edges.get((index, col, row))
            return self._read(edge[1], edge[0], wait) if edge else None
        if not level.jpeg:
            return None
        n = row * level.across + col
        data = self._read(level.counts[n], level.offsets[n], wait)
        if not data.startswith(b"\xff\xd8"):
            return None
        if level.tables:
            return b"\xff\xd8" + level.tables[2:-2] + data[2:]
        return data

    def _one_tile(self, index: int, req: ImageRequest) -> pyvips.Image | None:
        """The request's region when it is one tile of level `index` or a finer one,
        decoded from that tile's JPEG alone and scaled down by the JPEG decoder itself (to
        a half, a quarter or an eighth) as far as the size wanted allows: far cheaper than
        reading the region through the TIFF, whole tiles decoded, and resizing it."""
        sw, sh = req.size
        for finer in range(index, -1, -1):
            at = self.tile_at(finer, req.region)
            if at is None:
                continue
            data = self._tile_jpeg(finer, *at, True)
            if data is None:
                return None
            width, height = self.tile_size(finer, *at)
            shrink = 1
            while shrink < 8 and width >= sw * shrink * 2 and height >= sh * shrink * 2:
                shrink *= 2
            return pyvips.Image.jpegload_buffer(data, shrink=shrink)
        return None

    def render(self, req: ImageRequest) -> bytes:
        """The request's region at its size, mirrored, turned, toned and encoded."""
        x, y, w, h = req.region
        sw, sh = req.size
        shrink = min(w / sw, h / sh)
        index = 0
        while index + 1 < len(self.levels) and 2 ** (index + 1) <= shrink * (1 + 1e-9):
            index += 1
        image = self._one_tile(index, req)
        if image is None:
            full, level = self.levels[0], self.levels[index]
            fx, fy = full.width / level.width, full.height / level.height
            left, top = min(int(x / fx), level.width - 1), min(int(y / fy), level.height - 1)
            right = max(left + 1, min(level.width, math.ceil((x + w) / fx)))
            bottom = max(top + 1, min(level.height, math.ceil((y + h) / fy)))
            image = self._page(index).crop(left, top, right - left, bottom - top)
        if (image.width, image.height) != (sw, sh):
            kernel = "lanczos3" if sw <= image.width else "linear"
            image = image.resize(sw / image.width, vscale=sh / image.height, kernel=kernel)
            if (image.width, image.height) != (sw, sh):
                image = image.gravity("north-west", sw, sh, extend="copy")
        if req.quality in ("gray", "bitonal") and image.bands >= 3:
            image = image.colourspace("b-w")
        if req.quality == "bitonal":
            image = (image > 127).cast("uchar")
        if req.mirror:
            image = image.fliphor()
        image = _rotate(image, req.rotation, transparent=req.format != "jpg")
        if req.format == "jpg":
            return bytes(image.jpegsave_buffer(Q=JPEG_QUALITY, keep="none"))
        if req.format == "png":
            return bytes(image.pngsave_buffer(compression=PNG_COMPRESSION, keep="none"))
        return bytes(image.webpsave_buffer(Q=WEBP_QUALITY, keep="none"))


def in_memory(path: Path) -> bool:
    """Whether `path` is on a tmpfs (the decrypted copies of an encrypted store are), where
    a read never waits for a disk, though `RWF_NOWAIT` is not supported there."""
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return False
    where, best = str(path.resolve()), ("", "")
    for line in mounts:
        fields = line.split()
        if len(fields) > 2 and (where + "/").startswith(fields[1].rstrip("/") + "/"):
            if len(fields[1]) > len(best[0]):
                best = (fields[1], fields[2])
    return best[1] == "tmpfs"


def _rotate(image: pyvips.Image, degrees: float, *, transparent: bool) -> pyvips.Image:
    if degrees == 0:
        return image
    quarter = {90.0: "rot90", 180.0: "rot180", 270.0: "rot270"}.get(degrees)
    if quarter:
        return getattr(image, quarter)()
    # Arbitrary angles: the bounding box of the turned image; the corners transparent
    # where the format can say so, white otherwise.
    if transparent and not image.hasalpha():
        image = image.bandjoin(255)
    background = [0] * image.bands if transparent else [255] * image.bands
    return image.rotate(degrees, background=background)
