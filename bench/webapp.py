"""The browser app's subject page with many annotations, in headless Chromium: how long
until a conservator can draw (from navigation to the drawing tools enabled, the document
live and every annotation listed), and how much JavaScript the page loads (gzipped, as
`sinopia serve` sends it).

    python bench/webapp.py [--annotations 500] [--runs 5]

Needs the built app (pip install -e .) and Debian's chromium. Targets (issue 12): under
1.5 s and under 500 KB of JavaScript gzipped.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from annotations import parse_annotation, write_annotation  # noqa: E402
from server.access import grants  # noqa: E402
from server.app import Server, create_app, server_config  # noqa: E402
from server.directory import operations  # noqa: E402
from server.settings import Settings  # noqa: E402
from tests import access, staticiiif  # noqa: E402
from tests.conftest import free_port  # noqa: E402
from tests.statichttp import serve  # noqa: E402
from tests.test_webapp_browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

WS = "bench"

# Where the time goes: the page's HTML, the scripts, each API call (ends, in seconds).
MARKS = """() => {
  const out = {html: performance.getEntriesByType('navigation')[0].responseEnd / 1000};
  for (const e of performance.getEntriesByType('resource')) {
    const name = new URL(e.name).pathname.replace(/[^/]+\\.js$/, '*.js');
    out[name] = Math.max(out[name] ?? 0, e.responseEnd / 1000);
  }
  // The app's own marks: image shown and tools live; every annotation drawn.
  for (const e of performance.getEntriesByType('mark'))
    if (e.name.startsWith('sinopia:')) out[e.name] = e.startTime / 1000;
  return out;
}"""

READY = """(count) => {
  const tool = document.querySelector('button.tool-rectangle');
  const live = document.querySelector('.connection-live');
  const list = document.querySelector('.side');
  return Boolean(tool && !tool.disabled && live && list &&
    list.textContent.includes(count + ' annotations') && document.querySelector('.viewer canvas'));
}"""


def annotation(n: int, canvas: str) -> dict[str, object]:
    x, y = (n % 25) * 44 + 10, (n // 25) * 40 + 10
    return {
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "id": f"a{n}",
        "type": "Annotation",
        "motivation": "commenting",
        "body": {"type": "TextualBody", "value": f"Observation {n}: flaking, see detail"},
        "target": {
            "source": canvas,
            "selector": {"type": "FragmentSelector", "value": f"xywh={x},{y},36,30"},
        },
        "creator": {"id": "urn:sinopia:user:bench", "type": "Person", "name": "Bench"},
    }


async def main(count: int, runs: int) -> None:
    from playwright.async_api import async_playwright

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        images = root / "images"
        images.mkdir()
        with serve(images) as base:
            service = staticiiif.write_service(images, base, "panel")
            settings = Settings(data_dir=root / "data", port=free_port(), log_level="warning")
            token = access.provision(settings, (WS,))
            app = create_app(settings)
            server = Server(server_config(app, settings), app)
            task = asyncio.get_running_loop().create_task(server.serve())
            while not server.started:  # noqa: ASYNC110 (uvicorn sets a flag, no event)
                await asyncio.sleep(0.01)
            url = f"http://127.0.0.1:{settings.port}"
            import httpx

            async with httpx.AsyncClient(
                base_url=url, headers={"Authorization": f"Bearer {token}"}
            ) as http:
                body = staticiiif.manifest(base, [("Panel", service)])
                await http.post(f"/api/iiif/{WS}/import", json=body)
                subject = (await http.get(f"/api/workspaces/{WS}/subjects")).json()["subjects"][0]
            canvas = body["items"][0]["id"]
            async with app.state.manager.hold(subject["document"]) as room:

                def fill(doc: object) -> None:
                    for n in range(count):
                        write_annotation(doc, parse_annotation(annotation(n, canvas), canvas))  # type: ignore[arg-type]

                await room.write("bench", fill, size_hint=count * 400)
            directory = app.state.auth.directory
            user = await operations.add_user(directory, "bench", "bench", display_name="Bench")
            await operations.set_member(directory, WS, user, "editor", "bench")
            secret = await grants.create_login_link(directory, user, "bench", expires_seconds=60)
            path = f"/w/{WS}/canvas/{subject['id']}"

            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
                )
                context = await browser.new_context(viewport={"width": 1280, "height": 800})
                page = await context.new_page()
                await page.goto(grants.login_link_url(url, secret, "/"))
                # Every run a first visit: nothing from the browser's cache.
                cdp = await context.new_cdp_session(page)
                await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
                times, scripts, marks = [], set(), {}
                for run in range(runs + 1):
                    loaded: set[str] = set()

                    def keep(request: object, loaded: set[str] = loaded) -> None:
                        if request.resource_type == "script":  # type: ignore[attr-defined]
                            loaded.add(request.url)  # type: ignore[attr-defined]

                    page.on("request", keep)
                    await page.goto(url + path, wait_until="commit")
                    await page.wait_for_function(READY, arg=count, timeout=30_000, polling="raf")
                    elapsed = await page.evaluate("performance.now()") / 1000
                    marks = await page.evaluate(MARKS)
                    page.remove_listener("request", keep)
                    if run:  # the first run warms the server's caches and compressions
                        times.append(elapsed)
                    scripts = loaded or scripts
                    await page.goto("about:blank")
                await browser.close()
            async with httpx.AsyncClient() as http:
                bodies = {u: (await http.get(u)).content for u in sorted(scripts)}
            server.should_exit = True
            await task

    raw = sum(len(b) for b in bodies.values())
    zipped = sum(len(gzip.compress(b, 9)) for b in bodies.values())
    print(f"subject page, {count} annotations, headless Chromium (SwiftShader), {runs} runs")
    print(f"{'':32} {'value':>10}  target")
    print(f"{'ready to draw, median (s)':32} {statistics.median(times):>10.3f}  < 1.5")
    print(f"{'ready to draw, min-max (s)':32} {min(times):>5.3f}-{max(times):.3f}")
    print(f"{'JavaScript files':32} {len(scripts):>10}")
    print(f"{'JavaScript, KB':32} {raw / 1024:>10.0f}")
    print(f"{'JavaScript, KB gzipped':32} {zipped / 1024:>10.0f}  < 500")
    print("last run, when each arrived (s):")
    for name, at in sorted(marks.items(), key=lambda m: m[1]):
        print(f"  {name[:60]:60} {at:6.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--annotations", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    asyncio.run(main(options.annotations, options.runs))
