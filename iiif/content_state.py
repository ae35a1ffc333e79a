"""IIIF Content State 1.0: a link that opens a viewer on a subject, at one annotation.

Encoding (spec §6): the JSON, percent-encoded as JavaScript's encodeURIComponent does, then
base64url without padding. We publish the compact form the spec recommends (the `target` of
an implied `contentState` annotation): the canvas (with `#xywh=` when the annotation has a
region) `partOf` its manifest. Generic viewers zoom to the region; our client also reads
`sinopia:annotation` (the annotation's IRI) to select it. Decoding accepts the encoded form,
plain JSON, the full annotation form, and a bare URI.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any
from urllib.parse import quote, unquote

from pydantic import BaseModel, ConfigDict

from .errors import ContentStateError

ANNOTATION_PROPERTY = "sinopia:annotation"
_XYWH = re.compile(r"^(?:pixel:)?\d+,\d+,\d+,\d+$")
# encodeURIComponent leaves these unescaped; Python's quote must be told.
_URI_COMPONENT_SAFE = "-_.!~*'()"


def encode(value: Any) -> str:
    """Content-state-encode a JSON value (or a JSON string)."""
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    uri_encoded = quote(text, safe=_URI_COMPONENT_SAFE)
    return base64.urlsafe_b64encode(uri_encoded.encode()).decode().rstrip("=")


def decode(text: str) -> Any:
    """The JSON of a content state: content-state-encoded, plain JSON, or a URI (returned
    as a string). Raises ContentStateError."""
    text = text.strip()
    if not text:
        raise ContentStateError("the content state is empty")
    if text.startswith(("{", "[")):
        return _json(text)
    if re.match(r"^[a-z][a-z0-9+.-]*://", text, re.IGNORECASE):
        return text
    if len(text) % 4 == 1 or not re.fullmatch(r"[A-Za-z0-9_-]+=*", text):
        raise ContentStateError("the content state is not base64url-encoded")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ContentStateError("the content state is not base64url-encoded") from None
    return _json(unquote(raw))


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ContentStateError(f"the content state is not JSON: {error.msg}") from None


class ContentState(BaseModel):
    """Open `canvas` (a canvas or scene id) of `manifest`, on `region` ("x,y,w,h") and/or
    at `annotation` (an annotation IRI)."""

    model_config = ConfigDict(frozen=True)

    canvas: str
    manifest: str | None = None
    type: str = "Canvas"
    region: str | None = None
    annotation: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The compact (target) form of the content state."""
        target: dict[str, Any] = {
            "id": f"{self.canvas}#xywh={self.region}" if self.region else self.canvas,
            "type": self.type,
        }
        if self.manifest:
            target["partOf"] = [{"id": self.manifest, "type": "Manifest"}]
        if self.annotation:
            target[ANNOTATION_PROPERTY] = self.annotation
        return target

    def encode(self) -> str:
        return encode(self.to_json())

    @classmethod
    def decode(cls, text: str) -> ContentState:
        return cls.from_json(decode(text))

    @classmethod
    def from_json(cls, value: Any) -> ContentState:
        """From either form of the spec (full annotation, or its target)."""
        if isinstance(value, str):
            return cls(canvas=value)
        if not isinstance(value, dict):
            raise ContentStateError("a content state must be a JSON object or a URI")
        if value.get("type") == "Annotation":
            motivation = value.get("motivation")
            motivations = motivation if isinstance(motivation, list) else [motivation]
            if "contentState" not in motivations:
                raise ContentStateError("a content state annotation has motivation contentState")
            target = value.get("target")
            if isinstance(target, list):
                if not target:
                    raise ContentStateError("the content state annotation has no target")
                target = target[0]
            return cls.from_json(target)
        region = None
        if value.get("type") == "SpecificResource":
            source = value.get("source")
            selectors = value.get("selector")
            for selector in selectors if isinstance(selectors, list) else [selectors]:
                if isinstance(selector, dict) and selector.get("type") == "FragmentSelector":
                    region = str(selector.get("value", "")).removeprefix("xywh=") or None
            annotation = value.get(ANNOTATION_PROPERTY)
            value = (
                {**source, **({ANNOTATION_PROPERTY: annotation} if annotation else {})}
                if (isinstance(source, dict))
                else {"id": source, "type": "Canvas"}
            )
        identifier = value.get("id")
        if not isinstance(identifier, str) or not identifier:
            raise ContentStateError("the content state's target has no id")
        canvas, _, fragment = identifier.partition("#")
        if fragment.startswith("xywh="):
            region = fragment.removeprefix("xywh=")
        if region is not None and not _XYWH.match(region):
            raise ContentStateError(f"region {region!r} is not x,y,w,h in pixels")
        part_of = value.get("partOf")
        first = part_of[0] if isinstance(part_of, list) and part_of else part_of
        manifest = first.get("id") if isinstance(first, dict) else first
        annotation = value.get(ANNOTATION_PROPERTY)
        return cls(
            canvas=canvas,
            manifest=manifest if isinstance(manifest, str) else None,
            type=str(value.get("type") or "Canvas"),
            region=region.removeprefix("pixel:") if region else None,
            annotation=annotation if isinstance(annotation, str) else None,
        )
