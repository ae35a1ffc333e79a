"""Image files for the media tests, made here (pyvips) so that each test says what it
feeds the server: formats, depths, pages, and broken or hostile files."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pyvips


def picture(width: int = 640, height: int = 480, bands: int = 3) -> pyvips.Image:
    """A picture with something in it: a gradient and a red disc, so that crops and
    scales can be told apart."""
    x = pyvips.Image.xyz(width, height)
    ramp = (x[0] * 255 / max(width - 1, 1)).cast("uchar")
    image = ramp.bandjoin(
        [ramp.flip("horizontal"), (x[1] * 255 / max(height - 1, 1)).cast("uchar")]
    )
    image = image.draw_circle(
        [255, 0, 0], width // 2, height // 2, min(width, height) // 4, fill=True
    ).copy(interpretation="srgb")
    if bands == 1:
        return image.colourspace("b-w")
    if bands == 4:
        return image.bandjoin(255).copy(interpretation="srgb")
    return image


def write(path: Path, image: pyvips.Image, **options: object) -> Path:
    image.write_to_file(str(path), **options)
    return path


def multi_page(path: Path, pages: list[pyvips.Image]) -> Path:
    """A multi-page TIFF of same-sized pages."""
    tall = pyvips.Image.arrayjoin(pages, across=1)
    tall = tall.copy()
    tall.set_type(pyvips.GValue.gint_type, "page-height", pages[0].height)
    tall.tiffsave(str(path))
    return path


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims `width` x `height` with a few bytes of pixels: decoding it would
    try to make the whole image (a decompression bomb's header)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1000)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script></svg>"
)
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n" + b"\x00" * 64
