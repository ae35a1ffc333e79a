"""Encryption at rest as people meet it: what is typed live or sent over REST is in no
file of the data directory and no MongoDB collection; history still verifies; the server
refuses to start without its key and says which; it warns when nothing is encrypted;
no plaintext or key material in its logs; rotation and workspace deletion from the
command line and the API."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import bson
import pytest
from pycrdt import Map
from pymongo import MongoClient

from crdt.keys import file as keyfile
from server.cli import main
from server.directory import operations

from . import access
from .conftest import ROOT, Process, Running, ServerFactory, eventually
from .test_iiif_manifests import load
from .yclient import YClient

# Several tests start `sinopia serve` processes, which take long on a busy machine.
pytestmark = pytest.mark.timeout(300)

LIVE = "ultramarine-ashes-0815"
REST = "verdigris-halo-2207"
MAIL = "lapis.lazuli.conservator@example.org"
WORKSPACE = "museum"


def sinopia(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`sinopia ARGS` with `env` set, run in this process (on a thread of its own, so
    async tests can call it too): the same code as the command, without a second's start
    per call. `sinopia serve` goes through `serve_process`."""
    out, err = io.StringIO(), io.StringIO()
    result: dict[str, int] = {}

    def run() -> None:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            result["code"] = main(list(args))

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        thread = threading.Thread(target=run)
        thread.start()
        thread.join(120)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return subprocess.CompletedProcess(args, result.get("code", -1), out.getvalue(), err.getvalue())


def serve_process(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`sinopia serve ...` as a real process (expected to refuse and exit)."""
    return subprocess.run(
        [sys.executable, "-m", "server.cli", "serve", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=100,
        env={**os.environ, **env},
    )


def everything_at_rest(data_dir: Path, mongo_url: str | None = None) -> bytes:
    """Every file under the data directory and, with MongoDB, every document of every
    collection of its database (as BSON)."""
    found = [p.read_bytes() for p in sorted(data_dir.rglob("*")) if p.is_file()]
    if mongo_url:
        client: MongoClient = MongoClient(mongo_url, serverSelectionTimeoutMS=5000)
        try:
            db = client.get_default_database()
            for name in db.list_collection_names():
                found.extend(bson.encode(d) for d in db[name].find())
        finally:
            client.close()
    return b"".join(found)


def comment(canvas: str, text: str) -> dict[str, Any]:
    return {
        "type": "Annotation",
        "motivation": "commenting",
        "body": {"type": "TextualBody", "value": text},
        "target": {
            "type": "SpecificResource",
            "source": canvas,
            "selector": {"type": "FragmentSelector", "value": "xywh=10,20,30,40"},
        },
    }


async def annotate(server: Running) -> str:
    """A subject, an annotation made over REST, and a word typed into it live; returns the
    document's name once both are stored and read back."""
    server.workspace(WORKSPACE)
    async with server.http() as http:
        answer = await http.post(
            f"/api/iiif/{WORKSPACE}/import", json=load("p3_book_of_hours.json")
        )
        assert answer.status_code == 200, answer.text
        subject = answer.json()["subjects"][0]
        made = await http.post(subject["annotations"], json=comment(subject["iiif_id"], REST))
        assert made.status_code == 201, made.text
        annotation_id = made.headers["location"].rsplit("/", 1)[1]
        client = await YClient(server.ws(subject["document"])).connect()
        annotations = client.doc.get("annotations", type=Map)
        await client.wait_for(lambda: annotation_id in annotations, what="the REST annotation")
        annotations[annotation_id]["body"][0]["value"].insert(0, LIVE + " ")

        async def typed() -> bool:
            one = await http.get(made.headers["location"])
            return bool(one.json()["body"]["value"] == f"{LIVE} {REST}")

        await eventually(typed, what="the typed word, read back over REST")
        await client.close()
    return str(subject["document"])


@pytest.fixture
def key(tmp_path: Path) -> keyfile.FileMasterKey:
    return keyfile.create(tmp_path / "keys" / "master.key")


@pytest.mark.parametrize("backend", ["sqlite", "mongodb"])
async def test_typed_words_and_addresses_are_in_no_file_and_no_collection(
    backend: str,
    make_server: ServerFactory,
    key: keyfile.FileMasterKey,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    mongo = str(request.getfixturevalue("mongo_database")) if backend == "mongodb" else None
    settings: dict[str, Any] = {"key_url": f"file://{key.path}"}
    if mongo:
        settings["mongo_url"] = mongo
    server = await make_server(**settings)
    directory = server.app.state.auth.directory  # type: ignore[union-attr]
    await operations.add_user(directory, "lapis", "test", email=MAIL)
    doc = await annotate(server)
    # Lookups by address still work: the directory keeps a keyed hash in its place.
    found = await directory.user_by_email(MAIL)
    assert found is not None and found.name == "lapis" and found.email == MAIL

    markers = (LIVE, REST, MAIL, LIVE[:12], REST[:12])
    running = everything_at_rest(server.data_dir, mongo)
    assert not [m for m in markers if m.encode() in running]
    assert server.stop is not None
    await server.stop()  # rooms flushed, checkpointed and sealed on the way out
    stopped = everything_at_rest(server.data_dir, mongo)
    assert not [m for m in markers if m.encode() in stopped]

    # The history verifies, from the encrypted store, and a bundle exported from it
    # (plaintext: an export is a deliberate copy) verifies offline.
    where = ["--data-dir", str(server.data_dir)] + (["--mongo-url", mongo] if mongo else [])
    env = {"SINOPIA_KEY_URL": f"file://{key.path}"}
    verified = sinopia("history", "verify", *where, **env)
    assert verified.returncode == 0, verified.stderr
    bundle = tmp_path / "bundle.json"
    exported = sinopia("history", "export", doc, str(bundle), *where, **env)
    assert exported.returncode == 0, exported.stderr
    offline = sinopia("history", "verify-bundle", str(bundle))
    assert offline.returncode == 0, offline.stdout + offline.stderr
    assert offline.stdout.startswith("ok") and "sealed up to" in offline.stdout


async def test_the_control_without_a_key_finds_the_words(make_server: ServerFactory) -> None:
    # The byte search above can fail: without a key the words are there to find.
    server = await make_server()
    await annotate(server)
    assert server.stop is not None
    await server.stop()
    data = everything_at_rest(server.data_dir)
    assert LIVE.encode() in data and REST.encode() in data


async def test_without_a_key_the_log_says_data_is_not_encrypted(
    make_server: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="sinopia")
    await make_server()
    assert any("data at rest is not encrypted" in r.getMessage() for r in caplog.records)


def one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sinopia: error: "), result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def encrypted_data_dir(tmp_path: Path, key: keyfile.FileMasterKey) -> Path:
    data = tmp_path / "data"
    env = {"SINOPIA_KEY_URL": f"file://{key.path}"}
    assert sinopia("admin", "workspace", "add", WORKSPACE, "--data-dir", str(data), **env)
    manifest = ROOT / "tests/fixtures/iiif/p3_book_of_hours.json"
    imported = sinopia("iiif", "import", WORKSPACE, str(manifest), "--data-dir", str(data), **env)
    assert imported.returncode == 0, imported.stderr
    return data


def test_the_server_refuses_to_start_without_its_key(
    tmp_path: Path, key: keyfile.FileMasterKey
) -> None:
    data = encrypted_data_dir(tmp_path, key)
    secret = key.path.read_text().split()[1]  # type: ignore[union-attr]
    # No key: one line naming the key it needs, by fingerprint.
    refused = serve_process("--data-dir", str(data), "--port", "0", SINOPIA_KEY_URL="")
    line = one_line_error(refused, key.key_id, "SINOPIA_KEY_URL")
    # Another key: it says which it needs and which it was given.
    other = keyfile.create(tmp_path / "keys" / "other.key")
    wrong = serve_process(
        "--data-dir", str(data), "--port", "0", SINOPIA_KEY_URL=f"file://{other.path}"
    )
    line += one_line_error(wrong, key.key_id, other.key_id)
    # A key file that is not there.
    missing = serve_process(
        "--data-dir", str(data), "--port", "0", SINOPIA_KEY_URL="file:///nowhere/k.key"
    )
    line += one_line_error(missing, "/nowhere/k.key")
    assert secret not in line


async def test_serve_logs_no_plaintext_and_no_key(
    process_factory: Any, tmp_path: Path, key: keyfile.FileMasterKey
) -> None:
    secret = key.path.read_text().split()[1]  # type: ignore[union-attr]
    process: Process = process_factory(
        "keyed", env={"SINOPIA_KEY_URL": f"file://{key.path}", "SINOPIA_LOG_LEVEL": "debug"}
    )
    process.settings = process.settings.model_copy(update={"key_url": f"file://{key.path}"})
    server = await process.start(timeout=90)
    await annotate(server)
    assert process.terminate() in (0, -signal.SIGTERM)
    log = process.log.read_text()
    assert key.key_id in log  # the start says which key encrypts
    for leak in (LIVE, REST, secret, "data at rest is not encrypted"):
        assert leak not in log, leak


async def test_serve_without_a_key_warns_on_stderr(process_factory: Any) -> None:
    process: Process = process_factory("plain")
    await process.start(timeout=90)
    assert process.terminate() in (0, -signal.SIGTERM)
    lines = process.log.read_text().splitlines()
    assert "sinopia: warning: data at rest is not encrypted: set SINOPIA_KEY_URL" in lines[0]
    assert any('"data at rest is not encrypted' in line for line in lines[1:])  # the log


def test_rotation_from_the_command_line(tmp_path: Path, key: keyfile.FileMasterKey) -> None:
    data = encrypted_data_dir(tmp_path, key)
    old = {"SINOPIA_KEY_URL": f"file://{key.path}"}
    made = sinopia("admin", "key", "create", str(tmp_path / "keys" / "new.key"))
    assert made.returncode == 0, made.stderr
    new_id = made.stdout.strip()
    new = {"SINOPIA_KEY_URL": f"file://{tmp_path / 'keys' / 'new.key'}"}
    # No overwriting a key file, ever.
    again = sinopia("admin", "key", "create", str(tmp_path / "keys" / "new.key"))
    one_line_error(again, "never overwritten")

    rotated = sinopia(
        "admin", "key", "rotate", str(tmp_path / "keys/new.key"), "--data-dir", str(data), **old
    )
    assert rotated.returncode == 0, rotated.stderr
    assert new_id in rotated.stderr and key.key_id in rotated.stderr
    # The old key opens nothing any more; the new one opens everything.
    stale = sinopia("history", "verify", "--data-dir", str(data), **old)
    one_line_error(stale, new_id)
    stale_directory = sinopia("admin", "user", "list", "--data-dir", str(data), **old)
    one_line_error(stale_directory, new_id)
    fine = sinopia("history", "verify", "--data-dir", str(data), **new)
    assert fine.returncode == 0 and "FAIL" not in fine.stdout, fine.stdout + fine.stderr
    assert sinopia("admin", "user", "list", "--data-dir", str(data), **new).returncode == 0


async def test_owners_delete_a_workspace_with_its_key(
    make_server: ServerFactory, key: keyfile.FileMasterKey
) -> None:
    server = await make_server(key_url=f"file://{key.path}")
    doc = await annotate(server)
    server.workspace("kept")
    owner = await access.user_token(server, "olga", WORKSPACE, "owner")
    editor = await access.user_token(server, "eddie", WORKSPACE, "editor")
    store = server.app.state.store  # type: ignore[union-attr]
    assert WORKSPACE in {k.scope for k in await store.data_keys()}
    watcher = await YClient(server.ws(doc)).connect()
    path = f"/api/workspaces/{WORKSPACE}"

    async with server.http() as http:
        as_editor = await http.delete(
            path, params={"confirm": WORKSPACE}, headers={"Authorization": f"Bearer {editor}"}
        )
        assert as_editor.status_code == 403
        headers = {"Authorization": f"Bearer {owner}"}
        unconfirmed = await http.delete(path, headers=headers)
        assert unconfirmed.status_code == 400
        assert unconfirmed.headers["content-type"].startswith("application/problem+json")
        assert f"confirm={WORKSPACE}" in unconfirmed.json()["detail"]
        mistyped = await http.delete(path, params={"confirm": "musuem"}, headers=headers)
        assert mistyped.status_code == 400
        assert await store.documents(WORKSPACE + "/")  # nothing was lost

        deleted = await http.delete(path, params={"confirm": WORKSPACE}, headers=headers)
        assert deleted.status_code == 200, deleted.text
        assert deleted.json()["deleted"] == WORKSPACE and deleted.json()["documents"] >= 1
        code, _ = await watcher.wait_closed()
        assert code == 4404
        assert (await http.get(path)).status_code == 404
        assert (await http.get(f"{path}/subjects")).status_code == 404
        assert (await http.get("/api/workspaces/kept")).status_code == 200
    assert await store.documents(WORKSPACE + "/") == []
    assert WORKSPACE not in {k.scope for k in await store.data_keys()}
    assert server.stop is not None
    await server.stop()
    assert LIVE.encode() not in everything_at_rest(server.data_dir)


def test_admin_deletes_a_workspace_after_confirming(
    tmp_path: Path, key: keyfile.FileMasterKey
) -> None:
    data = encrypted_data_dir(tmp_path, key)
    env = {"SINOPIA_KEY_URL": f"file://{key.path}"}
    # No terminal to confirm on and no --yes: nothing happens.
    unconfirmed = sinopia("admin", "workspace", "delete", WORKSPACE, "--data-dir", str(data), **env)
    one_line_error(unconfirmed, "--yes")
    listed = sinopia("admin", "workspace", "list", "--data-dir", str(data), **env)
    assert WORKSPACE in listed.stdout
    done = sinopia(
        "admin", "workspace", "delete", WORKSPACE, "--yes", "--data-dir", str(data), **env
    )
    assert done.returncode == 0, done.stderr
    assert "data key" in done.stderr
    listed = sinopia("admin", "workspace", "list", "--data-dir", str(data), **env)
    assert WORKSPACE not in listed.stdout
    reports = sinopia("report", "list", WORKSPACE, "--data-dir", str(data), **env)
    assert reports.returncode == 0 and reports.stdout.strip() == "", reports
    again = sinopia(
        "admin", "workspace", "delete", WORKSPACE, "--yes", "--data-dir", str(data), **env
    )
    one_line_error(again, "no such workspace")


def test_an_unencrypted_data_directory_is_encrypted_by_a_command(
    tmp_path: Path, key: keyfile.FileMasterKey
) -> None:
    data = tmp_path / "data"
    where = ("--data-dir", str(data))
    assert sinopia("admin", "workspace", "add", WORKSPACE, *where).returncode == 0
    assert sinopia("admin", "user", "add", "lapis", "--email", MAIL, *where).returncode == 0
    manifest = ROOT / "tests/fixtures/iiif/p3_book_of_hours.json"
    assert sinopia("iiif", "import", WORKSPACE, str(manifest), *where).returncode == 0
    assert b"Book of Hours" in everything_at_rest(data) and MAIL.encode() in everything_at_rest(
        data
    )
    env = {"SINOPIA_KEY_URL": f"file://{key.path}"}
    # Mixing is refused: the key needs the data encrypted first.
    mixed = sinopia("history", "verify", *where, **env)
    one_line_error(mixed, "unencrypted", "sinopia admin key encrypt")

    done = sinopia("admin", "key", "encrypt", *where, **env)
    assert done.returncode == 0, done.stderr
    assert key.key_id in done.stderr
    at_rest = everything_at_rest(data)
    assert MAIL.encode() not in at_rest
    verified = sinopia("history", "verify", *where, **env)
    assert verified.returncode == 0 and "FAIL" not in verified.stdout, verified
    one_line_error(sinopia("history", "verify", *where), key.key_id)
    # The sealed directory still finds people by address.
    member = sinopia("admin", "member", "add", WORKSPACE, MAIL, "editor", *where, **env)
    assert member.returncode == 0, member.stderr
    listed = sinopia("admin", "user", "list", *where, **env)
    assert MAIL in listed.stdout


@pytest.mark.parametrize("keyed", [True, False])
async def test_uploaded_images_are_sealed_and_still_served(
    make_server: ServerFactory, key: keyfile.FileMasterKey, tmp_path: Path, keyed: bool
) -> None:
    from server.media.sniff import sniff

    from .pictures import picture

    work = tmp_path / "media-work"
    settings: dict[str, Any] = {"key_url": f"file://{key.path}"} if keyed else {}
    server = await make_server(media_work_dir=work, **settings)
    server.workspace(WORKSPACE)
    name = "malachite-ledger-3141.png"
    source = tmp_path / "upload.png"
    picture(900, 700).write_to_file(str(source))
    images = server.app.state.images  # type: ignore[union-attr]
    await images.take(WORKSPACE, source, sniff(source.read_bytes()[:512]), name, lambda p: "p1")

    async with server.http() as http:
        info = await http.get(f"/iiif/{WORKSPACE}/image/p1/info.json")
        assert info.status_code == 200 and info.json()["width"] == 900
        tile = await http.get(f"/iiif/{WORKSPACE}/image/p1/0,0,512,512/256,/0/default.jpg")
        assert tile.status_code == 200 and tile.content[:3] == b"\xff\xd8\xff"
    stored = await images.get(WORKSPACE, "p1")
    pyramid = await server.app.state.blobs.read_all(stored.key)  # type: ignore[union-attr]
    assert pyramid[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # a TIFF, decrypted

    data = everything_at_rest(server.data_dir)
    windows = [
        pyramid[i : i + 48] for i in range(0, len(pyramid) - 48, max(1, len(pyramid) // 200))
    ]
    telling = [w for w in windows if len(set(w)) >= 24]  # not runs of zeros or one colour
    assert len(telling) > 20
    if not keyed:  # the control: unencrypted, the search finds the file name and the image
        assert name.encode() in data and all(w in data for w in telling)
        return
    assert name.encode() not in data  # the uploader's file name, in the image's record
    assert not [w for w in telling if w in data], "pyramid bytes found at rest"
    # What libvips reads is a decrypted copy outside the data directory, gone at stop.
    assert any(work.rglob("*.tif"))
    assert server.stop is not None
    await server.stop()
    assert not any(work.rglob("*.tif"))


def test_backups_of_an_encrypted_data_directory_are_encrypted(
    tmp_path: Path, key: keyfile.FileMasterKey
) -> None:
    data = encrypted_data_dir(tmp_path, key)
    env = {"SINOPIA_KEY_URL": f"file://{key.path}"}
    where = ("--data-dir", str(data))
    assert sinopia("admin", "user", "add", "lapis", "--email", MAIL, *where, **env).returncode == 0
    backup = tmp_path / "backup"
    made = sinopia("admin", "backup", str(backup), *where, **env)
    assert made.returncode == 0, made.stderr
    copied = b"".join(p.read_bytes() for p in backup.rglob("*") if p.is_file())
    assert MAIL.encode() not in copied and b"Book of Hours" not in copied
    # Restored elsewhere it needs the same key, and verifies with it.
    new = tmp_path / "restored"
    restored = sinopia("admin", "restore", str(backup), "--data-dir", str(new), **env)
    assert restored.returncode == 0, restored.stderr
    one_line_error(sinopia("history", "verify", "--data-dir", str(new)), key.key_id)
    verified = sinopia("history", "verify", "--data-dir", str(new), **env)
    assert verified.returncode == 0 and "FAIL" not in verified.stdout, verified


def _raw(key: Any) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    return bytes(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))


async def test_signing_key_files_are_wrapped_and_follow_rotation(
    make_server: ServerFactory, tmp_path: Path, key: keyfile.FileMasterKey
) -> None:
    from crdt import keyfiles

    data = encrypted_data_dir(tmp_path, key)
    # Key files as a server made them before they were wrapped: plain PEM.
    seal_file, auth_file = data / "seal-key.pem", data / "auth-key.pem"
    plain = {p: keyfiles.load_or_create(p) for p in (seal_file, auth_file)}
    secrets = [_raw(k) for k in plain.values()]
    server = await make_server(data_dir=data, key_url=f"file://{key.path}")
    assert server.app is not None
    # Migrated on first start: the files hold the keys wrapped, and the same keys sign.
    at_rest = b"".join(p.read_bytes() for p in (seal_file, auth_file))
    assert b"PRIVATE KEY" not in at_rest and not [s for s in secrets if s in at_rest]
    assert key.key_id.encode() in seal_file.read_bytes()
    assert _raw(server.app.state.seal_key) == secrets[0]
    assert oct(seal_file.stat().st_mode & 0o777) == "0o600"
    doc = await annotate(server)
    assert server.stop is not None
    await server.stop()  # seals what was written, with the wrapped key
    where = ["--data-dir", str(data)]
    old = {"SINOPIA_KEY_URL": f"file://{key.path}"}
    verified = sinopia("history", "verify", *where, **old)
    assert verified.returncode == 0 and "FAIL" not in verified.stdout, verified.stdout
    assert "sealed" in verified.stdout, verified.stdout

    # Without the master key the key files say which key they need.
    bundle = tmp_path / "bundle.json"
    refused = sinopia("history", "export", doc, str(bundle), *where, SINOPIA_KEY_URL="")
    one_line_error(refused, key.key_id, "SINOPIA_KEY_URL")

    # Rotation rewraps them: the new key opens them, the old one no longer does.
    new_path = tmp_path / "keys" / "new.key"
    new = keyfile.create(new_path)
    rotated = sinopia("admin", "key", "rotate", str(new_path), *where, **old)
    assert rotated.returncode == 0, rotated.stderr
    for path in (seal_file, auth_file):
        content = path.read_bytes()
        assert new.key_id.encode() in content and key.key_id.encode() not in content
    wrong = serve_process(*where, "--port", "0", **old)
    one_line_error(wrong, new.key_id)
    env = {"SINOPIA_KEY_URL": f"file://{new_path}"}
    exported = sinopia("history", "export", doc, str(bundle), *where, **env)
    assert exported.returncode == 0, exported.stderr
    offline = sinopia("history", "verify-bundle", str(bundle))
    assert offline.stdout.startswith("ok") and "sealed up to" in offline.stdout, offline.stdout
    again = await make_server(data_dir=data, key_url=f"file://{new_path}")
    assert again.app is not None and _raw(again.app.state.seal_key) == secrets[0]
    assert again.stop is not None
    await again.stop()
