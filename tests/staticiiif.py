"""A static IIIF Image API 3 service (level 0) written to a folder, for tests/statichttp.py
to serve: `info.json` with `sizes` (OpenSeadragon then loads the whole image at each size,
`full/{w},{h}/0/default.jpg`) and the thumbnail the app asks for. No network: the
browser tests load every picture from it on loopback, as from a museum's image server."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

# The painting's ground and the dark lines on it: a conservator's panel, roughly. The
# browser tests look for colours that are neither (an annotation drawn on top).
GROUND = (200, 180, 140)
LINES = (90, 70, 50)
THUMBNAIL_SIZES = ("!240,240", "!200,200")


def picture(width: int, height: int) -> Image.Image:
    image = Image.new("RGB", (width, height), GROUND)
    draw = ImageDraw.Draw(image)
    draw.rectangle(
        (width // 20, height // 20, width * 19 // 20, height * 19 // 20), outline=LINES, width=6
    )
    draw.line((width // 10, height // 2, width * 9 // 10, height // 3), fill=LINES, width=4)
    return image


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def write_service(root: Path, base: str, name: str, width: int = 1200, height: int = 900) -> str:
    """Write the service `name` under `root` (served at `base`); returns its id."""
    service = f"{base}/{name}"
    folder = root / name
    image = picture(width, height)
    sizes = []
    w, h = width, height
    while w >= 150:
        sizes.append({"width": w, "height": h})
        target = folder / "full" / f"{w},{h}" / "0"
        target.mkdir(parents=True, exist_ok=True)
        (target / "default.jpg").write_bytes(_jpeg(image.resize((w, h))))
        w, h = w // 2, h // 2
    for box in THUMBNAIL_SIZES:
        side = int(box[1:].split(",")[0])
        thumb = image.copy()
        thumb.thumbnail((side, side))
        target = folder / "full" / box / "0"
        target.mkdir(parents=True, exist_ok=True)
        (target / "default.jpg").write_bytes(_jpeg(thumb))
    info = {
        "@context": "http://iiif.io/api/image/3/context.json",
        "id": service,
        "type": "ImageService3",
        "protocol": "http://iiif.io/api/image",
        "profile": "level0",
        "width": width,
        "height": height,
        "sizes": sorted(sizes, key=lambda s: s["width"]),
    }
    (folder / "info.json").write_text(json.dumps(info))
    return service


def manifest(
    base: str, services: list[tuple[str, str]], width: int = 1200, height: int = 900
) -> dict[str, Any]:
    """A Presentation 3 manifest with one canvas per (label, image service id)."""
    items = []
    for n, (label, service) in enumerate(services, 1):
        canvas = f"{base}/canvas/{n}"
        items.append(
            {
                "id": canvas,
                "type": "Canvas",
                "label": {"en": [label]},
                "width": width,
                "height": height,
                "items": [
                    {
                        "id": f"{canvas}/page",
                        "type": "AnnotationPage",
                        "items": [
                            {
                                "id": f"{canvas}/image",
                                "type": "Annotation",
                                "motivation": "painting",
                                "body": {
                                    "id": f"{service}/full/max/0/default.jpg",
                                    "type": "Image",
                                    "format": "image/jpeg",
                                    "width": width,
                                    "height": height,
                                    "service": [
                                        {
                                            "id": service,
                                            "type": "ImageService3",
                                            "profile": "level0",
                                        }
                                    ],
                                },
                                "target": canvas,
                            }
                        ],
                    }
                ],
            }
        )
    return {
        "@context": "http://iiif.io/api/presentation/3/context.json",
        "id": f"{base}/manifest.json",
        "type": "Manifest",
        "label": {"en": ["Altarpiece, condition survey"]},
        "items": items,
    }
