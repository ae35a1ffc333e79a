"""Idle watchers: what thousands of open, quiet sockets cost a server (memory and CPU), and
that one edit still reaches all of them. An exhibition page embedding a live viewer keeps
a socket open per visitor, nearly always idle.

Per server and socket count: one editor opens the document, then N watchers join it
(Sinopia's through a share link, as an embed does); the server's resident memory before
and after gives the memory per socket, its CPU over a quiet window (keep-alive messages,
pings) the idle CPU per socket; then the editor makes one edit and every watcher must
receive it.

    python bench/idle.py                                   # 1,000 and 10,000 sockets
    python bench/idle.py --sockets 10000 --servers sinopia --idle 30

See bench/README.md.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from loadgen import Workers, clock
from loadtest import (
    _fmt,
    _sleep_until,
    _table,
    free_port,
    plan_clients,
    resolve_server,
    session_cpu_seconds,
    session_rss_mb,
    start_server,
    stop_server,
    wait_listening,
)


@dataclass
class IdleRun:
    server: str
    label: str = ""
    sockets: int = 0
    joined: int = 0
    error: str = ""
    rss_before_mb: float = math.nan
    rss_after_mb: float = math.nan
    idle_s: float = 0.0
    idle_cpu_s: float = math.nan
    delivered: int = 0
    last_ms: float = math.nan


def run(key: str, sockets: int, args: argparse.Namespace, workdir: Path) -> IdleRun:
    result = IdleRun(key, sockets=sockets)
    port = free_port(args.host)
    load = {"rooms": 1, "clients": 1, "rate": 1.0, "watchers": sockets}
    data_dir = workdir / f"data-{key}-{sockets}"
    spec = resolve_server(key, args.host, port, data_dir, load, args.path, {})
    if isinstance(spec, str):
        result.error = f"skipped: {spec}"
        return result
    result.label = f"{spec.label} {spec.version}"
    print(f"== {result.label}: {sockets} idle sockets", flush=True)
    proc = start_server(spec.argv, spec.env, workdir / f"{key}-{sockets}.log")
    workers: Workers | None = None
    try:
        wait_listening(proc, args.host, port, 30)
        specs = plan_clients(spec, load, port, args)
        workers = Workers.spread(specs, args.workers)
        # The editor first: the room is open, its memory is not the sockets'.
        retries, failed = 0, []
        for select in ("first", "watchers"):
            arg = {"timeout": 30, "attempts": 3, "select": select, "slice": 100}
            for reply in workers.ask("connect", arg, "connected", 600):
                retries += reply["retries"]
                failed += reply["failed"]
            if select == "first":
                result.rss_before_mb = session_rss_mb(proc.pid)
        result.joined = sockets - len(failed)
        if failed:
            result.error = f"{len(failed)} joins failed, e.g. {failed[0][:80]}"
        result.rss_after_mb = session_rss_mb(proc.pid)
        t0 = clock() + 2.0  # let the joins' work settle
        t1 = t0 + args.idle
        _sleep_until(t0)
        cpu0 = session_cpu_seconds(proc.pid)
        _sleep_until(t1)
        result.idle_cpu_s = session_cpu_seconds(proc.pid) - cpu0
        result.idle_s = t1 - t0
        # One edit, sent at `start`: every watcher must get it.
        start = clock() + 1.0
        workers.send("run", {"start": start, "t0": start - 0.5, "t1": start + 0.5, "rate": 1})
        ran = workers.collect("ran", 60)
        seqs = [seq for p in ran for _, index, seq, _ in p["finals"] if index == 0]
        finals = {0: {0: max(seqs)}}
        conv = workers.ask("converge", {"finals": finals, "timeout": 30}, "converged", 120)
        result.delivered = sum(p["delivered"] for p in conv) + sum(p["late"] for p in conv)
        at = [p["conv_at"].get(0, 0.0) for p in conv]
        result.last_ms = (max(at) - start) * 1000 if all(at) else math.nan
    except Exception as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        if workers is not None:
            workers.shutdown()
        stop_server(proc)
    return result


def report(results: list[IdleRun], args: argparse.Namespace) -> str:
    header = [
        "server",
        "idle sockets",
        "joined",
        "RSS before MB",
        "RSS after MB",
        "KB per socket",
        "idle CPU (cores)",
        "µs CPU per socket per s",
        "one edit: delivered",
        "to the last ms",
    ]
    rows = []
    for r in results:
        if r.error and not r.joined:
            rows.append([r.label or r.server, str(r.sockets), r.error[:60]] + [""] * 7)
            continue
        per_socket = (r.rss_after_mb - r.rss_before_mb) * 1024 / r.joined if r.joined else 0
        cores = r.idle_cpu_s / r.idle_s if r.idle_s else math.nan
        rows.append(
            [
                r.label,
                str(r.sockets),
                str(r.joined),
                _fmt(r.rss_before_mb, 0),
                _fmt(r.rss_after_mb, 0),
                _fmt(per_socket, 1),
                _fmt(cores, 3),
                _fmt(cores * 1e6 / r.joined if r.joined else math.nan, 2),
                f"{r.delivered}/{r.joined}",
                _fmt(r.last_ms, 0),
            ]
        )
    lines = [
        f"{os.cpu_count()} CPUs; python {platform.python_version()}; {args.idle:g} s idle "
        f"window; {args.workers} generator processes; Sinopia's watchers join by share link",
        "",
        _table(header, rows),
    ]
    errors = [f"- {r.label}: {r.error}" for r in results if r.error and r.joined]
    if errors:
        lines += ["", "Notes:", *errors]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description="Idle watchers: memory and CPU per open socket (see bench/README.md)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--sockets", default="1000,10000", help="comma-separated counts")
    p.add_argument("--servers", default="sinopia,node", help="sinopia, node, hocuspocus")
    p.add_argument("--idle", type=float, default=30.0, help="seconds of quiet measured")
    p.add_argument("--workers", type=int, default=2, help="load generator processes")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--path", default="/collab/bench/canvas/room-{room}")
    args = p.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="sinopia-idle-"))
    results = []
    try:
        for count in (int(x) for x in args.sockets.split(",")):
            for key in args.servers.split(","):
                results.append(run(key.strip(), count, args, workdir))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(report(results, args))
    return 0 if all(not r.error for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
