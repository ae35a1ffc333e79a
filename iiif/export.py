"""Presentation 3 export: an AnnotationPage per subject, and a Manifest whose canvases link
those pages, so Mirador (3 and 4) and other IIIF viewers show a workspace's annotations on
the original images.

Canvases keep their original ids: annotations target them, and viewers match annotations
to canvases by id.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .language import LanguageMap
from .subjects import ImageService, Subject
from .urls import WorkspaceUrls
from .webannotations import targets

PRESENTATION_3 = "http://iiif.io/api/presentation/3/context.json"
SEARCH_1_PROFILE = "http://iiif.io/api/search/1/search"


def annotation_page(
    page_id: str, annotations: Iterable[dict[str, Any]], *, target: str | None = None
) -> dict[str, Any]:
    """An unpaged Presentation 3 AnnotationPage of W3C annotation JSON.

    With `target` (a canvas or scene id) only annotations on it are kept: replies, which
    target other annotations, stay in the W3C container where threads are read.
    """
    items = []
    for annotation in annotations:
        if target is not None and not any(t.source == target for t in targets(annotation)):
            continue
        items.append(presentation3_annotation(annotation))
    return {"@context": PRESENTATION_3, "id": page_id, "type": "AnnotationPage", "items": items}


def presentation3_annotation(annotation: dict[str, Any]) -> dict[str, Any]:
    """A W3C annotation as Presentation 3 writes it: no `@context` of its own (the page's
    covers it), and linked terms in the cookbook's tagging shape (a SpecificResource whose
    `source` is the term's IRI, with its label as a TextualBody beside it), since `label` in
    Presentation 3 is a language map and viewers show textual bodies."""
    out = {k: v for k, v in annotation.items() if k != "@context"}
    if "body" not in out:
        return out
    bodies: list[Any] = []
    for body in out["body"] if isinstance(out["body"], list) else [out["body"]]:
        if not isinstance(body, dict) or body.get("type") == "TextualBody":
            bodies.append(body)
            continue
        source = body.get("source") if body.get("type") == "SpecificResource" else body
        term = source.get("id") if isinstance(source, dict) else source
        label = source.get("label") if isinstance(source, dict) else None
        if not isinstance(term, str):
            bodies.append(body)
            continue
        linked: dict[str, Any] = {"type": "SpecificResource", "source": term}
        if body.get("purpose"):
            linked["purpose"] = body["purpose"]
        bodies.append(linked)
        if isinstance(label, str) and label:
            text = {"type": "TextualBody", "value": label, "format": "text/plain"}
            if body.get("purpose"):
                text["purpose"] = body["purpose"]
            bodies.append(text)
    out["body"] = bodies[0] if len(bodies) == 1 else bodies
    return out


def _service(service: ImageService) -> dict[str, Any]:
    # Presentation 3 §5.1: version 2 and 1 services keep their JSON-LD `@id`/`@type`.
    if service.version == 3:
        data: dict[str, Any] = {"id": service.id, "type": "ImageService3"}
    else:
        data = {"@id": service.id, "@type": f"ImageService{service.version}"}
    if service.profile:
        data["profile"] = service.profile
    return data


def _label(labels: LanguageMap, fallback: str) -> LanguageMap:
    return {k: v for k, v in labels.items() if v} or {"none": [fallback]}


def _canvas(subject: Subject, manifest_id: str, page_id: str) -> dict[str, Any] | None:
    if subject.kind != "canvas" or not subject.width or not subject.height:
        return None  # Presentation 3 image canvases need their size
    canvas: dict[str, Any] = {
        "id": subject.iiif_id,
        "type": "Canvas",
        "label": _label(subject.label_map, subject.label or subject.id),
        "width": subject.width,
        "height": subject.height,
    }
    if subject.thumbnail:
        canvas["thumbnail"] = [{"id": subject.thumbnail, "type": "Image", "format": "image/jpeg"}]
    body: dict[str, Any] | None = None
    if subject.image is not None:
        body = {"id": subject.image.id, "type": "Image"}
        body["format"] = subject.image.format or "image/jpeg"
        body["width"] = subject.image.width or subject.width
        body["height"] = subject.image.height or subject.height
    elif subject.image_service is not None:
        size = "max" if subject.image_service.version == 3 else "full"
        body = {
            "id": f"{subject.image_service.id}/full/{size}/0/default.jpg",
            "type": "Image",
            "format": "image/jpeg",
            "width": subject.width,
            "height": subject.height,
        }
    if body is not None and subject.image_service is not None:
        body["service"] = [_service(subject.image_service)]
    painting = f"{manifest_id}/painting/{subject.id}"
    canvas["items"] = [
        {
            "id": painting,
            "type": "AnnotationPage",
            "items": (
                [
                    {
                        "id": f"{painting}/image",
                        "type": "Annotation",
                        "motivation": "painting",
                        "body": body,
                        "target": subject.iiif_id,
                    }
                ]
                if body
                else []
            ),
        }
    ]
    canvas["annotations"] = [{"id": page_id, "type": "AnnotationPage"}]
    return canvas


def manifest(
    urls: WorkspaceUrls,
    manifest_id: str,
    subjects: Iterable[Subject],
    *,
    label: LanguageMap | str | None = None,
) -> dict[str, Any]:
    """A Presentation 3 Manifest of a workspace's image canvases, each linking its annotation
    page, with the workspace's Content Search services (2.0, and 1.0 for Mirador).

    3D model subjects and canvases without a known size are left out: Presentation 3 has no
    3D, and an image canvas needs its size.
    """
    own_id = urls.manifest(manifest_id)
    chosen = sorted(subjects, key=lambda s: (s.manifest or "", s.index))
    canvases = []
    seen: set[str] = set()
    for subject in chosen:
        canvas = _canvas(subject, own_id, urls.annotation_page(subject.kind, subject.id))
        if canvas is not None and canvas["id"] not in seen:
            seen.add(canvas["id"])
            canvases.append(canvas)
    if isinstance(label, str):
        label = {"none": [label]}
    if not label:
        first = next((s.manifest_label for s in chosen if s.manifest_label), None)
        label = {"none": [first or manifest_id]}
    return {
        "@context": PRESENTATION_3,
        "id": own_id,
        "type": "Manifest",
        "label": label,
        "items": canvases,
        "service": [
            {"id": urls.search(), "type": "SearchService2"},
            # Older service versions keep JSON-LD keywords in Presentation 3 (§5.1).
            {"@id": urls.search_v1(), "@type": "SearchService1", "profile": SEARCH_1_PROFILE},
        ],
    }
