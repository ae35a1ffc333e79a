"""What the app's workspace page reads: the subjects of a workspace (paged, searched,
filtered, with image services and last changes) and the workspace's tag list."""

from __future__ import annotations

from typing import Any

import httpx

from .access import user_id, user_token
from .conftest import Running
from .staticiiif import manifest

WS = "museum"
BASE = "https://images.example.org"


async def _import(server: Running, labels: list[str], base: str = BASE) -> dict[str, Any]:
    server.workspace(WS)
    body = manifest(base, [(label, f"{base}/iiif/{n}") for n, label in enumerate(labels)])
    async with server.http() as http:
        answer = await http.post(f"/api/iiif/{WS}/import", json=body)
    assert answer.status_code in (200, 201), answer.text
    return body


async def _subjects(server: Running, token: str | None = None, **params: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else server.headers
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=10) as http:
        return await http.get(f"/api/workspaces/{WS}/subjects", params=params)


async def test_subjects_in_manifest_order_paged_with_their_images(server: Running) -> None:
    labels = ["Recto", "Verso", "Detail, lower left", "Detail, x-ray", "Frame"]
    body = await _import(server, labels)
    first = (await _subjects(server, limit=2)).json()
    assert first["total"] == 5 and [s["label"] for s in first["subjects"]] == labels[:2]
    recto = first["subjects"][0]
    assert recto["kind"] == "canvas" and recto["document"] == f"{WS}/canvas/{recto['id']}"
    assert recto["manifest"] == body["id"]
    assert recto["manifest_label"] == "Altarpiece, condition survey"
    assert recto["image"] == {"service": f"{BASE}/iiif/0", "width": 1200, "height": 900}
    assert recto["thumbnail"]["service"] == f"{BASE}/iiif/0"
    assert recto["annotations"] == 0
    assert (
        recto["changed"].endswith("Z")
        and recto["changed_by"]
        == f"token:{await user_id(server, 'tester')}/" + (server.token.split("_")[1])
        and recto["changed_by_name"] == "tester"
    )
    seen = [s["label"] for s in first["subjects"]]
    cursor = first["next"]
    while cursor:
        page = (await _subjects(server, limit=2, cursor=cursor)).json()
        assert page["total"] == 5
        seen += [s["label"] for s in page["subjects"]]
        cursor = page["next"]
    assert seen == labels


async def test_search_and_filters(server: Running) -> None:
    await _import(server, ["Recto", "Verso", "Detail, lower left", "Detail, x-ray"])
    other = manifest(
        "https://other.example.org", [("Recto of the predella", "https://other.example.org/iiif/p")]
    )
    async with server.http() as http:
        assert (await http.post(f"/api/iiif/{WS}/import", json=other)).status_code in (200, 201)
    labels = lambda answer: [s["label"] for s in answer.json()["subjects"]]  # noqa: E731
    assert labels(await _subjects(server, q="detail")) == ["Detail, lower left", "Detail, x-ray"]
    assert labels(await _subjects(server, q="RECTO predella")) == ["Recto of the predella"]
    only = await _subjects(server, manifest="https://other.example.org/manifest.json")
    assert labels(only) == ["Recto of the predella"]
    assert (await _subjects(server, kind="model")).json() == {
        "subjects": [],
        "next": None,
        "total": 0,
    }
    # A conservator's edit makes her the last to change that subject.
    editor = await user_token(server, "chiara", WS, "editor")
    recto = (await _subjects(server, q="verso")).json()["subjects"][0]
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        added = await http.post(
            f"/api/annotations/{recto['document']}/",
            json={
                "@context": "http://www.w3.org/ns/anno.jsonld",
                "type": "Annotation",
                "motivation": "commenting",
                "body": {"type": "TextualBody", "value": "Flaking along the join"},
                "target": f"{BASE}/canvas/2#xywh=10,10,100,100",
            },
            headers={"Authorization": f"Bearer {editor}"},
        )
        assert added.status_code == 201, added.text
    mine = await _subjects(server, changed_by="chiara")
    assert labels(mine) == ["Verso"]
    assert mine.json()["subjects"][0]["annotations"] == 1
    assert labels(await _subjects(server, changed_by="user:chiara")) == []
    chiara = await user_id(server, "chiara")
    assert mine.json()["subjects"][0]["changed_by"].startswith(f"token:{chiara}/")
    # Her label as it is stored (the pseudonymous one) finds the same subjects.
    by_label = await _subjects(server, changed_by=mine.json()["subjects"][0]["changed_by"])
    assert labels(by_label) == ["Verso"]
    assert mine.json()["subjects"][0]["changed_by_name"] == "chiara"


async def test_bad_parameters_are_clear(server: Running) -> None:
    await _import(server, ["Recto"])
    for params, words in (
        ({"kind": "painting"}, "kind must be one of canvas, model"),
        ({"cursor": "not-ours"}, "cursor"),
        ({"limit": "0"}, "limit must be at least 1"),
        ({"q": "x" * 201}, "longer than 200"),
    ):
        answer = await _subjects(server, **params)
        assert answer.status_code == 400, params
        assert words in answer.json()["detail"]
    assert len((await _subjects(server, limit="100000")).json()["subjects"]) == 1


async def test_a_share_link_lists_nothing(server: Running) -> None:
    await _import(server, ["Recto", "Verso"])
    verso = (await _subjects(server, q="verso")).json()["subjects"][0]
    async with server.http() as http:
        share = await http.post(
            f"/api/workspaces/{WS}/shares", json={"subject": f"canvas/{verso['id']}"}
        )
    answer = await _subjects(server, token=share.json()["token"])
    assert answer.status_code == 403


async def test_the_tag_list_is_kept_and_checked(server: Running) -> None:
    server.workspace(WS)
    editor = await user_token(server, "chiara", WS, "editor")
    viewer = await user_token(server, "vera", WS, "viewer")
    path = f"/api/workspaces/{WS}/tags"
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        as_editor = {"Authorization": f"Bearer {editor}"}
        as_viewer = {"Authorization": f"Bearer {viewer}"}
        assert (await http.get(path, headers=as_viewer)).json() == {"tags": []}
        tags = [
            {"label": "crack", "color": "#B22222"},
            {"label": "flaking paint", "color": "#daa520"},
        ]
        put = await http.put(path, json={"tags": tags}, headers=as_editor)
        assert put.status_code == 200, put.text
        stored = [
            {"label": "crack", "color": "#b22222"},
            {"label": "flaking paint", "color": "#daa520"},
        ]
        assert put.json() == {"tags": stored}
        assert (await http.get(path, headers=as_viewer)).json() == {"tags": stored}
        refused = await http.put(path, json={"tags": []}, headers=as_viewer)
        assert refused.status_code == 403
        for bad, words in (
            ([{"label": "crack", "color": "red"}], "color"),
            ([{"label": "x" * 65, "color": "#000000"}], "label"),
            ([{"label": " ", "color": "#000000"}], "label"),
            (
                [{"label": "Crack", "color": "#000000"}, {"label": "crack", "color": "#111111"}],
                "twice",
            ),
            ([{"label": f"t{n}", "color": "#000000"} for n in range(501)], "tags"),
        ):
            answer = await http.put(path, json={"tags": bad}, headers=as_editor)
            assert answer.status_code == 400, bad[:2]
            assert words in answer.text
        assert (await http.get(path, headers=as_viewer)).json() == {"tags": stored}
