"""Backups: `sinopia admin backup DIR` while a client types live, `sinopia admin restore DIR
--data-dir NEW` (and a new MongoDB database), a server started on the copy reading the
document as it was, and `sinopia history verify` passing on it; damaged backups and
non-empty targets refused, saying why."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymongo import MongoClient

from .conftest import ROOT, Running, ServerFactory, eventually
from .mongo import with_database
from .yclient import YClient, connected

DOC = "museum/canvas/folio-12r"


async def sinopia(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """The command line as a subprocess, without blocking the in-process server's loop."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.cli",
        *args,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


class Typist:
    """A client typing into the document's text, a character at a time, until stopped."""

    def __init__(self, client: YClient) -> None:
        self.client = client
        self.typed = 0
        self._stop = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._type())

    async def _type(self) -> None:
        text = self.client.text()
        while not self._stop.is_set():
            text += "abcdefghij"[self.typed % 10]
            self.typed += 1
            await asyncio.sleep(0.005)  # a fast typist, not a flood

    async def stop(self) -> str:
        self._stop.set()
        await self._task
        await self.client.round_trip()
        return str(self.client.text())


async def _type_during_backup(server: Running, backup: Path, env: dict[str, str]) -> tuple:
    (client,) = await connected(server.ws(DOC))
    typist = Typist(client)
    await eventually(lambda: typist.typed >= 50, 10, "some typing")
    code, _, err = await sinopia(
        "admin", "backup", str(backup), "--data-dir", str(server.data_dir), env=env
    )
    assert code == 0, err
    # The client typed on while the backup was taken.
    typed_during = typist.typed
    final = await typist.stop()
    await client.close()
    assert typed_during >= 50
    return final, err


def _manifest(backup: Path) -> dict:
    return json.loads((backup / "manifest.json").read_text())


async def _restored_text(server: Running) -> str:
    (reader,) = await connected(server.ws(DOC))
    try:
        return str(reader.text())
    finally:
        await reader.close()


async def test_backup_while_typing_and_restore_on_a_new_data_directory(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    server = await make_server(seal_interval_seconds=0.05)
    backup = tmp_path / "backup"
    final, said = await _type_during_backup(server, backup, {})
    assert "backed up" in said

    manifest = _manifest(backup)
    paths = {f["path"]: f for f in manifest["files"]}
    assert manifest["store"] == "sqlite"
    assert {"files/sinopia.db", "files/directory.db", "files/seal-key.pem"} <= set(paths)
    assert all(len(f["sha256"]) == 64 for f in manifest["files"])
    # SQLite's side files are never copied: each copy is whole on its own.
    assert not [p for p in paths if p.endswith(("-wal", "-shm"))]

    new = tmp_path / "restored"
    code, _, err = await sinopia("admin", "restore", str(backup), "--data-dir", str(new))
    assert code == 0, err
    assert "sinopia history verify" in err  # says what to do next

    code, out, err = await sinopia("history", "verify", "--data-dir", str(new))
    assert code == 0, out + err
    assert f"ok    {DOC}" in out

    copy = await make_server(data_dir=new)
    text = await _restored_text(copy)
    # The document as it was when the backup was taken: what had been typed by then.
    assert len(text) >= 50 and final.startswith(text), (len(text), len(final))


@pytest.fixture
def second_database(mongo_server: str) -> Iterator[str]:
    name = f"sinopia_restored_{uuid.uuid4().hex[:12]}"
    yield with_database(mongo_server, name)
    client: MongoClient[dict] = MongoClient(mongo_server, serverSelectionTimeoutMS=5000)
    try:
        client.drop_database(name)
    finally:
        client.close()


async def test_backup_and_restore_with_mongodb(
    make_server: ServerFactory, mongo_database: str, second_database: str, tmp_path: Path
) -> None:
    server = await make_server(seal_interval_seconds=0.05, mongo_url=mongo_database)
    backup = tmp_path / "backup"
    final, _ = await _type_during_backup(server, backup, {"SINOPIA_MONGO_URL": mongo_database})
    manifest = _manifest(backup)
    assert manifest["store"] == "mongodb"
    collections = {Path(f["path"]).stem: f for f in manifest["files"] if f["kind"] == "mongodb"}
    assert {"entries", "seals", "directory", "directory_audit"} <= set(collections)
    assert collections["entries"]["documents"] >= 50

    new = tmp_path / "restored"
    # A MongoDB backup needs a database to go into.
    code, _, err = await sinopia("admin", "restore", str(backup), "--data-dir", str(new))
    assert code == 1 and "--mongo-url" in err, err
    code, _, err = await sinopia(
        "admin", "restore", str(backup), "--data-dir", str(new), "--mongo-url", second_database
    )
    assert code == 0, err
    code, out, err = await sinopia(
        "history", "verify", "--data-dir", str(new), "--mongo-url", second_database
    )
    assert code == 0, out + err
    assert f"ok    {DOC}" in out

    # Into a database that is not empty: refused, and nothing written.
    other = tmp_path / "other"
    code, _, err = await sinopia(
        "admin", "restore", str(backup), "--data-dir", str(other), "--mongo-url", second_database
    )
    assert code == 1 and "not empty" in err and "new database" in err, err
    assert not other.exists() or not any(other.iterdir())

    copy = await make_server(data_dir=new, mongo_url=second_database)
    text = await _restored_text(copy)
    assert len(text) >= 50 and final.startswith(text), (len(text), len(final))


async def test_restore_refuses_damage_and_a_non_empty_target(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    server = await make_server()
    (client,) = await connected(server.ws(DOC))
    client.text().insert(0, "a note")
    await client.round_trip()
    await client.close()
    backup = tmp_path / "backup"
    data = str(server.data_dir)
    code, _, err = await sinopia("admin", "backup", str(backup), "--data-dir", data)
    assert code == 0, err

    # Into a directory that holds something: refused.
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    code, _, err = await sinopia("admin", "restore", str(backup), "--data-dir", str(busy))
    assert code == 1 and "not empty" in err, err
    assert sorted(p.name for p in busy.iterdir()) == ["notes.txt"]

    # Backing up into a directory that holds something: refused too.
    code, _, err = await sinopia("admin", "backup", str(busy), "--data-dir", data)
    assert code == 1 and "not empty" in err, err

    # One byte changed in the copy of the store: refused, naming the file.
    store = backup / "files" / "sinopia.db"
    damaged = bytearray(store.read_bytes())
    damaged[len(damaged) // 2] ^= 0x01
    store.write_bytes(bytes(damaged))
    new = tmp_path / "new"
    code, _, err = await sinopia("admin", "restore", str(backup), "--data-dir", str(new))
    assert code == 1, err
    assert "files/sinopia.db does not match its SHA-256" in err, err
    assert not new.exists() or not any(new.iterdir())

    # A backup that never finished (no manifest): refused, saying so.
    (backup / "manifest.json").unlink()
    code, _, err = await sinopia("admin", "restore", str(backup), "--data-dir", str(new))
    assert code == 1 and "did not finish" in err, err


def test_long_work_shows_a_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    import io

    from server.commands.backup import Progress, sha256_of

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * (3 * 1024 * 1024))
    screen = Terminal()
    progress = Progress(screen)
    sha256_of(big, progress, "files/big.bin")
    progress.done("files/big.bin", "checked")
    shown = screen.getvalue()
    assert "files/big.bin" in shown and "100%" in shown and "3.0/3.0 MiB" in shown
    # On a pipe (a log, a cron mail): no bar, only the line saying it is done.
    piped = io.StringIO()
    progress = Progress(piped)
    sha256_of(big, progress, "files/big.bin")
    progress.done("files/big.bin", "checked")
    assert piped.getvalue() == "  files/big.bin: checked\n"


async def test_an_encrypted_store_backs_up_encrypted_and_restores_with_its_key(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    from crdt.keys import file as keyfile

    from .test_atrest_server import LIVE, REST, annotate

    key = keyfile.create(tmp_path / "keys" / "master.key")
    env = {"SINOPIA_KEY_URL": f"file://{key.path}"}
    server = await make_server(key_url=env["SINOPIA_KEY_URL"])
    document = await annotate(server)
    backup = tmp_path / "backup"
    code, _, err = await sinopia(
        "admin", "backup", str(backup), "--data-dir", str(server.data_dir), env=env
    )
    assert code == 0, err
    # The backup holds neither the words nor the master key (kept apart: key custody).
    everything = b"".join(p.read_bytes() for p in backup.rglob("*") if p.is_file())
    assert LIVE.encode() not in everything and REST.encode() not in everything
    assert key.path.read_bytes() not in everything

    new = tmp_path / "restored"
    code, _, err = await sinopia("admin", "restore", str(backup), "--data-dir", str(new))
    assert code == 0, err
    code, out, err = await sinopia("history", "verify", "--data-dir", str(new), env=env)
    assert code == 0, out + err
    assert f"ok    {document}" in out
    copy = await make_server(data_dir=new, key_url=env["SINOPIA_KEY_URL"])
    async with copy.http() as http:
        found = await http.get(f"/api/annotations/{document}/")
        assert found.status_code == 200, found.text
        assert f"{LIVE} {REST}" in found.text
