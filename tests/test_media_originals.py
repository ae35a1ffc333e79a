"""An upload's own file comes back byte for byte (a museum's master), to members only,
encrypted at rest when the instance has a key; and an upload can be deleted, never
silently taking annotations with it."""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from crdt.keys import file as keyfile
from tests import access, pictures
from tests.test_media_upload import WS, jpeg, post, stored


def tiff(tmp_path: Path) -> bytes:
    # 16-bit, two pages: what the pyramid is not (8-bit JPEG tiles), so only a kept
    # original gives these bytes back.
    path = pictures.multi_page(
        tmp_path / "master.tif", [pictures.picture(700, 500).cast("ushort", shift=True)] * 2
    )
    return path.read_bytes()


async def test_the_original_downloads_byte_for_byte(make_server, tmp_path: Path) -> None:
    key = keyfile.create(tmp_path / "keys" / "master.key")
    server = await make_server(key_url=f"file://{key.path}")
    sent = tiff(tmp_path)
    answer = await post(server, sent, "Inv 1234 (master).tif")
    assert answer.status_code == 201, answer.text
    url = answer.json()["original"]
    upload = answer.json()["upload"]
    assert url == f"{server.url}/api/media/{WS}/{upload}/original"
    async with server.http() as client:
        got = await client.get(url)
        head = await client.head(url)
    assert got.status_code == 200
    assert got.content == sent
    assert got.headers["content-disposition"].startswith('attachment; filename="Inv 1234')
    assert got.headers["x-content-type-options"] == "nosniff"
    assert head.headers["content-length"] == str(len(sent))
    # Encrypted at rest like every blob: the master's bytes are nowhere on disk as sent.
    probe = sent[4096:4160]
    assert all(probe not in p.read_bytes() for p in stored(server))
    # Members only: a share link to the subject loads its tiles, not the master.
    subject = answer.json()["subjects"][0]
    share = await access.share_token(server, subject["document"])
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {share}"}) as client:
        tile = await client.get(subject["image_service"] + "/full/100,/0/default.jpg")
        master = await client.get(url)
    assert tile.status_code == 200
    assert master.status_code == 403


def open_files() -> list[str]:
    """What this process (the test server's) holds open."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            found.append(os.readlink(f"/proc/self/fd/{fd}"))
        except FileNotFoundError:  # the listing's own descriptor, closed meanwhile
            pass
    return found


async def annotate(client: httpx.AsyncClient, manifest: str, subject: dict, words: str) -> None:
    canvases = (await client.get(manifest)).json()["items"]
    [canvas] = [c["id"] for c in canvases if c["id"].endswith(subject["id"].rsplit("-", 1)[0])]
    made = await client.post(
        f"/api/annotations/{subject['document']}/",
        json={
            "type": "Annotation",
            "motivation": "commenting",
            "body": {"type": "TextualBody", "value": words},
            "target": canvas,
        },
    )
    assert made.status_code == 201, made.text


async def test_deleting_an_upload_never_silently_loses_annotations(server, tmp_path: Path) -> None:
    answer = await post(server, tiff(tmp_path), "register.tif")
    body = answer.json()
    first, second = body["subjects"]
    url = f"/api/media/{WS}/{body['upload']}"
    async with server.http() as client:
        await annotate(client, body["manifest"], second, "foxing on page 2")
        refused = await client.delete(url)
        # Read through the TIFF (not one tile), so the pyramid is open.
        kept = await client.get(second["image_service"] + "/10,10,300,300/150,/0/default.jpg")
        viewer = await access.user_token(server, "visitor", WS, "viewer")
        by_viewer = await client.delete(url, headers={"Authorization": f"Bearer {viewer}"})
        deleted = await client.delete(url, params={"force": "true"})
        gone = [
            (await client.get(s["image_service"] + "/info.json")).status_code
            for s in (first, second)
        ]
        original = await client.get(body["original"])
        annotations = (await client.get(second["annotations"])).json()
        again = await client.delete(url)
        unknown = await client.delete(f"/api/media/{WS}/upload-000000000000")
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["subjects"] == [{"document": second["document"], "annotations": 1}]
    assert second["document"] in refused.json()["detail"]
    assert kept.status_code == 200  # nothing went with the refusal
    assert by_viewer.status_code == 403
    assert deleted.status_code == 204
    assert gone == [404, 404] and original.status_code == 404
    # The pyramids that were read are let go of: their disk space is freed at once.
    assert [f for f in open_files() if "pyramid.tif" in f and "(deleted)" in f] == []
    # The annotation is still there, on its subject's document.
    assert "foxing on page 2" in str(annotations)
    # Only the subjects' documents remain: no pyramid, record, original or manifest.
    leftovers = [p for p in stored(server) if "/images/" in str(p) or "/uploads/" in str(p)]
    assert leftovers == []
    assert again.status_code == 404
    assert unknown.status_code == 404


async def test_an_upload_without_annotations_is_deleted_at_once(server) -> None:
    body = (await post(server, jpeg(800, 600))).json()
    async with server.http() as client:
        deleted = await client.delete(f"/api/media/{WS}/{body['upload']}")
        tile = await client.get(body["subjects"][0]["image_service"] + "/full/100,/0/default.jpg")
    assert deleted.status_code == 204
    assert tile.status_code == 404


async def test_a_3d_model_upload_is_deleted_with_its_file(server) -> None:
    from tests.models import box_glb

    sent = box_glb()
    body = (await post(server, sent, "amphora.glb")).json()
    [subject] = body["subjects"]
    async with server.http() as client:
        assert (await client.get(body["original"])).content == sent
        assert (await client.get(subject["model"])).status_code == 200
        deleted = await client.delete(f"/api/media/{WS}/{body['upload']}")
        model = await client.get(subject["model"])
    assert deleted.status_code == 204
    assert model.status_code == 404
    assert [p for p in stored(server) if "/models/" in str(p) or "/uploads/" in str(p)] == []
