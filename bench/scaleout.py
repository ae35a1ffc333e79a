"""Scale-out benchmark: the load of loadtest.py on one Sinopia instance, then split over
two and three instances sharing one store and a Redis bus, in one run.

By default every room's clients are spread over the instances (client i of room r on
instance (r + i) mod n), as a load balancer without affinity spreads them: every edit
crosses the bus to reach some of its receivers, and every instance has every room open.
`--spread rooms` instead puts all of room r's clients on instance r mod n, as a load
balancer hashing the document path does. Measured per configuration, over the same
window: deliveries per second and p50/p99/max delivery latency (client to client, as in
loadtest.py), convergence, and per instance its CPU and the deliveries it made (from its
own /metrics), hence CPU per delivered update.

The server instances and the load generator share this machine's cores, so a run with
more instances cannot show more throughput than the machine has. "deliv/s per busiest
core" projects what each configuration would carry with a core per instance: deliveries
per second divided by the CPU (in cores) of its busiest instance; "projected scale" is
that against the single instance at the same rate.

All instances share one data directory: the SQLite store file (one writer at a time
across processes, each with its own group commit), the users and tokens, and the seal
key. Redis is a fresh `redis-server` on a free port per configuration (nothing on disk).

    python bench/scaleout.py                         # 1, 2, 3 instances at 5 edits/s
    python bench/scaleout.py --rates 5,10,20,40      # and where one instance saturates

See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from array import array
from dataclasses import asdict, dataclass, field
from pathlib import Path

from loadgen import ClientSpec, Workers, clock
from loadtest import (
    SINOPIA_BENCH_ENV,
    _fmt,
    _percentile,
    _sleep_until,
    _table,
    free_port,
    machine_busy_seconds,
    session_cpu_seconds,
    stop_server,
    wait_listening,
)

CGROUP_CPU = Path("/sys/fs/cgroup/cpu")

WORKSPACE = "bench"


@dataclass
class Run:
    instances: int
    rate: float
    error: str = ""
    duration: float = 0.0
    offered: float = 0.0  # deliveries per second the senders' edits call for
    deliveries: int = 0
    deliveries_per_s: float = 0.0
    p50_ms: float = math.nan
    p99_ms: float = math.nan
    max_ms: float = math.nan
    rooms_converged: int = 0
    rooms: int = 0
    join_failures: int = 0
    instance_cpu_s: list[float] = field(default_factory=list)
    instance_deliveries: list[int] = field(default_factory=list)
    redis_cpu_s: float = 0.0
    gen_cpu_s: float = 0.0
    other_cpu_s: float = 0.0
    gen_max_send_lag_ms: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def per_busiest_core(self) -> float:
        busiest = max(self.instance_cpu_s, default=0.0) / self.duration if self.duration else 0
        return self.deliveries_per_s / busiest if busiest else math.nan

    @property
    def label(self) -> str:
        return "1 instance" if self.instances == 1 else f"{self.instances} instances + redis"


def sinopia_command() -> str:
    exe = Path(sys.executable).parent / "sinopia"
    found = str(exe) if exe.exists() else shutil.which("sinopia")
    if not found:
        raise SystemExit("no `sinopia` command (pip install -e .)")
    return found


def provision(sinopia: str, data_dir: Path) -> str:
    """A workspace, a user and a token, as an operator makes them (`sinopia admin`).
    Returns "" on a server without access control."""
    steps = [
        ["workspace", "add", WORKSPACE],
        ["user", "add", "bench"],
        ["member", "add", WORKSPACE, "bench", "editor"],
        ["token", "create", "bench", "--workspace", WORKSPACE],
    ]
    token = ""
    for step in steps:
        done = subprocess.run(
            [sinopia, "admin", *step, "--data-dir", str(data_dir)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode == 2 and "invalid choice" in done.stderr:
            return ""  # no `sinopia admin`: no access control to satisfy
        if done.returncode != 0:
            raise RuntimeError(f"sinopia admin {' '.join(step)}: {done.stderr.strip()}")
        token = done.stdout.strip()
    return token


def start_redis(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port("127.0.0.1")
    proc = subprocess.Popen(
        [
            *("redis-server", "--port", str(port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no", "--dir", str(workdir)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    wait_listening(proc, "127.0.0.1", port, 10)
    # A document no other instance showed itself on for 5 s (not 30) counts as unshared,
    # so a short warm-up reaches the steady state of documents routed to one instance.
    return proc, f"redis://127.0.0.1:{port}/0?live_grace=5"


def cpu_group(name: str, cores: float) -> Path:
    """A cgroup (v1 cpu controller) that caps what its processes use at `cores` (as root:
    cpu.cfs_quota_us per 100 ms period)."""
    group = CGROUP_CPU / f"sinopia-bench-{os.getpid()}-{name}"
    group.mkdir()
    (group / "cpu.cfs_period_us").write_text("100000")
    (group / "cpu.cfs_quota_us").write_text(str(int(cores * 100000)))
    return group


def join_group(group: Path) -> None:
    # In the child before it runs sinopia: every thread and process it starts is capped.
    (group / "cgroup.procs").write_text(str(os.getpid()))


def remove_group(group: Path) -> None:
    try:
        group.rmdir()
    except OSError:
        pass  # a process still in it (it is being reaped): left for the system to reuse


def deliveries_metric(port: int, token: str) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    found = re.search(r"^sinopia_deliveries_total (\S+)$", text, re.M)
    return int(float(found.group(1))) if found else 0


def run_config(n: int, rate: float, args: argparse.Namespace, workdir: Path) -> Run:
    run = Run(n, rate, rooms=args.rooms)
    base = workdir / f"n{n}-r{rate:g}"
    data_dir = base / "data"
    data_dir.mkdir(parents=True)
    sinopia = sinopia_command()
    procs: list[subprocess.Popen[bytes]] = []
    groups: list[Path] = []
    redis: subprocess.Popen[bytes] | None = None
    workers: Workers | None = None
    print(f"== {run.label}, {rate:g} edits/s per client", flush=True)
    try:
        token = provision(sinopia, data_dir)
        # One principal from one address sends every edit here.
        env = {**os.environ, **SINOPIA_BENCH_ENV}
        if n > 1:
            redis, env["SINOPIA_REDIS_URL"] = start_redis(base)
        ports = [free_port(args.host) for _ in range(n)]
        for i, port in enumerate(ports):
            argv = [sinopia, "serve", "--host", args.host, "--port", str(port)]
            group = cpu_group(f"{base.name}-{i}", args.cap) if args.cap else None
            if group is not None:
                groups.append(group)
            with open(base / f"instance{i}.log", "wb") as log:
                procs.append(
                    subprocess.Popen(
                        [*argv, "--data-dir", str(data_dir)],
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                        preexec_fn=(lambda g=group: join_group(g)) if group else None,
                    )
                )
        for proc, port in zip(procs, ports, strict=True):
            wait_listening(proc, args.host, port, 30)

        query = f"?token={token}" if token else ""
        total = args.rooms * args.clients
        specs = []
        for room in range(args.rooms):
            path = args.path.format(room=room)
            for i in range(args.clients):
                # A room's clients over every instance, or each room on one instance.
                port = ports[(room + i) % n if args.spread == "clients" else room % n]
                g = room * args.clients + i
                url = f"ws://{args.host}:{port}{path}{query}"
                specs.append(ClientSpec(room, i, url, phase=g / total / rate))
        per_worker: list[list[ClientSpec]] = [[] for _ in range(args.workers)]
        for g, s in enumerate(specs):
            per_worker[g % args.workers].append(s)
        workers = Workers(per_worker)
        measure(run, workers, procs, redis, ports, token, args)
    except Exception as exc:
        run.error = f"{type(exc).__name__}: {exc}"
        print(f"   ERROR: {run.error} (logs in {base})", flush=True)
    finally:
        if workers is not None:
            workers.shutdown()
        for proc in procs:
            if proc.poll() is not None and not run.error:
                run.error = f"an instance exited with code {proc.returncode}"
            stop_server(proc)
        if redis is not None:
            stop_server(redis)
        for group in groups:
            remove_group(group)
    return run


def measure(
    run: Run,
    workers: Workers,
    procs: list[subprocess.Popen[bytes]],
    redis: subprocess.Popen[bytes] | None,
    ports: list[int],
    token: str,
    args: argparse.Namespace,
) -> None:
    _, failed = workers.join_all(args.join_timeout, 3)
    run.join_failures = len(failed)
    run.errors += failed[:3]
    start = clock() + 1.0
    t0 = start + args.warmup
    t1 = t0 + args.duration
    workers.send("run", {"start": start, "t0": t0, "t1": t1, "rate": run.rate})

    def sample() -> tuple[list[float], list[int], float, float]:
        cpu = [session_cpu_seconds(p.pid) for p in procs]
        deliveries = [deliveries_metric(port, token) for port in ports]
        return (
            cpu,
            deliveries,
            session_cpu_seconds(redis.pid) if redis else 0.0,
            (machine_busy_seconds()),
        )

    _sleep_until(t0)
    cpu0, del0, redis0, busy0 = sample()
    _sleep_until(t1)
    cpu1, del1, redis1, busy1 = sample()
    run.duration = t1 - t0
    run.instance_cpu_s = [b - a for a, b in zip(cpu0, cpu1, strict=True)]
    run.instance_deliveries = [b - a for a, b in zip(del0, del1, strict=True)]
    run.redis_cpu_s = redis1 - redis0

    ran = workers.collect("ran", 120)
    finals: dict[int, dict[int, int]] = {}
    sent = 0
    for payload in ran:
        for room, index, seq, n_sent in payload["finals"]:
            sent += n_sent
            if seq:
                finals.setdefault(room, {})[index] = seq
    run.offered = sent * (args.clients - 1) / run.duration
    conv = workers.ask(
        "converge",
        {"finals": finals, "timeout": args.converge_timeout},
        "converged",
        args.converge_timeout + 30,
    )
    rooms: dict[int, bool] = {}
    latencies = array("d")
    for p in conv:
        for room, ok in p["rooms"].items():
            rooms[room] = rooms.get(room, True) and ok
        latencies.frombytes(p["latencies"])
        run.deliveries += p["delivered"]
        run.errors += p["errors"]
        run.gen_cpu_s += p["cpu"]
        run.gen_max_send_lag_ms = max(run.gen_max_send_lag_ms, p["max_send_lag"] * 1000)
    run.rooms_converged = sum(rooms.values())
    run.deliveries_per_s = run.deliveries / run.duration
    ordered = sorted(latencies)
    run.p50_ms = _percentile(ordered, 0.50) * 1000
    run.p99_ms = _percentile(ordered, 0.99) * 1000
    run.max_ms = ordered[-1] * 1000 if ordered else math.nan
    servers = sum(run.instance_cpu_s) + run.redis_cpu_s + run.gen_cpu_s
    run.other_cpu_s = max(0.0, busy1 - busy0 - servers)


def report(runs: list[Run], args: argparse.Namespace) -> str:
    lines = [
        f"Load: {args.rooms} rooms x {args.clients} clients, each client editing at the "
        f"rate shown; {args.duration:g} s measured after {args.warmup:g} s warm-up; "
        f"{args.workers} generator processes; {os.cpu_count()} CPUs; "
        f"python {platform.python_version()}; store: one SQLite file shared by the instances; "
        f"spread: {args.spread} (see --spread); "
        + (f"each instance capped at {args.cap:g} cores" if args.cap else "instances uncapped")
        + "; redis and the generator uncapped",
        "",
    ]
    header = [
        "config",
        "edits/s/client",
        "deliv/s",
        "of offered",
        "p50 ms",
        "p99 ms",
        "max ms",
        "converged",
        "CPU per instance (cores)",
        "µs CPU/delivery per instance",
        "redis cores",
        "gen cores",
        "other cores",
        "deliv/s per busiest core",
        "projected scale",
    ]
    rows = []
    single = {r.rate: r for r in runs if r.instances == 1 and not r.error}
    for r in runs:
        if r.error:
            rows.append([r.label, f"{r.rate:g}", f"FAILED: {r.error}"[:70]] + [""] * 12)
            continue
        cores = [c / r.duration for c in r.instance_cpu_s]
        per_delivery = [
            c / d * 1e6 if d else math.nan
            for c, d in zip(r.instance_cpu_s, r.instance_deliveries, strict=True)
        ]
        rows.append(
            [
                r.label,
                f"{r.rate:g}",
                _fmt(r.deliveries_per_s, 0),
                f"{_fmt(r.deliveries_per_s / r.offered * 100 if r.offered else math.nan)}%",
                _fmt(r.p50_ms, 2),
                _fmt(r.p99_ms, 2),
                _fmt(r.max_ms, 1),
                f"{r.rooms_converged}/{r.rooms}",
                " / ".join(_fmt(c, 2) for c in cores),
                " / ".join(_fmt(c, 0) for c in per_delivery),
                _fmt(r.redis_cpu_s / r.duration, 2),
                _fmt(r.gen_cpu_s / r.duration, 2),
                _fmt(r.other_cpu_s / r.duration, 2),
                _fmt(r.per_busiest_core, 0),
                f"{r.per_busiest_core / single[r.rate].per_busiest_core:.2f}x"
                if r.rate in single
                else "n/a",
            ]
        )
    lines.append(_table(header, rows))
    lines += ["", saturation(runs)]
    notes = []
    for r in runs:
        if r.join_failures or r.errors:
            notes.append(f"{r.label} @ {r.rate:g}: {len(r.errors)} client errors: {r.errors[:2]}")
        if r.gen_max_send_lag_ms > 1000 / r.rate:
            notes.append(
                f"{r.label} @ {r.rate:g}: the load generator fell "
                f"{r.gen_max_send_lag_ms:.0f} ms behind schedule (the machine is saturated)"
            )
    if notes:
        lines += ["", "Notes:", *(f"- {n}" for n in notes)]
    return "\n".join(lines)


def saturation(runs: list[Run]) -> str:
    """Per instance count: the most it delivered (its saturation, when the rates reach it)
    and, at the highest rate it carried whole, what it lost and its p99."""
    by_n: dict[int, list[Run]] = {}
    for r in runs:
        if not r.error:
            by_n.setdefault(r.instances, []).append(r)
    if not by_n:
        return ""
    best = {n: max(rs, key=lambda r: r.deliveries_per_s) for n, rs in by_n.items()}
    one = best.get(1)
    rows = []
    for n, rs in sorted(by_n.items()):
        whole = [r for r in rs if r.offered and r.deliveries_per_s >= 0.999 * r.offered]
        below = max(whole, key=lambda r: r.rate) if whole else None
        top = best[n]
        rows.append(
            [
                str(n),
                f"{_fmt(top.deliveries_per_s, 0)} (at {top.rate:g}/s)",
                f"{top.deliveries_per_s / one.deliveries_per_s:.2f}x" if one else "n/a",
                f"{below.rate:g}/s" if below else "none",
                f"{_fmt(max(0.0, 1 - below.deliveries_per_s / below.offered) * 100, 2)}%"
                if below
                else "",
                f"{below.rooms_converged}/{below.rooms}" if below else "",
                _fmt(below.p99_ms, 1) if below else "",
            ]
        )
    header = [
        "instances",
        "deliv/s at saturation",
        "vs 1 instance",
        "highest rate carried whole",
        "lost there",
        "converged",
        "p99 ms there",
    ]
    return "Saturation (the most delivered over the rates run):\n\n" + _table(header, rows)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Sinopia scale-out benchmark (see bench/README.md)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--rooms", "-R", type=int, default=10)
    p.add_argument("--clients", "-C", type=int, default=10, help="clients per room")
    p.add_argument("--instances", default="1,2,3", help="instance counts to run")
    p.add_argument(
        "--spread",
        choices=("clients", "rooms"),
        default="clients",
        help="clients: each room's clients over every instance; rooms: each room on one",
    )
    p.add_argument("--rates", default="5", help="edits per second per client, each run")
    p.add_argument(
        "--cap",
        type=float,
        default=0.25 if os.access(CGROUP_CPU, os.W_OK) else 0.0,
        help="CPU cap per instance in cores (cgroup v1 cpu controller, as root); 0: none",
    )
    p.add_argument("--duration", type=float, default=20.0, help="measured seconds")
    p.add_argument("--warmup", type=float, default=3.0)
    p.add_argument("--workers", type=int, default=2, help="load generator processes")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--path", default="/collab/bench/canvas/room-{room}")
    p.add_argument("--join-timeout", type=float, default=10.0)
    p.add_argument("--converge-timeout", type=float, default=30.0)
    p.add_argument("--json", type=Path, help="also write the raw results here")
    p.add_argument("--keep-logs", action="store_true", help="keep logs and data dirs")
    args = p.parse_args(argv)
    args.instance_counts = [int(x) for x in args.instances.split(",")]
    args.rate_list = [float(x) for x in args.rates.split(",")]
    if shutil.which("redis-server") is None and any(n > 1 for n in args.instance_counts):
        p.error("redis-server is needed for more than one instance")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="sinopia-scaleout-"))
    runs = []
    try:
        for rate in args.rate_list:
            for n in args.instance_counts:
                runs.append(run_config(n, rate, args, workdir))
    finally:
        if args.keep_logs:
            print(f"logs and data dirs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(report(runs, args))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in runs], indent=2, default=str))
    return 0 if all(not r.error for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
