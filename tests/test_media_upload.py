"""Uploads over HTTP: an image becomes subjects (one per page) with a IIIF image service
and a manifest, annotated live and exported and searched like an imported one; every bad
upload is a problem+json and leaves nothing stored; attachments are downloads only."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from PIL import Image

from annotations import parse_annotation, write_annotation
from tests import pictures
from tests.conftest import eventually
from tests.yclient import YClient

WS = "uploads"


def jpeg(width: int = 1600, height: int = 1200) -> bytes:
    return bytes(pictures.picture(width, height).jpegsave_buffer(Q=90))


async def post(server, content: bytes, filename: str = "photo.jpg", **kw) -> httpx.Response:
    server.workspace(WS)
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers, timeout=60) as client:
        return await client.post(f"/api/media/{WS}", files={"file": (filename, content)}, **kw)


def stored(server) -> list[Path]:
    root = server.data_dir / "blobs" / "data"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def test_an_uploaded_image_is_a_subject_with_an_image_service_and_a_manifest(server) -> None:
    answer = await post(server, jpeg(), "Saint Jerome, detail.jpg")
    assert answer.status_code == 201, answer.text
    body = answer.json()
    [subject] = body["subjects"]
    assert subject["kind"] == "canvas"
    assert subject["document"] == f"{WS}/canvas/{subject['id']}"
    assert subject["image_service"] == f"{server.url}/iiif/{WS}/image/{subject['id']}"
    assert (subject["width"], subject["height"], body["format"]) == (1600, 1200, "jpeg")
    assert answer.headers["location"] == body["manifest"]
    async with server.http() as client:
        info = (await client.get(subject["image_service"] + "/info.json")).json()
        assert (info["width"], info["height"]) == (1600, 1200)
        tile = await client.get(subject["image_service"] + "/0,0,512,512/512,/0/default.jpg")
        assert Image.open(io.BytesIO(tile.content)).size == (512, 512)
        manifest = (await client.get(body["manifest"])).json()
        assert manifest["id"] == body["manifest"]
        assert manifest["label"] == {"none": ["Saint Jerome, detail.jpg"]}
        [canvas] = manifest["items"]
        painted = canvas["items"][0]["items"][0]["body"]
        assert painted["service"][0]["id"] == subject["image_service"]
        listed = (await client.get(f"/api/workspaces/{WS}/subjects")).json()
    assert subject["id"] in str(listed)


async def test_a_multi_page_tiff_makes_a_subject_per_page(server, tmp_path: Path) -> None:
    path = pictures.multi_page(tmp_path / "f.tif", [pictures.picture(800, 600)] * 3)
    answer = await post(server, path.read_bytes(), "register.tif")
    assert answer.status_code == 201, answer.text
    subjects = answer.json()["subjects"]
    assert [s["page"] for s in subjects] == [1, 2, 3]
    assert len({s["image_service"] for s in subjects}) == 3
    assert subjects[1]["label"] == "register.tif, page 2"


async def test_upload_annotate_live_export_and_search(server) -> None:
    answer = await post(server, jpeg(), "gaenseliesel.jpg")
    subject = answer.json()["subjects"][0]
    async with server.http() as client:
        manifest = (await client.get(answer.json()["manifest"])).json()
    canvas = manifest["items"][0]["id"]
    live = await YClient(server.ws(subject["document"])).connect()
    annotation = parse_annotation(
        {
            "type": "Annotation",
            "motivation": "commenting",
            "body": {"type": "TextualBody", "value": "Gänseliesel flaking at the hem"},
            "target": {
                "type": "SpecificResource",
                "source": canvas,
                "selector": {"type": "FragmentSelector", "value": "xywh=100,200,300,400"},
            },
        },
        subject["annotations"],
        id="hem",
    )
    write_annotation(live.doc, annotation)
    async with server.http() as client:
        # What the live client wrote is in the IIIF exports and the search.
        page_url = f"/iiif/{WS}/canvas/{subject['id']}/annotations"
        page: dict = {}

        async def exported() -> bool:
            page.update((await client.get(page_url)).json())
            return bool(page.get("items"))

        await eventually(exported, what="the live annotation in the AnnotationPage")
        [item] = page["items"]
        assert item["target"]["source"] == canvas
        assert "xywh=100,200,300,400" in str(item["target"])
        manifest = (await client.get(answer.json()["manifest"])).json()
        assert manifest["items"][0]["annotations"][0]["id"].endswith(page_url)
        found = (await client.get(f"/iiif/{WS}/search", params={"q": "gänseliesel"})).json()
        assert [hit["id"] for hit in found["items"]] == [item["id"]]
    await live.close()


async def test_the_manifest_label_and_metadata_can_be_edited(server) -> None:
    answer = await post(server, jpeg(), "IMG_0042.jpg")
    url = answer.json()["manifest"]
    async with server.http() as client:
        patched = await client.patch(
            url,
            json={
                "label": {"en": ["Altarpiece, left wing"], "fr": ["Retable, volet gauche"]},
                "metadata": [{"label": "Inventory", "value": "INV 1234"}],
            },
        )
        assert patched.status_code == 200, patched.text
        manifest = (await client.get(url)).json()
        bad = await client.patch(url, json={"label": ""})
        imported = await client.patch(f"/iiif/{WS}/manifest/not-an-upload", json={"label": "x"})
        subjects = (await client.get(f"/api/workspaces/{WS}/subjects")).json()
    assert manifest["label"]["fr"] == ["Retable, volet gauche"]
    assert manifest["metadata"] == [
        {"label": {"none": ["Inventory"]}, "value": {"none": ["INV 1234"]}}
    ]
    assert bad.status_code == 400 and imported.status_code == 404
    assert "Altarpiece, left wing" in str(subjects)


async def test_bad_uploads_are_problems_and_leave_nothing(make_server, tmp_path: Path) -> None:
    server = await make_server(media_max_upload_bytes=2_000_000, media_max_pixels=20_000_000)
    whole = jpeg(1200, 900)
    cases = [
        (b"just text named like a photograph\n" * 30, "photo.jpg", 415, "text"),
        (pictures.SVG, "drawing.png", 415, "scripts"),
        (pictures.HTML, "page.jpg", 415, "scripts"),
        (b"%PDF-1.4\n" + b"\x00" * 200, "report.jpg", 415, "attach them to a report"),
        (b"", "empty.jpg", 400, "empty"),
        (whole[: len(whole) // 2], "cut.jpg", 400, "damaged"),
        (pictures.png_header_only(100_000, 100_000), "bomb.png", 413, "100000 x 100000"),
        (pictures.png_header_only(5000, 5000), "big.png", 413, "pixels"),
    ]
    for content, name, status, said in cases:
        got = await post(server, content, name)
        assert got.status_code == status, (name, got.text)
        assert got.headers["content-type"] == "application/problem+json"
        assert said in got.json()["detail"], (name, got.json())
    assert stored(server) == []


async def test_an_upload_over_the_limit_is_stopped_while_it_streams(make_server) -> None:
    server = await make_server(media_max_upload_bytes=300_000)
    server.workspace(WS)
    boundary = "limitboundary"
    received: list[int] = []

    async def body() -> AsyncIterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        for _ in range(40):  # 2.5 MB, no Content-Length: only counting can stop it
            received.append(1)
            yield b"\xff" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    async with server.http() as client:
        got = await client.post(
            f"/api/media/{WS}",
            content=body(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        declared = await client.post(
            f"/api/media/{WS}",
            content=b"x" * 400_000,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
    assert got.status_code == 413 and "300,000" in got.json()["detail"]
    assert declared.status_code == 413
    assert stored(server) == []
    assert not [p for p in (server.data_dir / "media" / "tmp").rglob("*") if p.is_file()]


async def test_what_is_not_a_form_with_a_file(server) -> None:
    server.workspace(WS)
    async with server.http() as client:
        raw = await client.post(
            f"/api/media/{WS}", content=jpeg(), headers={"Content-Type": "image/jpeg"}
        )
        other_field = await client.post(f"/api/media/{WS}", files={"picture": ("a.jpg", jpeg())})
    assert raw.status_code == 415 and "multipart/form-data" in raw.json()["detail"]
    assert other_field.status_code == 400 and "'file'" in other_field.json()["detail"]


async def test_file_names_that_try_path_traversal_are_only_labels(server, tmp_path: Path) -> None:
    answer = await post(server, jpeg(), "../../../../tmp/evil/../../etc/passwd.jpg")
    assert answer.status_code == 201
    assert answer.json()["filename"] == "passwd.jpg"
    assert answer.json()["subjects"][0]["label"] == "passwd.jpg"
    assert not await asyncio.to_thread(Path("/tmp/evil").exists)
    assert all(server.data_dir in p.parents for p in stored(server))


async def test_a_viewer_cannot_upload(server) -> None:
    from tests import access

    token = await access.user_token(server, "visitor", WS, "viewer")
    async with httpx.AsyncClient(base_url=server.url) as client:
        got = await client.post(
            f"/api/media/{WS}",
            files={"file": ("a.jpg", jpeg())},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert got.status_code == 403
    assert stored(server) == []


async def test_a_pdf_attached_to_a_report_is_only_ever_a_download(server) -> None:
    server.workspace(WS)
    pdf = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers, timeout=30) as client:
        made = await client.post(
            f"/api/reports/{WS}", json={"type": "condition", "title": "1952 report"}
        )
        assert made.status_code == 201, made.text
        report = made.json()["id"]
        attached = await client.post(
            f"/api/reports/{WS}/{report}/attachments",
            files={"file": ("../1952 report (scan).pdf", pdf, "text/html")},
            data={"caption": "Typed report of 1952"},
        )
        assert attached.status_code == 201, attached.text
        body = attached.json()
        got = await client.get(body["download"])
        listed = (await client.get(f"/api/reports/{WS}/{report}")).json()
        svg = await client.post(
            f"/api/reports/{WS}/{report}/attachments", files={"file": ("x.pdf", pictures.SVG)}
        )
    assert got.content == pdf
    assert got.headers["content-type"] == "application/pdf"  # from the bytes, not the client
    assert got.headers["content-disposition"].startswith("attachment;")
    assert "1952 report (scan).pdf" in got.headers["content-disposition"]
    assert got.headers["x-content-type-options"] == "nosniff"
    assert (body["filename"], body["caption"]) == ("1952 report (scan).pdf", "Typed report of 1952")
    assert [a["blob"] for a in listed["report"]["attachments"]] == [body["blob"]]
    assert svg.status_code == 415
