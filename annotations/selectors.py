"""Selectors: which part of a canvas or a 3D model an annotation is about.

Images use the W3C FragmentSelector (Media Fragments `xywh=` with an optional `t=`), the W3C
SvgSelector, and the IIIF PointSelector (`x`, `y`, optional `t`).

3D models use the PointSelector the IIIF 3D group drafts (`x`, `y`, `z`, in the model's
coordinates) plus two Sinopia extension properties, since W3C has no 3D selector:

- `sinopia:normal`: the unit surface normal at the point, `[nx, ny, nz]`, so a pin can be
  drawn flat on the surface and lit correctly;
- `sinopia:camera`: the view to restore when someone opens the annotation, an object with
  `position` and `target` (`[x, y, z]` each), `fieldOfView` (vertical, degrees) and an
  optional `up` vector.

Both are compact IRIs in the `sinopia:` namespace; JSON-LD processors that do not know them
keep them as opaque properties, viewers that do not know them ignore them.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from .markup import check_svg, svg_extent

MEDIA_FRAGMENTS = "http://www.w3.org/TR/media-frags/"
EXTENSION_PREFIX = "sinopia:"

# SVG drawn by hand is a few KiB; a traced outline of a long crack can reach tens. Past this
# it is almost certainly a pasted image or an attack on everyone's renderer.
MAX_SVG_BYTES = 256 * 1024

SELECTOR_TYPES = ("FragmentSelector", "SvgSelector", "PointSelector")


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)


# ---------------------------------------------------------------------------- media fragments

_XYWH = re.compile(r"^(?:(pixel|percent):)?([^,]+),([^,]+),([^,]+),([^,]+)$")
_CLOCK = re.compile(r"^(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$")


class MediaFragment(_Model):
    """A parsed Media Fragments value: a region (`xywh`) and/or a time range (`t`)."""

    unit: Literal["pixel", "percent"] = "pixel"
    x: float | None = None
    y: float | None = None
    w: float | None = None
    h: float | None = None
    start: float | None = None
    end: float | None = None

    @property
    def has_region(self) -> bool:
        return self.x is not None

    @classmethod
    def parse(cls, value: str) -> MediaFragment:
        parts: dict[str, str] = {}
        for part in value.split("&"):
            key, sep, rest = part.partition("=")
            if not sep or key not in ("xywh", "t"):
                raise ValueError(
                    f"media fragment {value!r}: expected xywh=x,y,w,h and/or t=start,end"
                )
            if key in parts:
                raise ValueError(f"media fragment {value!r}: {key}= appears twice")
            parts[key] = rest
        fields: dict[str, Any] = {}
        if "xywh" in parts:
            fields |= _parse_xywh(parts["xywh"])
        if "t" in parts:
            fields |= _parse_t(parts["t"])
        return cls(**fields)

    def __str__(self) -> str:
        parts = []
        if self.has_region:
            prefix = "percent:" if self.unit == "percent" else ""
            numbers = ",".join(_num(v) for v in (self.x, self.y, self.w, self.h))
            parts.append(f"xywh={prefix}{numbers}")
        if self.start is not None or self.end is not None:
            start = _num(self.start) if self.start is not None else ""
            end = f",{_num(self.end)}" if self.end is not None else ""
            parts.append(f"t={start}{end}")
        return "&".join(parts)


def _num(value: float | None) -> str:
    assert value is not None
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _parse_xywh(text: str) -> dict[str, Any]:
    match = _XYWH.match(text)
    if not match:
        raise ValueError(f"xywh={text!r} is malformed: expected four numbers x,y,w,h")
    unit = match.group(1) or "pixel"
    try:
        x, y, w, h = (float(match.group(i)) for i in range(2, 6))
    except ValueError:
        raise ValueError(f"xywh={text!r} is malformed: x, y, w and h must be numbers") from None
    if unit == "pixel" and not all(float(v).is_integer() for v in (x, y, w, h)):
        raise ValueError(f"xywh={text!r}: pixel coordinates must be whole numbers")
    if x < 0 or y < 0:
        raise ValueError(f"xywh={text!r}: x and y must not be negative")
    if w <= 0 or h <= 0:
        raise ValueError(f"xywh={text!r}: width and height must be greater than zero")
    if unit == "percent" and (x + w > 100 or y + h > 100):
        raise ValueError(f"xywh={text!r}: a percent region must lie within 0-100")
    return {"unit": unit, "x": x, "y": y, "w": w, "h": h}


def _seconds(text: str) -> float:
    clock = _CLOCK.match(text)
    if clock:
        hours, minutes, seconds = clock.groups()
        return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    value = float(text)
    if not math.isfinite(value) or value < 0:
        raise ValueError
    return value


def _parse_t(text: str) -> dict[str, Any]:
    body = text.removeprefix("npt:")
    start_text, _, end_text = body.partition(",")
    try:
        start = _seconds(start_text) if start_text else 0.0
        end = _seconds(end_text) if end_text else None
    except ValueError:
        raise ValueError(f"t={text!r} is malformed: expected seconds, as t=start,end") from None
    if end is not None and end < start:
        raise ValueError(f"t={text!r}: the end is before the start")
    return {"start": start, "end": end}


# ---------------------------------------------------------------------------- selectors


class FragmentSelector(_Model):
    """A rectangle (and/or time range) as a Media Fragment, e.g. `xywh=10,20,300,200`."""

    type: Literal["FragmentSelector"] = "FragmentSelector"
    conforms_to: str = Field(MEDIA_FRAGMENTS, alias="conformsTo")
    value: str

    @field_validator("conforms_to")
    @classmethod
    def _media_fragments(cls, value: str) -> str:
        if value.replace("https://", "http://").rstrip("/") + "/" != MEDIA_FRAGMENTS:
            raise ValueError(
                f"FragmentSelector conformsTo {value!r} is not supported; "
                f"use {MEDIA_FRAGMENTS} (Media Fragments)"
            )
        return MEDIA_FRAGMENTS

    @field_validator("value")
    @classmethod
    def _well_formed(cls, value: str) -> str:
        return str(MediaFragment.parse(value.strip()))

    @property
    def fragment(self) -> MediaFragment:
        return MediaFragment.parse(self.value)

    def extent(self) -> tuple[float, float, float, float] | None:
        f = self.fragment
        if not f.has_region or f.unit != "pixel":
            return None
        assert f.x is not None and f.y is not None and f.w is not None and f.h is not None
        return f.x, f.y, f.x + f.w, f.y + f.h


class SvgSelector(_Model):
    """A shape drawn on the canvas, as an SVG document in canvas coordinates."""

    type: Literal["SvgSelector"] = "SvgSelector"
    value: str

    @field_validator("value")
    @classmethod
    def _safe_svg(cls, value: str) -> str:
        size = len(value.encode())
        if size > MAX_SVG_BYTES:
            raise ValueError(f"the SVG is {size} bytes; the limit is {MAX_SVG_BYTES}")
        problems = check_svg(value)
        if problems:
            raise ValueError("SVG refused: " + "; ".join(problems))
        return value

    def extent(self) -> tuple[float, float, float, float] | None:
        return svg_extent(self.value)


class PointSelector(_Model):
    """A point on an image canvas (IIIF PointSelector), in canvas pixels."""

    type: Literal["PointSelector"] = "PointSelector"
    x: int = Field(ge=0)
    y: int = Field(ge=0)
    t: float | None = Field(None, ge=0)

    def extent(self) -> tuple[float, float, float, float] | None:
        return self.x, self.y, self.x, self.y


Vector3 = Annotated[list[float], Field(min_length=3, max_length=3)]


def _finite(vector: list[float], name: str) -> list[float]:
    if not all(math.isfinite(v) for v in vector):
        raise ValueError(f"{name} must be three finite numbers")
    return vector


class CameraView(_Model):
    """Where the 3D viewer's camera was when the annotation was made."""

    position: Vector3
    target: Vector3
    field_of_view: float = Field(45.0, alias="fieldOfView", gt=0, lt=180)
    up: Vector3 | None = None

    @model_validator(mode="after")
    def _sensible(self) -> Self:
        _finite(self.position, "camera position")
        _finite(self.target, "camera target")
        if self.position == self.target:
            raise ValueError("the camera position and target must differ")
        if self.up is not None and not any(_finite(self.up, "camera up")):
            raise ValueError("the camera up vector must not be zero")
        return self


class PointSelector3D(_Model):
    """A point on a 3D model's surface, with its normal and the camera view to restore."""

    type: Literal["PointSelector"] = "PointSelector"
    x: float
    y: float
    z: float
    normal: Vector3 | None = Field(None, alias=EXTENSION_PREFIX + "normal")
    camera: CameraView | None = Field(None, alias=EXTENSION_PREFIX + "camera")

    @field_validator("x", "y", "z")
    @classmethod
    def _finite_coordinate(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("3D coordinates must be finite numbers")
        return value

    @field_validator("normal")
    @classmethod
    def _unit_normal(cls, value: list[float] | None) -> list[float] | None:
        if value is None:
            return None
        _finite(value, "the surface normal")
        length = math.sqrt(sum(v * v for v in value))
        if length < 1e-9:
            raise ValueError("the surface normal must not be zero")
        # Clients send whatever their raycaster gave; store it unit length so that every
        # reader can use it directly.
        return [v / length for v in value]

    def extent(self) -> tuple[float, float, float, float] | None:
        return None


def _selector_tag(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return (
            "PointSelector3D"
            if isinstance(value, PointSelector3D)
            else getattr(value, "type", None)
        )
    if not isinstance(value, dict):
        return None
    kind = value.get("type")
    if kind == "PointSelector" and "z" in value:
        return "PointSelector3D"
    return kind if kind in SELECTOR_TYPES else None


def _known_selector(value: Any) -> Any:
    # Before the union: name the unknown type, which the discriminator error cannot.
    if isinstance(value, dict):
        kind = value.get("type")
        if kind is None:
            raise ValueError("a selector needs a type")
        if kind not in SELECTOR_TYPES:
            raise ValueError(
                f"unknown selector type {kind!r}; expected one of: {', '.join(SELECTOR_TYPES)}"
            )
    elif not isinstance(value, BaseModel):
        raise ValueError("a selector must be an object with a type")
    return value


Selector = Annotated[
    Annotated[FragmentSelector, Tag("FragmentSelector")]
    | Annotated[SvgSelector, Tag("SvgSelector")]
    | Annotated[PointSelector, Tag("PointSelector")]
    | Annotated[PointSelector3D, Tag("PointSelector3D")],
    Discriminator(_selector_tag),
    BeforeValidator(_known_selector),
]
