"""Converting an uploaded image into tiled pyramidal TIFFs, one per page, in a child
process: a decoder that crashes, or that a hostile file drives to eat memory, takes down
the child and not the server. The child reads the header first and refuses an image over
the pixel limit before any pixel is decoded; libvips then streams the image into the
pyramid (sequential access), so memory stays bounded whatever the image's size.

Run by `convert()` as `python -m server.media.convert` with a JSON job on stdin; it
answers one JSON line on stdout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The pyramid's tiles, and the IIIF tiles of info.json: 512 px squares, what OpenSeadragon
# and Mirador ask for by default (fewer requests than 256 for the same view).
TILE = 512
# JPEG quality of the stored pyramid: visually lossless for conservation photography,
# about a tenth of the size of deflate.
QUALITY = 90
# What libvips may read: these loaders and no other (not SVG, PDF, ImageMagick, or
# libvips' own formats). Everything else is blocked in the child and in the server.
LOADERS = {
    "jpeg": "jpegload",
    "png": "pngload",
    "tiff": "tiffload",
    "bigtiff": "tiffload",
    "webp": "webpload",
    "jp2": "jp2kload",
}
ALLOWED_CLASSES = (
    "VipsForeignLoadJpeg",
    "VipsForeignLoadPng",
    "VipsForeignLoadTiff",
    "VipsForeignLoadWebp",
    "VipsForeignLoadJp2k",
)


# JPEG 2000 where libvips cannot read it (the binary wheel has no openjpeg): Pillow's
# wheel bundles openjpeg, but decodes a whole image at once (no region by region), so the
# child holds it whole in memory (3-4 bytes a pixel) before it is streamed into the
# pyramid like any TIFF. Up to this many pixels (about 300 MB decoded); a larger JPEG 2000
# is refused (413) with the advice to convert it to TIFF.
JP2_MAX_PIXELS = 100_000_000


@dataclass(frozen=True)
class Limits:
    max_pixels: int  # per page, from the header, before decoding
    max_pages: int
    seconds: float  # the whole conversion
    memory_bytes: int  # the child's address space (0: unlimited)
    jp2_max_pixels: int = JP2_MAX_PIXELS


class Refused(Exception):
    """The image cannot be taken; `status` and `detail` for the problem answer."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class Page:
    path: Path  # the pyramidal TIFF
    page: int  # in the source file, from 0
    width: int
    height: int
    bands: int
    levels: list[tuple[int, int]]  # the pyramid's levels, full size first


def restrict_loaders() -> None:
    """Only the loaders of LOADERS may run in this process (libvips' untrusted ones never)."""
    import pyvips

    pyvips.block_untrusted_set(True)
    pyvips.operation_block_set("VipsForeignLoad", True)
    for name in ALLOWED_CLASSES:
        pyvips.operation_block_set(name, False)


async def convert(source: Path, fmt: str, out: Path, limits: Limits) -> list[Page]:
    """The pyramids of `source` (sniffed as `fmt`) in directory `out`; Refused if the image
    is over a limit, damaged, or unreadable."""
    job = {
        "source": str(source),
        "format": fmt,
        "out": str(out),
        "max_pixels": limits.max_pixels,
        "max_pages": limits.max_pages,
        "memory_bytes": limits.memory_bytes,
        "jp2_max_pixels": limits.jp2_max_pixels,
    }
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.media.convert",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        said, errors = await asyncio.wait_for(
            child.communicate(json.dumps(job).encode()), limits.seconds
        )
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            child.kill()
        await child.wait()
        raise Refused(413, f"converting the image took more than {limits.seconds:g} s") from None
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            child.kill()
        await child.wait()
        raise
    try:
        answer = json.loads(said.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        # Killed by a signal (out of memory, a decoder crash): the file is to blame.
        why = errors.decode(errors="replace").strip().splitlines()[-1:] or [""]
        raise Refused(
            400,
            f"the image could not be decoded (the converter stopped: code {child.returncode}"
            + (f", {why[0][:200]}" if why[0] else "")
            + ")",
        ) from None
    if "error" in answer:
        raise Refused(int(answer["error"]["status"]), str(answer["error"]["detail"]))
    return [
        Page(
            Path(p["path"]),
            p["page"],
            p["width"],
            p["height"],
            p["bands"],
            [tuple(level) for level in p["levels"]],  # type: ignore[misc]
        )
        for p in answer["pages"]
    ]


# ---------------------------------------------------------------------------- the child


def _first_line(error: Exception) -> str:
    """libvips' own words: its message says "unable to call X" first, then why."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    why = [line for line in lines if not line.startswith("unable to call")] or lines
    return "; ".join(dict.fromkeys(why))[:300] or type(error).__name__


def _load(pyvips: Any, job: dict[str, Any], **options: Any) -> Any:
    fmt = job["format"]
    try:
        load = getattr(pyvips.Image, LOADERS[fmt])
    except AttributeError:  # libvips built without it (JPEG 2000 in the binary wheel)
        raise Refused(415, f"this server's libvips cannot read {fmt} files") from None
    try:
        return load(job["source"], fail_on="truncated", **options)
    except pyvips.Error as exc:
        if "blocked" in str(exc):
            raise Refused(415, f"this server does not read {fmt} files") from None
        raise Refused(
            400, f"the file is damaged or not a {fmt} image: {_first_line(exc)}"
        ) from None


def _pages(pyvips: Any, job: dict[str, Any], first: Any) -> list[int]:
    """The pages to convert: every page of a multi-page file, except that a file whose
    pages are its own reductions (a pyramidal TIFF) is one image."""
    fields = first.get_fields()
    count = first.get("n-pages") if "n-pages" in fields else 1
    if count > job["max_pages"]:
        raise Refused(413, f"the file has {count} pages; at most {job['max_pages']} are taken")
    if count > 1:
        second = _load(pyvips, job, page=1, access="sequential")
        if (
            second.width <= (first.width + 1) // 2 + 1
            and second.height <= (first.height + 1) // 2 + 1
        ):
            if (
                abs(second.width * first.height - second.height * first.width)
                <= first.width + first.height
            ):
                return [0]
    return list(range(count))


def _normalise(pyvips: Any, image: Any) -> Any:
    """8-bit sRGB or grey, alpha flattened onto white: what every viewer shows alike."""
    grey = image.interpretation in ("b-w", "grey16") or (
        image.bands in (1, 2) and image.interpretation == "multiband"
    )
    image = image.colourspace("b-w" if grey else "srgb")
    if image.hasalpha():
        image = image.flatten(background=[255] * (image.bands - 1))
    if image.format != "uchar":
        image = image.cast("uchar", shift=image.format in ("ushort", "short"))
    return image


def _jp2_as_tiff(job: dict[str, Any]) -> dict[str, Any]:
    """A JPEG 2000 decoded by Pillow (within JP2_MAX_PIXELS and the pixel limit, checked
    from its header) and written as an uncompressed TIFF beside the output, for libvips to
    stream into the pyramid: the job to run instead."""
    from PIL import Image

    # Pillow's own bomb check: never past our limit (it warns first, then refuses).
    Image.MAX_IMAGE_PIXELS = None
    try:
        image = Image.open(job["source"], formats=["JPEG2000"])
    except (OSError, SyntaxError, ValueError) as exc:
        raise Refused(400, f"the file is damaged or not a JPEG 2000 image: {exc}") from None
    width, height = image.size
    if width * height > job["max_pixels"]:
        raise Refused(
            413,
            f"the image is {width} x {height} pixels; at most {job['max_pixels']:,} pixels "
            "are taken",
        )
    most = job.get("jp2_max_pixels", JP2_MAX_PIXELS)
    if width * height > most:
        raise Refused(
            413,
            f"this JPEG 2000 is {width} x {height} pixels: JPEG 2000 is decoded whole here, "
            f"up to {most:,} pixels. Convert it to TIFF (for example "
            "`opj_decompress -i scan.jp2 -o scan.tif`, or `vips copy scan.jp2 scan.tif`) "
            "and upload that: TIFF of any size is streamed",
        )
    try:
        image.load()
        if image.mode not in ("L", "LA", "RGB", "RGBA", "I;16"):
            image = image.convert("RGBA" if "A" in image.mode else "RGB")
        target = Path(job["out"]) / "jp2-decoded.tif"
        image.save(target, format="TIFF")
    except (OSError, SyntaxError, ValueError) as exc:
        raise Refused(400, f"the JPEG 2000 image is damaged or truncated: {exc}") from None
    finally:
        image.close()
    return {**job, "source": str(target), "format": "tiff"}


def run(job: dict[str, Any]) -> dict[str, Any]:
    import pyvips

    restrict_loaders()
    source = Path(job["source"])
    if source.stat().st_size == 0:
        raise Refused(400, "the file is empty")
    if job["format"] == "jp2" and not hasattr(pyvips.Image, LOADERS["jp2"]):
        job = _jp2_as_tiff(job)
    # Only the header is read here (libvips decodes lazily).
    first = _load(pyvips, job, access="sequential")
    pages = _pages(pyvips, job, first)
    out: list[dict[str, Any]] = []
    for page in pages:
        header = first if page == 0 else _load(pyvips, job, page=page, access="sequential")
        pixels = header.width * header.height
        if pixels > job["max_pixels"]:
            raise Refused(
                413,
                f"the image is {header.width} x {header.height} pixels"
                + (f" (page {page + 1})" if len(pages) > 1 else "")
                + f"; at most {job['max_pixels']:,} pixels are taken",
            )
    for page in pages:
        options: dict[str, Any] = {"page": page} if len(pages) > 1 or page else {}
        header = _load(pyvips, job, access="sequential", **options)
        fields = header.get_fields()
        turned = "orientation" in fields and header.get("orientation") not in (0, 1)
        # A turned photograph (EXIF orientation) needs its pixels out of order: random
        # access, which libvips keeps in a temporary file for large images, not memory.
        image = _load(pyvips, job, access="random", **options) if turned else header
        if turned:
            image = image.autorot()
        image = _normalise(pyvips, image)
        target = Path(job["out"]) / f"page-{page}.tif"
        try:
            image.tiffsave(
                str(target),
                tile=True,
                tile_width=TILE,
                tile_height=TILE,
                pyramid=True,
                compression="jpeg",
                Q=QUALITY,
                bigtiff=True,
                strip=True,
            )
        except pyvips.Error as exc:
            raise Refused(400, f"the image is damaged or truncated: {_first_line(exc)}") from None
        levels = []
        pyramid = pyvips.Image.tiffload(str(target))
        n = pyramid.get("n-pages") if "n-pages" in pyramid.get_fields() else 1
        for level in range(n):
            found = pyvips.Image.tiffload(str(target), page=level)
            levels.append([found.width, found.height])
        append_edge_tiles(pyvips, target, len(levels))
        out.append(
            {
                "path": str(target),
                "page": page,
                "width": image.width,
                "height": image.height,
                "bands": image.bands,
                "levels": levels,
            }
        )
    return {"pages": out}


# The trailer after a pyramid's edge tiles: their index (JSON), its length, this mark.
EDGE_MARK = b"SNPEDGE1"


def append_edge_tiles(pyvips: Any, target: Path, levels: int) -> None:
    """Each level's right and bottom tiles, cut to the image and encoded as JPEG, appended
    to the pyramid file after the TIFF (whose readers ignore bytes no directory points
    at), with their index. The TIFF pads edge tiles to full size, so a viewer's request
    for one would otherwise be decoded, cut and encoded on every request: a few ms each,
    against a few µs for a stored tile (see server/media/pyramid.py)."""
    index: list[list[int]] = []
    with open(target, "ab") as f:
        for level in range(levels):
            page = pyvips.Image.tiffload(str(target), page=level, access="random")
            across, down = -(-page.width // TILE), -(-page.height // TILE)
            for row in range(down):
                for col in range(across):
                    w = min(TILE, page.width - col * TILE)
                    h = min(TILE, page.height - row * TILE)
                    if (w, h) == (TILE, TILE):
                        continue
                    tile = page.crop(col * TILE, row * TILE, w, h)
                    data = bytes(tile.jpegsave_buffer(Q=QUALITY, keep="none"))
                    index.append([level, col, row, f.tell(), len(data)])
                    f.write(data)
        table = json.dumps(index, separators=(",", ":")).encode()
        f.write(table + len(table).to_bytes(8, "little") + EDGE_MARK)


def main() -> None:
    job = json.loads(sys.stdin.read())
    if job.get("memory_bytes"):
        limit = int(job["memory_bytes"])
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        answer = run(job)
    except Refused as exc:
        answer = {"error": {"status": exc.status, "detail": exc.detail}}
    except MemoryError:
        answer = {"error": {"status": 413, "detail": "the image needs more memory than allowed"}}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
