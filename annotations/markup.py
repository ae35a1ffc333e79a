"""Markup that other people's browsers will render: HTML bodies and SVG selectors.

Mirador, Annotorious and our own client inject these strings into pages, so a body or a shape
is also a way to run script in a colleague's session. We accept a conservative allow-list of
elements, refuse event handlers and script URLs, and say exactly what was refused. Clients
must still sanitise on display; this keeps hostile markup out of the shared record.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

HTML_ELEMENTS = frozenset(
    "a abbr b bdi bdo blockquote br cite code del dfn div em h1 h2 h3 h4 h5 h6 hr i ins kbd "
    "li mark ol p pre q s samp small span strong sub sup time u ul".split()
)
HTML_ATTRIBUTES = frozenset("href title lang dir class datetime cite".split())

SVG_ELEMENTS = frozenset(
    "svg g path rect circle ellipse line polyline polygon title desc defs".split()
)
# Attributes that can load or run something; everything else on an allowed SVG element is
# presentation (Mirador writes a long list of stroke-*, fill-*, data-paper-data, ...).
_SVG_REFUSED = re.compile(r"^(on.*|href|xlink:href|src|style)$", re.IGNORECASE)

_SAFE_URL = re.compile(r"^(https?:|mailto:|#|/|[^:]*$)", re.IGNORECASE)
_ENTITY = re.compile(r"<!(ENTITY|DOCTYPE)", re.IGNORECASE)


class _Checker(HTMLParser):
    def __init__(self, elements: frozenset[str], svg: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.elements = elements
        self.svg = svg
        self.problems: list[str] = []
        self.shapes: list[tuple[str, dict[str, str]]] = []
        self.roots: list[str] = []
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._depth == 0:
            self.roots.append(tag)
        self._depth += 1
        self._element(tag, attrs)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._depth == 0:
            self.roots.append(tag)
        self._element(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        self._depth = max(0, self._depth - 1)

    def _element(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.elements:
            self._refuse(f"<{tag}> is not allowed")
            return
        values = {name: value or "" for name, value in attrs}
        for name, value in values.items():
            if self.svg:
                if _SVG_REFUSED.match(name):
                    self._refuse(f"attribute {name!r} on <{tag}> is not allowed")
            elif name not in HTML_ATTRIBUTES:
                self._refuse(f"attribute {name!r} on <{tag}> is not allowed")
            elif name in ("href", "cite") and not _SAFE_URL.match(value.strip()):
                self._refuse(f"link {value[:40]!r} on <{tag}> is not an http(s) or mailto link")
        self.shapes.append((tag, values))

    def _refuse(self, message: str) -> None:
        if message not in self.problems:
            self.problems.append(message)


def check_html(value: str) -> list[str]:
    """What is refused in an HTML annotation body (empty when it is acceptable)."""
    checker = _Checker(HTML_ELEMENTS, svg=False)
    checker.feed(value)
    checker.close()
    return checker.problems


def check_svg(value: str) -> list[str]:
    """What is wrong with an SvgSelector value (empty when it is acceptable)."""
    if _ENTITY.search(value):
        return ["DOCTYPE and ENTITY declarations are not allowed in SVG"]
    checker = _Checker(SVG_ELEMENTS, svg=True)
    checker.feed(value)
    checker.close()
    problems = list(checker.problems)
    if checker.roots != ["svg"]:
        problems.insert(0, "an SvgSelector value must be a single <svg> element")
    elif not any(tag not in ("svg", "g", "title", "desc", "defs") for tag, _ in checker.shapes):
        problems.append("the <svg> has no shape (path, rect, circle, ellipse, line, polygon)")
    return problems


_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def svg_extent(value: str) -> tuple[float, float, float, float] | None:
    """The box (min x, min y, max x, max y) the SVG's shapes cover, or None when it cannot be
    told without a renderer (transforms, paths with relative or arc commands)."""
    checker = _Checker(SVG_ELEMENTS, svg=True)
    checker.feed(value)
    checker.close()
    xs: list[float] = []
    ys: list[float] = []
    try:
        for tag, attrs in checker.shapes:
            if "transform" in attrs:
                return None
            if tag == "rect":
                x, y = float(attrs.get("x", 0)), float(attrs.get("y", 0))
                xs += [x, x + float(attrs["width"])]
                ys += [y, y + float(attrs["height"])]
            elif tag in ("circle", "ellipse"):
                cx, cy = float(attrs.get("cx", 0)), float(attrs.get("cy", 0))
                rx = float(attrs.get("r", attrs.get("rx", 0)))
                ry = float(attrs.get("r", attrs.get("ry", 0)))
                xs += [cx - rx, cx + rx]
                ys += [cy - ry, cy + ry]
            elif tag == "line":
                xs += [float(attrs.get("x1", 0)), float(attrs.get("x2", 0))]
                ys += [float(attrs.get("y1", 0)), float(attrs.get("y2", 0))]
            elif tag in ("polygon", "polyline"):
                numbers = [float(n) for n in _NUMBER.findall(attrs.get("points", ""))]
                xs += numbers[0::2]
                ys += numbers[1::2]
            elif tag == "path":
                d = attrs.get("d", "")
                # Only absolute move/line/curve commands keep every number a coordinate pair.
                if re.search(r"[mlhvcsqtaHVA]", d):
                    return None
                numbers = [float(n) for n in _NUMBER.findall(d)]
                xs += numbers[0::2]
                ys += numbers[1::2]
    except (KeyError, ValueError):
        return None
    if not xs or not ys:
        return None
    return min(xs), min(ys), max(xs), max(ys)
