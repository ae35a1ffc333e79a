"""A person's data: `sinopia admin user export NAME` gives everything kept about them, and
`sinopia admin user erase NAME` removes what ties their pseudonymous id to them: history
still verifies and reads "erased user N", their access ends, and nothing is erased
unconfirmed."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import bson
import httpx
import pytest
from pymongo import MongoClient

from .access import user_id, user_token
from .conftest import Running, ServerFactory
from .test_annotations_live import WORKSPACE, _subject, comment
from .test_backup import sinopia
from .test_commenters_rest import _as

NAME = "ada"


async def _ada_at_work(server: Running) -> tuple[str, str, str]:
    """Ada, an editor, adds an annotation over REST; returns her token, the annotation's
    path and the document."""
    subject = await _subject(server)
    token = await user_token(server, NAME, WORKSPACE, "editor", label="laptop")
    async with _as(server, token) as http:
        made = await http.post(
            httpx.URL(subject["annotations"]).path,
            json=comment(subject["iiif_id"], "Flaking along the hem"),
        )
        assert made.status_code == 201, made.text
    path = httpx.URL(made.headers["Location"]).path
    document = path.removeprefix("/api/annotations/").rsplit("/", 1)[0]
    return token, path, document


@pytest.mark.parametrize("backend", ["sqlite", "mongodb"])
async def test_export_then_erase_keeps_history_verifying(
    make_server: ServerFactory, tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    mongo = request.getfixturevalue("mongo_database") if backend == "mongodb" else None
    server = await make_server(seal_interval_seconds=0.05, mongo_url=mongo)
    token, path, document = await _ada_at_work(server)
    ada = await user_id(server, NAME)
    data = ["--data-dir", str(server.data_dir), *(["--mongo-url", mongo] if mongo else [])]

    code, out, err = await sinopia("admin", "user", "export", NAME, *data)
    assert code == 0, err
    export = json.loads(out)
    assert export["account"]["name"] == NAME and export["account"]["id"] == ada
    assert [m["workspace"] for m in export["memberships"]] == [WORKSPACE]
    assert [t["label"] for t in export["tokens"]] == ["laptop"]
    assert "secret_hash" not in export["tokens"][0]  # metadata, never a credential
    assert export["changes"] and {c["document"] for c in export["changes"]} == {document}
    assert all(c["author"].startswith(f"token:{ada}/") for c in export["changes"])
    (mine,) = export["annotations"]
    assert mine["document"] == document and path.endswith(mine["id"])
    assert export["history_ids"]["creator"] == f"urn:sinopia:user:{ada}"
    assert any(e["action"] == "user-created" for e in export["audit"])

    # Not confirmed (no terminal, no --yes): nothing happens.
    code, _, err = await sinopia("admin", "user", "erase", NAME, *data)
    assert code == 1 and "--yes" in err, err
    code, out, _ = await sinopia("admin", "user", "export", NAME, *data)
    assert code == 0 and json.loads(out)["account"]["name"] == NAME

    code, _, err = await sinopia("admin", "user", "erase", NAME, "--yes", *data)
    assert code == 0, err
    assert "erased user 1" in err

    # History is untouched and verifies; it reads "erased user 1".
    code, out, err = await sinopia("history", "verify", *data)
    assert code == 0, out + err
    assert f"ok    {document}" in out
    async with server.http() as http:
        changes = (await http.get(f"/api/history/{document}")).json()["changes"]
        assert changes[0]["principal"].startswith(f"token:{ada}/")
        assert changes[0]["principal_name"] == "erased user 1"
        annotation = (await http.get(path)).json()
        assert annotation["creator"]["id"] == f"urn:sinopia:user:{ada}"
        assert annotation["creator"]["name"] == "erased user 1"
        # The name is gone from the directory: no user, no member of that name.
        users = (await http.get("/api/users")).json()["users"]
        assert NAME not in {u["name"] for u in users}
        members = (await http.get(f"/api/workspaces/{WORKSPACE}/members")).json()["members"]
        assert NAME not in {m["user"] for m in members}
    # Her token no longer opens anything.
    async with _as(server, token) as http:
        assert (await http.get("/api/me")).status_code == 401
    # Her name finds nobody now; erasing twice is refused, saying so.
    code, _, err = await sinopia("admin", "user", "export", NAME, *data)
    assert code == 1 and f"no user '{NAME}'" in err, err
    code, _, err = await sinopia("admin", "user", "erase", ada, "--yes", *data)
    assert code == 1 and "already erased" in err, err
    # The directory's users no longer hold her name anywhere.
    assert NAME.encode() not in _users(server.data_dir / "directory.db", mongo)


def _users(db: Path, mongo: str | None) -> bytes:
    """Every user record of the directory, as stored."""
    if mongo:
        client: MongoClient[dict] = MongoClient(mongo, serverSelectionTimeoutMS=5000)
        try:
            found = client.get_default_database()["directory"].find({"kind": "user"})
            return b"".join(bson.encode(d) for d in found)
        finally:
            client.close()
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT data FROM records WHERE kind = 'user'").fetchall()
    return b"".join(row[0].encode() for row in rows)
