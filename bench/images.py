"""Images: a 20,000 x 15,000 pixel TIFF converted into its pyramid, and tiles served from it.

    python bench/images.py [--width 20000 --height 15000] [--requests 2000] [--concurrency 50]

Measures (issue 13's targets in brackets):
- conversion: the converter child alone (time, its peak RSS [under 300 MB]);
- upload: `POST /api/media` to a `sinopia serve` subprocess (conversion, storing, the
  subjects), the server's own peak RSS, and the time to the first tile after the upload
  began;
- tile latency, p50 and p99, with `--concurrency` requests in flight, the server pinned to
  one core (`taskset`), the load generator (a bare HTTP/1.1 client, its own CPU reported)
  on another: no tile cache (every tile read from the stored pyramid) [p99 under 50 ms];
  the cache warm; and tiles that must be rendered (256 px from 512 px tiles: decoded
  scaled down, encoded by libvips) with no cache. On a shared machine the latencies are
  mostly waiting for a core: the server's CPU per request is the figure to compare.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pyvips

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.media.convert import Limits, convert  # noqa: E402
from server.settings import Settings  # noqa: E402
from tests import access  # noqa: E402
from tests.conftest import free_port  # noqa: E402

WS = "bench"


def make_source(path: Path, width: int, height: int) -> None:
    """A scan-like RGB TIFF (strips, uncompressed, as scanners write): gradients, texture
    and noise, so JPEG has real work; made streaming, in little memory."""
    xy = pyvips.Image.xyz(width, height)
    x, y = xy[0], xy[1]
    texture = ((x / 37.0).sin() * (y / 53.0).cos() * 40 + 128).cast("uchar")
    noise = pyvips.Image.gaussnoise(width, height, sigma=12, mean=0)
    red = (x * 200 / width + noise).cast("uchar")
    green = (texture + noise).cast("uchar")
    blue = (y * 200 / height - noise + 40).cast("uchar")
    image = red.bandjoin([green, blue]).copy(interpretation="srgb")
    image.tiffsave(str(path), compression="none", bigtiff=True)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Serve:
    """`sinopia serve` on a data directory, as a subprocess."""

    def __init__(self, data: Path, token: str, cache_bytes: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "SINOPIA_IMAGE_TILE_CACHE_BYTES": str(cache_bytes),
            "SINOPIA_LOG_LEVEL": "warning",
            # One principal asks for over a thousand tiles a second here, past what the
            # rate limit lets one person do (a tenth of 100 REST calls/s each): the limit
            # is not what is measured.
            "SINOPIA_RATE_REQUESTS_PER_SECOND": "100000",
        }
        self.log = open(data.parent / f"serve-{self.port}.log", "wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server.cli",
                "serve",
                "--port",
                str(self.port),
                "--data-dir",
                str(data),
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=self.log,
        )
        self.headers = {"Authorization": f"Bearer {token}"}

    async def ready(self) -> None:
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                try:
                    if (await client.get(f"{self.url}/healthz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"the server did not start: see {self.log.name}")

    def pin(self, core: int) -> None:
        if shutil.which("taskset"):
            subprocess.run(
                ["taskset", "-acp", str(core), str(self.proc.pid)], check=True, capture_output=True
            )

    def stop(self) -> None:
        if self.proc.poll() is not None:
            self.log.flush()
            print(Path(self.log.name).read_text()[-3000:], file=sys.stderr)
        self.proc.terminate()
        self.proc.wait(30)
        self.log.close()


async def _get(
    conn: list[asyncio.StreamReader | asyncio.StreamWriter | None], url: str, head: bytes
) -> int:
    """GET `url` on the kept-alive connection in `conn` (opened when missing); its status.

    A bare HTTP/1.1 client on asyncio streams: httpx costs several times the server's CPU
    per tile, and would measure the load generator rather than the server."""
    parts = urlsplit(url)
    if conn[0] is None:
        conn[0], conn[1] = await asyncio.open_connection(parts.hostname, parts.port)
    reader, writer = conn[0], conn[1]
    assert isinstance(reader, asyncio.StreamReader) and isinstance(writer, asyncio.StreamWriter)
    writer.write(b"GET " + parts.path.encode() + b" HTTP/1.1\r\n" + head)
    header = await reader.readuntil(b"\r\n\r\n")
    lines = header.split(b"\r\n")
    status = int(lines[0].split()[1])
    fields = dict(line.split(b":", 1) for line in lines[1:] if b":" in line)
    fields = {k.strip().lower(): v.strip() for k, v in fields.items()}
    await reader.readexactly(int(fields.get(b"content-length", b"0")))
    if fields.get(b"connection", b"").lower() == b"close":
        writer.close()
        conn[0] = conn[1] = None
    return status


async def load(
    url_list: list[str], headers: dict[str, str], concurrency: int, pid: int | None = None
) -> list[float]:
    """Each URL once, `concurrency` at a time, each on its own kept-alive connection; the
    latency of each (seconds). Notes the server's and this generator's CPU per request."""
    latencies: list[float] = []
    queue = list(url_list)
    cpu = cpu_seconds(pid) if pid else 0.0
    own = time.process_time()
    host = urlsplit(url_list[0]).netloc
    head = f"Host: {host}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"

    async def worker() -> None:
        conn: list[asyncio.StreamReader | asyncio.StreamWriter | None] = [None, None]
        try:
            while queue:
                url = queue.pop()
                start = time.perf_counter()
                try:
                    status = await _get(conn, url, head.encode())
                except (ConnectionError, asyncio.IncompleteReadError):
                    # A kept-alive connection the server closed meanwhile (its keep-alive
                    # timeout, on a loaded machine): asked again, as browsers do.
                    RETRIED[0] += 1
                    conn[0] = conn[1] = None
                    status = await _get(conn, url, head.encode())
                latencies.append(time.perf_counter() - start)
                assert status == 200, (url, status)
        finally:
            if isinstance(conn[1], asyncio.StreamWriter):
                conn[1].close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    if pid:
        LAST_CPU[0] = (cpu_seconds(pid) - cpu) / len(url_list)
    GENERATOR_CPU[0] = (time.process_time() - own) / len(url_list)
    return latencies


# The server's CPU time per request in the last load (seconds): what one core can serve,
# whatever else the machine is doing.
LAST_CPU = [0.0]
RETRIED = [0]
# This load generator's own CPU time per request in the last load (seconds).
GENERATOR_CPU = [0.0]


def in_process(path: Path, args: argparse.Namespace) -> list[tuple[str, str, str]]:
    """What one tile costs without HTTP, on one thread: the stored tile's bytes, and a
    render by libvips (decode, scale, encode)."""
    from iiif.image_api import ServiceLimits, parse_request
    from server.media.pyramid import Pyramid, serve_setup

    serve_setup()
    pyramid = Pyramid(path)
    full = pyramid.levels[0]
    limits = ServiceLimits(max_area=10**8)
    random.seed(7)
    spots = [
        (random.randrange(0, full.width // 512 - 1), random.randrange(0, full.height // 512 - 1))
        for _ in range(200)
    ]
    out = []
    for name, size in (
        ("stored tile bytes (fast path)", "512,"),
        ("libvips render, 256 px from a 512 px tile", "256,"),
    ):
        t0, cpu0 = time.perf_counter(), time.thread_time()
        for col, row in spots:
            req = parse_request(
                f"{col * 512},{row * 512},512,512",
                size,
                "0",
                "default.jpg",
                full.width,
                full.height,
                limits,
            )
            assert pyramid.stored_tile(req) if size == "512," else pyramid.render(req)
        each = (time.perf_counter() - t0) / len(spots) * 1000
        cpu = (time.thread_time() - cpu0) / len(spots) * 1000
        out.append(
            (f"{name}, in process, one thread", f"{cpu:.2f} ms CPU per tile", f"wall {each:.2f} ms")
        )
    pyramid.close()
    return out


def _whole(url: str, info: dict) -> bool:
    """A tile of the full tile size (edge tiles can be narrower than 256 px)."""
    _, _, w, h = (int(v) for v in url.split("/")[-4].split(","))
    return w == h and w >= info["tiles"][0]["width"]


def tile_urls(service: str, info: dict, size: str | None = None) -> list[str]:
    width, height = info["width"], info["height"]
    tile = info["tiles"][0]["width"]
    urls = []
    for factor in info["tiles"][0]["scaleFactors"]:
        span = tile * factor
        for y in range(0, height, span):
            for x in range(0, width, span):
                w, h = min(span, width - x), min(span, height - y)
                out = size or f"{max(1, -(-w // factor))},"
                urls.append(f"{service}/{x},{y},{w},{h}/{out}/0/default.jpg")
    return urls


async def main(args: argparse.Namespace) -> None:
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        root = Path(tmp)
        source = Path(args.source) if args.source else root / "scan.tif"
        t0 = time.perf_counter()
        if not source.exists():
            make_source(source, args.width, args.height)
        made = time.perf_counter() - t0
        size_mb = source.stat().st_size / 1e6
        print(f"source: {args.width} x {args.height} TIFF, {size_mb:.0f} MB (made in {made:.0f} s)")

        # The converter alone: time and its peak memory.
        out = root / "pyramid"
        out.mkdir()
        t0 = time.perf_counter()
        pages = await convert(source, "bigtiff", out, Limits(10**10, 10, 7200, 0))
        converted = time.perf_counter() - t0
        child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        pyramid_mb = pages[0].path.stat().st_size / 1e6
        rows += [
            ("conversion (converter child alone)", f"{converted:.1f} s", ""),
            ("converter peak RSS", f"{child_rss:.0f} MB", "target < 300 MB"),
            ("pyramid size", f"{pyramid_mb:.0f} MB, {len(pages[0].levels)} levels", ""),
        ]
        rows += in_process(pages[0].path, args)
        shutil.rmtree(out)

        data = root / "data"
        settings = Settings(data_dir=data)
        token = access.provision(settings, (WS,))
        server = Serve(data, token, cache_bytes=0)
        try:
            await server.ready()
            print("uploading through the server...", flush=True)
            async with httpx.AsyncClient(headers=server.headers, timeout=7200) as client:
                t0 = time.perf_counter()
                with open(source, "rb") as f:
                    answer = await client.post(
                        f"{server.url}/api/media/{WS}", files={"file": ("scan.tif", f)}
                    )
                uploaded = time.perf_counter() - t0
                assert answer.status_code == 201, answer.text
                service = answer.json()["subjects"][0]["image_service"]
                first = time.perf_counter()
                tile = await client.get(f"{service}/0,0,512,512/512,/0/default.jpg")
                assert tile.status_code == 200
                first_tile = time.perf_counter() - first
                info = (await client.get(f"{service}/info.json")).json()
            rows += [
                ("upload to 201 (receive, convert, store, subjects)", f"{uploaded:.1f} s", ""),
                (
                    "time to first tile (from the upload's start)",
                    f"{uploaded + first_tile:.1f} s",
                    f"first tile itself {first_tile * 1000:.0f} ms",
                ),
                (
                    "server peak RSS (VmHWM) through the upload",
                    f"{peak_rss_mb(server.proc.pid):.0f} MB",
                    "",
                ),
            ]
            random.seed(13)
            urls = tile_urls(service, info)
            sample = [random.choice(urls) for _ in range(args.requests)]
            server.pin(args.core)
            if hasattr(os, "sched_setaffinity") and os.cpu_count() and os.cpu_count() > 1:
                os.sched_setaffinity(0, {(args.core + 1) % os.cpu_count()})
            print("tiles...", flush=True)
            latencies = await load(sample, server.headers, args.concurrency, server.proc.pid)
            rows.append(_latency("tiles, no cache (stored pyramid)", latencies, args))
            whole = [u for u in tile_urls(service, info, "256,") if _whole(u, info)]
            rendered = [random.choice(whole) for _ in range(args.requests // 4)]
            latencies = await load(rendered, server.headers, args.concurrency, server.proc.pid)
            rows.append(_latency("tiles rendered by libvips (256 px), no cache", latencies, args))
        finally:
            server.stop()

        first_url = server.url
        server = Serve(data, token, cache_bytes=256 * 1024 * 1024)
        sample = [url.replace(first_url, server.url) for url in sample]
        try:
            await server.ready()
            server.pin(args.core)
            await load(sample, server.headers, args.concurrency)  # warm
            latencies = await load(sample, server.headers, args.concurrency, server.proc.pid)
            rows.append(_latency("tiles, cache warm", latencies, args))
        finally:
            server.stop()

    width = max(len(r[0]) for r in rows)
    print()
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"requests asked again after a closed keep-alive connection: {RETRIED[0]}")
    print(f"{'measure'.ljust(width)}  {'value':<22} note")
    print(f"{'-' * width}  {'-' * 22} {'-' * 24}")
    for name, value, note in rows:
        print(f"{name.ljust(width)}  {value:<22} {note}")


def _latency(name: str, latencies: list[float], args: argparse.Namespace) -> tuple[str, str, str]:
    p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
    rate = len(latencies) / max(sum(latencies) / args.concurrency, 1e-9)
    mean = statistics.mean(latencies) * 1000
    return (
        f"{name}, {args.concurrency} in flight, 1 core",
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms",
        f"{len(latencies)} requests, ~{rate:.0f}/s; mean {mean:.1f} ms; "
        f"server CPU {LAST_CPU[0] * 1000:.2f} ms each; "
        f"load generator CPU {GENERATOR_CPU[0] * 1000:.2f} ms each",
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--width", type=int, default=20_000)
    parser.add_argument("--height", type=int, default=15_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--core", type=int, default=0)
    parser.add_argument("--tmp", default=None, help="where to put the source and the data")
    parser.add_argument("--source", default=None, help="the TIFF to use (made there if missing)")
    arguments = parser.parse_args()
    if arguments.tmp:  # a folder on a disk with room for the 900 MB source and its pyramid
        Path(arguments.tmp).mkdir(parents=True, exist_ok=True)
    asyncio.run(main(arguments))
