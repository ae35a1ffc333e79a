"""People's names stay out of documents: an annotation's creator is stored as the
person's pseudonymous id, and every reader looks the name up at the time of reading, so a
renamed person shows the new name and an erased one "erased user N", and after erasure
the name is in no file of the data directory (the update log included)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import bson
import httpx
import pytest
from pycrdt import Array, Doc, Map, Text
from pymongo import MongoClient

from server.api.people import MAX_IDS
from server.directory import operations

from .access import user_id, user_token
from .conftest import Running, ServerFactory, eventually
from .jsclients import JsClients
from .test_annotations_live import TIMEOUT_MS, WORKSPACE, _client_change, _subject, comment
from .test_annotations_live import js as js  # the npm y-websocket clients' fixture
from .test_backup import sinopia
from .test_commenters_rest import _as
from .yclient import YClient

LOGIN = "quellwasser"
SHOWN = "Artemisia Quellwasser"
RENAMED = "Artemisia Q. Brunnen"


def bytes_at_rest(data_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(data_dir.rglob("*")) if p.is_file())


def _collections(mongo_url: str) -> dict[str, bytes]:
    """Every document of every collection of the MongoDB database, as BSON."""
    client: MongoClient[dict] = MongoClient(mongo_url, serverSelectionTimeoutMS=5000)
    try:
        db = client.get_default_database()
        return {
            f"mongo:{name}": b"".join(bson.encode(d) for d in db[name].find())
            for name in db.list_collection_names()
        }
    finally:
        client.close()


def _names_in(data: bytes) -> list[str]:
    return [n for n in (LOGIN, SHOWN, "Quellwasser", RENAMED) if n.encode() in data]


async def _live_annotation(client: YClient, key: str, canvas: str, creator: dict) -> None:
    annotations = client.doc.get("annotations", type=Map)
    annotations[key] = Map(
        {
            "motivation": "commenting",
            "target": comment(canvas, "")["target"],
            "creator": creator,
            "body": Array(
                [Map({"type": "TextualBody", "value": Text("Cupping"), "format": "text/plain"})]
            ),
        }
    )


@pytest.mark.parametrize("backend", ["sqlite", "mongodb"])
async def test_names_are_looked_up_never_stored_and_leave_with_erasure(
    make_server: ServerFactory, js: JsClients, backend: str, request: pytest.FixtureRequest
) -> None:
    mongo = str(request.getfixturevalue("mongo_database")) if backend == "mongodb" else None
    server = await make_server(seal_interval_seconds=0.05, mongo_url=mongo)
    assert server.app is not None
    directory = server.app.state.auth.directory
    await operations.add_user(directory, LOGIN, "test", display_name=SHOWN)
    token = await user_token(server, LOGIN, WORKSPACE, "editor")
    me = f"urn:sinopia:user:{await user_id(server, LOGIN)}"
    subject = await _subject(server)
    container = httpx.URL(subject["annotations"]).path

    async with _as(server, token) as http:
        # Over REST: without a creator (the server names the caller) and with one that
        # carries a name (an older client): both stored by id alone, both read named.
        plain = await http.post(container, json=comment(subject["iiif_id"], "Flaking"))
        assert plain.status_code == 201, plain.text
        named = await http.post(
            container,
            json={
                **comment(subject["iiif_id"], "Tidelines"),
                "creator": {"id": me, "type": "Person", "name": SHOWN},
            },
        )
        assert named.status_code == 201, named.text
        for made in (plain, named):
            one = (await http.get(httpx.URL(made.headers["location"]).path)).json()
            assert one["creator"] == {"id": me, "type": "Person", "name": SHOWN}

        # What the app asks to show names: known Sinopia ids only, a bounded number.
        people = f"/api/workspaces/{WORKSPACE}/people"
        asked = f"{me} urn:sinopia:user:u0000000000000000 https://example.org/people/1"
        answer = await http.get(people, params={"id": asked})
        assert answer.json() == {"people": [{"id": me, "name": SHOWN}]}
        many = " ".join(f"urn:sinopia:user:u{n:016x}" for n in range(MAX_IDS + 1))
        refused = await http.get(people, params={"id": many})
        assert refused.status_code == 400 and str(MAX_IDS) in refused.json()["detail"]
        assert refused.headers["content-type"] == "application/problem+json"

    # Live: a client that writes a name is refused (the update never reaches the log);
    # one that writes the id alone is taken, and read back with the name.
    doc = subject["document"]
    old = await YClient(server.ws(doc, token)).connect()
    await _live_annotation(old, "old-client", subject["iiif_id"], {"id": me, "name": SHOWN})
    code, reason = await old.wait_closed()
    assert code == 4400 and "creator/name" in reason and "by id alone" in reason, reason
    # The same from an npm y-websocket client (what other apps would use).
    await js.open("other-app", server.ws_base, doc, params={"token": token})
    await js.wait_synced("other-app", TIMEOUT_MS)
    since = len(js.events)

    def named(ydoc: Doc) -> None:
        annotations = ydoc.get("annotations", type=Map)
        annotations["js-client"] = Map(
            {
                "motivation": "commenting",
                "target": subject["iiif_id"],
                "creator": {"id": me, "name": SHOWN},
            }
        )

    await _client_change(js, "other-app", named)
    closed = await js.wait_event("connection-close", name="other-app", since=since, timeout=15)
    assert closed["code"] == 4400 and "by id alone" in closed["reason"], closed
    new = await YClient(server.ws(doc, token)).connect()
    await _live_annotation(new, "new-client", subject["iiif_id"], {"id": me, "type": "Person"})
    async with _as(server, token) as http:

        async def arrived() -> bool:
            items = (await http.get(container)).json()["first"]["items"]
            return any(a["id"].endswith("/new-client") for a in items)

        await eventually(arrived, what="the live annotation over REST")
        items = (await http.get(container)).json()["first"]["items"]
        assert not [a for a in items if a["id"].endswith(("/old-client", "/js-client"))]
        assert {a["creator"]["name"] for a in items} == {SHOWN}
    await new.close()

    # Renamed: every reader shows the new name at once (nothing stored to rewrite).
    user = await directory.user_by_name(LOGIN)
    await directory.update_user(replace(user, display_name=RENAMED))
    async with server.http() as http:
        items = (await http.get(container)).json()["first"]["items"]
        assert {a["creator"]["name"] for a in items} == {RENAMED}
    assert server.stop is not None
    await server.stop()  # flushed, checkpointed and sealed
    # Before erasure the directory holds the names, and only the directory.
    files = {p.name: p.read_bytes() for p in server.data_dir.rglob("*") if p.is_file()}
    if mongo:
        files.update(_collections(mongo))
        assert [n for n, data in files.items() if _names_in(data)] == ["mongo:directory"]
    else:
        assert [n for n, data in files.items() if _names_in(data)] == ["directory.db"]

    data = ["--data-dir", str(server.data_dir), *(["--mongo-url", mongo] if mongo else [])]
    code, _, err = await sinopia("admin", "user", "erase", LOGIN, "--yes", *data)
    assert code == 0, err
    assert _names_in(bytes_at_rest(server.data_dir)) == []
    if mongo:
        assert [n for n, d in _collections(mongo).items() if _names_in(d)] == []
    code, out, err = await sinopia("history", "verify", *data)
    assert code == 0 and "FAIL" not in out, out + err
    again: Running = await make_server(data_dir=server.data_dir, mongo_url=mongo)
    async with again.http() as http:
        items = (await http.get(container)).json()["first"]["items"]
        assert {a["creator"]["name"] for a in items} == {"erased user 1"}
    assert again.stop is not None
    await again.stop()
