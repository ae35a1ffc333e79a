"""IIIF over HTTP: importing the fixture manifests (from the body, from a URL on a local
server, from the command line), the exported Manifest and AnnotationPages (checked by
iiif-prezi3, by @iiif/parser in Node and by the W3C checker), Content Search 2.0 and 1.0
(relevance, paging, `ignored`, filters, workspace isolation), Content State links, and
the Annotot facade Mirador's annotation plugins use."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from iiif_prezi3 import AnnotationPage, Manifest

from iiif import ContentState

from .conftest import ROOT, Running, ServerFactory
from .jsclients import JS_DIR, node_executable
from .statichttp import serve
from .test_annotations_jsonld import assert_w3c_annotation
from .test_iiif_manifests import FIXTURES, load

WORKSPACE = "museum"


async def _import(http: httpx.AsyncClient, body: Any, workspace: str = WORKSPACE) -> Any:
    answer = await http.post(f"/api/iiif/{workspace}/import", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _comment(canvas: str, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "Annotation",
        "motivation": extra.pop("motivation", "commenting"),
        "body": {"type": "TextualBody", "value": text},
        "target": f"{canvas}#xywh=10,10,100,100",
        **extra,
    }


# ---------------------------------------------------------------------------- import


async def test_import_the_fixture_manifests(server: Running) -> None:
    server.workspace(WORKSPACE)
    async with server.http() as http:
        book = await _import(http, load("p3_book_of_hours.json"))
        assert book["presentation"] == 3 and book["label"].startswith("Book of Hours")
        assert [s["status"] for s in book["subjects"]] == ["created"] * 3
        assert [s["label"] for s in book["subjects"]][:2] == [
            "fol. 1r",
            "fol. 1v: Annunciation miniature",
        ]
        first = book["subjects"][0]
        assert (first["width"], first["height"]) == (5412, 7216)
        assert first["document"] == f"{WORKSPACE}/canvas/{first['id']}"
        assert first["collab"] == f"/collab/{first['document']}"

        gallica = await _import(http, load("p2_gallica_style.json"))
        assert gallica["presentation"] == 2 and len(gallica["subjects"]) == 3

        scene = await _import(http, load("p3_3d_scene.json"))
        kinds = [s["kind"] for s in scene["subjects"]]
        assert "model" in kinds and "canvas" in kinds

        # Importing again changes nothing and keeps the annotations made meanwhile.
        made = await http.post(first["annotations"], json=_comment(first["iiif_id"], "kept"))
        assert made.status_code == 201
        again = await _import(http, load("p3_book_of_hours.json"))
        assert [s["status"] for s in again["subjects"]] == ["unchanged"] * 3
        assert (await http.get(made.headers["location"])).status_code == 200

        # Each subject's document holds what the import said.
        state = await http.get(f"/api/history/{first['document']}/state")
        meta = state.json()["content"]["meta"]
        assert meta["iiif_id"] == first["iiif_id"] and meta["width"] == 5412

        # Bad input: a problem saying what is wrong, nothing made.
        for body, said in [
            (
                {
                    "type": "Collection",
                    "@context": "http://iiif.io/api/presentation/3/context.json",
                },
                "Manifest",
            ),
            ({"hello": "world"}, "not a IIIF Presentation manifest"),
            ({"url": 5}, "url must be a string"),
        ]:
            refused = await http.post(f"/api/iiif/{WORKSPACE}/import", json=body)
            assert refused.status_code == 400 and said in refused.json()["detail"], refused.text


async def test_import_from_a_url(make_server: ServerFactory, tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(FIXTURES / "p3_book_of_hours.json", site / "book.json")
    (site / "huge.json").write_text(json.dumps({"padding": "x" * 300_000}))
    (site / "broken.json").write_text("{not json")
    with serve(site) as base:
        # By default an import may not reach private or local addresses.
        closed = await make_server()
        closed.workspace(WORKSPACE)
        async with closed.http() as http:
            refused = await http.post(
                f"/api/iiif/{WORKSPACE}/import", json={"url": f"{base}/book.json"}
            )
            assert refused.status_code == 502
            assert "SINOPIA_IIIF_FETCH_PRIVATE" in refused.json()["detail"]
        server = await make_server(iiif_fetch_private=True, iiif_fetch_max_bytes=200_000)
        server.workspace(WORKSPACE)
        async with server.http() as http:
            book = await _import(http, {"url": f"{base}/redirect/2/book.json"})
            assert len(book["subjects"]) == 3
            for path, said in [
                ("huge.json", "over 200000 bytes"),
                ("missing.json", "answered 404"),
                ("broken.json", "is not JSON"),
                ("redirect/9/book.json", "redirects"),
            ]:
                failed = await http.post(
                    f"/api/iiif/{WORKSPACE}/import", json={"url": f"{base}/{path}"}
                )
                assert failed.status_code == 502 and said in failed.json()["detail"], path
            ftp = await http.post(f"/api/iiif/{WORKSPACE}/import", json={"url": "ftp://x/y"})
            assert ftp.status_code == 502 and "http and https" in ftp.json()["detail"]


def _sinopia(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


async def test_the_import_command(make_server: ServerFactory, tmp_path: Path) -> None:
    # Through a running server, with a token.
    server = await make_server()
    server.workspace(WORKSPACE)
    fixture = str(FIXTURES / "p2_gallica_style.json")
    done = await asyncio.to_thread(
        _sinopia,
        "iiif",
        "import",
        WORKSPACE,
        fixture,
        "--server",
        server.url,
        "--token",
        server.token,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("created") == 3 and "/iiif/museum/manifest/" in done.stdout
    async with server.http() as http:
        found = (await http.get(f"/iiif/{WORKSPACE}/search?motivation=painting")).json()
        assert found["partOf"]["total"] == 0  # subjects, no annotations yet
    # Straight into a store, server stopped.
    from server.settings import Settings

    from . import access

    data_dir = tmp_path / "offline"
    access.add_workspace(Settings(data_dir=data_dir), WORKSPACE)
    offline = await asyncio.to_thread(
        _sinopia,
        "iiif",
        "import",
        WORKSPACE,
        str(FIXTURES / "p3_3d_scene.json"),
        "--data-dir",
        str(data_dir),
    )
    assert offline.returncode == 0, offline.stderr
    assert "model" in offline.stdout
    unknown = await asyncio.to_thread(
        _sinopia, "iiif", "import", "nowhere", fixture, "--data-dir", str(data_dir)
    )
    assert unknown.returncode == 1 and "no workspace" in unknown.stderr
    restarted = await make_server(data_dir=data_dir)
    async with restarted.http() as http:
        scene = load("p3_3d_scene.json")
        again = await _import(http, scene)
        assert {s["status"] for s in again["subjects"]} == {"unchanged"}


# ---------------------------------------------------------------------------- export


def _iiif_parser(documents: dict[str, Any]) -> dict[str, Any]:
    node = node_executable()
    assert node, "node is needed (and npm ci --prefix tests/js)"
    payload = json.dumps([{"name": k, "json": v} for k, v in documents.items()])
    done = subprocess.run(
        [node, str(JS_DIR / "iiif_check.mjs")],
        input=payload,
        capture_output=True,
        text=True,
        cwd=JS_DIR,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


async def test_exported_manifest_and_pages_load_in_iiif_libraries(server: Running) -> None:
    server.workspace(WORKSPACE)
    async with server.http() as http:
        book = await _import(http, load("p3_book_of_hours.json"))
        first, second = book["subjects"][:2]
        made = await http.post(
            first["annotations"], json=_comment(first["iiif_id"], "Flaking of blue pigment")
        )
        reply = {
            "type": "Annotation",
            "motivation": "replying",
            "body": {"type": "TextualBody", "value": "Agreed"},
            "target": made.headers["location"],
        }
        assert (await http.post(first["annotations"], json=reply)).status_code == 201
        point = {
            "type": "Annotation",
            "motivation": "tagging",
            "body": [
                {"type": "TextualBody", "value": "gilding", "purpose": "tagging"},
                {
                    "type": "SpecificResource",
                    "purpose": "classifying",
                    "source": {"id": "http://vocab.getty.edu/aat/300053863", "label": "gilding"},
                },
            ],
            "target": {
                "type": "SpecificResource",
                "source": second["iiif_id"],
                "selector": {"type": "PointSelector", "x": 40, "y": 70},
            },
        }
        assert (await http.post(second["annotations"], json=point)).status_code == 201

        manifest_answer = await http.get(book["iiif_manifest"])
        assert manifest_answer.status_code == 200
        assert "presentation/3" in manifest_answer.headers["content-type"]
        manifest = manifest_answer.json()
        Manifest(**manifest)  # iiif-prezi3
        assert [c["id"] for c in manifest["items"]] == [s["iiif_id"] for s in book["subjects"]]
        pages = {}
        for canvas, subject in zip(manifest["items"], book["subjects"], strict=True):
            (link,) = canvas["annotations"]
            assert link["id"] == subject["annotation_page"]
            page = (await http.get(link["id"])).json()
            AnnotationPage(**page)  # iiif-prezi3
            for item in page["items"]:
                assert_w3c_annotation(item, embedded=True)
            pages[subject["id"]] = page
        # The reply stays in the W3C container; the canvas page has the comment only.
        assert [i["body"]["value"] for i in pages[first["id"]]["items"]] == [
            "Flaking of blue pigment"
        ]
        assert len(pages[second["id"]]["items"]) == 1
        services = {s.get("type") or s.get("@type") for s in manifest["service"]}
        assert services == {"SearchService2", "SearchService1"}

        parsed = _iiif_parser({"manifest": manifest, **pages})
        assert parsed["manifest"].get("error") is None, parsed["manifest"]
        assert parsed["manifest"]["type"] == "Manifest"
        assert parsed["manifest"]["canvases"] == 3
        assert parsed["manifest"]["warnings"] == []
        for subject_id, page in pages.items():
            report = parsed[subject_id]
            assert report.get("error") is None and report["type"] == "AnnotationPage"
            assert report["annotations"] == len(page["items"])

        unknown = await http.get(f"/iiif/{WORKSPACE}/manifest/nothing-here")
        assert unknown.status_code == 404
        assert (
            await http.get(book["iiif_manifest"], headers={"Accept": "text/html"})
        ).status_code == 406
        # A share-link style token in the request is carried into the page links.
        tokened = (await http.get(book["iiif_manifest"] + f"?token={server.token}")).json()
        assert tokened["items"][0]["annotations"][0]["id"].endswith(f"?token={server.token}")


async def test_content_state_opens_a_subject_at_an_annotation(server: Running) -> None:
    server.workspace(WORKSPACE)
    async with server.http() as http:
        book = await _import(http, load("p3_book_of_hours.json"))
        first = book["subjects"][0]
        made = await http.post(first["annotations"], json=_comment(first["iiif_id"], "here"))
        annotation_id = made.headers["location"].rsplit("/", 1)[1]
        url = f"{first['annotation_page']}/{annotation_id}/content-state"
        full = (await http.get(url)).json()
        assert full["motivation"] == ["contentState"]
        assert full["target"]["id"] == f"{first['iiif_id']}#xywh=10,10,100,100"
        assert full["target"]["partOf"][0]["id"] == book["iiif_manifest"]
        encoded = (await http.get(url, params={"format": "encoded"})).text
        state = ContentState.decode(encoded)
        assert state.canvas == first["iiif_id"] and state.region == "10,10,100,100"
        assert state.annotation == made.headers["location"]
        assert state.manifest == book["iiif_manifest"]
        missing = await http.get(f"{first['annotation_page']}/nope/content-state")
        assert missing.status_code == 404
        # HEAD on the IIIF resources: the GET's headers, no body.
        head = await http.head(first["annotation_page"])
        assert head.status_code == 200 and head.content == b"" and head.headers["etag"]


# ---------------------------------------------------------------------------- search


async def test_search_relevance_paging_filters_and_isolation(make_server: ServerFactory) -> None:
    server = await make_server(annotation_page_size=5)
    server.workspace(WORKSPACE)
    server.workspace("rival")
    async with server.http() as http:
        book = await _import(http, load("p3_book_of_hours.json"))
        rival = await _import(http, load("p3_book_of_hours.json"), workspace="rival")
        one, two = book["subjects"][:2]

        async def add(subject: dict[str, Any], text: str, **extra: Any) -> str:
            made = await http.post(
                subject["annotations"], json=_comment(subject["iiif_id"], text, **extra)
            )
            assert made.status_code == 201, made.text
            return str(made.headers["location"])

        both = await add(one, "Flaking of the blue pigment along the hem")
        blue = await add(two, "Blue sky repainted in the 19th century")
        flaking = await add(one, "Flaking gilding, see Étude 3", creator={"name": "Anna"})
        old = await add(two, "An old note on the Blue", created="2020-01-01T12:00:00Z")
        tag = await add(one, "blue", motivation="tagging")
        for i in range(12):
            await add(two, f"Dust deposit {i}")
        await add(rival["subjects"][0], "Flaking blue everywhere, dust too")

        search = f"/iiif/{WORKSPACE}/search"
        found = (await http.get(search, params={"q": "flaking blue"})).json()
        ids = [item["id"] for item in found["items"]]
        # Most terms matched first; every hit is ours, never the other workspace's.
        assert ids[0] == both and set(ids) == {both, blue, flaking, old, tag}
        assert all(i.startswith(server.url + f"/api/annotations/{WORKSPACE}/") for i in ids)
        for item in found["items"]:
            assert_w3c_annotation(item, embedded=True)
        quotes = [a["target"]["selector"][0]["exact"] for a in found["annotations"][0]["items"]]
        assert "Flaking" in quotes and "blue" in quotes

        # Accents and case do not matter; words match as prefixes.
        assert [
            i["id"] for i in (await http.get(search, params={"q": "ETUDE"})).json()["items"]
        ] == [flaking]
        # Filters: motivation, user, date.
        tagged = (await http.get(search, params={"q": "blue", "motivation": "tagging"})).json()
        assert [i["id"] for i in tagged["items"]] == [tag]
        by_anna = (await http.get(search, params={"user": "Anna"})).json()
        assert [i["id"] for i in by_anna["items"]] == [flaking]
        # A Sinopia user is stored by id: found by their name as it is now.
        mine = (await http.get(search, params={"q": "flaking", "user": "tester"})).json()
        assert [i["id"] for i in mine["items"]] == [both]
        dated = (
            await http.get(search, params={"date": "2019-12-31T00:00:00Z/2020-01-02T00:00:00Z"})
        ).json()
        assert [i["id"] for i in dated["items"]] == [old]
        # Parameters we do not use are listed in `ignored`.
        ignoring = (await http.get(search, params={"q": "dust", "box": "1,2,3,4"})).json()
        assert ignoring["ignored"] == ["box"]

        # Paging: 12 dust notes, 5 a page.
        page1 = ignoring
        assert page1["partOf"]["total"] == 12 and len(page1["items"]) == 5
        assert "prev" not in page1 and page1["startIndex"] == 0
        page2 = (await http.get(page1["next"]["id"])).json()
        page3 = (await http.get(page2["next"]["id"])).json()
        assert page2["prev"]["id"] == page1["id"] and page3["startIndex"] == 10
        assert "next" not in page3 and len(page3["items"]) == 2
        everything = page1["items"] + page2["items"] + page3["items"]
        assert len({i["id"] for i in everything}) == 12
        assert page1["partOf"]["last"]["id"] == page3["id"]

        # Content Search 1.0, as Mirador reads it.
        v1 = (await http.get(search + "/v1", params={"q": "flaking blue"})).json()
        assert v1["@type"] == "sc:AnnotationList" and v1["within"]["total"] == 5
        assert v1["resources"][0]["@id"] == both
        assert v1["resources"][0]["on"].startswith(one["iiif_id"] + "#xywh=")
        assert v1["hits"][0]["annotations"] == [both]
        v1_pages = (await http.get(search + "/v1", params={"q": "dust"})).json()
        assert v1_pages["within"]["total"] == 12 and v1_pages["next"].endswith("page=1")

        # The other workspace finds only its own.
        theirs = (await http.get("/iiif/rival/search", params={"q": "flaking"})).json()
        assert [i["id"] for i in theirs["items"]] and all(
            "/api/annotations/rival/" in i["id"] for i in theirs["items"]
        )
        bad = await http.get(search, params={"date": "yesterday"})
        assert bad.status_code == 400 and "date" in bad.json()["detail"]


async def test_search_sees_live_edits_at_once(server: Running) -> None:
    server.workspace(WORKSPACE)
    async with server.http() as http:
        book = await _import(http, load("p3_book_of_hours.json"))
        one = book["subjects"][0]
        made = await http.post(one["annotations"], json=_comment(one["iiif_id"], "first words"))
        search = f"/iiif/{WORKSPACE}/search"
        assert (await http.get(search, params={"q": "first"})).json()["partOf"]["total"] == 1
        current = await http.get(made.headers["location"])
        data = {**current.json(), "body": {"type": "TextualBody", "value": "second thoughts"}}
        assert (await http.put(made.headers["location"], json=data)).status_code == 200
        assert (await http.get(search, params={"q": "first"})).json()["partOf"]["total"] == 0
        assert (await http.get(search, params={"q": "second"})).json()["partOf"]["total"] == 1


# ---------------------------------------------------------------------------- Mirador facade


async def test_the_annotot_facade(server: Running) -> None:
    """The requests mirador-annotations' AnnototAdapter makes, as it makes them."""
    server.workspace(WORKSPACE)
    async with server.http() as http:
        book = await _import(http, load("p3_book_of_hours.json"))
        canvas = book["subjects"][0]["iiif_id"]
        endpoint = f"/api/mirador/{WORKSPACE}/annotations"
        web_annotation = {
            "body": {"type": "TextualBody", "value": "<p>Gilding <b>lost</b></p>"},
            "id": "3f1c2a4e-0d7b-4c3e-9f61-2b8a7c9d0e15",
            "motivation": "commenting",
            "target": {
                "source": canvas,
                "selector": [
                    {"type": "FragmentSelector", "value": "xywh=10,20,30,40"},
                    {
                        "type": "SvgSelector",
                        "value": "<svg xmlns='http://www.w3.org/2000/svg'><path d='M10,20 "
                        "L40,20 L40,60 Z'/></svg>",
                    },
                ],
            },
            "type": "Annotation",
        }
        created = await http.post(
            endpoint,
            json={
                "annotation": {
                    "canvas": canvas,
                    "data": json.dumps(web_annotation),
                    "uuid": web_annotation["id"],
                }
            },
        )
        assert created.status_code == 201, created.text
        page = (await http.get(f"{endpoint}/pages?uri={canvas}")).json()
        assert page["type"] == "AnnotationPage"
        (item,) = page["items"]
        assert item["id"].endswith("/" + web_annotation["id"])
        assert item["body"]["value"] == "<p>Gilding <b>lost</b></p>"
        assert_w3c_annotation(item, embedded=True)
        # The same annotation in the W3C container and the IIIF page.
        w3c = await http.get(item["id"])
        assert w3c.status_code == 200
        iiif_page = (await http.get(book["subjects"][0]["annotation_page"])).json()
        assert [i["id"] for i in iiif_page["items"]] == [item["id"]]

        # Update by the id the page gave (an IRI, percent-encoded as the adapter does).
        from urllib.parse import quote

        item["body"]["value"] = "<p>Gilding lost, bole visible</p>"
        updated = await http.patch(
            f"{endpoint}/{quote(item['id'], safe='')}",
            json={"annotation": {"data": json.dumps(item), "uuid": item["id"]}},
        )
        assert updated.status_code == 200, updated.text
        fetched = (await http.get(f"{endpoint}/{quote(item['id'], safe='')}")).json()
        assert fetched["body"]["value"] == "<p>Gilding lost, bole visible</p>"
        # By the bare uuid too.
        bare = (await http.get(f"{endpoint}/{web_annotation['id']}")).json()
        assert bare["id"] == item["id"]
        # A canvas never imported gets its document on the first annotation.
        elsewhere = {**web_annotation, "id": "x-1"}
        elsewhere["target"] = {"source": "https://other.example.org/canvas/9"}
        made = await http.post(
            endpoint,
            json={
                "annotation": {
                    "canvas": "https://other.example.org/canvas/9",
                    "data": json.dumps(elsewhere),
                    "uuid": "x-1",
                }
            },
        )
        assert made.status_code == 201, made.text
        other = (await http.get(f"{endpoint}/pages?uri=https://other.example.org/canvas/9")).json()
        assert len(other["items"]) == 1
        # Deleting.
        deleted = await http.delete(f"{endpoint}/{quote(item['id'], safe='')}")
        assert deleted.status_code == 204
        assert (await http.get(f"{endpoint}/pages?uri={canvas}")).json()["items"] == []
        # Bad input is a problem, and another workspace's annotation is not reachable.
        broken = await http.post(endpoint, json={"annotation": {"canvas": canvas, "data": "{"}})
        assert broken.status_code == 400
        foreign = item["id"].replace(f"/{WORKSPACE}/", "/elsewhere/")
        assert (await http.get(f"{endpoint}/{quote(foreign, safe='')}")).status_code == 404


@pytest.mark.parametrize("path", ["/iiif/museum/search", "/api/mirador/museum/annotations/pages"])
async def test_iiif_needs_a_credential(server: Running, path: str) -> None:
    server.workspace(WORKSPACE)
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        answer = await anonymous.get(path, headers={"Origin": "https://viewer.example.org"})
    assert answer.status_code == 401
    # Still readable by the viewer's script: CORS headers on errors too.
    assert answer.headers["access-control-allow-origin"] == "*"
