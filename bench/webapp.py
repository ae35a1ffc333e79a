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
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from annotations import parse_annotation, write_annotation  # noqa: E402
from server.access import grants  # noqa: E402
from server.app import Server, create_app, server_config  # noqa: E402
from server.directory import operations  # noqa: E402
from server.settings import Settings  # noqa: E402
from tests import access, staticiiif  # noqa: E402
from tests.chromium import CHROMIUM, WEBGL  # noqa: E402
from tests.conftest import free_port  # noqa: E402
from tests.statichttp import serve  # noqa: E402

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
  // The app's own mark: the image shown, the tools and the binding live.
  const drawable = performance.getEntriesByName('sinopia:drawable').length > 0;
  const ready = Boolean(drawable && tool && !tool.disabled && live && list &&
    list.textContent.includes(count + ' annotations') && document.querySelector('.viewer canvas'));
  // When it became ready, as the page saw it (not when the answer reached this script).
  if (ready) performance.mark('bench:ready');
  return ready && performance.now();
}"""

# The renderer's main thread: the tasks it ran, with their CPU time (tdur, µs).
TRACE_CATEGORIES = ["disabled-by-default-devtools.timeline", "blink.user_timing"]


def browser_cpu() -> float:
    """CPU seconds used so far by this process's descendants still running (Chromium's
    browser, renderer and GPU processes, under Playwright's driver), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        times[pid] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, list(children.get(os.getpid(), []))
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo.extend(children.get(pid, []))
    return total


def main_thread_cpu(trace: bytes) -> float:
    """Seconds of CPU the page's main thread spent from navigation until ready: what the
    page costs, whatever else the machine is doing (wall time is that plus waiting)."""
    events = json.loads(trace)["traceEvents"]
    main = {
        (e["pid"], e["tid"])
        for e in events
        if e.get("ph") == "M" and e.get("name") == "thread_name"
        and e["args"].get("name") == "CrRendererMain"
    }  # fmt: skip
    on_main = [e for e in events if (e.get("pid"), e.get("tid")) in main]
    starts = [e["ts"] for e in on_main if e.get("name") == "navigationStart"]
    ends = [e["ts"] for e in on_main if e.get("name") == "bench:ready"]
    if not starts or not ends:
        return float("nan")
    end = max(ends)
    start = max(t for t in starts if t <= end)
    busy = sum(
        e.get("tdur", 0)
        for e in on_main
        if e.get("name") == "RunTask" and e.get("ph") == "X" and start <= e["ts"] < end
    )
    return busy / 1e6


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


def hot_spots(profile: dict, top: int) -> list[str]:
    """The CPU profile's self time by script and by function (ms), the largest first."""
    nodes = {n["id"]: n["callFrame"] for n in profile["nodes"]}
    by_function: dict[tuple[str, str, int], float] = {}
    for node, delta in zip(profile["samples"], profile["timeDeltas"], strict=True):
        frame = nodes[node]
        script = frame["url"].rsplit("/", 1)[-1] or "(" + (frame["functionName"] or "?") + ")"
        key = (script, frame["functionName"] or "(anonymous)", frame["lineNumber"] + 1)
        by_function[key] = by_function.get(key, 0.0) + delta / 1000
    by_script: dict[str, float] = {}
    for (script, _, _), ms in by_function.items():
        by_script[script] = by_script.get(script, 0.0) + ms
    lines = ["main thread CPU by script (ms, self time):"]
    for script, ms in sorted(by_script.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"  {script[:60]:60} {ms:7.0f}")
    lines.append("by function (ms, self time):")
    for (script, name, line), ms in sorted(by_function.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"  {(name + ' ' + script + ':' + str(line))[:60]:60} {ms:7.0f}")
    return lines


async def main(count: int, runs: int, profile: bool) -> None:
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
                    executable_path=str(CHROMIUM), args=WEBGL
                )
                context = await browser.new_context(viewport={"width": 1280, "height": 800})
                page = await context.new_page()
                await page.goto(grants.login_link_url(url, secret, "/"))
                # Every run a first visit: nothing from the browser's cache.
                cdp = await context.new_cdp_session(page)
                await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
                times, cpus, browsers, servers, scripts, marks = [], [], [], [], set(), {}
                for run in range(runs + 1):
                    loaded: set[str] = set()

                    def keep(request: object, loaded: set[str] = loaded) -> None:
                        if request.resource_type == "script":  # type: ignore[attr-defined]
                            loaded.add(request.url)  # type: ignore[attr-defined]

                    page.on("request", keep)
                    await browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
                    served, used = time.process_time(), browser_cpu()
                    await page.goto(url + path, wait_until="commit")
                    ready = await page.wait_for_function(
                        READY, arg=count, timeout=30_000, polling="raf"
                    )
                    elapsed = await ready.json_value() / 1000
                    served, used = time.process_time() - served, browser_cpu() - used
                    trace = await browser.stop_tracing()
                    marks = await page.evaluate(MARKS)
                    page.remove_listener("request", keep)
                    if run:  # the first run warms the server's caches and compressions
                        times.append(elapsed)
                        cpus.append(main_thread_cpu(trace))
                        servers.append(served)
                        browsers.append(used)
                    scripts = loaded or scripts
                    await page.goto("about:blank")
                if profile:  # one more run, sampled: where the main thread's time goes
                    await cdp.send("Profiler.enable")
                    await cdp.send("Profiler.setSamplingInterval", {"interval": 200})
                    await cdp.send("Profiler.start")
                    await page.goto(url + path, wait_until="commit")
                    await page.wait_for_function(READY, arg=count, timeout=30_000, polling="raf")
                    sampled = (await cdp.send("Profiler.stop"))["profile"]
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
    print(f"{'page main thread CPU, median (s)':32} {statistics.median(cpus):>10.3f}")
    print(f"{'browser CPU, all processes (s)':32} {statistics.median(browsers):>10.3f}")
    print(f"{'server CPU, median (s)':32} {statistics.median(servers):>10.3f}")
    print(f"{'load average (1 min)':32} {os.getloadavg()[0]:>10.2f}")
    print(f"{'JavaScript files':32} {len(scripts):>10}")
    print(f"{'JavaScript, KB':32} {raw / 1024:>10.0f}")
    print(f"{'JavaScript, KB gzipped':32} {zipped / 1024:>10.0f}  < 500")
    print("last run, when each arrived (s):")
    for name, at in sorted(marks.items(), key=lambda m: m[1]):
        print(f"  {name[:60]:60} {at:6.3f}")
    if profile:
        print("\n".join(hot_spots(sampled, 25)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--annotations", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--profile", action="store_true", help="one more run under the CPU profiler: hot spots"
    )
    options = parser.parse_args()
    asyncio.run(main(options.annotations, options.runs, options.profile))
