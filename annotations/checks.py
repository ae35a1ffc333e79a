"""Checks of an annotation against the subject it is written on: that it targets this
canvas or model, and that its region, shape or point lies on the canvas.

The models check what an annotation is on its own; these need the subject, which only the
document knows.
"""

from __future__ import annotations

from .models import Annotation, SpecificTarget, is_iri
from .problems import Problem
from .selectors import FragmentSelector, PointSelector3D

# Hand-drawn shapes overshoot edges by a pixel or two; refusing those helps nobody.
TOLERANCE = 2.0


def check_annotation(
    annotation: Annotation,
    *,
    source: str | None = None,
    width: int | None = None,
    height: int | None = None,
    kind: str | None = None,
) -> list[Problem]:
    """Problems of `annotation` on the subject `source` (its IIIF id) of `kind` ("canvas"
    or "model") with the given canvas size. Unknown facts are not checked."""
    problems: list[Problem] = []
    if annotation.motivation == "replying":
        return problems
    for index, target in enumerate(annotation.target):
        path = f"target/{index}" if len(annotation.target) > 1 else "target"
        if isinstance(target, str):
            if not is_iri(target):
                continue  # an annotation id: a link between annotations, not a region
            target_source, _, fragment = target.partition("#")
            extents = []
            if fragment.startswith(("xywh=", "t=")):
                try:
                    extents.append(FragmentSelector(value=fragment).extent())
                except ValueError as error:
                    problems.append(Problem(path=path, message=str(error)))
            three_d = False
        else:
            if target.source.type == "Annotation":
                continue
            target_source = target.source.id
            extents = [selector.extent() for selector in target.selector]
            three_d = _is_3d(target)
        if source is not None and target_source != source:
            problems.append(
                Problem(
                    path=path,
                    message=f"targets {target_source[:120]}, but this document annotates {source}",
                )
            )
        if kind == "canvas" and three_d:
            problems.append(Problem(path=path, message="a 3D point cannot target an image canvas"))
        if kind == "model" and not three_d and extents:
            problems.append(
                Problem(path=path, message="a 3D model is annotated with a PointSelector with z")
            )
        if width is None or height is None:
            continue
        for extent in extents:
            if extent is None:
                continue
            x0, y0, x1, y1 = extent
            if (
                x0 < -TOLERANCE
                or y0 < -TOLERANCE
                or x1 > width + TOLERANCE
                or y1 > height + TOLERANCE
            ):
                problems.append(
                    Problem(
                        path=path,
                        message=(
                            f"the region {_box(extent)} lies outside the canvas "
                            f"({width} x {height})"
                        ),
                    )
                )
                break
    return problems


def _is_3d(target: SpecificTarget) -> bool:
    return any(isinstance(s, PointSelector3D) for s in target.selector)


def _box(extent: tuple[float, float, float, float]) -> str:
    x0, y0, x1, y1 = extent
    return f"x {x0:g}-{x1:g}, y {y0:g}-{y1:g}"
