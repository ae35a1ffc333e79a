"""Tamper evidence: hash-chained entries, signed seals, `sinopia history verify`, bundles
that verify offline, and refusal to serve a document whose history does not verify."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from pymongo import MongoClient

from .conftest import ROOT, Running, ServerFactory, eventually
from .yclient import connected

DOC = "lender/canvas/loan-2026-114"


def sinopia(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


async def _sealed_history(server: Running, edits: int = 12) -> None:
    a, b = await connected(server.ws(DOC), 2)
    for i in range(edits):
        (a, b)[i % 2].map()[f"field{i}"] = f"value {i}"
    await a.wait_for(lambda: len(a.content()) == edits)
    assert server.app is not None
    store = server.app.state.manager.store

    async def sealed_to_head() -> bool:
        seals = await store.seals(DOC)
        return bool(seals) and seals[-1].last_seq == await store.head(DOC)

    # Sealing runs on its own interval; wait for it to cover every entry.
    await eventually(sealed_to_head, 10, "seals up to the head")
    await a.close()
    await b.close()


def _flip_byte(db: Path, seq: int) -> None:
    with sqlite3.connect(db) as conn:
        (data,) = conn.execute(
            "SELECT data FROM entries WHERE doc = ? AND seq = ?", (DOC, seq)
        ).fetchone()
        changed = bytes(data[:-1]) + bytes([data[-1] ^ 0x01])
        conn.execute("UPDATE entries SET data = ? WHERE doc = ? AND seq = ?", (changed, DOC, seq))


async def test_verify_passes_then_names_the_altered_entry(make_server: ServerFactory) -> None:
    server = await make_server(seal_interval_seconds=0.05)
    await _sealed_history(server)
    data = str(server.data_dir)

    ok = sinopia("history", "--data-dir", data, "verify")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"ok    {DOC}  12 entries, sealed up to 12" in ok.stdout

    _flip_byte(server.data_dir / "sinopia.db", 7)
    bad = sinopia("history", "--data-dir", data, "verify", "lender")
    assert bad.returncode == 1
    assert f"FAIL  {DOC} entry 7: content does not match its hash" in bad.stdout


async def test_verify_names_the_altered_entry_in_mongodb(
    make_server: ServerFactory, mongo_database: str
) -> None:
    server = await make_server(seal_interval_seconds=0.05, mongo_url=mongo_database)
    await _sealed_history(server)
    env = {"SINOPIA_MONGO_URL": mongo_database}
    data = str(server.data_dir)
    ok = sinopia("history", "--data-dir", data, "verify", DOC, env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr

    client: MongoClient[dict] = MongoClient(mongo_database)
    try:
        entries = client.get_default_database()["entries"]
        stored = entries.find_one({"doc": DOC, "seq": 5})
        assert stored is not None
        data_bytes = bytes(stored["data"])
        altered = data_bytes[:-1] + bytes([data_bytes[-1] ^ 0x01])
        entries.update_one({"_id": stored["_id"]}, {"$set": {"data": altered}})
    finally:
        client.close()
    bad = sinopia("history", "--data-dir", data, "verify", env=env)
    assert bad.returncode == 1
    assert f"FAIL  {DOC} entry 5: content does not match its hash" in bad.stdout


async def test_rewritten_and_rehashed_log_fails_its_seal(make_server: ServerFactory) -> None:
    # Someone with database access rewrites entry 3 and recomputes every hash after it:
    # the chain is consistent again, but the signature no longer matches.
    from crdt.types import entry_hash

    server = await make_server(seal_interval_seconds=0.05)
    await _sealed_history(server)
    db = server.data_dir / "sinopia.db"
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT seq, time_ms, client_id, principal, prev_hash, data FROM entries "
            "WHERE doc = ? ORDER BY seq",
            (DOC,),
        ).fetchall()
        prev = None
        for seq, t, client, principal, prev_hash, data in rows:
            if seq == 3:
                principal = "someone else"
            prev_hash = prev if prev is not None else prev_hash
            digest = entry_hash(DOC, seq, t, client, principal, prev_hash, data)
            conn.execute(
                "UPDATE entries SET principal = ?, prev_hash = ?, hash = ? "
                "WHERE doc = ? AND seq = ?",
                (principal, prev_hash, digest, DOC, seq),
            )
            prev = digest
    result = sinopia("history", "--data-dir", str(server.data_dir), "verify", DOC)
    assert result.returncode == 1
    assert "entry 12: entry differs from what was sealed" in result.stdout


async def test_exported_bundle_verifies_offline_and_detects_removal(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    server = await make_server(seal_interval_seconds=0.05)
    await _sealed_history(server)
    bundle = tmp_path / "loan.json"
    out = sinopia("history", "--data-dir", str(server.data_dir), "export", DOC, str(bundle))
    assert out.returncode == 0, out.stderr

    # Offline: a directory with no data, no server, no database.
    empty = tmp_path / "elsewhere"
    good = sinopia("history", "--data-dir", str(empty), "verify-bundle", str(bundle))
    assert good.returncode == 0, good.stdout
    assert "12 entries, sealed up to 12" in good.stdout
    key = good.stdout.strip().rsplit(" ", 1)[1]
    assert sinopia("history", "verify-bundle", str(bundle), "--trust", key).returncode == 0
    assert sinopia("history", "verify-bundle", str(bundle), "--trust", "0" * 16).returncode == 1

    content = json.loads(bundle.read_text())
    del content["entries"][4]
    bundle.write_text(json.dumps(content))
    removed = sinopia("history", "verify-bundle", str(bundle))
    assert removed.returncode == 1
    assert f"FAIL  {DOC} entry 5: missing" in removed.stdout


async def test_tampered_document_is_not_served_and_nothing_changes(
    make_server: ServerFactory,
) -> None:
    server = await make_server(seal_interval_seconds=0.05, room_idle_seconds=0.05)
    await _sealed_history(server)
    assert server.app is not None
    manager = server.app.state.manager
    await eventually(lambda: not manager.rooms, 5, "eviction")
    # Loading replays the entries after the latest checkpoint; drop the checkpoints so the
    # whole log is replayed, and alter one entry.
    db = server.data_dir / "sinopia.db"
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM checkpoints")
    _flip_byte(db, 9)
    before = await manager.store.read(DOC)

    (client,) = await connected(server.ws(DOC), wait_synced=False)
    code, reason = await client.wait_closed()
    assert (code, reason) == (1011, "history failed its integrity check at entry 9")
    assert await manager.store.read(DOC) == before
    assert not manager.rooms
