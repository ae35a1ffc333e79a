"""<sinopia-viewer> on a museum's page (another origin), in headless Chromium: how much
JavaScript the element loads from Sinopia (gzipped, as `sinopia serve` sends it), and how
long from navigation until the image is drawn and until the annotations are drawn, on a
1000 x 1000 image with some annotations; then the same for a 3D subject (a GLB box, WebGL
through SwiftShader, or a sphere of many triangles): the size of the 3D chunk (three.js,
loaded only for models) and the time to the first frame with the model drawn.

    python bench/embed.py [--annotations 50] [--runs 5] [--model-runs 5] [--triangles 0]

Needs the built web client (pip install -e ., or npm run build --prefix web-client) and
Debian's chromium. Target (issue 15): the image viewer under 150 KB gzipped.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import gzip
import math
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from annotations import parse_annotation, write_annotation  # noqa: E402
from bench.webapp import annotation  # noqa: E402
from iiif.gltf import glb  # noqa: E402
from server.app import Server, create_app, server_config  # noqa: E402
from server.settings import Settings  # noqa: E402
from tests import access, staticiiif  # noqa: E402
from tests.chromium import CHROMIUM, HEADLESS, WEBGL  # noqa: E402
from tests.conftest import free_port  # noqa: E402
from tests.models import box_glb  # noqa: E402
from tests.statichttp import serve  # noqa: E402

WS = "bench"
SIDE = 1000

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Exhibition</title>
<link rel="icon" href="data:,">
<script type="module" src="{server}/embed/sinopia-viewer.js"></script>
</head><body>
<sinopia-viewer server="{server}" document="{document}" share="{token}"></sinopia-viewer>
</body></html>
"""

MARKS = """() => {
  const out = {};
  for (const e of performance.getEntriesByType('mark'))
    if (e.name.startsWith('sinopia-embed:')) out[e.name] = e.startTime / 1000;
  return out;
}"""


def sphere_glb(triangles: int) -> bytes:
    """A GLB of a unit sphere of about `triangles` triangles (positions, normals, 32-bit
    indices): a photogrammetry scan's size, where the box is a test's."""
    rings = max(4, round(math.sqrt(triangles / 4)))
    segments = 2 * rings
    positions, indices = array.array("f"), array.array("I")
    for r in range(rings + 1):
        theta = math.pi * r / rings
        for g in range(segments + 1):
            phi = 2 * math.pi * g / segments
            positions.extend(
                (math.sin(theta) * math.cos(phi), math.cos(theta), math.sin(theta) * math.sin(phi))
            )
    for r in range(rings):
        for g in range(segments):
            a = r * (segments + 1) + g
            b = a + segments + 1
            indices.extend((a, b, a + 1, b, b + 1, a + 1))
    pos, idx = positions.tobytes(), indices.tobytes()
    count = len(positions) // 3
    document = {
        "asset": {"version": "2.0", "generator": "sinopia bench"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0, "NORMAL": 1}, "indices": 2}]}],
        "buffers": [{"byteLength": 2 * len(pos) + len(idx)}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": len(pos), "target": 34962},
            {"buffer": 0, "byteOffset": len(pos), "byteLength": len(pos), "target": 34962},
            {"buffer": 0, "byteOffset": 2 * len(pos), "byteLength": len(idx), "target": 34963},
        ],
        "accessors": [
            {
                "bufferView": 0,
                "componentType": 5126,
                "count": count,
                "type": "VEC3",
                "min": [-1, -1, -1],
                "max": [1, 1, 1],
            },
            # A unit sphere's normals are its positions.
            {"bufferView": 1, "componentType": 5126, "count": count, "type": "VEC3"},
            {"bufferView": 2, "componentType": 5125, "count": len(indices), "type": "SCALAR"},
        ],
    }
    return glb(document, pos + pos + idx)


async def _fresh_page(browser: Any) -> Any:
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    # Every run a first visit: nothing from the browser's cache.
    cdp = await context.new_cdp_session(page)
    await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    return page


async def main(count: int, runs: int, model_runs: int, triangles: int) -> None:
    model_file = sphere_glb(triangles) if triangles else box_glb()
    model_name = f"a sphere of {triangles} triangles" if triangles else "a GLB box"
    import httpx
    from playwright.async_api import async_playwright

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        images, pages = root / "images", root / "pages"
        images.mkdir()
        pages.mkdir()
        with serve(images) as base, serve(pages) as museum:
            service = staticiiif.write_service(images, base, "panel", SIDE, SIDE)
            settings = Settings(data_dir=root / "data", port=free_port(), log_level="warning")
            token = access.provision(settings, (WS,))
            app = create_app(settings)
            server = Server(server_config(app, settings), app)
            task = asyncio.get_running_loop().create_task(server.serve())
            while not server.started:  # noqa: ASYNC110 (uvicorn sets a flag, no event)
                await asyncio.sleep(0.01)
            url = f"http://127.0.0.1:{settings.port}"
            async with httpx.AsyncClient(
                base_url=url, headers={"Authorization": f"Bearer {token}"}
            ) as http:
                body = staticiiif.manifest(base, [("Panel", service)], SIDE, SIDE)
                await http.post(f"/api/iiif/{WS}/import", json=body)
                subject = (await http.get(f"/api/workspaces/{WS}/subjects")).json()["subjects"][0]
                share = await http.post(
                    f"/api/workspaces/{WS}/shares",
                    json={"subject": f"canvas/{subject['id']}", "origins": [museum]},
                )
                share_token = share.json()["token"]
            canvas = body["items"][0]["id"]
            async with app.state.manager.hold(subject["document"]) as room:

                def fill(doc: object) -> None:
                    for n in range(count):
                        write_annotation(doc, parse_annotation(annotation(n, canvas), canvas))  # type: ignore[arg-type]

                await room.write("bench", fill, size_hint=count * 400)
            (pages / "exhibition.html").write_text(
                PAGE.format(server=url, document=subject["document"], token=share_token)
            )
            async with httpx.AsyncClient(
                base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60
            ) as http:
                made = await http.post(
                    f"/api/media/{WS}", files={"file": ("Model.glb", model_file)}
                )
                (model,) = made.json()["subjects"]
                share = await http.post(
                    f"/api/workspaces/{WS}/shares",
                    json={"subject": f"model/{model['id']}", "origins": [museum]},
                )
            (pages / "model.html").write_text(
                PAGE.format(server=url, document=model["document"], token=share.json()["token"])
            )

            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=str(CHROMIUM), args=HEADLESS
                )
                page = await _fresh_page(browser)
                image_times, drawn_times, scripts, marks = [], [], set(), {}
                for run in range(runs + 1):
                    loaded: set[str] = set()

                    def keep(request: object, loaded: set[str] = loaded) -> None:
                        if request.resource_type == "script":  # type: ignore[attr-defined]
                            loaded.add(request.url)  # type: ignore[attr-defined]

                    page.on("request", keep)
                    await page.goto(f"{museum}/exhibition.html", wait_until="commit")
                    await page.wait_for_function(
                        "() => performance.getEntriesByName('sinopia-embed:annotations').length"
                        " && performance.getEntriesByName('sinopia-embed:image').length",
                        timeout=30_000,
                        polling="raf",
                    )
                    marks = await page.evaluate(MARKS)
                    page.remove_listener("request", keep)
                    if run:  # the first run warms the server's caches and compressions
                        image_times.append(marks["sinopia-embed:image"])
                        drawn_times.append(marks["sinopia-embed:annotations"])
                    scripts = loaded or scripts
                    await page.goto("about:blank")
                await browser.close()
                # WebGL (software) for the 3D subject, as the browser tests have it.
                browser = await playwright.chromium.launch(
                    executable_path=str(CHROMIUM), args=WEBGL
                )
                page = await _fresh_page(browser)
                model_times, model_scripts = [], set()
                for run in range(model_runs + 1 if model_runs else 0):
                    loaded = set()

                    def keep_model(request: object, loaded: set[str] = loaded) -> None:
                        if request.resource_type == "script":  # type: ignore[attr-defined]
                            loaded.add(request.url)  # type: ignore[attr-defined]

                    page.on("request", keep_model)
                    await page.goto(f"{museum}/model.html", wait_until="commit")
                    await page.wait_for_function(
                        "() => performance.getEntriesByName('sinopia-embed:model').length",
                        timeout=60_000,
                        polling="raf",
                    )
                    marks = await page.evaluate(MARKS)
                    page.remove_listener("request", keep_model)
                    if run:
                        model_times.append(marks["sinopia-embed:model"])
                    model_scripts = loaded or model_scripts
                    await page.goto("about:blank")
                await browser.close()
            async with httpx.AsyncClient() as http:
                bodies = {u: (await http.get(u)).content for u in sorted(scripts)}
                model_bodies = {u: (await http.get(u)).content for u in sorted(model_scripts)}
            server.should_exit = True
            await task

    print(
        f"<sinopia-viewer> on another origin, {SIDE} x {SIDE} image, {count} annotations, "
        f"headless Chromium, {runs} runs"
    )
    print(f"{'':40} {'value':>10}  target")
    for name, data in sorted(bodies.items()):
        short = name.rsplit("/", 1)[1]
        print(f"{'  ' + short[:38]:40} {len(gzip.compress(data, 9)) / 1024:>10.1f}  KB gzipped")
    zipped = sum(len(gzip.compress(b, 9)) for b in bodies.values())
    raw = sum(len(b) for b in bodies.values())
    print(f"{'JavaScript files':40} {len(bodies):>10}")
    print(f"{'JavaScript, KB':40} {raw / 1024:>10.1f}")
    print(f"{'JavaScript, KB gzipped':40} {zipped / 1024:>10.1f}  < 150")
    print(f"{'first image drawn, median (s)':40} {statistics.median(image_times):>10.3f}")
    print(f"{'annotations drawn, median (s)':40} {statistics.median(drawn_times):>10.3f}")
    print(f"{'annotations drawn, min-max (s)':40} {min(drawn_times):>5.3f}-{max(drawn_times):.3f}")
    if not model_runs:
        return
    print()
    size = len(model_file) / 1024
    print(f"3D subject ({model_name}, {size:.1f} KB), WebGL by SwiftShader, {model_runs} runs")
    for name, data in sorted(model_bodies.items()):
        if name in bodies:
            continue
        short = name.rsplit("/", 1)[1]
        print(f"{'  ' + short[:38]:40} {len(gzip.compress(data, 9)) / 1024:>10.1f}  KB gzipped")
    zipped3d = sum(len(gzip.compress(b, 9)) for b in model_bodies.values())
    print(f"{'JavaScript files':40} {len(model_bodies):>10}")
    print(f"{'JavaScript, KB gzipped':40} {zipped3d / 1024:>10.1f}")
    print(f"{'first frame with the model, median (s)':40} {statistics.median(model_times):>10.3f}")
    print(f"{'first frame, min-max (s)':40} {min(model_times):>5.3f}-{max(model_times):.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--annotations", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--model-runs", type=int, default=5, help="0: no 3D subject (a build without 3D)"
    )
    parser.add_argument(
        "--triangles", type=int, default=0, help="a sphere of this many triangles (0: a box)"
    )
    options = parser.parse_args()
    asyncio.run(main(options.annotations, options.runs, options.model_runs, options.triangles))
