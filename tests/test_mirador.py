"""Mirador (npm `mirador`, pinned in tests/js, its prebuilt UMD bundle) in headless Chromium
(Debian's `chromium`, driven by Playwright without downloading a browser) loads a manifest
served by Sinopia and shows our annotations on the canvas.

The page and the image come from a local static server on another port, so the browser
reaches Sinopia cross-origin exactly as a viewer on another site does (CORS). The manifest
is opened with a share-link style `?token=`, which Sinopia carries into the annotation
page links it serves, so Mirador follows them with the same access.
"""

from __future__ import annotations

import json
import shutil
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest

from .chromium import CHROMIUM, HEADLESS, launched
from .conftest import Running
from .jsclients import JS_DIR
from .statichttp import serve

MIRADOR = JS_DIR / "node_modules" / "mirador" / "dist" / "mirador.min.js"
WORKSPACE = "gallery"

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Mirador</title></head>
<body style="margin:0">
<div id="mirador" style="position:absolute;top:0;left:0;right:0;bottom:0"></div>
<script src="mirador.min.js"></script>
<script>
  const manifest = new URLSearchParams(location.search).get('manifest');
  Mirador.viewer({
    id: 'mirador',
    windows: [{ manifestId: manifest, sideBarOpen: true, sideBarPanel: 'annotations' }],
    window: { allowClose: false, defaultSideBarPanel: 'annotations', sideBarOpenByDefault: true },
  });
</script>
</body></html>
"""


def png(width: int, height: int) -> bytes:
    """A plain PNG (one colour), enough for OpenSeadragon to show a canvas."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + b"\xc8\xb4\x8c" * width
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def manifest(base: str) -> dict[str, Any]:
    canvas = f"{base}/canvas/1"
    return {
        "@context": "http://iiif.io/api/presentation/3/context.json",
        "id": f"{base}/manifest.json",
        "type": "Manifest",
        "label": {"en": ["Study of a panel painting"]},
        "items": [
            {
                "id": canvas,
                "type": "Canvas",
                "label": {"en": ["Recto"]},
                "width": 400,
                "height": 300,
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
                                    "id": f"{base}/panel.png",
                                    "type": "Image",
                                    "format": "image/png",
                                    "width": 400,
                                    "height": 300,
                                },
                                "target": canvas,
                            }
                        ],
                    }
                ],
            }
        ],
    }


@pytest.fixture(scope="module", autouse=True)
def _browser_available() -> None:
    assert CHROMIUM.exists(), "Debian's chromium is needed: apt-get install -y chromium"
    assert MIRADOR.exists(), "npm ci --prefix tests/js (mirador is pinned there)"


async def test_mirador_shows_our_annotations(server: Running, tmp_path: Path) -> None:

    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(MIRADOR, site / "mirador.min.js")
    (site / "index.html").write_text(PAGE)
    (site / "panel.png").write_bytes(png(400, 300))
    server.workspace(WORKSPACE)
    with serve(site) as base:
        data = manifest(base)
        (site / "manifest.json").write_text(json.dumps(data))
        async with server.http() as http:
            imported = await http.post(f"/api/iiif/{WORKSPACE}/import", json=data)
            assert imported.status_code == 200, imported.text
            subject = imported.json()["subjects"][0]
            texts = ["Flaking of the blue pigment", "Old retouching along the crack"]
            for text, region in zip(
                texts, ("xywh=40,30,120,80", "xywh=200,150,90,60"), strict=True
            ):
                made = await http.post(
                    subject["annotations"],
                    json={
                        "type": "Annotation",
                        "motivation": "commenting",
                        "body": {"type": "TextualBody", "value": text},
                        "target": {
                            "type": "SpecificResource",
                            "source": subject["iiif_id"],
                            "selector": {"type": "FragmentSelector", "value": region},
                        },
                    },
                )
                assert made.status_code == 201, made.text
        ours = imported.json()["iiif_manifest"] + f"?token={server.token}"

        async with launched(HEADLESS) as browser:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            fetched: list[str] = []
            page.on("requestfinished", lambda request: fetched.append(request.url))
            await page.goto(f"{base}/index.html?manifest={ours}")
            # The annotations panel lists both, with their text.
            for text in texts:
                await page.get_by_text(text).first.wait_for(timeout=30_000)
            panel = await page.locator("body").inner_text()
            assert "Showing 2 annotations" in panel or "2 annotations" in panel, panel[:2000]
            # Mirador fetched the manifest and the annotation page from Sinopia.
            assert any(u.startswith(subject["annotation_page"]) for u in fetched), fetched
            # And drew on the canvas: OpenSeadragon's canvas is there with the image.
            await page.locator(".openseadragon-canvas canvas").first.wait_for(timeout=30_000)
            # Selecting an annotation in the list highlights it on the canvas.
            await page.get_by_text(texts[0]).first.click()
            await page.screenshot(path=str(tmp_path / "mirador.png"))
            assert not [e for e in errors if "sinopia" in e.lower()], errors
