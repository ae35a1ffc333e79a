"""The IIIF Image API 3.0 (level 2 and more), without I/O: reading a request's region,
size, rotation, quality and format against an image's dimensions and the service's
limits, and building an image's `info.json`. The server renders what this resolves.

https://iiif.io/api/image/3.0/
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from .errors import IIIFError

CONTEXT = "http://iiif.io/api/image/3/context.json"
PROTOCOL = "http://iiif.io/api/image"
PROFILE_URI = "http://iiif.io/api/image/3/level2.json"
FORMATS = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
QUALITIES = ("default", "color", "gray", "bitonal")
# Beyond level 2: what this service also does.
EXTRA_FEATURES = ["mirroring", "rotationArbitrary", "sizeUpscaling", "profileLinkHeader"]

_NUMBER = r"\d+(?:\.\d*)?|\.\d+"
_PIXELS = re.compile(r"(\d+),(\d+),(\d+),(\d+)")
_PERCENT = re.compile(rf"pct:({_NUMBER}),({_NUMBER}),({_NUMBER}),({_NUMBER})")
_SIZE_WH = re.compile(r"(!)?(\d+)?,(\d+)?")
_SIZE_PCT = re.compile(rf"pct:({_NUMBER})")
_ROTATION = re.compile(rf"(!)?({_NUMBER})")


class ImageRequestError(IIIFError):
    """A request the Image API says is bad (400); the message says which part and why."""


@dataclass(frozen=True)
class ServiceLimits:
    """What the service renders at most (info.json's maxWidth, maxHeight, maxArea)."""

    max_area: int | None = None
    max_width: int | None = None
    max_height: int | None = None

    def allows(self, width: int, height: int) -> bool:
        return (
            (self.max_area is None or width * height <= self.max_area)
            and (self.max_width is None or width <= self.max_width)
            and (self.max_height is None or height <= self.max_height)
        )

    def fit(self, width: int, height: int, upscale: bool) -> tuple[int, int]:
        """The largest size of this aspect within the limits: `width` x `height` itself
        when it fits (or larger, when upscaling to maxWidth/maxHeight is allowed)."""
        scale = 1.0 if not upscale else math.inf
        if self.max_width is not None:
            scale = min(scale, self.max_width / width)
        if self.max_height is not None:
            scale = min(scale, self.max_height / height)
        if self.max_area is not None:
            scale = min(scale, math.sqrt(self.max_area / (width * height)))
        if scale == math.inf:
            scale = 1.0
        w, h = max(1, math.floor(width * scale)), max(1, math.floor(height * scale))
        return (width, height) if scale >= 1 and not upscale else (w, h)


@dataclass(frozen=True)
class ImageRequest:
    """A resolved request: the region in full-size pixels, the output size, and how to
    turn, tone and encode it."""

    region: tuple[int, int, int, int]  # x, y, w, h
    size: tuple[int, int]  # w, h
    mirror: bool
    rotation: float  # degrees clockwise, 0 <= r < 360
    quality: str
    format: str

    @property
    def media_type(self) -> str:
        return FORMATS[self.format]

    @property
    def scale(self) -> float:
        """How much the region shrinks (above 1) or grows (below 1)."""
        return max(self.region[2] / self.size[0], self.region[3] / self.size[1])


def parse_region(text: str, width: int, height: int) -> tuple[int, int, int, int]:
    if text == "full":
        return 0, 0, width, height
    if text == "square":
        side = min(width, height)
        return (width - side) // 2, (height - side) // 2, side, side
    if match := _PIXELS.fullmatch(text):
        x, y, w, h = (int(g) for g in match.groups())
    elif match := _PERCENT.fullmatch(text):
        px, py, pw, ph = (float(g) for g in match.groups())
        x, y = round(px * width / 100), round(py * height / 100)
        w, h = round(pw * width / 100), round(ph * height / 100)
    else:
        raise ImageRequestError(f"region {text[:40]!r}: use full, square, x,y,w,h or pct:x,y,w,h")
    if w <= 0 or h <= 0:
        raise ImageRequestError(f"region {text[:40]!r}: its width and height must be above 0")
    if x >= width or y >= height:
        raise ImageRequestError(f"region {text[:40]!r} lies outside the {width} x {height} image")
    return x, y, min(w, width - x), min(h, height - y)


def parse_size(text: str, region_w: int, region_h: int, limits: ServiceLimits) -> tuple[int, int]:
    upscale = text.startswith("^")
    body = text[1:] if upscale else text
    if body == "max":
        return limits.fit(region_w, region_h, upscale)
    if match := _SIZE_PCT.fullmatch(body):
        pct = float(match.group(1))
        if pct <= 0:
            raise ImageRequestError(f"size {text[:40]!r}: the percentage must be above 0")
        w = round(region_w * pct / 100)
        h = round(region_h * pct / 100)
    elif match := _SIZE_WH.fullmatch(body):
        confined, ws, hs = match.groups()
        if (ws is None and hs is None) or (confined and (ws is None or hs is None)):
            raise ImageRequestError(f"size {text[:40]!r}: give w, ,h, w,h or !w,h")
        if confined:
            bw, bh = int(ws), int(hs)
            scale = min(bw / region_w, bh / region_h)
            w = min(bw, max(1, round(region_w * scale)))
            h = min(bh, max(1, round(region_h * scale)))
        elif ws is not None and hs is not None:
            w, h = int(ws), int(hs)
        elif ws is not None:
            w = int(ws)
            h = round(region_h * w / region_w)
        else:
            h = int(hs)
            w = round(region_w * h / region_h)
    else:
        raise ImageRequestError(
            f"size {text[:40]!r}: use max, w,, ,h, pct:n, w,h or !w,h (^ before any to upscale)"
        )
    if w <= 0 or h <= 0:
        raise ImageRequestError(f"size {text[:40]!r} comes to {w} x {h} pixels: nothing to show")
    if not upscale and (w > region_w or h > region_h):
        raise ImageRequestError(
            f"size {text[:40]!r} is larger than the {region_w} x {region_h} region; "
            f"put ^ before it to ask for upscaling"
        )
    if not limits.allows(w, h):
        raise ImageRequestError(
            f"size {text[:40]!r} ({w} x {h}) is over this service's limits "
            f"(maxArea {limits.max_area}); ask for tiles or a smaller size"
        )
    return w, h


def parse_rotation(text: str) -> tuple[bool, float]:
    match = _ROTATION.fullmatch(text)
    if not match or float(match.group(2)) > 360:
        raise ImageRequestError(f"rotation {text[:40]!r}: use a number from 0 to 360, ! to mirror")
    return bool(match.group(1)), float(match.group(2)) % 360


def parse_request(
    region: str,
    size: str,
    rotation: str,
    quality_format: str,
    width: int,
    height: int,
    limits: ServiceLimits,
) -> ImageRequest:
    """The request `{region}/{size}/{rotation}/{quality}.{format}` on a `width` x
    `height` image; ImageRequestError when any part is bad."""
    quality, dot, fmt = quality_format.rpartition(".")
    if not dot:
        raise ImageRequestError("the last part is {quality}.{format}, e.g. default.jpg")
    if quality not in QUALITIES:
        raise ImageRequestError(f"quality {quality[:40]!r}: use one of {', '.join(QUALITIES)}")
    if fmt not in FORMATS:
        raise ImageRequestError(f"format {fmt[:40]!r}: use one of {', '.join(FORMATS)}")
    x, y, w, h = parse_region(region, width, height)
    out = parse_size(size, w, h, limits)
    mirror, degrees = parse_rotation(rotation)
    return ImageRequest((x, y, w, h), out, mirror, degrees, quality, fmt)


def info_json(
    service_id: str,
    width: int,
    height: int,
    *,
    tile: int,
    levels: list[tuple[int, int]],
    limits: ServiceLimits,
) -> dict[str, Any]:
    """The image's info.json: its tiles and scale factors are the stored pyramid's levels
    (level n is the full image shrunk 2^n times), its sizes those levels' own sizes."""
    info: dict[str, Any] = {
        "@context": CONTEXT,
        "id": service_id,
        "type": "ImageService3",
        "protocol": PROTOCOL,
        "profile": "level2",
        "width": width,
        "height": height,
    }
    if limits.max_area is not None:
        info["maxArea"] = limits.max_area
    if limits.max_width is not None:
        info["maxWidth"] = limits.max_width
    if limits.max_height is not None:
        info["maxHeight"] = limits.max_height
    info["sizes"] = [{"width": w, "height": h} for w, h in reversed(levels) if limits.allows(w, h)]
    info["tiles"] = [
        {"width": tile, "height": tile, "scaleFactors": [2**i for i in range(len(levels))]}
    ]
    info["extraQualities"] = ["color", "gray", "bitonal"]
    info["extraFormats"] = ["webp"]
    info["extraFeatures"] = list(EXTRA_FEATURES)
    return info
