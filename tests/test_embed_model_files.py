"""A 3D subject embedded on a museum's website: the share link's holder loads the model
file of the subject it shares (the same bearer header the image service takes for
tiles), from another origin (CORS, preflight with `Range`), whole or by ranges; a link
to another subject, or to nothing of that model, is refused; the iframe page and oEmbed
serve model subjects as they do images."""

from __future__ import annotations

from typing import Any

import httpx

from server.access import grants

from . import access
from .conftest import Running
from .models import box_glb

WS = "exhibit"
MUSEUM = "https://museum.example"


async def _upload(server: Running, name: str, data: bytes) -> dict[str, Any]:
    server.workspace(WS)
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers, timeout=60) as http:
        answer = await http.post(f"/api/media/{WS}", files={"file": (name, data)})
    assert answer.status_code == 201, answer.text
    (subject,) = answer.json()["subjects"]
    return dict(subject)


async def _share(server: Running, **options: Any) -> str:
    return (await _link(server, **options))[0]


async def _link(server: Running, **options: Any) -> tuple[str, str]:
    """A new share link: its token and id."""
    auth = server.app.state.auth  # type: ignore[union-attr]
    token, link = await grants.create_share(auth.directory, auth.signer, WS, "test", **options)
    return token, link.id


async def test_a_share_link_loads_its_model_file_from_another_origin_and_nothing_else(
    server: Running,
) -> None:
    data = box_glb()
    bronze = await _upload(server, "Bronze box.glb", data)
    other = await _upload(server, "Other box.glb", box_glb((0.5, 0.5, 0.5)))
    url, other_url = bronze["model"], other["model"]
    token = await _share(server, subject=f"model/{bronze['id']}", origins=[MUSEUM])
    bearer = {"Authorization": f"Bearer {token}", "Origin": MUSEUM}
    async with httpx.AsyncClient() as museum:
        # The browser's preflight (the element sends Authorization, and may send Range).
        pre = await museum.options(
            url,
            headers={
                "Origin": MUSEUM,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization, range",
            },
        )
        assert pre.status_code == 204
        assert pre.headers["access-control-allow-origin"] == "*"
        allowed = pre.headers["access-control-allow-headers"].lower()
        assert "authorization" in allowed and "range" in allowed and "if-range" in allowed
        assert "GET" in pre.headers["access-control-allow-methods"]

        whole = await museum.get(url, headers=bearer)
        assert whole.status_code == 200 and whole.content == data
        assert whole.headers["access-control-allow-origin"] == "*"
        exposed = whole.headers["access-control-expose-headers"].lower()
        assert "content-range" in exposed and "etag" in exposed
        part = await museum.get(url, headers={**bearer, "Range": "bytes=0-11"})
        assert part.status_code == 206 and part.content == data[:12]
        assert part.headers["content-range"] == f"bytes 0-11/{len(data)}"
        head = await museum.head(url, headers=bearer)
        assert head.status_code == 200 and head.headers["content-length"] == str(len(data))

        # Another subject's model, another site, no credential: refused, clearly.
        refused = await museum.get(other_url, headers=bearer)
        assert refused.status_code == 403
        assert "does not cover this model" in refused.json()["detail"]
        assert refused.headers["access-control-allow-origin"] == "*"  # the page can read why
        elsewhere = await museum.get(url, headers={**bearer, "Origin": "https://elsewhere.example"})
        assert elsewhere.status_code == 403 and "embedded on" in elsewhere.json()["detail"]
        assert (await museum.get(url, headers={"Origin": MUSEUM})).status_code == 401

        # And nothing else of the workspace: no upload, no other subject's document.
        upload = await museum.post(
            f"{server.url}/api/media/{WS}",
            headers=bearer,
            files={"file": ("Mine.glb", data)},
        )
        assert upload.status_code == 403
        other_doc = await museum.get(
            f"{server.url}/api/embed/{WS}/model/{other['id']}", headers=bearer
        )
        assert other_doc.status_code == 403
        # The embed's own answer names the model file it may load.
        mine = await museum.get(f"{server.url}/api/embed/{bronze['document']}", headers=bearer)
        assert mine.status_code == 200 and mine.json()["model"] == url

    # A link to a canvas does not load a model; a link to the model's manifest does.
    canvas = await _share(server, subject=f"canvas/{bronze['id']}")
    async with httpx.AsyncClient() as anyone:
        got = await anyone.get(url, headers={"Authorization": f"Bearer {canvas}"})
        assert got.status_code == 403
    async with server.http() as http:
        manifest_iri = (await http.get(f"/api/history/{bronze['document']}/state")).json()[
            "content"
        ]["meta"]["manifest"]
    by_manifest, link_id = await _link(server, manifest=manifest_iri)
    async with httpx.AsyncClient() as anyone:
        mine = await anyone.get(url, headers={"Authorization": f"Bearer {by_manifest}"})
        assert mine.status_code == 200 and mine.content == data
        theirs = await anyone.get(other_url, headers={"Authorization": f"Bearer {by_manifest}"})
        assert theirs.status_code == 403

    # Revoked: the file is no longer served to it, from the next request on (the instance
    # that revoked it knows at once; others within their access poll).
    async with server.http() as http:
        assert (await http.delete(f"/api/workspaces/{WS}/shares/{link_id}")).status_code == 200
    async with httpx.AsyncClient() as anyone:
        gone = await anyone.get(url, headers={"Authorization": f"Bearer {by_manifest}"})
    assert gone.status_code == 401


async def test_the_iframe_page_and_oembed_serve_a_model_subject(server: Running) -> None:
    bronze = await _upload(server, "Bronze head.glb", box_glb())
    token = await access.share_token(server, bronze["document"])
    frame = f"{server.url}/embed/{bronze['document']}"
    async with httpx.AsyncClient() as anyone:
        page = await anyone.get(frame, params={"token": token})
        assert page.status_code == 200
        assert f'document="{bronze["document"]}"' in page.text
        assert "Bronze head" in page.text.split("<title>", 1)[1]
        policy = page.headers["content-security-policy"]
        # three.js reads the model's embedded textures from blob: URLs it makes.
        assert "connect-src 'self' blob: data:" in policy
        oembed = await anyone.get(f"{server.url}/oembed", params={"url": f"{frame}?token={token}"})
        assert oembed.status_code == 200
        assert oembed.json()["title"] == "Bronze head.glb"
        assert f"/embed/{bronze['document']}?token=" in oembed.json()["html"]
