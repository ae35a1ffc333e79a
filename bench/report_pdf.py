"""PDF benchmark: the printable report of 50 damage entries over 10 canvases (10 figures
with their numbered regions, 50 cropped details), on one core. Prints a table.

    python bench/report_pdf.py              # render only, and end to end through the server
    python bench/report_pdf.py --runs 10 --entries 50 --images 10

"render" times annotations.report_pdf.render alone, the images already in hand (JPEGs of
the sizes the server asks for: 1200 px figures, 500 px details). "server" times
`GET /api/reports/{ws}/{id}` with `Accept: application/pdf` against `sinopia serve`
pinned to one core (`taskset`), which fetches the 60 images from a local IIIF image
service (in this process, on another core) and renders; target: under 3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from annotations import Report  # noqa: E402
from annotations.damage_terms import DAMAGE_TERMS  # noqa: E402
from annotations.report_pdf import Detail, Figure, Mark, render  # noqa: E402
from tests.iiifimages import SIZE, image_service, manifest, picture  # noqa: E402

TERMS = ["crack", "loss", "flaking", "stain", "abrasion", "craquelure", "tear", "foxing"]


def _jpeg(image: Image.Image, box: int) -> bytes:
    copy = image.copy()
    copy.thumbnail((box, box))
    out = io.BytesIO()
    copy.save(out, "JPEG", quality=80)
    return out.getvalue()


def _region(i: int) -> tuple[int, int, int, int]:
    return (100 + 137 * i) % 1500, (80 + 91 * i) % 1100, 200 + (i % 5) * 40, 150 + (i % 3) * 50


def report_json(entries: int, canvases: list[str] | None, images: int) -> dict[str, Any]:
    damage = []
    for i in range(entries):
        entry: dict[str, Any] = {
            "id": f"d{i}",
            "term": TERMS[i % len(TERMS)],
            "location": f"zone {i % 9 + 1}, {['upper', 'lower', 'centre'][i % 3]} part",
            "severity": ["minor", "moderate", "severe"][i % 3],
            "activity": ["stable", "active", "unknown"][i % 3],
            "extent": {"value": 1 + i % 20, "unit": "cm"},
            "note": "Observed under magnification; edges lifting slightly. " * (1 + i % 2),
        }
        if canvases is not None:
            canvas = canvases[i % images]
            entry["annotations"] = [{"subject": canvas[0], "annotation": canvas[1][i // images]}]
        damage.append(entry)
    return {
        "type": "condition",
        "title": f"Full survey: altarpiece, {entries} damage entries",
        "reference": "BENCH-1",
        "object": {"identifier": "1901.1", "title": "Altarpiece", "materials": "tempera on wood"},
        "checker": {"name": "Marta Ruiz"},
        "date": "2025-05-02",
        "condition": "poor",
        "summary": "General survey before the exhibition. " * 20,
        "damage": damage,
    }


def bench_render(entries: int, images: int, runs: int) -> list[float]:
    pictures = [picture(f"img{n}") for n in range(images)]
    figures = []
    for n, image in enumerate(pictures):
        marks = [Mark(i + 1, *_region(i)) for i in range(entries) if i % images == n]
        figures.append(Figure(f"canvas {n}", _jpeg(image, 1200), SIZE[0], SIZE[1], marks))
    details = []
    for i in range(entries):
        x, y, w, h = _region(i)
        crop = pictures[i % images].crop((x, y, x + w, y + h))
        details.append(Detail(i + 1, _jpeg(crop, 500), TERMS[i % len(TERMS)]))
    report = Report.model_validate(report_json(entries, None, images))
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        render(
            report, document="bench/report/r1", figures=figures, details=details, terms=DAMAGE_TERMS
        )
        times.append(time.perf_counter() - start)
    return times


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sinopia(data_dir: Path, *args: str) -> str:
    command = [sys.executable, "-m", "server.cli", "admin", *args, "--data-dir", str(data_dir)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout


async def bench_server(entries: int, images: int, runs: int) -> list[float]:
    data_dir = Path(tempfile.mkdtemp(prefix="sinopia-bench-pdf-"))
    port = _free_port()
    env = {**os.environ, "SINOPIA_IIIF_FETCH_PRIVATE": "true", "SINOPIA_LOG_LEVEL": "warning"}
    _sinopia(data_dir, "workspace", "add", "bench")
    _sinopia(data_dir, "user", "add", "bench", "--admin")
    token = _sinopia(data_dir, "token", "create", "bench").strip().splitlines()[-1]
    serve = [
        sys.executable,
        "-m",
        "server.cli",
        "serve",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
    ]
    if shutil.which("taskset"):
        serve = ["taskset", "-c", "0", *serve]
        os.sched_setaffinity(0, {1 % (os.cpu_count() or 1)})
    proc = subprocess.Popen(serve, cwd=ROOT, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(
            base_url=base, timeout=120, headers={"Authorization": f"Bearer {token}"}
        ) as http:
            for _ in range(200):
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            with image_service() as service:
                names = [f"img{n}" for n in range(images)]
                done = await http.post("/api/iiif/bench/import", json=manifest(service, names))
                done.raise_for_status()
                canvases = []
                for subject in done.json()["subjects"]:
                    ref = f"canvas/{subject['document'].split('/')[-1]}"
                    made = []
                    for i in range(entries // images + 1):
                        x, y, w, h = _region(i * images + len(canvases))
                        answer = await http.post(
                            f"/api/annotations/bench/{ref}/",
                            json={
                                "type": "Annotation",
                                "motivation": "assessing",
                                "body": {"type": "TextualBody", "value": "damage"},
                                "target": {
                                    "source": subject["iiif_id"],
                                    "selector": {
                                        "type": "FragmentSelector",
                                        "value": f"xywh={x},{y},{w},{h}",
                                    },
                                },
                            },
                        )
                        answer.raise_for_status()
                        made.append(answer.headers["location"].rstrip("/").split("/")[-1])
                    canvases.append((ref, made))
                body = {"id": "r1", **report_json(entries, canvases, images)}
                (await http.post("/api/reports/bench", json=body)).raise_for_status()
                times = []
                for _ in range(runs):
                    start = time.perf_counter()
                    pdf = await http.get(
                        "/api/reports/bench/r1", headers={"Accept": "application/pdf"}
                    )
                    pdf.raise_for_status()
                    times.append(time.perf_counter() - start)
                size = len(pdf.content)
        print(f"(server PDF: {size / 1024:.0f} KiB)")
        return times
    finally:
        proc.terminate()
        proc.wait(15)
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--images", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-server", action="store_true")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})  # one core for the render-only figures
    rows = [("render only", bench_render(args.entries, args.images, args.runs))]
    if not args.skip_server:
        rows.append(
            ("server, end to end", asyncio.run(bench_server(args.entries, args.images, args.runs)))
        )
    print(
        f"\nPDF of {args.entries} damage entries, {args.images} images, {args.runs} runs, one core"
    )
    print(f"{'':<22}{'median s':>10}{'min s':>10}{'max s':>10}")
    for name, times in rows:
        print(f"{name:<22}{statistics.median(times):>10.3f}{min(times):>10.3f}{max(times):>10.3f}")


if __name__ == "__main__":
    main()
