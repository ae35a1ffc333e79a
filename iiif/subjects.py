"""Subjects: the things people annotate, as found in IIIF manifests. One per image canvas and
one per 3D model; each becomes one live document named `workspace/kind/id`."""

from __future__ import annotations

import hashlib
import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from .language import LanguageMap

# Same rule as document names: a path segment that can never be `.`/`..`.
SUBJECT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_EXTENSION = re.compile(r"\.(json|jsonld|json-ld|glb|gltf)$", re.IGNORECASE)


def subject_id(iiif_id: str) -> str:
    """A stable, safe document id for a canvas or model IRI: a readable slug of the IRI's end
    and a hash of the whole IRI, e.g. `canvas-p12-4be1f0a93c`.

    The same IRI always gives the same id (importing a manifest twice finds the same
    documents); different IRIs differ by their hash even when their slugs agree.
    """
    digest = hashlib.sha256(iiif_id.encode()).hexdigest()[:10]
    parts = urlsplit(iiif_id)
    segments = [s for s in (parts.path or "").split("/") if s]
    if parts.fragment:
        segments.append(parts.fragment)
    if segments:
        segments[-1] = _EXTENSION.sub("", segments[-1])
    # A short last segment ("1", "p3", "c0") says little on its own: keep its parent too.
    words = segments[-2:] if segments and len(segments[-1]) < 5 else segments[-1:]
    slug = _UNSAFE.sub("-", "-".join(words)).strip("-._")[:48].rstrip("-._")
    if not slug or not slug[0].isalnum():
        slug = "subject" + (f"-{slug}" if slug else "")
    return f"{slug}-{digest}"


class ImageService(BaseModel):
    """A IIIF Image API service that serves a canvas's image at any size."""

    model_config = ConfigDict(frozen=True)

    id: str
    version: Literal[1, 2, 3]
    profile: str | None = None  # "level0", "level1" or "level2" when the service says

    def thumbnail(self, size: int = 200) -> str:
        # `!w,h` (best fit) is valid in Image API 2 and 3; `full` region everywhere.
        return f"{self.id}/full/!{size},{size}/0/default.jpg"


class ImageResource(BaseModel):
    """The image painted on a canvas (kept so an exported manifest shows the same image)."""

    model_config = ConfigDict(frozen=True)

    id: str
    format: str | None = None
    width: int | None = None
    height: int | None = None


class ModelAsset(BaseModel):
    """A 3D model file (glTF / GLB, ...) painted into a canvas or scene."""

    model_config = ConfigDict(frozen=True)

    url: str
    format: str | None = None  # a media type, e.g. model/gltf-binary


class Subject(BaseModel):
    """One annotatable thing from a manifest."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["canvas", "model"]
    id: str = Field(pattern=SUBJECT_ID.pattern)
    iiif_id: str  # the canvas or scene IRI that annotations target
    iiif_type: str = "Canvas"  # "Canvas", or "Scene" (IIIF 3D draft)
    label: str = ""
    label_map: LanguageMap = Field(default_factory=dict)
    manifest: str | None = None
    manifest_label: str | None = None
    index: int = 0  # position in the manifest
    width: int | None = Field(None, gt=0)
    height: int | None = Field(None, gt=0)
    duration: float | None = Field(None, gt=0)
    image: ImageResource | None = None
    image_service: ImageService | None = None
    thumbnail: str | None = None
    asset: ModelAsset | None = None

    def document_name(self, workspace: str) -> str:
        return f"{workspace}/{self.kind}/{self.id}"
