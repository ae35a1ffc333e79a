"""Reading W3C annotation JSON (plain dicts) the way IIIF exports and search need it: which
canvas it targets and where, its text, its vocabulary links, who made it and when.

`iiif` does not import the annotation models: it works on the JSON-LD that `annotations`
produces, and on anything else shaped like a Web Annotation.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

_TAG = re.compile(r"<[^>]*>")
_XYWH = re.compile(r"xywh=((?:pixel:|percent:)?[0-9.]+,[0-9.]+,[0-9.]+,[0-9.]+)")


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def ident(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        found = value.get("id", value.get("@id"))
        return found if isinstance(found, str) else None
    return None


@dataclass(frozen=True, slots=True)
class TargetRef:
    """One target, reduced to what viewers use: the resource, and the region or point on it."""

    source: str
    xywh: str | None = None  # "x,y,w,h" (pixels) when the target names a rectangle
    svg: str | None = None
    point: tuple[float, float] | None = None


def targets(annotation: dict[str, Any]) -> list[TargetRef]:
    out: list[TargetRef] = []
    for target in as_list(annotation.get("target", annotation.get("on"))):
        if isinstance(target, str):
            source, _, fragment = target.partition("#")
            match = _XYWH.search(fragment)
            out.append(TargetRef(source=source, xywh=match.group(1) if match else None))
            continue
        if not isinstance(target, dict):
            continue
        source = ident(target.get("source", target.get("full"))) or ident(target)
        if not source:
            continue
        source, _, fragment = source.partition("#")
        xywh = svg = None
        point = None
        match = _XYWH.search(fragment)
        if match:
            xywh = match.group(1)
        for selector in as_list(target.get("selector")):
            if not isinstance(selector, dict):
                continue
            kind = selector.get("type", selector.get("@type"))
            value = selector.get("value")
            if kind in ("FragmentSelector", "oa:FragmentSelector") and isinstance(value, str):
                match = _XYWH.search(value)
                xywh = xywh or (match.group(1) if match else None)
            elif kind in ("SvgSelector", "oa:SvgSelector") and isinstance(value, str):
                svg = value
            elif kind == "PointSelector" and "x" in selector and "y" in selector:
                point = (float(selector["x"]), float(selector["y"]))
        out.append(TargetRef(source=source, xywh=xywh, svg=svg, point=point))
    return out


def plain_text(value: str, media_type: Any) -> str:
    if media_type == "text/html":
        return html.unescape(_TAG.sub(" ", value))
    return value


def texts(annotation: dict[str, Any]) -> list[str]:
    """The text people wrote (HTML reduced to its text) and the labels of linked terms."""
    out: list[str] = []
    body_value = annotation.get("bodyValue")
    if isinstance(body_value, str):
        out.append(body_value)
    for body in as_list(annotation.get("body", annotation.get("resource"))):
        if isinstance(body, dict):
            value = body.get("value", body.get("chars"))
            if isinstance(value, str):
                out.append(plain_text(value, body.get("format")))
            for holder in (body, body.get("source")):
                if isinstance(holder, dict) and isinstance(holder.get("label"), str):
                    out.append(holder["label"])
    return out


def linked_ids(annotation: dict[str, Any]) -> list[str]:
    """IRIs of linked bodies (vocabulary terms, records), for `q` searches by URI."""
    out: list[str] = []
    for body in as_list(annotation.get("body")):
        if isinstance(body, str):
            out.append(body)
        elif isinstance(body, dict):
            for candidate in (ident(body), ident(body.get("source"))):
                if candidate:
                    out.append(candidate)
    return out


def motivations(annotation: dict[str, Any]) -> list[str]:
    return [
        m.removeprefix("oa:").removeprefix("sc:")
        for m in as_list(annotation.get("motivation"))
        if isinstance(m, str)
    ]


def creators(annotation: dict[str, Any]) -> list[str]:
    """Ids and names of the creators."""
    out: list[str] = []
    for creator in as_list(annotation.get("creator")):
        if isinstance(creator, str):
            out.append(creator)
        elif isinstance(creator, dict):
            for key in ("id", "@id", "name"):
                if isinstance(creator.get(key), str):
                    out.append(creator[key])
    return out


def timestamp(annotation: dict[str, Any], key: str) -> datetime | None:
    value = annotation.get(key)
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None
