"""REST and live editing are one document: a REST write reaches npm y-websocket clients at
once, a client's edit is in the next REST GET, and the schema check refuses a client's
update that breaks the annotation schema (while the client's own other roots pass)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pycrdt import Array, Doc, Map, Text

from annotations import parse_annotation, write_annotation

from .conftest import Running, ServerFactory, eventually
from .jsclients import JsClients, js_harness_available
from .test_iiif_manifests import load

WORKSPACE = "live"
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module", autouse=True)
def _harness() -> None:
    assert js_harness_available(), "node and tests/js/node_modules: npm ci --prefix tests/js"


@pytest.fixture
async def js() -> AsyncIterator[JsClients]:
    async with JsClients() as clients:
        yield clients


async def _subject(server: Running) -> dict[str, Any]:
    server.workspace(WORKSPACE)
    async with server.http() as http:
        answer = await http.post(
            f"/api/iiif/{WORKSPACE}/import", json=load("p3_book_of_hours.json")
        )
    assert answer.status_code == 200, answer.text
    subject: dict[str, Any] = answer.json()["subjects"][0]
    return subject


def comment(canvas: str, text: str, region: str = "xywh=10,20,30,40") -> dict[str, Any]:
    return {
        "type": "Annotation",
        "motivation": "commenting",
        "body": {"type": "TextualBody", "value": text},
        "target": {
            "type": "SpecificResource",
            "source": canvas,
            "selector": {"type": "FragmentSelector", "value": region},
        },
    }


async def _open(js: JsClients, server: Running, name: str, doc: str) -> None:
    await js.open(name, server.ws_base, doc, params={"token": server.token})
    await js.wait_synced(name, TIMEOUT_MS)


async def _client_change(js: JsClients, name: str, change: Any) -> None:
    """Make `change` on a copy of the JS client's document and have the JS client apply it
    as its own local edit, which y-websocket then sends like any other."""
    state = base64.b64decode(await js.call("encode_state", name=name))
    doc: Doc = Doc()
    doc.apply_update(state)
    before = doc.get_state()
    change(doc)
    update = doc.get_update(before)
    await js.call("apply_update", name=name, update=base64.b64encode(update).decode())


async def test_rest_write_is_seen_live_and_live_edit_is_seen_by_rest(
    server: Running, js: JsClients
) -> None:
    subject = await _subject(server)
    doc, container, canvas = subject["document"], subject["annotations"], subject["iiif_id"]
    await _open(js, server, "alice", doc)
    async with server.http() as http:
        # REST -> live: the client sees the annotation, its text and its target.
        made = await http.post(container, json=comment(canvas, "Flaking along the hem"))
        assert made.status_code == 201, made.text
        annotation_id = made.headers["location"].rsplit("/", 1)[1]
        seen = await js.wait_for(
            "alice",
            "map",
            map="annotations",
            key=annotation_id,
            present=True,
            timeout_ms=TIMEOUT_MS,
        )
        assert seen["body"][0]["value"] == "Flaking along the hem"
        assert seen["target"]["source"] == canvas

        # Live -> REST: the client types into the comment and adds an annotation of its
        # own; the next GET shows both.
        def edit(ydoc: Doc) -> None:
            annotations = ydoc.get("annotations", type=Map)
            text = annotations[annotation_id]["body"][0]["value"]
            assert isinstance(text, Text)
            text.insert(len(str(text)), " and the red lake glaze")
            write_annotation(
                ydoc, parse_annotation(comment(canvas, "Old repair"), container, id="js-1")
            )

        await _client_change(js, "alice", edit)

        async def rest_shows_it() -> bool:
            one = await http.get(made.headers["location"])
            other = await http.get(container + "js-1")
            return (
                one.json()["body"]["value"] == "Flaking along the hem and the red lake glaze"
                and other.status_code == 200
            )

        await eventually(rest_shows_it, what="the client's edits over REST")
        # A REST replace while the client is connected: the client's text follows.
        current = await http.get(container + "js-1")
        replaced = await http.put(
            container + "js-1",
            json={**current.json(), "body": {"type": "TextualBody", "value": "Old repair, 1950s"}},
            headers={"If-Match": current.headers["etag"]},
        )
        assert replaced.status_code == 200, replaced.text

        async def client_has_it() -> bool:
            seen = (await js.get("alice", maps=["annotations"], texts=[]))["annotations"]
            return bool(seen["js-1"]["body"][0]["value"] == "Old repair, 1950s")

        await eventually(client_has_it, what="the REST replace, live")
        deleted = await http.delete(container + "js-1")
        assert deleted.status_code == 204
        await js.wait_for(
            "alice", "map", map="annotations", key="js-1", absent=True, timeout_ms=TIMEOUT_MS
        )


async def test_client_updates_that_break_the_schema_are_refused(
    server: Running, js: JsClients
) -> None:
    subject = await _subject(server)
    doc, container, canvas = subject["document"], subject["annotations"], subject["iiif_id"]
    await _open(js, server, "bob", doc)
    await _open(js, server, "carol", doc)
    # The client's own roots (viewer state, the interop tests' `m` and `t`) pass, and are
    # never exported.
    await js.call("set", name="bob", key="zoom", value=2)
    await js.wait_for("carol", "map", key="zoom", equals=2, timeout_ms=TIMEOUT_MS)
    since = len(js.events)

    # A region far outside the canvas, written straight into the live document.
    def bad(ydoc: Doc) -> None:
        annotations = ydoc.get("annotations", type=Map)
        annotations["bad-1"] = Map(
            {
                "motivation": "commenting",
                "body": Array(),
                "target": f"{canvas}#xywh=0,0,{subject['width'] * 10},10",
            }
        )

    await _client_change(js, "bob", bad)
    closed = await js.wait_event("connection-close", name="bob", since=since, timeout=15)
    assert closed["code"] == 4400 and "outside the canvas" in closed["reason"]
    async with server.http() as http:
        page = (await http.get(container)).json()
        assert page["total"] == 0
        assert (await http.get(container + "bad-1")).status_code == 404
        iiif = (await http.get(subject["annotation_page"])).json()
        assert iiif["items"] == []
    # Nobody else saw it.
    await js.call("set", name="carol", key="zoom", value=3)
    carol = await js.get("carol", maps=["annotations", "m"], texts=[])
    assert "bad-1" not in carol["annotations"]


async def test_schema_check_keeps_up_with_rest_writes(make_server: ServerFactory) -> None:
    """The check runs on a copy of each live document; writes that do not pass through
    it (REST) must reach the copy before the next client update is judged."""
    from .yclient import YClient

    server = await make_server()
    subject = await _subject(server)
    container, canvas = subject["annotations"], subject["iiif_id"]
    client = await YClient(server.ws(subject["document"])).connect()
    async with server.http() as http:
        made = await http.post(container, json=comment(canvas, "from REST"))
        annotation_id = made.headers["location"].rsplit("/", 1)[1]
        annotations = client.doc.get("annotations", type=Map)
        await client.wait_for(lambda: annotation_id in annotations, what="REST write")
        # The client edits the annotation REST made: judged on a copy that has it.
        text = annotations[annotation_id]["body"][0]["value"]
        text.insert(0, "Edited ")

        async def edited() -> bool:
            one = await http.get(made.headers["location"])
            return bool(one.json()["body"]["value"] == "Edited from REST")

        await eventually(edited, what="client edit of a REST annotation")
        assert client.close_code is None
    await client.close()
