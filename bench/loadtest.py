"""Load test for Yjs websocket servers: Sinopia vs pycrdt-websocket vs the Node reference server.

R rooms x C clients; every client sets its own key in the shared Map "m" at a fixed rate.
Each value is ``[seq, send_time]`` so a receiver can measure delivery latency and still count
edits that a server coalesced into one update. Measured per server, over the same window:

* delivery latency p50 / p99 / max (sender's send time -> receiver applied the update),
* deliveries per second (one client receiving another client's edit),
* convergence (every client's map equals the final values of all senders, waited for with
  a timeout after the edits stop),
* server CPU seconds (utime+stime of the server's whole session, from /proc) per 1000
  deliveries, plus the load generator's own CPU so a saturated generator is visible.

Servers run one after another as real subprocesses on fresh ports; the load generator is
``--workers`` asyncio processes (uvloop when available). See bench/README.md.

    python bench/loadtest.py --rooms 10 --clients 10 --rate 5 --duration 20
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import math
import multiprocessing as mp
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from array import array
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
NODE_DIR = BENCH_DIR / "node"
NODE_SERVER_JS = NODE_DIR / "node_modules" / "@y" / "websocket-server" / "src" / "server.js"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
MAP_NAME = "m"
SERVER_KEYS = ("sinopia", "pycrdt", "pycrdt-sqlite", "node", "node-leveldb")
SERVER_LABELS = {
    "sinopia": "sinopia",
    "pycrdt": "pycrdt-websocket",
    # With pycrdt-store's SQLiteYStore per room (written after relaying).
    "pycrdt-sqlite": "pycrdt-websocket + SQLiteYStore",
    "node": "y-websocket (node)",
    # The reference server with its own persistence (YPERSISTENCE: y-leveldb, written
    # after relaying, without fsync): the closest baseline to a server that stores.
    "node-leveldb": "y-websocket (node) + leveldb",
}

# CLOCK_MONOTONIC is system-wide on Linux, so send times written by one worker process
# can be compared with receive times read in another.
clock = time.monotonic


# --------------------------------------------------------------------------- servers


@dataclass
class ServerSpec:
    key: str
    argv: list[str]
    env: dict[str, str]
    version: str
    # Appended to every client's URL (Sinopia's credential: every access needs one).
    query: str = ""


def _pkg_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


def _node_pkg_version(name: str) -> str:
    try:
        data = json.loads((NODE_DIR / "node_modules" / name / "package.json").read_text())
        return str(data["version"])
    except (OSError, ValueError, KeyError):
        return "?"


def sinopia_credential(cmd: str, data_dir: Path, workspace: str) -> str:
    """A workspace, a user in it and their token, made as an operator would
    (`sinopia admin ...`, before the server starts)."""

    def admin(*args: str) -> str:
        argv = [cmd, "admin", *args, "--data-dir", str(data_dir)]
        return subprocess.run(argv, check=True, capture_output=True, text=True).stdout

    admin("workspace", "add", workspace)
    admin("user", "add", "bench")
    admin("member", "add", workspace, "bench", "editor")
    return admin("token", "create", "bench", "--workspace", workspace, "--expires", "1d").strip()


def resolve_server(
    key: str, host: str, port: int, data_dir: Path, workspace: str = "bench"
) -> ServerSpec | str:
    """Command line for one server, or the reason it cannot run here."""
    env = dict(os.environ)
    if key == "sinopia":
        # Prefer the console script of the interpreter running us (the project venv).
        exe = Path(sys.executable).parent / "sinopia"
        cmd = str(exe) if exe.exists() else shutil.which("sinopia")
        if not cmd:
            return "no `sinopia` command (pip install -e /work/main)"
        data_dir.mkdir(parents=True, exist_ok=True)  # fresh per run: no state carried over
        token = sinopia_credential(cmd, data_dir, workspace)
        # The per-principal update limit would cap the load we mean to measure.
        env.setdefault("SINOPIA_RATE_UPDATES_PER_SECOND", "1000000")
        env.setdefault("SINOPIA_RATE_CONNECTIONS_PER_SECOND", "100000")
        argv = [cmd, "serve", "--host", host, "--port", str(port), "--data-dir", str(data_dir)]
        return ServerSpec(key, argv, env, _pkg_version("sinopia"), f"?token={token}")
    if key in ("pycrdt", "pycrdt-sqlite"):
        if importlib.util.find_spec("pycrdt.websocket") is None:
            return "pycrdt-websocket not installed (pip install -e '.[bench]')"
        argv = [
            sys.executable,
            str(BENCH_DIR / "pycrdt_ws_server.py"),
            "--host",
            host,
            "--port",
            str(port),
        ]
        if key == "pycrdt-sqlite":
            data_dir.mkdir(parents=True, exist_ok=True)
            argv += ["--ystore", str(data_dir / "ystore.db")]
        return ServerSpec(key, argv, env, _pkg_version("pycrdt-websocket"))
    if key in ("node", "node-leveldb"):
        node = shutil.which("node")
        if not node:
            return "node not found"
        if not NODE_SERVER_JS.exists():
            npm = shutil.which("npm")
            if not npm:
                return f"{NODE_SERVER_JS} missing and no npm to install it"
            print(f"  installing the Node reference server: npm ci --prefix {NODE_DIR}", flush=True)
            done = subprocess.run(
                [npm, "ci", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund"],
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0 or not NODE_SERVER_JS.exists():
                return f"npm ci failed: {done.stderr.strip()[-300:]}"
        # Run node directly (not via npx) so the measured process tree is just the server.
        env.update(HOST=host, PORT=str(port))
        if key == "node-leveldb":
            data_dir.mkdir(parents=True, exist_ok=True)
            env["YPERSISTENCE"] = str(data_dir)
        return ServerSpec(
            key, [node, str(NODE_SERVER_JS)], env, _node_pkg_version("@y/websocket-server")
        )
    return f"unknown server {key!r}"


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_listening(proc: subprocess.Popen[bytes], host: str, port: int, timeout: float) -> None:
    deadline = clock() + timeout
    while clock() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before listening")
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)  # polling interval while waiting for the port, not a sync sleep
    raise RuntimeError(f"server not listening on {host}:{port} after {timeout:.0f}s")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    # The server was started in its own session, so its pgid is its pid: this reaches
    # workers it may have forked, and nothing else.
    with _suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with _suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


class _suppress:
    def __init__(self, *exc: type[BaseException]) -> None:
        self.exc = exc

    def __enter__(self) -> None:
        return None

    def __exit__(self, et: type[BaseException] | None, *_: object) -> bool:
        return et is not None and issubclass(et, self.exc)


def _session_stats(sid: int) -> list[list[str]]:
    """/proc/<pid>/stat fields after the command name, for every process in session sid."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # exited while we were scanning
        fields = raw[raw.rindex(")") + 2 :].split()
        if int(fields[3]) == sid:
            out.append(fields)
    return out


def session_cpu_seconds(sid: int) -> float:
    # utime+stime of every live process in the server's session, plus cutime+cstime for
    # children that have already exited and been reaped.
    ticks = sum(sum(int(f[i]) for i in (11, 12, 13, 14)) for f in _session_stats(sid))
    return ticks / CLK_TCK


def machine_busy_seconds() -> float:
    """Non-idle CPU seconds of the whole machine, to spot load from other processes."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = v
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def session_rss_mb(sid: int) -> float:
    return sum(int(f[21]) for f in _session_stats(sid)) * PAGE_SIZE / 2**20


# --------------------------------------------------------------------------- workers


@dataclass
class ClientSpec:
    room: int
    index: int  # index within the room; also the client's map key
    url: str
    phase: float  # seconds into each edit period, spreads sends evenly


@dataclass
class WorkerStats:
    t0: float = math.inf
    t1: float = math.inf
    latencies: array = field(default_factory=lambda: array("d"))
    delivered: int = 0  # deliveries received inside [t0, t1]
    coalesced: int = 0  # of those, edits that arrived merged with a newer edit of the sender
    late: int = 0  # deliveries received after t1
    max_send_lag: float = 0.0  # how far behind schedule a send went (generator overload)
    cpu0: float = 0.0
    cpu1: float = 0.0
    errors: list[str] = field(default_factory=list)

    def record(self, now: float, sent_at: float, count: int) -> None:
        if now < self.t0:
            return
        if now > self.t1:
            self.late += count
            return
        self.delivered += count
        self.coalesced += count - 1
        self.latencies.append(now - sent_at)


class Client:
    def __init__(self, spec: ClientSpec, stats: WorkerStats) -> None:
        from pycrdt import Doc, Map

        self.spec = spec
        self.stats = stats
        self.key = str(spec.index)
        self.doc: Any = Doc()
        self.map: Any = self.doc.get(MAP_NAME, type=Map)
        self.map.observe(self._on_change)
        self.seq = 0
        self.sent_in_window = 0
        self.last_seen: dict[str, int] = {}
        self.last_change = 0.0
        self.ws: Any = None
        self.recv_task: asyncio.Task[None] | None = None
        self.synced = asyncio.Event()
        self.target: dict[str, Any] | None = None
        self.converged = asyncio.Event()

    def _on_change(self, event: Any) -> None:
        now = clock()
        self.last_change = now
        for key, change in event.keys.items():
            if key == self.key:
                continue
            value = change.get("newValue")
            if not isinstance(value, list) or len(value) != 2:
                continue
            seq, sent_at = int(value[0]), float(value[1])
            prev = self.last_seen.get(key, 0)
            if seq <= prev:
                continue
            self.last_seen[key] = seq
            self.stats.record(now, sent_at, seq - prev)

    async def connect(self, timeout: float, attempts: int) -> int:
        """Connect and complete the sync handshake; returns how many retries it took."""
        from pycrdt import create_sync_message
        from websockets.asyncio.client import connect

        for attempt in range(attempts):
            self.synced = asyncio.Event()
            try:
                # No compression (servers differ in what they offer) and no client pings
                # (noise); payloads are tiny.
                self.ws = await connect(
                    self.spec.url,
                    compression=None,
                    max_size=None,
                    ping_interval=None,
                    open_timeout=timeout,
                )
                self.recv_task = asyncio.create_task(self._recv_loop())
                await self.ws.send(create_sync_message(self.doc))
                await asyncio.wait_for(self.synced.wait(), timeout)
                return attempt
            except Exception as exc:
                await self.close()
                if attempt == attempts - 1:
                    raise RuntimeError(f"join failed after {attempts} attempts: {exc!r}") from exc
        raise AssertionError("unreachable")

    async def _recv_loop(self) -> None:
        from pycrdt import YMessageType, YSyncMessageType, handle_sync_message
        from websockets.exceptions import ConnectionClosed

        ws = self.ws
        try:
            async for msg in ws:
                if isinstance(msg, str) or len(msg) < 2 or msg[0] != YMessageType.SYNC:
                    continue  # awareness etc.: not part of this benchmark
                reply = handle_sync_message(msg[1:], self.doc)
                if reply is not None:
                    await ws.send(reply)
                if msg[1] == YSyncMessageType.SYNC_STEP2:
                    self.synced.set()
                if self.target is not None and not self.converged.is_set():
                    self.check_converged()
        except ConnectionClosed as exc:
            if ws is self.ws and not self.converged.is_set():  # not closed by us
                self.stats.errors.append(f"room {self.spec.room} client {self.key}: {exc!r}")

    def check_converged(self) -> None:
        if self.map.to_py() == self.target:
            self.converged.set()

    def final_value(self) -> Any:
        return self.map.to_py().get(self.key)

    async def edit_loop(self, start: float, t0: float, t1: float, rate: float) -> None:
        from pycrdt import create_update_message
        from websockets.exceptions import ConnectionClosed

        period = 1.0 / rate
        k = 0
        while True:
            due = start + self.spec.phase + k * period
            if due >= t1:
                return
            delay = due - clock()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                self.stats.max_send_lag = max(self.stats.max_send_lag, -delay)
            self.seq += 1
            before = self.doc.get_state()
            now = clock()
            self.map[self.key] = [self.seq, now]
            try:
                await self.ws.send(create_update_message(self.doc.get_update(before)))
            except ConnectionClosed:
                return  # the receive loop records the error; the room will not converge
            if now >= t0:
                self.sent_in_window += 1
            k += 1

    async def close(self) -> None:
        ws, task = self.ws, self.recv_task
        self.ws = self.recv_task = None  # first, so the receive loop knows we closed it
        if ws is not None:
            await ws.close()
        if task is not None:
            with _suppress(Exception):
                await task


async def _run_edits(
    clients: list[Client], stats: WorkerStats, arg: dict[str, float]
) -> list[tuple[int, str, Any, int]]:
    start, t0, t1 = arg["start"], arg["t0"], arg["t1"]
    stats.t0, stats.t1 = t0, t1
    loop = asyncio.get_running_loop()
    window_closed = asyncio.Event()

    def sample(attr: str) -> None:
        setattr(stats, attr, time.process_time())
        if attr == "cpu1":
            window_closed.set()

    loop.call_later(max(0.0, t0 - clock()), sample, "cpu0")
    loop.call_later(max(0.0, t1 - clock()), sample, "cpu1")
    await asyncio.gather(*(c.edit_loop(start, t0, t1, arg["rate"]) for c in clients))
    await window_closed.wait()
    return [(c.spec.room, c.key, c.final_value(), c.sent_in_window) for c in clients]


async def _worker(conn: Connection, specs: list[ClientSpec]) -> None:
    stats = WorkerStats()
    clients = [Client(s, stats) for s in specs]
    while True:
        cmd, arg = await asyncio.to_thread(conn.recv)
        try:
            reply = await _handle(cmd, arg, clients, stats)
        except Exception:
            conn.send(("error", traceback.format_exc(limit=5)))
            raise
        conn.send(reply)
        if cmd == "close":
            return


async def _handle(cmd: str, arg: Any, clients: list[Client], stats: WorkerStats) -> tuple[str, Any]:
    """Run one orchestrator command and return the reply."""
    live = [c for c in clients if c.ws is not None]
    if cmd == "connect":
        # Clients whose index is in arg["indices"] join concurrently.
        batch = [c for c in clients if c.spec.index in arg["indices"]]
        results = await asyncio.gather(
            *(c.connect(arg["timeout"], arg["attempts"]) for c in batch),
            return_exceptions=True,
        )
        return "connected", {
            "retries": sum(r for r in results if isinstance(r, int)),
            "failed": [repr(r) for r in results if isinstance(r, BaseException)],
        }
    if cmd == "run":
        return "ran", {"finals": await _run_edits(live, stats, arg)}
    if cmd == "converge":
        for c in live:
            c.target = arg["targets"].get(c.spec.room, {})
            c.check_converged()
        waits = [asyncio.wait_for(c.converged.wait(), arg["timeout"]) for c in live]
        await asyncio.gather(*waits, return_exceptions=True)
        rooms: dict[int, bool] = {}
        conv_at: dict[int, float] = {}
        for c in live:
            ok = c.converged.is_set()
            rooms[c.spec.room] = rooms.get(c.spec.room, True) and ok
            if ok:
                conv_at[c.spec.room] = max(conv_at.get(c.spec.room, 0.0), c.last_change)
        return "converged", {
            "rooms": rooms,
            "conv_at": conv_at,
            "latencies": stats.latencies.tobytes(),
            "delivered": stats.delivered,
            "coalesced": stats.coalesced,
            "late": stats.late,
            "max_send_lag": stats.max_send_lag,
            "cpu": stats.cpu1 - stats.cpu0,
            "errors": stats.errors[:20],
        }
    if cmd == "close":
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
        return "closed", None
    raise ValueError(f"unknown command {cmd!r}")


def worker_main(conn: Connection, specs: list[ClientSpec]) -> None:
    try:
        import uvloop
    except ImportError:
        asyncio.run(_worker(conn, specs))
    else:
        uvloop.run(_worker(conn, specs))


# --------------------------------------------------------------------------- orchestration


@dataclass
class Result:
    server: str
    label: str
    version: str = ""
    skipped: str = ""
    error: str = ""
    clients: int = 0
    join_retries: int = 0
    join_failures: int = 0
    duration: float = 0.0
    edits_sent: int = 0
    expected_deliveries: int = 0
    deliveries: int = 0
    deliveries_per_s: float = 0.0
    coalesced: int = 0
    late_deliveries: int = 0
    p50_ms: float = math.nan
    p99_ms: float = math.nan
    max_ms: float = math.nan
    rooms_converged: int = 0
    rooms: int = 0
    converge_s: float = math.nan  # worst room: last edit sent -> all its clients equal
    server_cpu_s: float = math.nan
    cpu_s_per_1k: float = math.nan
    server_rss_mb: float = math.nan
    gen_cpu_s: float = math.nan
    gen_max_send_lag_ms: float = math.nan
    other_cpu_s: float = math.nan  # machine CPU used by neither server nor generator
    errors: list[str] = field(default_factory=list)


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return math.nan
    rank = max(0, math.ceil(q * len(sorted_values)) - 1)
    return sorted_values[rank]


class Workers:
    def __init__(self, specs_per_worker: list[list[ClientSpec]]) -> None:
        ctx = mp.get_context("spawn")
        self.conns: list[Connection] = []
        self.procs: list[Any] = []
        for specs in specs_per_worker:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=worker_main, args=(child, specs), daemon=True)
            proc.start()
            child.close()
            self.conns.append(parent)
            self.procs.append(proc)

    def send(self, cmd: str, arg: Any) -> None:
        for c in self.conns:
            c.send((cmd, arg))

    def collect(self, expect: str, timeout: float) -> list[Any]:
        replies = []
        deadline = clock() + timeout
        for c in self.conns:
            if not c.poll(max(0.0, deadline - clock())):
                raise RuntimeError(f"a worker did not send {expect!r} within {timeout:.0f}s")
            tag, payload = c.recv()
            if tag != expect:
                raise RuntimeError(f"a worker sent {tag!r} instead of {expect!r}: {payload}")
            replies.append(payload)
        return replies

    def ask(self, cmd: str, arg: Any, expect: str, timeout: float) -> list[Any]:
        self.send(cmd, arg)
        return self.collect(expect, timeout)

    def shutdown(self) -> None:
        with _suppress(Exception):
            self.ask("close", None, "closed", 15)
        for p in self.procs:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()
                p.join(timeout=5)


def run_one(key: str, args: argparse.Namespace, logdir: Path) -> Result:
    label = SERVER_LABELS[key]
    res = Result(server=key, label=label, rooms=args.rooms)
    port = free_port(args.host)
    data_dir = logdir / f"data-{key}"
    workspace = args.path.strip("/").split("/")[1] if args.path.count("/") >= 3 else "bench"
    spec = resolve_server(key, args.host, port, data_dir, workspace)
    if isinstance(spec, str):
        res.skipped = spec
        print(f"== {label}: SKIPPED ({spec})", flush=True)
        return res
    res.version = spec.version
    print(f"== {label} {spec.version}: {' '.join(spec.argv)}", flush=True)
    log_path = logdir / f"{key}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            spec.argv, env=spec.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    workers: Workers | None = None
    try:
        wait_listening(proc, args.host, port, args.start_timeout)
        specs = plan_clients(args, port, spec.query)
        per_worker: list[list[ClientSpec]] = [[] for _ in range(args.workers)]
        for g, s in enumerate(specs):
            per_worker[g % args.workers].append(s)  # every room is split across workers
        workers = Workers([w for w in per_worker if w])
        res.clients = len(specs)
        measure(res, workers, proc, args)
    except Exception as exc:
        res.error = f"{type(exc).__name__}: {exc}"
    finally:
        if workers is not None:
            workers.shutdown()
        if proc.poll() is not None and not res.error:
            res.error = f"server exited with code {proc.returncode}"
        stop_server(proc)
    if res.error:
        tail = log_path.read_text(errors="replace")[-1500:]
        print(f"   ERROR: {res.error}\n   server log tail ({log_path}):\n{tail}", flush=True)
    return res


def plan_clients(args: argparse.Namespace, port: int, query: str = "") -> list[ClientSpec]:
    total = args.rooms * args.clients
    period = 1.0 / args.rate
    specs = []
    for room in range(args.rooms):
        path = args.path.format(room=room)
        url = f"ws://{args.host}:{port}{path}{query}"
        for i in range(args.clients):
            g = room * args.clients + i
            specs.append(ClientSpec(room, i, url, phase=period * g / total))
    return specs


def measure(
    res: Result, workers: Workers, proc: subprocess.Popen[bytes], args: argparse.Namespace
) -> None:
    join = {"timeout": args.join_timeout, "attempts": args.join_attempts}
    # Joins: the first client of every room alone, then the rest concurrently, unless
    # --concurrent-joins (pycrdt-websocket can wedge when a room's first joins race).
    batches = (
        [list(range(args.clients))]
        if args.concurrent_joins
        else [
            [0],
            list(range(1, args.clients)),
        ]
    )
    replies: list[Any] = []
    for batch in batches:
        replies += workers.ask(
            "connect",
            {**join, "indices": batch},
            "connected",
            args.join_timeout * args.join_attempts + 30,
        )
    res.join_retries = sum(r["retries"] for r in replies)
    failed = [f for r in replies for f in r["failed"]]
    res.join_failures = len(failed)
    res.errors += failed[:5]
    if res.join_failures == res.clients:
        raise RuntimeError("no client could join")

    start = clock() + 1.0  # time for every worker to receive "run"
    t0 = start + args.warmup
    t1 = t0 + args.duration
    workers.send("run", {"start": start, "t0": t0, "t1": t1, "rate": args.rate})
    _sleep_until(t0)
    cpu0, busy0 = session_cpu_seconds(proc.pid), machine_busy_seconds()
    _sleep_until(t1)
    cpu1, busy1 = session_cpu_seconds(proc.pid), machine_busy_seconds()
    res.duration = t1 - t0
    res.server_cpu_s = cpu1 - cpu0
    machine_busy = busy1 - busy0
    ran = workers.collect("ran", 60)

    # Expected final map per room: each live sender's last value.
    targets: dict[int, dict[str, Any]] = {}
    room_size: dict[int, int] = {}
    sent: dict[int, int] = {}
    for payload in ran:
        for room, key, value, n_sent in payload["finals"]:
            room_size[room] = room_size.get(room, 0) + 1
            sent[room] = sent.get(room, 0) + n_sent
            if value is not None:
                targets.setdefault(room, {})[key] = value
    res.edits_sent = sum(sent.values())
    res.expected_deliveries = sum(sent[r] * (room_size[r] - 1) for r in sent)

    conv = workers.ask(
        "converge",
        {"targets": targets, "timeout": args.converge_timeout},
        "converged",
        args.converge_timeout + 30,
    )
    res.server_rss_mb = session_rss_mb(proc.pid)
    rooms: dict[int, bool] = {}
    conv_at: dict[int, float] = {}
    lat = array("d")
    for p in conv:
        for room, ok in p["rooms"].items():
            rooms[room] = rooms.get(room, True) and ok
        for room, at in p["conv_at"].items():
            conv_at[room] = max(conv_at.get(room, 0.0), at)
        lat.frombytes(p["latencies"])
        res.deliveries += p["delivered"]
        res.coalesced += p["coalesced"]
        res.late_deliveries += p["late"]
        res.errors += p["errors"]
    res.rooms_converged = sum(1 for ok in rooms.values() if ok)
    if res.rooms_converged == len(rooms) and conv_at:
        # Settle time: from a room's last edit being sent (its newest send time is in the
        # final map) to the change that made the last of its clients converge.
        res.converge_s = max(
            max(0.0, at - max(v[1] for v in targets[room].values()))
            for room, at in conv_at.items()
            if targets.get(room)
        )
    res.gen_cpu_s = sum(p["cpu"] for p in conv)
    res.other_cpu_s = max(0.0, machine_busy - res.server_cpu_s - res.gen_cpu_s)
    res.gen_max_send_lag_ms = max(p["max_send_lag"] for p in conv) * 1000
    res.deliveries_per_s = res.deliveries / res.duration
    if res.deliveries:
        res.cpu_s_per_1k = res.server_cpu_s / res.deliveries * 1000
    ordered = sorted(lat)
    res.p50_ms = _percentile(ordered, 0.50) * 1000
    res.p99_ms = _percentile(ordered, 0.99) * 1000
    res.max_ms = (ordered[-1] * 1000) if ordered else math.nan


def _sleep_until(t: float) -> None:
    delay = t - clock()
    if delay > 0:
        time.sleep(delay)  # clock-aligned sampling point of the measured window


# --------------------------------------------------------------------------- report


def _fmt(v: float, digits: int = 1) -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def _ratio(a: float, b: float) -> str:
    if any(isinstance(x, float) and (math.isnan(x) or x == 0) for x in (a, b)):
        return "n/a"
    ratio = a / b
    return f"{ratio:.2f}x" if ratio >= 0.1 else f"{ratio:.3f}x"


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), sep, *(line(r) for r in rows)])


def report(results: list[Result], args: argparse.Namespace) -> str:
    offered = args.rooms * args.clients * args.rate
    lines = [
        f"Load: {args.rooms} rooms x {args.clients} clients x {args.rate:g} edits/s "
        f"= {offered:g} edits/s, {offered * (args.clients - 1):g} deliveries/s offered; "
        f"{args.duration:g} s measured after {args.warmup:g} s warm-up; "
        f"{args.workers} generator processes; {os.cpu_count()} CPUs; "
        f"python {platform.python_version()}, pycrdt {_pkg_version('pycrdt')}",
        "",
    ]
    ran = [r for r in results if not r.skipped and not r.error]
    header = [
        "server",
        "deliv/s",
        "of offered",
        "p50 ms",
        "p99 ms",
        "max ms",
        "converged",
        "settle ms",
        "srv CPU s",
        "CPU s/1k deliv",
        "srv RSS MB",
        "gen CPU %",
        "other CPU %",
        "joins retried",
    ]
    rows = []
    for r in results:
        name = f"{r.label} {r.version}".strip()
        if r.skipped or r.error:
            rows.append(
                [name, f"{'skipped' if r.skipped else 'FAILED'}: {r.skipped or r.error}"[:60]]
                + [""] * (len(header) - 2)
            )
            continue
        share = (
            r.deliveries_per_s * r.duration / r.expected_deliveries * 100
            if r.expected_deliveries
            else math.nan
        )
        rows.append(
            [
                name,
                _fmt(r.deliveries_per_s, 0),
                f"{_fmt(share, 1)}%",
                _fmt(r.p50_ms, 2),
                _fmt(r.p99_ms, 2),
                _fmt(r.max_ms, 1),
                f"{r.rooms_converged}/{r.rooms}",
                _fmt(r.converge_s * 1000, 1),
                _fmt(r.server_cpu_s, 2),
                _fmt(r.cpu_s_per_1k, 3),
                _fmt(r.server_rss_mb, 0),
                _fmt(r.gen_cpu_s / r.duration * 100, 0),
                _fmt(r.other_cpu_s / r.duration * 100, 0),
                f"{r.join_retries} (+{r.join_failures} failed)"
                if r.join_failures
                else str(r.join_retries),
            ]
        )
    lines.append(_table(header, rows))

    by_key = {r.server: r for r in ran}
    # Against each baseline that ran; with Sinopia in the run, only Sinopia's ratios
    # against the two that store (the other servers against them say little).
    for ref_key in ("node", "pycrdt", "node-leveldb", "pycrdt-sqlite"):
        ref = by_key.get(ref_key)
        others = [r for r in ran if r.server != ref_key]
        if ref_key in ("node-leveldb", "pycrdt-sqlite") and "sinopia" in by_key:
            others = [by_key["sinopia"]]
        if ref is None or not others:
            continue
        lines += [
            "",
            f"Ratios vs {ref.label} (this / reference: < 1 is better for latency and CPU, "
            "> 1 for deliveries/s):",
            "",
        ]
        rrows = [
            [
                r.label,
                _ratio(r.deliveries_per_s, ref.deliveries_per_s),
                _ratio(r.p50_ms, ref.p50_ms),
                _ratio(r.p99_ms, ref.p99_ms),
                _ratio(r.cpu_s_per_1k, ref.cpu_s_per_1k),
            ]
            for r in others
        ]
        lines.append(_table(["server", "deliv/s", "p50", "p99", "CPU s/1k deliv"], rrows))
    notes = []
    for r in ran:
        if r.coalesced:
            notes.append(f"{r.label}: {r.coalesced} deliveries arrived merged with a newer edit")
        if r.join_retries:
            notes.append(
                f"{r.label}: {r.join_retries} joins got no sync reply within "
                f"{args.join_timeout:g} s and were retried"
            )
        if r.join_failures or r.errors:
            notes.append(f"{r.label}: {len(r.errors)} client errors, e.g. {r.errors[:2]}")
        if r.other_cpu_s / r.duration > 0.1:
            notes.append(
                f"{r.label}: other processes used {r.other_cpu_s / r.duration:.2f} cores "
                "during the window; its figures are less reliable"
            )
        if r.gen_cpu_s / r.duration / args.workers > 0.8:
            notes.append(
                f"{r.label}: the load generator used {r.gen_cpu_s / r.duration:.2f} cores; "
                "it may be the bottleneck (see --workers)"
            )
        if r.gen_max_send_lag_ms > 1000 / args.rate:
            notes.append(
                f"{r.label}: load generator fell {r.gen_max_send_lag_ms:.0f} ms behind its "
                "schedule (overloaded machine; latency figures include that)"
            )
    if notes:
        lines += ["", "Notes:", *(f"- {n}" for n in notes)]
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Yjs websocket server load test (see bench/README.md)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--rooms", "-R", type=int, default=10)
    p.add_argument("--clients", "-C", type=int, default=10, help="clients per room")
    p.add_argument("--rate", type=float, default=5.0, help="edits per second per client")
    p.add_argument("--duration", type=float, default=20.0, help="measured seconds")
    p.add_argument("--warmup", type=float, default=3.0, help="unmeasured editing before")
    p.add_argument(
        "--servers",
        default=",".join(SERVER_KEYS),
        help=f"comma-separated subset of {','.join(SERVER_KEYS)}, run in this order",
    )
    p.add_argument("--workers", type=int, default=2, help="load generator processes")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument(
        "--path",
        default="/collab/bench/canvas/room-{room}",
        help="websocket path per room ({room} = room number); also the room name elsewhere",
    )
    p.add_argument("--join-timeout", type=float, default=10.0, help="per join attempt")
    p.add_argument("--join-attempts", type=int, default=3)
    p.add_argument(
        "--concurrent-joins",
        action="store_true",
        help="let every client of a room join at once instead of the first one alone first",
    )
    p.add_argument("--converge-timeout", type=float, default=30.0)
    p.add_argument("--start-timeout", type=float, default=30.0, help="server start-up")
    p.add_argument("--json", type=Path, help="also write the raw results here")
    p.add_argument("--keep-logs", action="store_true", help="keep server logs and data dirs")
    args = p.parse_args(argv)
    keys = [k.strip() for k in args.servers.split(",") if k.strip()]
    unknown = [k for k in keys if k not in SERVER_KEYS]
    if unknown:
        p.error(f"unknown server(s) {unknown}; choose from {SERVER_KEYS}")
    args.server_keys = keys
    if min(args.rooms, args.clients, args.workers) < 1 or args.rate <= 0 or args.duration <= 0:
        p.error("rooms, clients, workers, rate and duration must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logdir = Path(tempfile.mkdtemp(prefix="sinopia-bench-"))
    results = []
    try:
        for key in args.server_keys:
            results.append(run_one(key, args, logdir))
    finally:
        if not args.keep_logs:
            shutil.rmtree(logdir, ignore_errors=True)
        else:
            print(f"logs and data dirs kept in {logdir}")
    print()
    print(report(results, args))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2, default=str))
    return 0 if all(not r.error for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
