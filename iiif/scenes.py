"""3D subjects in IIIF: a Presentation 4 draft `Scene` painting the model, and annotations
on it as the draft writes them (https://github.com/IIIF/3d, "commenting annotations" and
"content state scope" examples):

- the target is a SpecificResource whose `source` is the Scene and whose selector is a
  `PointSelector` with `x`, `y`, `z`;
- the saved camera view travels as the target's `scope`: a `contentState` annotation that
  paints a `PerspectiveCamera` at the camera position, with `lookAt` the point it looks at
  and its `fieldOfView`.

Sinopia's own `sinopia:normal` and `sinopia:camera` stay on the selector beside it, so a
reader that knows them needs nothing else (see annotations/selectors.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .export import manifest, presentation3_annotation
from .language import LanguageMap
from .subjects import Subject
from .urls import WorkspaceUrls
from .webannotations import as_list, ident

PRESENTATION_4 = "http://iiif.io/api/presentation/4/context.json"
CAMERA = "sinopia:camera"
NORMAL = "sinopia:normal"


def _point(values: Any) -> dict[str, Any]:
    x, y, z = (float(v) for v in values)
    return {"type": "PointSelector", "x": x, "y": y, "z": z}


def _scene_source(scene: str) -> list[dict[str, str]]:
    return [{"id": scene, "type": "Scene"}]


def camera_scope(annotation_id: str, scene: str, camera: dict[str, Any]) -> dict[str, Any]:
    """The draft's content-state `scope` that shows the annotation from `camera`."""
    view = f"{annotation_id}/view"
    body: dict[str, Any] = {
        "id": f"{view}/camera",
        "type": "PerspectiveCamera",
        "lookAt": _point(camera["target"]),
    }
    if "fieldOfView" in camera:
        body["fieldOfView"] = float(camera["fieldOfView"])
    if camera.get("up"):
        body["sinopia:up"] = [float(v) for v in camera["up"]]
    return {
        "id": view,
        "type": "Annotation",
        "motivation": ["contentState"],
        "target": {
            "id": scene,
            "type": "Scene",
            "items": [
                {
                    "id": f"{view}/page",
                    "type": "AnnotationPage",
                    "items": [
                        {
                            "id": f"{view}/camera/placed",
                            "type": "Annotation",
                            "motivation": ["painting"],
                            "body": body,
                            "target": {
                                "type": "SpecificResource",
                                "source": _scene_source(scene),
                                "selector": [_point(camera["position"])],
                            },
                        }
                    ],
                }
            ],
        },
    }


def scene_annotation(annotation: dict[str, Any], scene: str) -> dict[str, Any]:
    """A W3C annotation on a 3D subject (as `annotations` exports it) in the draft's form."""
    out = presentation3_annotation(annotation)
    annotation_id = str(out.get("id", ""))
    placed: list[Any] = []
    for target in as_list(out.get("target")):
        source = ident(target.get("source")) if isinstance(target, dict) else None
        if not isinstance(target, dict) or source != scene:
            placed.append(target)
            continue
        selectors: list[Any] = []
        scope = None
        for selector in as_list(target.get("selector")):
            if (
                isinstance(selector, dict)
                and selector.get("type") == "PointSelector"
                and ("z" in selector)
            ):
                point = _point((selector["x"], selector["y"], selector["z"]))
                for key in (NORMAL, CAMERA):
                    if key in selector:
                        point[key] = selector[key]
                selectors.append(point)
                if isinstance(selector.get(CAMERA), dict) and scope is None:
                    scope = camera_scope(annotation_id, scene, selector[CAMERA])
            else:
                selectors.append(selector)
        draft: dict[str, Any] = {
            "type": "SpecificResource",
            "source": _scene_source(scene),
            "selector": selectors,
        }
        if scope is not None:
            draft["scope"] = scope
        placed.append(draft)
    out["target"] = placed[0] if len(placed) == 1 else placed
    out["motivation"] = as_list(out.get("motivation"))
    return out


def scene_annotation_page(
    page_id: str, annotations: list[dict[str, Any]], *, scene: str
) -> dict[str, Any]:
    """A 3D subject's annotations as one Presentation 4 draft AnnotationPage."""
    items = [
        scene_annotation(a, scene)
        for a in annotations
        if any(
            ident(t.get("source")) == scene for t in as_list(a.get("target")) if isinstance(t, dict)
        )
    ]
    return {"@context": PRESENTATION_4, "id": page_id, "type": "AnnotationPage", "items": items}


def _label(labels: LanguageMap, fallback: str) -> LanguageMap:
    return {k: v for k, v in labels.items() if v} or {"none": [fallback]}


def scene(subject: Subject, manifest_id: str, page_id: str) -> dict[str, Any] | None:
    """The Scene of a 3D subject: its model painted at the origin, its annotation page."""
    if subject.kind != "model" or subject.asset is None:
        return None
    painting = f"{manifest_id}/painting/{subject.id}"
    body: dict[str, Any] = {"id": subject.asset.url, "type": "Model"}
    if subject.asset.format:
        body["format"] = subject.asset.format
    data: dict[str, Any] = {
        "id": subject.iiif_id,
        "type": "Scene",
        "label": _label(subject.label_map, subject.label or subject.id),
        "items": [
            {
                "id": painting,
                "type": "AnnotationPage",
                "items": [
                    {
                        "id": f"{painting}/model",
                        "type": "Annotation",
                        "motivation": ["painting"],
                        "body": body,
                        "target": {
                            "type": "SpecificResource",
                            "source": _scene_source(subject.iiif_id),
                        },
                    }
                ],
            }
        ],
        "annotations": [{"id": page_id, "type": "AnnotationPage"}],
    }
    if subject.thumbnail:
        data["thumbnail"] = [{"id": subject.thumbnail, "type": "Image"}]
    return data


def manifest_with_scenes(
    urls: WorkspaceUrls,
    manifest_id: str,
    subjects: Iterable[Subject],
    *,
    label: LanguageMap | str | None = None,
) -> dict[str, Any]:
    """The workspace's manifest as a Presentation 4 draft: its image canvases as in
    Presentation 3 and a Scene for each 3D subject, in manifest order."""
    chosen = sorted(subjects, key=lambda s: (s.manifest or "", s.index, s.kind))
    data = manifest(urls, manifest_id, chosen, label=label)
    data["@context"] = PRESENTATION_4
    canvases = {c["id"]: c for c in data["items"]}
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    for subject in chosen:
        if subject.iiif_id in seen:
            continue
        if subject.kind == "canvas" and subject.iiif_id in canvases:
            item: dict[str, Any] | None = canvases[subject.iiif_id]
        else:
            page = urls.annotation_page(subject.kind, subject.id)
            item = scene(subject, data["id"], page)
        if item is not None:
            seen.add(subject.iiif_id)
            items.append(item)
    data["items"] = items
    return data


def upload_scene_iri(manifest_iri: str, filename: str) -> str:
    """The Scene of an uploaded model: a readable slug of its file name."""
    stem = filename.rsplit(".", 1)[0] if "." in filename[1:] else filename
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._")[:40].rstrip("-._") or "model"
    return f"{manifest_iri}/scene/{slug}"


def model_upload_manifest(
    manifest_iri: str,
    filename: str,
    model_url: str,
    media_type: str,
    *,
    label: LanguageMap | None = None,
    metadata: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The Presentation 4 draft manifest of an uploaded 3D model: one Scene painting it at
    the origin. Imported like any other manifest, so the model becomes a subject."""
    scene_iri = upload_scene_iri(manifest_iri, filename)
    return {
        "@context": PRESENTATION_4,
        "id": manifest_iri,
        "type": "Manifest",
        "label": label or {"none": [filename]},
        "metadata": metadata or [],
        "items": [
            {
                "id": scene_iri,
                "type": "Scene",
                "label": {"none": [filename]},
                "items": [
                    {
                        "id": f"{scene_iri}/page",
                        "type": "AnnotationPage",
                        "items": [
                            {
                                "id": f"{scene_iri}/page/model",
                                "type": "Annotation",
                                "motivation": ["painting"],
                                "body": {"id": model_url, "type": "Model", "format": media_type},
                                "target": {
                                    "type": "SpecificResource",
                                    "source": _scene_source(scene_iri),
                                },
                            }
                        ],
                    }
                ],
            }
        ],
    }
