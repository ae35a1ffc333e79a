"""Backup benchmark: how long `sinopia admin backup`, `restore` and `history verify` take
on an SQLite data directory of a given size, run as an operator runs them (the command
line, in a subprocess). Prints a table.

    python bench/backup.py                       # 10 documents of 10 000 updates
    python bench/backup.py --documents 20 --updates 50000
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.store import edits, fill, table  # noqa: E402
from crdt.stores import open_store  # noqa: E402


def _sinopia(*args: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", *args], cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"sinopia {' '.join(args)}: {done.stderr.strip()}")
    return time.perf_counter() - started


def _mib(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


async def _make(data: Path, documents: int, updates: int) -> None:
    store = open_store("sqlite:", data)
    await store.open()
    try:
        for d in range(documents):
            await fill(store, f"bench/canvas/d{d}", edits(updates, f"d{d}-"), 500)
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=10)
    parser.add_argument("--updates", type=int, default=10_000, help="per document")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data, backup, restored = Path(tmp) / "data", Path(tmp) / "backup", Path(tmp) / "new"
        asyncio.run(_make(data, args.documents, args.updates))
        rows = []
        size = _mib(data)
        rows.append(
            [
                "backup",
                f"{size:.1f}",
                f"{_sinopia('admin', 'backup', str(backup), '--data-dir', str(data)):.2f}",
            ]
        )
        rows.append(
            [
                "restore (hashes checked)",
                f"{_mib(backup):.1f}",
                f"{_sinopia('admin', 'restore', str(backup), '--data-dir', str(restored)):.2f}",
            ]
        )
        rows.append(
            [
                "history verify (restored)",
                f"{_mib(restored):.1f}",
                f"{_sinopia('history', 'verify', '--data-dir', str(restored)):.2f}",
            ]
        )
        print(
            f"{args.documents} documents x {args.updates} updates "
            f"({args.documents * args.updates} entries, checkpoints every 500)\n"
        )
        print(table(["command", "MiB", "seconds"], rows))


if __name__ == "__main__":
    main()
