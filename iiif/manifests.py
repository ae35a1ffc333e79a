"""Reading IIIF Presentation 3 and 2 manifests into subjects.

Real manifests vary: labels as strings, language maps or lists of `@value` objects; sizes as
numbers, numeric strings or missing; services as objects or lists, with `@id` or `id`;
images inside `Choice`s; 3D models painted on canvases or in the 3D draft's `Scene`s. We
take what is there, derive what is missing where we can, and refuse only what leaves us
nothing sound to annotate, naming the place (`items[3].id`).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from .errors import ManifestError
from .language import LanguageMap, language_map, pick
from .subjects import ImageResource, ImageService, ModelAsset, Subject, subject_id

MODEL_FORMATS = frozenset(
    {
        "model/gltf-binary",
        "model/gltf+json",
        "model/obj",
        "model/stl",
        "model/ply",
        "model/vnd.usdz+zip",
    }
)
_MODEL_EXTENSIONS = {".glb": "model/gltf-binary", ".gltf": "model/gltf+json"}
_LEVEL = re.compile(r"level([012])")
_IMAGE_CONTEXT = re.compile(r"iiif\.io/api/image/([123])/")


def parse_manifest(data: Any) -> list[Subject]:
    """The subjects of a Presentation 3 or 2 manifest (already-parsed JSON), in manifest
    order: one per image canvas, one per 3D model. Raises ManifestError saying what is
    wrong."""
    if not isinstance(data, dict):
        raise ManifestError("a manifest must be a JSON object")
    version = presentation_version(data)
    subjects = _parse_v3(data) if version == 3 else _parse_v2(data)
    if not subjects:
        raise ManifestError("the manifest has no canvases with an image or a 3D model")
    return subjects


def presentation_version(data: dict[str, Any]) -> int:
    """2 or 3, from `@context` or, lacking one, from the shape; ManifestError otherwise."""
    contexts = data.get("@context")
    contexts = contexts if isinstance(contexts, list) else [contexts]
    texts = [c for c in contexts if isinstance(c, str)]
    kind = data.get("type", data.get("@type"))
    if any("iiif.io/api/presentation/3" in c for c in texts) or kind == "Manifest":
        if kind != "Manifest":
            raise ManifestError(
                f"type is {kind!r}; expected a Manifest (import collections one manifest at a time)"
            )
        return 3
    if any("iiif.io/api/presentation/2" in c for c in texts) or kind == "sc:Manifest":
        if kind != "sc:Manifest":
            raise ManifestError(f"@type is {kind!r}; expected sc:Manifest")
        return 2
    raise ManifestError(
        "not a IIIF Presentation manifest: no Presentation 2 or 3 @context and no Manifest type"
    )


# ---------------------------------------------------------------------------- helpers


def _id(obj: Any) -> str | None:
    if isinstance(obj, str):
        return obj
    if isinstance(obj, dict):
        value = obj.get("id", obj.get("@id"))
        return value if isinstance(value, str) and value else None
    return None


def _type(obj: dict[str, Any]) -> str:
    value = obj.get("type", obj.get("@type"))
    return value if isinstance(value, str) else ""


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _labels(value: Any, where: str) -> LanguageMap:
    try:
        return language_map(value)
    except ValueError as error:
        raise ManifestError(f"{where}: {error}") from None


def _dimension(value: Any, where: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ManifestError(f"{where}: expected a positive whole number, got {value!r}")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or value <= 0:
        raise ManifestError(f"{where}: expected a positive whole number, got {value!r}")
    return value


def _duration(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


def _image_service(body: dict[str, Any]) -> ImageService | None:
    for service in _list(body.get("service")):
        if not isinstance(service, dict):
            continue
        service_id = _id(service)
        kind = _type(service)
        if not service_id:
            continue
        version = None
        if kind.startswith("ImageService") and kind[-1:] in "123":
            version = int(kind[-1])
        contexts = [c for c in _list(service.get("@context")) if isinstance(c, str)]
        for text in [*contexts, *(p for p in _list(service.get("profile")) if isinstance(p, str))]:
            match = _IMAGE_CONTEXT.search(text)
            if version is None and match:
                version = int(match.group(1))
        if version is None:
            continue  # an auth, search or other service
        profile = None
        for item in _list(service.get("profile")):
            match = _LEVEL.search(item) if isinstance(item, str) else None
            if match:
                profile = f"level{match.group(1)}"
                break
        return ImageService(
            id=service_id.removesuffix("/info.json").rstrip("/"),
            version=version,  # type: ignore[arg-type]
            profile=profile,
        )
    return None


def _model_format(body: dict[str, Any]) -> str | None:
    """The 3D media type of a painting body, or None when it is not a model."""
    fmt = body.get("format")
    body_id = _id(body) or ""
    if isinstance(fmt, str) and fmt.lower() in MODEL_FORMATS:
        return fmt.lower()
    for extension, media_type in _MODEL_EXTENSIONS.items():
        if body_id.lower().split("?")[0].endswith(extension):
            return media_type
    if _type(body) in ("Model", "PhysicalObject", "dctypes:PhysicalObject"):
        return fmt if isinstance(fmt, str) else None
    return None


def _painted(body: Any) -> list[dict[str, Any]]:
    """The resources a painting body shows: Choice alternatives (default first) and the
    sources of SpecificResources (the 3D draft wraps models in them to place them)."""
    out: list[dict[str, Any]] = []
    for item in _list(body):
        if not isinstance(item, dict):
            continue
        kind = _type(item)
        if kind in ("Choice", "oa:Choice"):
            out += _painted([item.get("default"), *_list(item.get("items", item.get("item")))])
        elif kind == "SpecificResource" and isinstance(item.get("source"), dict):
            out += _painted(item["source"])
        else:
            out.append(item)
    return out


def _thumbnail(value: Any) -> str | None:
    for item in _list(value):
        found = _id(item)
        if found:
            return found
    return None


class _Found:
    """What one canvas or scene paints."""

    def __init__(self) -> None:
        self.image: ImageResource | None = None
        self.service: ImageService | None = None
        self.model: ModelAsset | None = None

    def add(self, body: dict[str, Any], where: str) -> None:
        body_id = _id(body)
        if not body_id:
            return
        model_format = _model_format(body)
        if model_format is not None or _type(body) == "Model":
            if self.model is None:
                self.model = ModelAsset(url=body_id, format=model_format)
            return
        if _type(body) in ("Image", "dctypes:Image") or str(body.get("format", "")).startswith(
            "image/"
        ):
            if self.image is None:
                fmt = body.get("format")
                self.image = ImageResource(
                    id=body_id,
                    format=fmt if isinstance(fmt, str) else None,
                    width=_dimension(body.get("width"), f"{where}.width"),
                    height=_dimension(body.get("height"), f"{where}.height"),
                )
                self.service = _image_service(body)


def _subjects(
    container: dict[str, Any],
    found: _Found,
    *,
    where: str,
    index: int,
    manifest: str,
    manifest_label: str,
) -> list[Subject]:
    iiif_id = _id(container)
    if not iiif_id:
        raise ManifestError(f"{where}: the {_type(container) or 'canvas'} has no id")
    labels = _labels(container.get("label"), f"{where}.label")
    width = _dimension(container.get("width"), f"{where}.width")
    height = _dimension(container.get("height"), f"{where}.height")
    if found.image and (width is None or height is None):
        width, height = found.image.width, found.image.height
    thumbnail = _thumbnail(container.get("thumbnail"))
    if thumbnail is None and found.service is not None:
        thumbnail = found.service.thumbnail()
    kind_type = _type(container).removeprefix("sc:") or "Canvas"
    label = pick(labels) or f"{kind_type} {index + 1}"  # "Canvas 3", "Scene 1"
    common: dict[str, Any] = {
        "id": subject_id(iiif_id),
        "iiif_id": iiif_id,
        "iiif_type": kind_type,
        "label": label,
        "label_map": labels or {"none": [label]},
        "manifest": manifest,
        "manifest_label": manifest_label or None,
        "index": index,
        "width": width,
        "height": height,
        "duration": _duration(container.get("duration")),
        "thumbnail": thumbnail,
    }
    out: list[Subject] = []
    try:
        if found.image is not None or (found.model is None and width and height):
            out.append(
                Subject(kind="canvas", image=found.image, image_service=found.service, **common)
            )
        if found.model is not None:
            out.append(Subject(kind="model", asset=found.model, **common))
    except ValidationError as error:  # pragma: no cover - our own construction
        raise ManifestError(f"{where}: {error}") from None
    return out


# ---------------------------------------------------------------------------- Presentation 3


def _parse_v3(data: dict[str, Any]) -> list[Subject]:
    manifest = _id(data)
    if not manifest:
        raise ManifestError("the manifest has no id")
    manifest_label = pick(_labels(data.get("label"), "label"))
    items = data.get("items")
    if not isinstance(items, list):
        raise ManifestError("items: a Presentation 3 manifest lists its canvases in items")
    subjects: list[Subject] = []
    seen: set[tuple[str, str]] = set()
    for index, container in enumerate(items):
        where = f"items[{index}]"
        if not isinstance(container, dict):
            raise ManifestError(f"{where}: expected a canvas object")
        if _type(container) not in ("Canvas", "Scene"):
            continue  # Timelines and the like: nothing we annotate
        found = _Found()
        for p, page in enumerate(_list(container.get("items"))):
            if not isinstance(page, dict):
                continue
            for a, annotation in enumerate(_list(page.get("items"))):
                if not isinstance(annotation, dict):
                    continue
                motivation = annotation.get("motivation", "painting")
                if "painting" not in _list(motivation):
                    continue
                for body in _painted(annotation.get("body")):
                    found.add(body, f"{where}.items[{p}].items[{a}].body")
        for subject in _subjects(
            container,
            found,
            where=where,
            index=index,
            manifest=manifest,
            manifest_label=manifest_label,
        ):
            if (subject.kind, subject.id) not in seen:
                seen.add((subject.kind, subject.id))
                subjects.append(subject)
    return subjects


# ---------------------------------------------------------------------------- Presentation 2


def _parse_v2(data: dict[str, Any]) -> list[Subject]:
    manifest = _id(data)
    if not manifest:
        raise ManifestError("the manifest has no @id")
    manifest_label = pick(_labels(data.get("label"), "label"))
    sequences = data.get("sequences")
    if not isinstance(sequences, list) or not sequences:
        raise ManifestError("sequences: a Presentation 2 manifest lists canvases in sequences")
    subjects: list[Subject] = []
    seen: set[tuple[str, str]] = set()
    index = 0
    for s, sequence in enumerate(sequences):
        if not isinstance(sequence, dict):
            raise ManifestError(f"sequences[{s}]: expected a sequence object")
        for c, canvas in enumerate(_list(sequence.get("canvases"))):
            where = f"sequences[{s}].canvases[{c}]"
            if not isinstance(canvas, dict):
                raise ManifestError(f"{where}: expected a canvas object")
            found = _Found()
            for i, image in enumerate(_list(canvas.get("images"))):
                if isinstance(image, dict):
                    for body in _painted(image.get("resource")):
                        found.add(body, f"{where}.images[{i}].resource")
            new = _subjects(
                canvas,
                found,
                where=where,
                index=index,
                manifest=manifest,
                manifest_label=manifest_label,
            )
            fresh = [x for x in new if (x.kind, x.id) not in seen]
            seen.update((x.kind, x.id) for x in fresh)
            subjects += fresh
            index += bool(fresh)
    return subjects
