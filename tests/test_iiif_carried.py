"""Importing the annotations a manifest carries: the IIIF cookbook's commenting recipes
(0261 with an SVG shape, 0269 embedded and referenced), a Presentation 2 manifest with
`otherContent` lists as publishers make them (transcriptions fetched, Mirador 2 comments
inline), found by Content Search 2.0 and 1.0, attributed to the import, never imported
twice, and each bad input reported in the answer."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import httpx

from annotations.imported import imported_id, map_imported
from annotations.problems import Invalid
from iiif import parse_manifest
from iiif.carried import PageRef, annotation_pages, read_page

from .conftest import Running, ServerFactory
from .statichttp import serve

CARRIED = Path(__file__).parent / "fixtures" / "iiif" / "carried"
COOKBOOK = "https://iiif.io/api/cookbook/recipe"
WORKSPACE = "museum"


def recipe(name: str, base: str) -> Any:
    """A fixture with the cookbook's `{{ id.path }}` template filled in."""
    return json.loads((CARRIED / name).read_text().replace("{{ id.path }}", base))


def site(tmp_path: Path, base: str | None = None) -> Path:
    """A copy of the fixtures to serve, with the template pointing at `base`."""
    root = tmp_path / "site"
    shutil.copytree(CARRIED, root, dirs_exist_ok=True)
    if base is not None:
        for path in root.rglob("*.json"):
            path.write_text(path.read_text().replace("{{ id.path }}", base))
    return root


async def _import(http: httpx.AsyncClient, body: Any) -> dict[str, Any]:
    answer = await http.post(f"/api/iiif/{WORKSPACE}/import", json=body)
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()
    return data


async def _search(http: httpx.AsyncClient, q: str, v1: bool = False) -> dict[str, Any]:
    path = f"/iiif/{WORKSPACE}/search" + ("/v1" if v1 else "")
    found = await http.get(path, params={"q": q})
    assert found.status_code == 200, found.text
    data: dict[str, Any] = found.json()
    return data


async def _container(http: httpx.AsyncClient, subject: dict[str, Any]) -> list[dict[str, Any]]:
    page = (await http.get(subject["annotations"])).json()
    items: list[dict[str, Any]] = page.get("first", {}).get("items", [])
    return items


# ---------------------------------------------------------------------------- pure mapping


def test_pages_are_found_inline_and_referenced_in_both_versions() -> None:
    base = f"{COOKBOOK}/0269-embedded-or-referenced-annotations"
    embedded = annotation_pages(recipe("cookbook_0269_embedded.json", base), 3)
    assert [(r.where, r.url is None, r.canvas) for r in embedded] == [
        ("items[0].annotations[0]", True, f"{base}/canvas-1")
    ]
    referenced = annotation_pages(recipe("cookbook_0269_referenced.json", base), 3)
    assert referenced[0].url == f"{base}/annotationpage.json" and referenced[0].page is None
    p2 = annotation_pages(recipe("p2_other_content.json", "https://x.example"), 2)
    assert [r.url for r in p2] == ["https://x.example/list/f1.json", None]
    content = read_page(p2[1], p2[1].page)
    (seal,) = content.annotations
    # Open Annotation read as W3C: chars -> TextualBody, oa:Tag -> a tagging body,
    # Mirador 2's oa:Choice -> both selectors, annotatedBy/At -> creator/created.
    assert seal.annotation["motivation"] == "commenting"
    assert seal.annotation["body"][1] == {
        "type": "TextualBody",
        "value": "Siegel",
        "format": "text/plain",
        "purpose": "tagging",
    }
    target = seal.annotation["target"][0]
    assert [s["type"] for s in target["selector"]] == ["FragmentSelector", "SvgSelector"]
    assert target["source"]["id"] == "https://x.example/canvas/f2"
    assert seal.annotation["creator"]["name"] == "Josiah Carberry"
    assert seal.annotation["created"] == "2019-06-25T10:12:00Z"


def test_a_page_that_is_not_one_is_said_so() -> None:
    ref = PageRef(where="items[0].annotations[0]", version=3, url="https://x.example/p")
    assert read_page(ref, {"type": "Manifest", "items": []}).skipped[0].message == (
        "is a 'Manifest', not an AnnotationPage"
    )
    assert "not a JSON object" in read_page(ref, ["no"]).skipped[0].message
    assert (
        "lists its annotations in items"
        in read_page(ref, {"type": "AnnotationPage"}).skipped[0].message
    )
    mixed = read_page(ref, {"type": "AnnotationPage", "items": [5, {"type": "Canvas"}]})
    assert [s.where for s in mixed.skipped] == [
        "items[0].annotations[0].items[0]",
        "items[0].annotations[0].items[1]",
    ]


def test_an_annotation_without_an_id_maps_to_the_same_id_every_time() -> None:
    base = "https://x.example"
    ref = PageRef(where="w", version=2, canvas=f"{base}/canvas/f1", url=f"{base}/list/f1.json")
    page = recipe("list/f1.json", base)
    first = read_page(ref, page).annotations
    again = read_page(ref, json.loads(json.dumps(page))).annotations
    assert first[1].source == again[1].source and first[1].source.startswith(
        f"{base}/list/f1.json#"
    )
    assert imported_id(first[0].source) != imported_id(first[1].source)
    assert imported_id(first[1].source) == imported_id(again[1].source)
    # Transcriptions painted on a P2 canvas are supplementing in Presentation 3.
    assert first[0].annotation["motivation"] == "supplementing"


def test_mapping_keeps_what_it_safely_can_and_refuses_the_rest() -> None:
    base = f"{COOKBOOK}/0261-non-rectangular-commenting"
    subject = parse_manifest(recipe("cookbook_0261_commenting.json", base))[0]
    container = "https://sinopia.example/api/annotations/m/canvas/x/"

    def mapped(data: dict[str, Any]) -> Any:
        return map_imported(
            data,
            source="https://pub.example/a/1",
            container=container,
            subject=subject,
            importer=None,
        )

    canvas = subject.iiif_id
    html = mapped(
        {
            "type": "Annotation",
            "body": {
                "type": "TextualBody",
                "format": "text/html",
                "value": "<p onclick='x()'>Riss</p>",
            },
            "target": canvas,
        }
    )
    assert (
        html.annotation.body[0].value == "Riss" and html.annotation.body[0].format == "text/plain"
    )
    assert "plain text" in html.notes[0]
    assert html.annotation.via == "https://pub.example/a/1"
    undated = mapped(
        {"type": "Annotation", "bodyValue": "x", "target": canvas, "created": "yesterday"}
    )
    assert undated.annotation.created is None and "created" in undated.notes[0]
    for data, said in [
        (
            {"type": "Annotation", "bodyValue": "x", "target": f"{canvas}#xywh=4000,10,500,500"},
            "outside the canvas",
        ),
        (
            {"type": "Annotation", "bodyValue": "x", "target": "https://elsewhere.example/c"},
            "this document annotates",
        ),
        (
            {"type": "Annotation", "motivation": "dancing", "bodyValue": "x", "target": canvas},
            "motivation",
        ),
    ]:
        try:
            mapped(data)
        except Invalid as error:
            assert said in str(error), error
        else:
            raise AssertionError(f"accepted {data}")


# ---------------------------------------------------------------------------- over HTTP


async def test_cookbook_0261_is_found_by_content_search(server: Running) -> None:
    server.workspace(WORKSPACE)
    base = f"{COOKBOOK}/0261-non-rectangular-commenting"
    async with server.http() as http:
        done = await _import(http, recipe("cookbook_0261_commenting.json", base))
        (subject,) = done["subjects"]
        assert subject["annotations_imported"] == 1 and done["warnings"] == []
        (annotation,) = await _container(http, subject)
        assert annotation["via"] == f"{base}/annotation/p0002-svg"
        assert annotation["motivation"] == "tagging"
        assert annotation["target"]["selector"]["type"] == "SvgSelector"
        # Attributed to the import: the signed-in importer when the source names nobody.
        creator = annotation["creator"]
        assert (creator["type"], creator["name"]) == ("Person", "tester")
        assert creator["id"].startswith("urn:sinopia:user:")  # the importer's pseudonymous IRI
        assert annotation["created"]

        v2 = await _search(http, "Gänseliesel")
        assert [i["id"] for i in v2["items"]] == [annotation["id"]]
        v1 = await _search(http, "Gänseliesel", v1=True)
        assert [r["@id"] for r in v1["resources"]] == [annotation["id"]]
        assert subject["iiif_id"] in json.dumps(v1["resources"][0]["on"])

        # The workspace's own manifest and annotation page show it on the canvas.
        page = (await http.get(subject["annotation_page"])).json()
        assert [i["id"] for i in page["items"]] == [annotation["id"]]

        # Importing again: nothing doubled, the copy left as colleagues may have edited it.
        again = await _import(http, recipe("cookbook_0261_commenting.json", base))
        assert again["subjects"][0]["annotations_imported"] == 0
        assert again["subjects"][0]["annotations_kept"] == 1
        assert again["subjects"][0]["status"] == "unchanged"
        assert len(await _container(http, subject)) == 1
        assert len((await _search(http, "Gänseliesel"))["items"]) == 1

        # History says who imported it: one change, by the importer.
        history = (await http.get(f"/api/history/{subject['document']}")).json()
        (change,) = history["changes"]
        assert change["principal"].startswith("token:")  # the importer's token


async def test_cookbook_0269_embedded_and_referenced(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    server = await make_server(iiif_fetch_private=True)
    server.workspace(WORKSPACE)
    with serve(tmp_path / "site") as root:
        site(tmp_path, root)
        async with server.http() as http:
            embedded = await _import(
                http, recipe("cookbook_0269_embedded.json", f"{COOKBOOK}/0269")
            )
            assert embedded["subjects"][0]["annotations_imported"] == 1
            referenced = await _import(http, {"url": f"{root}/cookbook_0269_referenced.json"})
            assert referenced["warnings"] == []
            (subject,) = referenced["subjects"]
            assert subject["annotations_imported"] == 1
            (annotation,) = await _container(http, subject)
            assert annotation["body"]["value"] == "Göttinger Marktplatz mit Gänseliesel Brunnen"
            assert annotation["body"]["language"] == "de"
            assert annotation["via"] == f"{root}/canvas-1/annopage-2/anno-1"
            hits = (await _search(http, "marktplatz"))["items"]
            assert len(hits) == 2  # one per import: two manifests, two canvases

            # The same manifest posted as a body fetches its referenced page too, and
            # finds what it imported before.
            again = await _import(http, recipe("cookbook_0269_referenced.json", root))
            assert again["subjects"][0]["annotations_kept"] == 1
            assert len(await _container(http, subject)) == 1


async def test_presentation_2_other_content_as_publishers_make_it(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    server = await make_server(iiif_fetch_private=True)
    server.workspace(WORKSPACE)
    with serve(tmp_path / "site") as root:
        site(tmp_path, root)
        async with server.http() as http:
            done = await _import(http, {"url": f"{root}/p2_other_content.json"})
            assert done["presentation"] == 2
            f1, f2 = done["subjects"]
            assert (f1["annotations_imported"], f2["annotations_imported"]) == (2, 1)
            lines = await _container(http, f1)
            assert {a["motivation"] for a in lines} == {"supplementing"}
            assert {a["target"] for a in lines} == {
                f"{f1['iiif_id']}#xywh=310,420,1540,120",
                f"{f1['iiif_id']}#xywh=1320,3100,900,110",
            }
            (seal,) = await _container(http, f2)
            # The publisher's creator and date are kept; the HTML is allowed markup.
            assert seal["creator"]["name"] == "Josiah Carberry"
            assert seal["created"] == "2019-06-25T10:12:00Z"
            assert seal["body"][0]["format"] == "text/html"
            assert [s["type"] for s in seal["target"]["selector"]] == [
                "FragmentSelector",
                "SvgSelector",
            ]
            assert seal["via"] == f"{root}/annotation/f2-seal"
            assert (await _search(http, "Merz"))["items"][0]["id"] in {a["id"] for a in lines}
            v1 = await _search(http, "Lacksiegel", v1=True)
            assert [r["@id"] for r in v1["resources"]] == [seal["id"]]
            tagged = await http.get(
                f"/iiif/{WORKSPACE}/search", params={"q": "Siegel", "motivation": "commenting"}
            )
            assert [i["id"] for i in tagged.json()["items"]] == [seal["id"]]

            again = await _import(http, {"url": f"{root}/p2_other_content.json"})
            assert [s["annotations_kept"] for s in again["subjects"]] == [2, 1]
            assert len(await _container(http, f1)) == 2


async def test_bad_carried_annotations_are_reported_and_the_rest_imported(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    server = await make_server(iiif_fetch_private=True, iiif_fetch_max_bytes=50_000)
    server.workspace(WORKSPACE)
    root_dir = tmp_path / "site"
    with serve(root_dir) as root:
        site(tmp_path, root)
        (root_dir / "not-a-page.json").write_text(
            json.dumps(
                {"@context": "http://iiif.io/api/presentation/3/context.json", "type": "Manifest"}
            )
        )
        (root_dir / "huge.json").write_text(
            json.dumps({"type": "AnnotationPage", "items": [], "padding": "x" * 60_000})
        )
        manifest = recipe("cookbook_0261_commenting.json", f"{COOKBOOK}/0261")
        canvas = manifest["items"][0]
        good = canvas["annotations"][0]
        outside = {
            "id": f"{COOKBOOK}/0261/annotation/outside",
            "type": "Annotation",
            "motivation": "commenting",
            "body": {"type": "TextualBody", "value": "off the edge"},
            "target": f"{canvas['id']}#xywh=4000,3000,500,500",
        }
        elsewhere = {
            **outside,
            "id": f"{COOKBOOK}/0261/annotation/elsewhere",
            "target": "https://other.example/canvas/9",
        }
        canvas["annotations"] = [
            {**good, "items": [*good["items"], outside, elsewhere, {"type": "Canvas"}]},
            {"id": f"{root}/not-a-page.json", "type": "AnnotationPage"},
            {"id": f"{root}/missing.json", "type": "AnnotationPage"},
            {"id": f"{root}/huge.json", "type": "AnnotationPage"},
        ]
        async with server.http() as http:
            done = await _import(http, manifest)
            (subject,) = done["subjects"]
            # The good annotation is imported; each bad one is named with its reason.
            assert subject["annotations_imported"] == 1
            said = {w["where"]: w["message"] for w in done["warnings"]}
            assert "outside the canvas" in said["items[0].annotations[0].items[1]"]
            assert "not a canvas of this manifest" in said["items[0].annotations[0].items[2]"]
            assert said["items[0].annotations[0].items[3]"] == "is not an annotation"
            assert (
                "not an AnnotationPage" in said[f"items[0].annotations[1] ({root}/not-a-page.json)"]
            )
            assert "answered 404" in said["items[0].annotations[2]"]
            assert "over 50000 bytes" in said["items[0].annotations[3]"]
            assert len(said) == 6
            assert [a["body"]["value"] for a in await _container(http, subject)] == [
                "Gänseliesel-Brunnen"
            ]

    # Without leave to fetch from private addresses, a referenced page is a warning too.
    closed = await make_server()
    closed.workspace(WORKSPACE)
    async with closed.http() as http:
        done = await _import(http, recipe("cookbook_0269_referenced.json", "http://127.0.0.1:9/x"))
        assert "SINOPIA_IIIF_FETCH_PRIVATE" in done["warnings"][0]["message"]
        assert done["subjects"][0]["status"] == "created"
