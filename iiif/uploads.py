"""The Presentation 3 manifest of an upload: one canvas per image (page), each painted with
its IIIF Image API 3 service. Imported like any other manifest, so uploads become subjects,
exports and search results by the same path."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .language import LanguageMap
from .subjects import subject_id

PRESENTATION_3 = "http://iiif.io/api/presentation/3/context.json"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class UploadedImage:
    service: str  # the image service's id (…/iiif/{ws}/image/{image})
    width: int
    height: int
    page: int  # from 0


def canvas_iri(manifest_iri: str, filename: str, page: int) -> str:
    """The canvas of page `page` of an uploaded file: a readable slug of its name."""
    stem = filename.rsplit(".", 1)[0] if "." in filename[1:] else filename
    slug = _UNSAFE.sub("-", stem).strip("-._")[:40].rstrip("-._") or "image"
    return f"{manifest_iri}/canvas/{slug}-p{page + 1}"


def canvas_subject_id(manifest_iri: str, filename: str, page: int) -> str:
    """The subject id (and image id) of that canvas."""
    return subject_id(canvas_iri(manifest_iri, filename, page))


def upload_manifest(
    manifest_iri: str,
    filename: str,
    images: list[UploadedImage],
    *,
    label: LanguageMap | None = None,
    metadata: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    many = len(images) > 1
    items = []
    for image in images:
        canvas = canvas_iri(manifest_iri, filename, image.page)
        name = f"{filename}, page {image.page + 1}" if many else filename
        items.append(
            {
                "id": canvas,
                "type": "Canvas",
                "label": {"none": [name]},
                "width": image.width,
                "height": image.height,
                "thumbnail": [
                    {
                        "id": f"{image.service}/full/!200,200/0/default.jpg",
                        "type": "Image",
                        "format": "image/jpeg",
                        "service": [
                            {"id": image.service, "type": "ImageService3", "profile": "level2"}
                        ],
                    }
                ],
                "items": [
                    {
                        "id": f"{canvas}/page",
                        "type": "AnnotationPage",
                        "items": [
                            {
                                "id": f"{canvas}/page/image",
                                "type": "Annotation",
                                "motivation": "painting",
                                "target": canvas,
                                "body": {
                                    "id": f"{image.service}/full/max/0/default.jpg",
                                    "type": "Image",
                                    "format": "image/jpeg",
                                    "width": image.width,
                                    "height": image.height,
                                    "service": [
                                        {
                                            "id": image.service,
                                            "type": "ImageService3",
                                            "profile": "level2",
                                        }
                                    ],
                                },
                            }
                        ],
                    }
                ],
            }
        )
    return {
        "@context": PRESENTATION_3,
        "id": manifest_iri,
        "type": "Manifest",
        "label": label or {"none": [filename]},
        "metadata": metadata or [],
        "items": items,
    }
