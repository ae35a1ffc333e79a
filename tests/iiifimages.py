"""A small IIIF Image API service on loopback for tests: each image is a generated picture
(a pale ground with a grid, so crops differ), served at any region and size as JPEG. No
network beyond 127.0.0.1; Pillow does the cropping."""

from __future__ import annotations

import io
import json
import re
from contextlib import AbstractContextManager
from http.server import BaseHTTPRequestHandler
from typing import Any

from PIL import Image, ImageDraw

from .statichttp import serving

_PATH = re.compile(r"/iiif/([^/]+)/([^/]+)/([^/]+)/0/default\.jpg")
SIZE = (2000, 1500)


def picture(name: str) -> Image.Image:
    shade = sum(name.encode()) % 60
    image = Image.new("RGB", SIZE, (235 - shade, 225 - shade, 200))
    draw = ImageDraw.Draw(image)
    for x in range(0, SIZE[0], 100):
        draw.line([(x, 0), (x, SIZE[1])], fill=(180, 170, 150), width=3)
    for y in range(0, SIZE[1], 100):
        draw.line([(0, y), (SIZE[0], y)], fill=(180, 170, 150), width=3)
    return image


class _Images(BaseHTTPRequestHandler):
    cache: dict[str, Image.Image] = {}
    requests: list[str] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.requests.append(self.path)
        if self.path.endswith("/info.json"):
            name = self.path.split("/")[2]
            body = json.dumps(
                {
                    "id": f"http://{self.headers['Host']}/iiif/{name}",
                    "type": "ImageService3",
                    "profile": "level2",
                    "width": SIZE[0],
                    "height": SIZE[1],
                }
            ).encode()
            return self._send(200, body, "application/json")
        match = _PATH.fullmatch(self.path)
        if not match or match.group(1).startswith("missing"):
            return self._send(404, b"not found", "text/plain")
        name, region, size = match.groups()
        image = self.cache.setdefault(name, picture(name))
        if region != "full":
            x, y, w, h = (int(float(v)) for v in region.split(","))
            image = image.crop((x, y, x + w, y + h))
        if size.startswith("!"):
            w, h = (int(v) for v in size[1:].split(","))
            image = image.copy()
            image.thumbnail((w, h))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=80)
        self._send(200, out.getvalue(), "image/jpeg")

    def _send(self, status: int, body: bytes, media_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def image_service() -> AbstractContextManager[str]:
    """Serve images at `{base}/iiif/{name}`; gives the base URL."""
    return serving(_Images)


def manifest(base: str, names: list[str]) -> dict[str, Any]:
    """A Presentation 3 manifest with one canvas per image."""
    return {
        "@context": "http://iiif.io/api/presentation/3/context.json",
        "id": f"{base}/manifest/object-1",
        "type": "Manifest",
        "label": {"en": ["Panel painting"]},
        "items": [
            {
                "id": f"{base}/canvas/{name}",
                "type": "Canvas",
                "label": {"en": [name]},
                "width": SIZE[0],
                "height": SIZE[1],
                "items": [
                    {
                        "id": f"{base}/page/{name}",
                        "type": "AnnotationPage",
                        "items": [
                            {
                                "id": f"{base}/painting/{name}",
                                "type": "Annotation",
                                "motivation": "painting",
                                "target": f"{base}/canvas/{name}",
                                "body": {
                                    "id": f"{base}/iiif/{name}/full/max/0/default.jpg",
                                    "type": "Image",
                                    "format": "image/jpeg",
                                    "width": SIZE[0],
                                    "height": SIZE[1],
                                    "service": [
                                        {
                                            "id": f"{base}/iiif/{name}",
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
            for name in names
        ],
    }
