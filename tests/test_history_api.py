"""History over REST: changes with summaries, time travel, named versions, diff, restore
seen live by a y-websocket-style client, verification and bundles."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

import httpx
from pycrdt import Map, Text

from annotations import parse_annotation, write_annotation, write_subject

from . import access
from .conftest import Running, ServerFactory
from .jsclients import JsClients
from .test_annotations_document import SUBJECT
from .test_annotations_jsonld import comment
from .yclient import YClient, connected

DOC = f"museum/canvas/{SUBJECT.id}"
API = f"/api/history/{DOC}"
CONTAINER = "https://sinopia.example.org/api/annotations/" + DOC + "/"


def body(client: YClient, annotation_id: str = "c1") -> Text:
    bodies = client.doc.get("annotations", type=Map)[annotation_id]["body"]
    return bodies[0]["value"]


async def _story(server: Running) -> tuple[YClient, YClient]:
    """Alice sets up the canvas and comments; Bob edits her comment's text. Each is an
    editor of the workspace with a token of their own."""
    alice_token = await access.user_token(server, "alice", "museum", "editor")
    bob_token = await access.user_token(server, "bob", "museum", "editor")
    (alice,) = await connected(server.ws(DOC, alice_token))
    (bob,) = await connected(server.ws(DOC, bob_token))
    write_subject(alice.doc, SUBJECT)
    write_annotation(alice.doc, parse_annotation(comment(), CONTAINER))
    await bob.wait_for(lambda: "c1" in bob.doc.get("annotations", type=Map))
    text = body(bob)
    text.insert(len(str(text)), " and the red lake glaze")
    await alice.wait_for(lambda: "red lake" in str(body(alice)))
    return alice, bob


async def _client(server: Running) -> httpx.AsyncClient:
    return server.http()


async def test_changes_newest_first_with_summaries(server: Running) -> None:
    await _story(server)
    async with await _client(server) as http:
        page = (await http.get(API)).json()
        assert page["doc"] == DOC and page["head"] == 3
        seqs = [c["seq"] for c in page["changes"]]
        assert seqs == [3, 2, 1]
        newest, middle, _ = page["changes"]
        assert any(
            s.startswith("Edited the text") and "+“and the red lake glaze”" in s
            for s in newest["summary"]
        ), newest
        assert any(s.startswith("Added commenting annotation") for s in middle["summary"]), middle
        assert page["changes"][2]["summary"] == ["Linked to IIIF Canvas “fol. 1r”"]
        # The same as data, whatever the language a client shows it in.
        edited = [w for w in newest["what"] if w["kind"] == "body-edited"]
        assert edited and edited[0]["annotation"] and edited[0]["path"].endswith("/value")
        assert middle["what"][0]["kind"] == "annotation-added"
        assert len(newest["what"]) == len(newest["summary"])
        # Each change is attributed to the authenticated user's credential, by their
        # pseudonymous id; the name is looked up in the directory.
        who = [c["principal_name"] for c in page["changes"]]
        assert who == ["bob", "alice", "alice"], page["changes"]
        assert all(c["principal"].startswith("token:u") for c in page["changes"])
        assert not any("alice" in c["principal"] for c in page["changes"])
        assert all(c["client_id"] for c in page["changes"])
        times = [datetime.fromisoformat(c["time"]) for c in page["changes"]]
        assert times == sorted(times, reverse=True)

        older = (await http.get(API, params={"limit": 1, "before": 3})).json()
        assert [c["seq"] for c in older["changes"]] == [2]
        assert older["next"].endswith("before=2")


async def test_state_at_a_sequence_number_and_at_a_time(server: Running) -> None:
    await _story(server)
    async with await _client(server) as http:
        at2 = (await http.get(API + "/state", params={"seq": 2})).json()
        note = at2["content"]["annotations"]["c1"]["body"][0]["value"]
        assert note == "Flaking of the blue pigment along the hem"
        now = (await http.get(API + "/state")).json()
        assert now["seq"] == 3
        assert now["content"]["annotations"]["c1"]["body"][0]["value"].endswith("red lake glaze")

        # At the time of change 2: the same as seq 2.
        by_time = (await http.get(API + "/state", params={"at": at2["time"]})).json()
        assert by_time["seq"] == 2 and by_time["content"] == at2["content"]

        jsonld = (await http.get(API + "/state", params={"seq": 2, "format": "jsonld"})).json()
        (annotation,) = jsonld["content"]["annotations"]
        assert annotation["@context"] == "http://www.w3.org/ns/anno.jsonld"
        assert annotation["id"].endswith(f"/api/annotations/{DOC}/c1")

        before_it_existed = "2000-01-01T00:00:00Z"
        for params, status in [
            ({"seq": 99}, 404),
            ({"seq": "x"}, 400),
            ({"at": "yesterday"}, 400),
            ({"at": "2026-01-01T00:00:00"}, 400),
            ({"at": before_it_existed}, 404),
        ]:
            answer = await http.get(API + "/state", params=params)
            assert answer.status_code == status, params
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["status"] == status


async def test_versions_diff_and_restore_seen_live(server: Running) -> None:
    alice, bob = await _story(server)
    # Someone following in a browser: npm y-websocket, with a viewer's token.
    viewer = await access.user_token(server, "dana", "museum", "viewer")
    js = JsClients()
    await js.start()
    await js.open("dana", server.ws_base, DOC, params={"token": viewer})
    await js.wait_synced("dana")
    await js.wait_for("dana", "map", map="annotations", key="c1", present=True)
    lead = await access.user_token(server, "carol", "museum", "lead")
    async with httpx.AsyncClient(
        base_url=server.url, timeout=10, headers={"Authorization": f"Bearer {lead}"}
    ) as http:
        made = await http.post(API + "/versions", json={"name": "v1 sent to the lender"})
        assert made.status_code == 201, made.text
        assert made.json()["seq"] == 3
        again = await http.post(API + "/versions", json={"name": "v1 sent to the lender"})
        assert again.status_code == 409

        # More work after the version: a second annotation, and the first comment rewritten.
        write_annotation(alice.doc, parse_annotation(comment(id=CONTAINER + "c2"), CONTAINER))
        text = body(alice)
        del text[0 : len(str(text))]
        text.insert(0, "Stable after consolidation")
        await bob.wait_for(lambda: str(body(bob)) == "Stable after consolidation")
        await bob.wait_for(lambda: "c2" in bob.doc.get("annotations", type=Map))

        listed = (await http.get(API + "/versions")).json()["versions"]
        assert [v["name"] for v in listed] == ["v1 sent to the lender"]
        opened = (await http.get(API + "/versions/v1 sent to the lender")).json()
        assert set(opened["content"]["annotations"]) == {"c1"}

        changed = (await http.get(API + "/diff", params={"from": "v1 sent to the lender"})).json()
        assert any(s.startswith("Added") for s in changed["summary"]), changed["summary"]
        assert any("Stable after consolidation" in s for s in changed["summary"])

        head_before = (await http.get(API)).json()["head"]
        restored = await http.post(API + "/restore", json={"version": "v1 sent to the lender"})
        assert restored.status_code == 200, restored.text
        assert restored.json()["restored_from"] == 3
        assert restored.json()["seq"] == head_before + 1

    # Connected clients see the restore at once, the y-websocket one included.
    await bob.wait_for(lambda: "c2" not in bob.doc.get("annotations", type=Map), what="restore")
    await bob.wait_for(lambda: str(body(bob)).endswith("red lake glaze"), what="text restored")
    try:
        await js.wait_for("dana", "map", map="annotations", key="c2", absent=True)
    finally:
        await js.stop()
    # Nothing was removed from history: the restore is one more change, by whoever asked.
    async with await _client(server) as http:
        page = (await http.get(API)).json()
        assert page["head"] == head_before + 1
        assert page["changes"][0]["client_id"].startswith("api-")
        assert page["changes"][0]["principal_name"] == "carol"
        assert [c["principal_name"] for c in page["changes"][1:3]] == ["alice", "alice"]


async def test_bad_requests_are_problems_and_change_nothing(server: Running) -> None:
    await _story(server)
    async with await _client(server) as http:
        head = (await http.get(API)).json()["head"]
        cases = [
            (await http.get("/api/history/museum/canvas/none"), 404),
            (await http.get("/api/history/museum/painting/x"), 404),
            (await http.get(API + "/versions/nope"), 404),
            (await http.get(API + "/diff"), 400),
            (await http.post(API + "/versions", json={"name": ""}), 400),
            (
                await http.post(
                    API + "/versions", content=b"{", headers={"content-type": "application/json"}
                ),
                400,
            ),
            (
                await http.post(
                    API + "/versions", content=b"name=v", headers={"content-type": "text/plain"}
                ),
                415,
            ),
            (await http.post(API + "/versions", json={"name": "x", "seq": 99}), 400),
            (await http.post(API + "/restore", json={}), 400),
            (await http.post(API + "/restore", json={"version": "nope"}), 404),
        ]
        for answer, status in cases:
            assert answer.status_code == status, (answer.request.url, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["detail"]
        invalid = cases[4][0].json()
        assert invalid["errors"] and invalid["errors"][0]["path"] == "name"
        assert (await http.get(API)).json()["head"] == head
        assert (await http.get(API + "/versions")).json()["versions"] == []


async def test_verify_and_bundle_over_rest(make_server: ServerFactory, tmp_path) -> None:
    server = await make_server(seal_interval_seconds=0.05)
    await _story(server)
    async with await _client(server) as http:
        report = (await http.get(API + "/verify")).json()
        assert report["ok"] and report["entries"] == 3
        bundle = await http.get(API + "/bundle")
        assert "attachment" in bundle.headers["content-disposition"]
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle.json()))
    from .test_integrity import sinopia

    checked = sinopia("history", "verify-bundle", str(path))
    assert checked.returncode == 0, checked.stdout


async def test_openapi_describes_the_history_api(server: Running) -> None:
    async with await _client(server) as http:
        spec = (await http.get("/api/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")
    paths = spec["paths"]
    assert set(paths[API.replace(DOC, "{workspace}/{kind}/{id}") + "/versions"]) == {"get", "post"}
    post = paths["/api/history/{workspace}/{kind}/{id}/restore"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "RestoreIn"
    )
    assert "RestoreIn" in spec["components"]["schemas"]


async def test_history_on_the_command_line(server: Running) -> None:
    from .test_integrity import sinopia

    await _story(server)
    data = ["history", "--data-dir", str(server.data_dir)]
    listed = sinopia(*data, "list", DOC)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split()[0] == "3" and "bob (token:u" in lines[0]
    assert "Edited the text of annotation" in lines[1]

    named = sinopia(*data, "name", DOC, "before bob", "--seq", "2", "--by", "alice")
    assert named.returncode == 0, named.stderr
    again = sinopia(*data, "name", DOC, "before bob")
    assert again.returncode == 1 and "already has a version" in again.stderr
    assert "before bob" in sinopia(*data, "versions", DOC).stdout

    shown = json.loads(sinopia(*data, "show", DOC, "--seq", "2").stdout)
    assert shown["content"]["annotations"]["c1"]["body"][0]["value"].endswith("along the hem")
    diff = sinopia(*data, "diff", DOC, "before bob")
    assert diff.returncode == 0 and "+“and the red lake glaze”" in diff.stdout
    missing = sinopia(*data, "show", DOC, "--seq", "99")
    assert missing.returncode == 1 and "there is no 99" in missing.stderr

    # A restore goes through the running server (in a thread: this loop serves it).
    restore = ["history", "restore", DOC, "before bob", "--server", server.url]
    refused = await asyncio.to_thread(sinopia, *restore, "--token", "garbage")
    assert refused.returncode == 1 and "401" in refused.stderr
    done = await asyncio.to_thread(sinopia, *restore, "--token", server.token)
    assert done.returncode == 0, done.stderr
    assert "restored to 2 as change 4" in done.stdout
    after = json.loads(sinopia(*data, "show", DOC).stdout)
    assert after["content"]["annotations"]["c1"]["body"][0]["value"].endswith("along the hem")
