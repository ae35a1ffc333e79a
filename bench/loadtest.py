"""Load test for Yjs websocket servers: Sinopia against the Node reference server (in memory
and with LevelDB), Hocuspocus and, if asked, pycrdt-websocket, under the same load.

Loads (`--load`, several in one command): R rooms of C editors each, every editor setting
its own key of the shared map at a fixed rate, with its own phase in the period, and W
watchers per room that only receive. Measured per server, over the same window:

* delivery latency p50 / p99 / max (sender's send time -> receiver saw the edit),
* deliveries per second (one client receiving another client's edit) and update frames,
* convergence (every client's copy, built from what it received, holds each sender's
  last edit),
* server CPU (utime+stime of the server's whole session, from /proc) per 1000 deliveries,
  the load generator's own CPU, and the CPU of anything else on the machine.

Servers run one after another as real subprocesses on fresh ports, `--rounds` times
interleaved (s1, s2, s3, s1, s2, s3, ...) so a noisy minute hits all of them. The load
generator is bench/loadgen.py in `--workers` processes. See bench/README.md.

    python bench/loadtest.py                                   # 10 x 10 x 5/s, 4 servers
    python bench/loadtest.py --load rooms,crowd,watchers --rounds 3
    python bench/loadtest.py --servers sinopia --variant \
        nofsync:SINOPIA_STORE_URL=sqlite:?synchronous=normal
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from array import array
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from loadgen import ClientSpec, Workers, clock

BENCH_DIR = Path(__file__).resolve().parent
NODE_DIR = BENCH_DIR / "node"
NODE_SERVER_JS = NODE_DIR / "node_modules" / "@y" / "websocket-server" / "src" / "server.js"
HOCUSPOCUS_JS = NODE_DIR / "hocuspocus.mjs"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
SERVER_KEYS = ("sinopia", "node", "node-leveldb", "hocuspocus", "pycrdt", "pycrdt-sqlite")
DEFAULT_SERVERS = "sinopia,node,node-leveldb,hocuspocus"
SERVER_LABELS = {
    "sinopia": "sinopia",
    "node": "y-websocket (node)",
    # The reference server with its own persistence (YPERSISTENCE: y-leveldb, written
    # after relaying, without fsync): the closest baseline to a server that stores.
    "node-leveldb": "y-websocket (node) + leveldb",
    "hocuspocus": "hocuspocus (memory)",
    "pycrdt": "pycrdt-websocket",
    # With pycrdt-store's SQLiteYStore per room (written after relaying).
    "pycrdt-sqlite": "pycrdt-websocket + SQLiteYStore",
}

# The loads of issue 17; --rooms/--clients/--rate/--watchers override them.
LOADS = {
    "rooms": {"rooms": 10, "clients": 10, "rate": 5.0, "watchers": 0},
    "crowd": {"rooms": 1, "clients": 50, "rate": 2.0, "watchers": 0},
    "watchers": {"rooms": 1, "clients": 1, "rate": 5.0, "watchers": 1000},
}

# Sinopia's limits that would cap the load being measured: everything comes from one
# address and one principal here.
SINOPIA_BENCH_ENV = {
    "SINOPIA_RATE_UPDATES_PER_SECOND": "1000000",
    "SINOPIA_RATE_CONNECTIONS_PER_SECOND": "100000",
    "SINOPIA_MAX_UNAUTHENTICATED_PER_ADDRESS": "100000",
    "SINOPIA_LOG_LEVEL": "warning",
}


# --------------------------------------------------------------------------- servers


@dataclass
class ServerSpec:
    key: str
    label: str
    argv: list[str]
    env: dict[str, str]
    version: str
    # Appended to editors' and watchers' URLs (Sinopia's credentials).
    query: str = ""
    watcher_query: dict[int, str] = field(default_factory=dict)  # per room
    flavour: str = "y"
    url_path: bool = True  # False: one URL for all, the document named in messages


@dataclass
class Variant:
    """Sinopia run differently: other settings (`KEY=VALUE`) and/or another checkout of
    the code (`checkout=DIR`, put first on PYTHONPATH), for A/B runs in one command."""

    name: str
    env: dict[str, str]
    checkout: str = ""

    @classmethod
    def parse(cls, text: str) -> Variant:
        name, _, rest = text.partition(":")
        env: dict[str, str] = {}
        checkout = ""
        for item in filter(None, rest.split(",")):
            key, _, value = item.partition("=")
            if key == "checkout":
                checkout = str(Path(value).resolve())
            else:
                env[key] = value
        return cls(name, env, checkout)


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


def sinopia_admin(cmd: str, data_dir: Path, env: dict[str, str], *args: str) -> str:
    argv = [cmd, "admin", *args, "--data-dir", str(data_dir)]
    return subprocess.run(argv, check=True, capture_output=True, text=True, env=env).stdout


def sinopia_credentials(
    cmd: str, data_dir: Path, env: dict[str, str], workspace: str, watched: list[str]
) -> tuple[str, dict[str, str]]:
    """An editor's token, and a share link per watched subject (`kind/id`), made as an
    operator would (`sinopia admin ...`, before the server starts)."""
    sinopia_admin(cmd, data_dir, env, "workspace", "add", workspace)
    sinopia_admin(cmd, data_dir, env, "user", "add", "bench")
    sinopia_admin(cmd, data_dir, env, "member", "add", workspace, "bench", "editor")
    token = sinopia_admin(
        cmd, data_dir, env, "token", "create", "bench", "--workspace", workspace, "--expires", "1d"
    ).strip()
    shares = {
        subject: sinopia_admin(
            cmd, data_dir, env, "share", "create", workspace, "--subject", subject
        ).strip()
        for subject in watched
    }
    return token, shares


def ensure_node_modules(check: Path) -> str:
    """'' when bench/node is installed (installing it if need be), else the reason not."""
    if check.exists():
        return ""
    npm = shutil.which("npm")
    if not npm:
        return f"{check} missing and no npm to install it"
    print(f"  installing bench/node: npm ci --prefix {NODE_DIR}", flush=True)
    done = subprocess.run(
        [npm, "ci", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not check.exists():
        return f"npm ci failed: {done.stderr.strip()[-300:]}"
    return ""


def resolve_server(
    key: str,
    host: str,
    port: int,
    data_dir: Path,
    load: dict[str, Any],
    path: str,
    variants: dict[str, Variant],
) -> ServerSpec | str:
    """Command line for one server, or the reason it cannot run here."""
    env = dict(os.environ)
    base = key if key in SERVER_KEYS else "sinopia"
    if base == "sinopia":
        variant = variants.get(key)
        # Prefer the console script of the interpreter running us (the project venv).
        exe = Path(sys.executable).parent / "sinopia"
        cmd = str(exe) if exe.exists() else shutil.which("sinopia")
        if not cmd:
            return "no `sinopia` command (pip install -e .)"
        for k, v in SINOPIA_BENCH_ENV.items():
            env.setdefault(k, v)
        label = "sinopia"
        if variant is not None:
            env.update(variant.env)
            if variant.checkout:
                env["PYTHONPATH"] = variant.checkout
            label = f"sinopia [{variant.name}]"
        data_dir.mkdir(parents=True, exist_ok=True)  # fresh per run: no state carried over
        workspace = path.strip("/").split("/")[1]
        subjects = {
            room: "/".join(path.format(room=room).strip("/").split("/")[2:])
            for room in range(load["rooms"])
        }
        watched = [subjects[r] for r in subjects] if load["watchers"] else []
        token, shares = sinopia_credentials(cmd, data_dir, env, workspace, watched)
        argv = [cmd, "serve", "--host", host, "--port", str(port), "--data-dir", str(data_dir)]
        return ServerSpec(
            key,
            label,
            argv,
            env,
            _pkg_version("sinopia"),
            f"?token={token}",
            {room: f"?token={shares[s]}" for room, s in subjects.items() if s in shares},
        )
    if key in ("pycrdt", "pycrdt-sqlite"):
        if importlib.util.find_spec("pycrdt.websocket") is None:
            return "pycrdt-websocket not installed (pip install -e '.[bench]')"
        argv = [sys.executable, str(BENCH_DIR / "pycrdt_ws_server.py")]
        argv += ["--host", host, "--port", str(port)]
        if key == "pycrdt-sqlite":
            data_dir.mkdir(parents=True, exist_ok=True)
            argv += ["--ystore", str(data_dir / "ystore.db")]
        return ServerSpec(key, SERVER_LABELS[key], argv, env, _pkg_version("pycrdt-websocket"))
    node = shutil.which("node")
    if not node:
        return "node not found"
    env.update(HOST=host, PORT=str(port))
    if key in ("node", "node-leveldb"):
        missing = ensure_node_modules(NODE_SERVER_JS)
        if missing:
            return missing
        if key == "node-leveldb":
            data_dir.mkdir(parents=True, exist_ok=True)
            env["YPERSISTENCE"] = str(data_dir)
        # Run node directly (not via npx) so the measured process tree is just the server.
        return ServerSpec(
            key,
            SERVER_LABELS[key],
            [node, str(NODE_SERVER_JS)],
            env,
            _node_pkg_version("@y/websocket-server"),
        )
    if key == "hocuspocus":
        missing = ensure_node_modules(NODE_DIR / "node_modules" / "@hocuspocus" / "server")
        if missing:
            return missing
        return ServerSpec(
            key,
            SERVER_LABELS[key],
            [node, str(HOCUSPOCUS_JS)],
            env,
            _node_pkg_version("@hocuspocus/server"),
            flavour="hocuspocus",
            url_path=False,
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


def start_server(argv: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """A server in its own session (its CPU is the session's), with as many file
    descriptors as this machine allows (thousands of sockets)."""

    def raise_nofile() -> None:
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    with open(log_path, "wb") as log:
        return subprocess.Popen(
            argv,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=raise_nofile,
        )


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    # The server was started in its own session, so its pgid is its pid: this reaches
    # workers it may have forked, and nothing else.
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)


def _session_pids(sid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # exited while we were scanning
        if int(raw[raw.rindex(")") + 2 :].split()[3]) == sid:
            pids.append(int(entry))
    return pids


def _stat_fields(path: str) -> tuple[str, list[str]] | None:
    try:
        raw = Path(path).read_text()
    except OSError:
        return None
    return raw[raw.index("(") + 1 : raw.rindex(")")], raw[raw.rindex(")") + 2 :].split()


def session_cpu_seconds(sid: int) -> float:
    # utime+stime of every live process in the server's session, plus cutime+cstime for
    # children that have already exited and been reaped.
    ticks = 0
    for pid in _session_pids(sid):
        stat = _stat_fields(f"/proc/{pid}/stat")
        if stat:
            ticks += sum(int(stat[1][i]) for i in (11, 12, 13, 14))
    return ticks / CLK_TCK


def thread_cpu_seconds(sid: int) -> dict[str, float]:
    """CPU seconds per thread name (all processes of the session): where it goes."""
    out: dict[str, float] = {}
    for pid in _session_pids(sid):
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            stat = _stat_fields(f"/proc/{pid}/task/{tid}/stat")
            if stat:
                name = stat[0] if tid != str(pid) else "main"
                out[name] = out.get(name, 0.0) + sum(int(stat[1][i]) for i in (11, 12)) / CLK_TCK
    return out


def machine_busy_seconds() -> float:
    """Non-idle CPU seconds of the whole machine, to spot load from other processes."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = v
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def session_rss_mb(sid: int) -> float:
    pages = 0
    for pid in _session_pids(sid):
        stat = _stat_fields(f"/proc/{pid}/stat")
        if stat:
            pages += int(stat[1][21])
    return pages * PAGE_SIZE / 2**20


# --------------------------------------------------------------------------- orchestration


@dataclass
class Result:
    server: str
    label: str
    load: str = ""
    round: int = 0
    version: str = ""
    skipped: str = ""
    error: str = ""
    clients: int = 0
    watchers: int = 0
    join_retries: int = 0
    join_failures: int = 0
    duration: float = 0.0
    edits_sent: int = 0
    expected_deliveries: int = 0
    deliveries: int = 0
    deliveries_per_s: float = 0.0
    frames: int = 0  # update frames received in the window
    coalesced: int = 0
    late_deliveries: int = 0
    p50_ms: float = math.nan
    p99_ms: float = math.nan
    max_ms: float = math.nan
    rooms_converged: int = 0
    rooms: int = 0
    converge_s: float = math.nan  # worst room: last edit sent -> all its clients caught up
    server_cpu_s: float = math.nan
    cpu_s_per_1k: float = math.nan
    threads_cpu_s: dict[str, float] = field(default_factory=dict)
    server_rss_mb: float = math.nan
    gen_cpu_s: float = math.nan
    gen_workers: int = 0
    gen_max_send_lag_ms: float = math.nan
    other_cpu_s: float = math.nan  # machine CPU used by neither server nor generator
    errors: list[str] = field(default_factory=list)


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return math.nan
    rank = max(0, math.ceil(q * len(sorted_values)) - 1)
    return sorted_values[rank]


def plan_clients(spec: ServerSpec, load: dict[str, Any], port: int, args: Any) -> list[ClientSpec]:
    """Editors with phases spread evenly over the edit period (over all rooms), then
    watchers; every client's URL as its server wants it."""
    editors = load["rooms"] * load["clients"]
    period = 1.0 / load["rate"]
    specs = []
    for room in range(load["rooms"]):
        path = args.path.format(room=room)
        url_path = path if spec.url_path else "/"
        doc = path.strip("/")
        for i in range(load["clients"]):
            g = room * load["clients"] + i
            specs.append(
                ClientSpec(
                    room,
                    i,
                    f"ws://{args.host}:{port}{url_path}{spec.query}",
                    phase=period * g / editors,
                    flavour=spec.flavour,
                    doc=doc,
                )
            )
        query = spec.watcher_query.get(room, spec.query)
        for w in range(load["watchers"]):
            specs.append(
                ClientSpec(
                    room,
                    load["clients"] + w,
                    f"ws://{args.host}:{port}{url_path}{query}",
                    phase=0.0,
                    editor=False,
                    flavour=spec.flavour,
                    doc=doc,
                )
            )
    return specs


def run_one(
    key: str, load_name: str, load: dict[str, Any], round_: int, args: Any, logdir: Path
) -> Result:
    res = Result(server=key, label=SERVER_LABELS.get(key, key), load=load_name, round=round_)
    res.rooms = load["rooms"]
    port = free_port(args.host)
    data_dir = logdir / f"data-{key}-{load_name}-{round_}"
    spec = resolve_server(key, args.host, port, data_dir, load, args.path, args.variants)
    if isinstance(spec, str):
        res.skipped = spec
        print(f"== {res.label}: SKIPPED ({spec})", flush=True)
        return res
    res.label = spec.label
    res.version = spec.version
    print(f"== [{load_name} #{round_ + 1}] {spec.label} {spec.version}", flush=True)
    log_path = logdir / f"{key}-{load_name}-{round_}.log"
    proc = start_server(spec.argv, spec.env, log_path)
    workers: Workers | None = None
    try:
        wait_listening(proc, args.host, port, args.start_timeout)
        specs = plan_clients(spec, load, port, args)
        workers = Workers.spread(specs, args.workers)
        res.gen_workers = len(workers.procs)
        res.clients = sum(1 for s in specs if s.editor)
        res.watchers = len(specs) - res.clients
        measure(res, workers, proc, load, args)
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


def measure(
    res: Result, workers: Workers, proc: subprocess.Popen[bytes], load: dict[str, Any], args: Any
) -> None:
    res.join_retries, failed = workers.join_all(args.join_timeout, args.join_attempts)
    res.join_failures = len(failed)
    res.errors += failed[:5]
    if res.join_failures == res.clients + res.watchers:
        raise RuntimeError("no client could join")

    start = clock() + 1.0  # time for every worker to receive "run"
    t0 = start + args.warmup
    t1 = t0 + args.duration
    workers.send("run", {"start": start, "t0": t0, "t1": t1, "rate": load["rate"]})
    _sleep_until(t0)
    cpu0, busy0, threads0 = (
        session_cpu_seconds(proc.pid),
        machine_busy_seconds(),
        thread_cpu_seconds(proc.pid),
    )
    _sleep_until(t1)
    cpu1, busy1, threads1 = (
        session_cpu_seconds(proc.pid),
        machine_busy_seconds(),
        thread_cpu_seconds(proc.pid),
    )
    res.duration = t1 - t0
    res.server_cpu_s = cpu1 - cpu0
    res.threads_cpu_s = {
        k: round(v - threads0.get(k, 0.0), 2) for k, v in threads1.items() if v > threads0.get(k, 0)
    }
    machine_busy = busy1 - busy0
    ran = workers.collect("ran", 60)

    # Expected per room: each sender's last seq, and who receives its edits.
    finals: dict[int, dict[int, int]] = {}
    sent: dict[int, int] = {}
    for payload in ran:
        for room, index, seq, n_sent in payload["finals"]:
            sent[room] = sent.get(room, 0) + n_sent
            if seq:
                finals.setdefault(room, {})[index] = seq
    res.edits_sent = sum(sent.values())
    receivers = load["clients"] - 1 + load["watchers"]
    res.expected_deliveries = res.edits_sent * receivers

    conv = workers.ask(
        "converge",
        {"finals": finals, "timeout": args.converge_timeout},
        "converged",
        args.converge_timeout + 120,
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
        res.frames += p["frames"]
        res.coalesced += p["coalesced"]
        res.late_deliveries += p["late"]
        res.errors += p["errors"]
    res.rooms_converged = sum(1 for ok in rooms.values() if ok)
    if res.rooms_converged == len(rooms) and conv_at:
        res.converge_s = max(0.0, max(conv_at.values()) - t1)
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


def _median(values: list[float]) -> float:
    values = [v for v in values if not math.isnan(v)]
    return statistics.median(values) if values else math.nan


def _spread(values: list[float], digits: int) -> str:
    """The median, and the range over rounds when there are several."""
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return "n/a"
    mid = _fmt(statistics.median(values), digits)
    if len(values) == 1:
        return mid
    return f"{mid} ({_fmt(min(values), digits)}-{_fmt(max(values), digits)})"


def load_title(name: str, load: dict[str, Any], args: Any) -> str:
    offered = load["rooms"] * load["clients"] * load["rate"]
    receivers = load["clients"] - 1 + load["watchers"]
    watchers = f" + {load['watchers']} watchers" if load["watchers"] else ""
    return (
        f"Load {name!r}: {load['rooms']} room(s) x {load['clients']} editors{watchers} "
        f"x {load['rate']:g} edits/s = {offered:g} edits/s, {offered * receivers:g} "
        f"deliveries/s offered; {args.duration:g} s measured after {args.warmup:g} s warm-up"
    )


def report_load(results: list[Result], name: str, load: dict[str, Any], args: Any) -> str:
    lines = [load_title(name, load, args), ""]
    header = [
        "server",
        "round",
        "deliv/s",
        "of offered",
        "deliv/frame",
        "p50 ms",
        "p99 ms",
        "max ms",
        "converged",
        "settle ms",
        "srv CPU s",
        "CPU ms/1k deliv",
        "srv RSS MB",
        "gen CPU %",
        "other CPU %",
        "joins retried",
    ]
    rows = []
    for r in results:
        name_v = f"{r.label} {r.version}".strip()
        if r.skipped or r.error:
            rows.append(
                [name_v, str(r.round + 1)]
                + [f"{'skipped' if r.skipped else 'FAILED'}: {r.skipped or r.error}"[:60]]
                + [""] * (len(header) - 3)
            )
            continue
        share = r.deliveries / r.expected_deliveries * 100 if r.expected_deliveries else math.nan
        rows.append(
            [
                name_v,
                str(r.round + 1),
                _fmt(r.deliveries_per_s, 0),
                f"{_fmt(share, 1)}%",
                _fmt(r.deliveries / r.frames if r.frames else math.nan, 2),
                _fmt(r.p50_ms, 2),
                _fmt(r.p99_ms, 2),
                _fmt(r.max_ms, 1),
                f"{r.rooms_converged}/{r.rooms}",
                _fmt(r.converge_s * 1000, 0),
                _fmt(r.server_cpu_s, 2),
                _fmt(r.cpu_s_per_1k * 1000, 1),
                _fmt(r.server_rss_mb, 0),
                _fmt(r.gen_cpu_s / r.duration * 100, 0),
                _fmt(r.other_cpu_s / r.duration * 100, 0),
                f"{r.join_retries} (+{r.join_failures} failed)"
                if r.join_failures
                else str(r.join_retries),
            ]
        )
    lines.append(_table(header, rows))

    ran = [r for r in results if not r.skipped and not r.error]
    keys = list(dict.fromkeys(r.server for r in ran))
    by_key = {k: [r for r in ran if r.server == k] for k in keys}
    label = {k: by_key[k][0].label for k in keys}
    if args.rounds > 1 and ran:
        lines += ["", f"Median (range) over {args.rounds} interleaved rounds:", ""]
        srows = [
            [
                label[k],
                _spread([r.cpu_s_per_1k * 1000 for r in by_key[k]], 1),
                _spread([r.p50_ms for r in by_key[k]], 2),
                _spread([r.p99_ms for r in by_key[k]], 2),
                _spread([r.deliveries / r.expected_deliveries * 100 for r in by_key[k]], 1),
            ]
            for k in keys
        ]
        header = ["server", "CPU ms/1k deliv", "p50 ms", "p99 ms", "delivered %"]
        lines.append(_table(header, srows))

    def med(k: str, attr: str) -> float:
        return _median([getattr(r, attr) for r in by_key[k]])

    sinopias = [k for k in keys if k == "sinopia" or k in args.variants]
    for ref in ("node", "node-leveldb", "hocuspocus", "pycrdt", "pycrdt-sqlite"):
        if ref not in by_key or not sinopias:
            continue
        lines += ["", f"Ratios vs {label[ref]} (medians; < 1 is better):", ""]
        rrows = [
            [
                label[k],
                _ratio(med(k, "cpu_s_per_1k"), med(ref, "cpu_s_per_1k")),
                _ratio(med(k, "p50_ms"), med(ref, "p50_ms")),
                _ratio(med(k, "p99_ms"), med(ref, "p99_ms")),
            ]
            for k in sinopias
        ]
        lines.append(_table(["server", "CPU/deliv", "p50", "p99"], rrows))
    if args.threads:
        for k in sinopias:
            merged: dict[str, list[float]] = {}
            for r in by_key[k]:
                for t, v in r.threads_cpu_s.items():
                    merged.setdefault(t, []).append(v / r.deliveries * 1e6 if r.deliveries else 0)
            parts = ", ".join(f"{t} {_median(v):.1f}" for t, v in sorted(merged.items()))
            lines += ["", f"{label[k]}: µs CPU per delivery by thread: {parts}"]

    notes = []
    for r in ran:
        tag = f"{r.label} #{r.round + 1}"
        if r.coalesced:
            notes.append(f"{tag}: {r.coalesced} edits arrived only inside a newer edit")
        if r.join_retries:
            notes.append(f"{tag}: {r.join_retries} joins were retried")
        if r.join_failures or r.errors:
            notes.append(f"{tag}: {len(r.errors)} client errors, e.g. {r.errors[:2]}")
        if r.other_cpu_s / r.duration > 0.1:
            notes.append(
                f"{tag}: other processes used {r.other_cpu_s / r.duration:.2f} cores "
                "during the window; its figures are less reliable"
            )
        if r.gen_workers and r.gen_cpu_s / r.duration / r.gen_workers > 0.7:
            notes.append(
                f"{tag}: the load generator used {r.gen_cpu_s / r.duration:.2f} cores over "
                f"{r.gen_workers} processes; it may be the bottleneck (see --workers)"
            )
        if r.gen_max_send_lag_ms > 1000 / load["rate"] / 2:
            notes.append(
                f"{tag}: the load generator fell {r.gen_max_send_lag_ms:.0f} ms behind its "
                "schedule (overloaded machine; latency figures include that)"
            )
    if notes:
        lines += ["", "Notes:", *(f"- {n}" for n in notes)]
    return "\n".join(lines)


def report(results: list[Result], args: Any) -> str:
    lines = [
        f"{os.cpu_count()} CPUs; python {platform.python_version()}, pycrdt "
        f"{_pkg_version('pycrdt')}; node {_node_version()}; {args.workers} generator processes; "
        "servers run one at a time, interleaved over rounds",
    ]
    for name, load in args.loads.items():
        lines += ["", report_load([r for r in results if r.load == name], name, load, args)]
    return "\n".join(lines)


def _node_version() -> str:
    node = shutil.which("node")
    if not node:
        return "none"
    return subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Yjs websocket server load test (see bench/README.md)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--load",
        default="rooms",
        help=f"comma-separated loads, each a table: {', '.join(LOADS)} "
        "(rooms: 10 x 10 x 5/s; crowd: 1 x 50 x 2/s; watchers: 1 writer at 5/s + 1000 watchers)",
    )
    p.add_argument("--rooms", "-R", type=int, help="override the load's rooms")
    p.add_argument("--clients", "-C", type=int, help="override: editors per room")
    p.add_argument("--watchers", "-W", type=int, help="override: watchers per room")
    p.add_argument("--rate", type=float, help="override: edits per second per editor")
    p.add_argument("--duration", type=float, default=20.0, help="measured seconds")
    p.add_argument("--warmup", type=float, default=5.0, help="unmeasured editing before")
    p.add_argument("--rounds", type=int, default=1, help="repeat every server, interleaved")
    p.add_argument(
        "--servers",
        default=DEFAULT_SERVERS,
        help=f"comma-separated subset of {','.join(SERVER_KEYS)} and variant names, in order",
    )
    p.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME:KEY=VALUE,...",
        help="Sinopia with other settings (SINOPIA_...=...) or code (checkout=DIR); "
        "run right after `sinopia` unless --servers names it",
    )
    p.add_argument("--threads", action="store_true", help="Sinopia's CPU per thread")
    p.add_argument("--workers", type=int, default=2, help="load generator processes")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument(
        "--path",
        default="/collab/bench/canvas/room-{room}",
        help="websocket path per room ({room} = room number); also the room name elsewhere",
    )
    p.add_argument("--join-timeout", type=float, default=10.0, help="per join attempt")
    p.add_argument("--join-attempts", type=int, default=3)
    p.add_argument("--converge-timeout", type=float, default=30.0)
    p.add_argument("--start-timeout", type=float, default=30.0, help="server start-up")
    p.add_argument("--json", type=Path, help="also write the raw results here")
    p.add_argument("--keep-logs", action="store_true", help="keep server logs and data dirs")
    args = p.parse_args(argv)
    args.variants = {v.name: v for v in map(Variant.parse, args.variant)}
    keys = [k.strip() for k in args.servers.split(",") if k.strip()]
    for name in args.variants:
        if name not in keys:
            at = keys.index("sinopia") + 1 if "sinopia" in keys else len(keys)
            keys.insert(at, name)
    unknown = [k for k in keys if k not in SERVER_KEYS and k not in args.variants]
    if unknown:
        p.error(f"unknown server(s) {unknown}; choose from {SERVER_KEYS} or a --variant")
    args.server_keys = keys
    args.loads = {}
    for name in filter(None, (n.strip() for n in args.load.split(","))):
        if name not in LOADS:
            p.error(f"unknown load {name!r}; choose from {', '.join(LOADS)}")
        load = dict(LOADS[name])
        for k in ("rooms", "clients", "watchers", "rate"):
            if getattr(args, k) is not None:
                load[k] = getattr(args, k)
        if min(load["rooms"], load["clients"]) < 1 or load["rate"] <= 0 or load["watchers"] < 0:
            p.error("rooms, clients and rate must be positive")
        args.loads[name] = load
    if args.workers < 1 or args.duration <= 0 or args.rounds < 1:
        p.error("workers, duration and rounds must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logdir = Path(tempfile.mkdtemp(prefix="sinopia-bench-"))
    results = []
    try:
        for name, load in args.loads.items():
            for round_ in range(args.rounds):
                for key in args.server_keys:
                    results.append(run_one(key, name, load, round_, args, logdir))
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
