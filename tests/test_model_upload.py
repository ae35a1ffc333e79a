"""3D model uploads: a GLB or self-contained glTF becomes a `model` subject with a draft
Scene in its manifest, its file served back from the blob store with range requests at
the `model` URL the upload answers with; a model whose structure lies, that reaches for
other files or is over the size limit is refused with a problem and nothing stored."""

from __future__ import annotations

import asyncio
import base64
import json
import struct
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

import iiif.gltf
from iiif.scenes import PRESENTATION_4

from .conftest import Running
from .models import box_document, box_glb
from .test_cli import one_line_error, sinopia

WS = "uploads"


async def _post(server: Running, content: bytes, filename: str) -> httpx.Response:
    server.workspace(WS)
    async with httpx.AsyncClient(base_url=server.url, headers=server.headers, timeout=60) as http:
        return await http.post(f"/api/media/{WS}", files={"file": (filename, content)})


def _stored(server: Running) -> list[Path]:
    root = server.data_dir / "blobs"
    return (
        [p for p in root.rglob("*") if p.is_file() and "models" in p.parts] if root.exists() else []
    )


def _pin(scene: str) -> dict[str, Any]:
    return {
        "type": "Annotation",
        "motivation": "commenting",
        "body": {"type": "TextualBody", "value": "Casting flaw on the lid"},
        "target": {
            "type": "SpecificResource",
            "source": {"id": scene, "type": "Scene"},
            "selector": {
                "type": "PointSelector",
                "x": 0.2,
                "y": 0.6,
                "z": 0.1,
                "sinopia:normal": [0, 1, 0],
                "sinopia:camera": {"position": [1, 2, 3], "target": [0.2, 0.6, 0.1]},
            },
        },
    }


async def test_an_uploaded_glb_is_a_model_subject_served_with_ranges(server: Running) -> None:
    data = box_glb()
    answer = await _post(server, data, "Bronze box.glb")
    assert answer.status_code == 201, answer.text
    body = answer.json()
    (subject,) = body["subjects"]
    assert subject["kind"] == "model" and body["format"] == "glb"
    assert subject["document"] == f"{WS}/model/{subject['id']}"
    url = subject["model"]
    assert url.startswith(f"{server.url}/api/media/{WS}/models/model-")
    async with server.http() as http:
        whole = await http.get(url)
        assert whole.status_code == 200 and whole.content == data
        assert whole.headers["content-type"] == "model/gltf-binary"
        assert whole.headers["accept-ranges"] == "bytes"
        head = await http.get(url, headers={"Range": "bytes=0-11"})
        assert head.status_code == 206 and head.content == data[:12]
        assert head.headers["content-range"] == f"bytes 0-11/{len(data)}"
        tail = await http.get(url, headers={"Range": "bytes=-8"})
        assert tail.status_code == 206 and tail.content == data[-8:]
        rest = await http.get(url, headers={"Range": f"bytes={len(data) - 4}-"})
        assert rest.content == data[-4:]
        past = await http.get(url, headers={"Range": f"bytes={len(data)}-"})
        assert past.status_code == 416 and past.headers["content-range"] == f"bytes */{len(data)}"
        again = await http.get(url, headers={"If-None-Match": whole.headers["etag"]})
        assert again.status_code == 304
        assert (await http.head(url)).headers["content-length"] == str(len(data))
        assert (await http.get(url.replace("model-", "model-0"))).status_code == 404
        # Members only, like the workspace.
        async with httpx.AsyncClient(base_url=server.url) as stranger:
            assert (await stranger.get(url)).status_code == 401

        # The manifest: a draft Scene painting the stored file.
        manifest = (await http.get(body["manifest"])).json()
        assert manifest["@context"] == PRESENTATION_4
        (scene,) = manifest["items"]
        assert scene["type"] == "Scene"
        assert scene["items"][0]["items"][0]["body"]["id"] == url
        # The document's meta holds the asset; 3D annotations go on it and export.
        meta = (await http.get(f"/api/history/{subject['document']}/state")).json()
        assert meta["content"]["meta"]["asset"] == {"url": url, "format": "model/gltf-binary"}
        made = await http.post(subject["annotations"], json=_pin(scene["id"]))
        assert made.status_code == 201, made.text
        page = (await http.get(f"/iiif/{WS}/model/{subject['id']}/annotations")).json()
        (item,) = page["items"]
        assert item["target"]["selector"][0]["type"] == "PointSelector"
        assert "scope" in item["target"]
        found = (await http.get(f"/iiif/{WS}/search", params={"q": "casting"})).json()
        assert len(found["items"]) == 1


async def test_a_self_contained_gltf_is_taken(server: Running) -> None:
    document, binary = box_document()
    document["buffers"][0]["uri"] = (
        "data:application/octet-stream;base64," + base64.b64encode(binary).decode()
    )
    answer = await _post(server, json.dumps(document).encode(), "box.gltf")
    assert answer.status_code == 201, answer.text
    (subject,) = answer.json()["subjects"]
    async with server.http() as http:
        served = await http.get(subject["model"])
        assert served.headers["content-type"] == "model/gltf+json"


def _lying_glb() -> bytes:
    data = bytearray(box_glb())
    struct.pack_into("<I", data, 12, len(data))  # the JSON chunk claims the whole file
    return bytes(data)


def _external_gltf() -> bytes:
    document, _ = box_document()
    document["buffers"][0]["uri"] = "box.bin"
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("content", "filename", "status", "said"),
    [
        (_lying_glb(), "liar.glb", 400, "only"),
        (box_glb()[:-20], "cut.glb", 400, "header says"),
        (_external_gltf(), "split.gltf", 400, "refers to another file"),
        (b"glTF" + b"\x01\x00\x00\x00" + b"\x00" * 16, "old.glb", 400, "GLB version 1"),
    ],
)
async def test_bad_models_are_refused_and_nothing_is_stored(
    server: Running, content: bytes, filename: str, status: int, said: str
) -> None:
    answer = await _post(server, content, filename)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert said in answer.json()["detail"]
    assert _stored(server) == []
    async with server.http() as http:
        listed = (await http.get(f"/api/workspaces/{WS}/subjects")).json()
    assert listed["subjects"] == []


async def test_a_model_over_the_size_limit_is_refused(
    server: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = box_glb()
    monkeypatch.setattr(iiif.gltf, "MAX_MODEL_BYTES", len(data) - 1)
    answer = await _post(server, data, "big.glb")
    assert answer.status_code == 413 and "the limit is" in answer.json()["detail"]
    assert _stored(server) == []


async def test_sinopia_media_add_takes_models_too(make_server: Any, tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert sinopia("admin", "workspace", "add", "museum", "--data-dir", str(data)).returncode == 0
    good = tmp_path / "box.glb"
    good.write_bytes(box_glb())
    liar = tmp_path / "liar.glb"
    liar.write_bytes(_lying_glb())
    done = await asyncio.to_thread(
        sinopia, "media", "add", "museum", str(good), str(liar), "--data-dir", str(data)
    )
    one_line_error(done, "1 of 2 files were not taken")
    assert "taken box.glb" in done.stdout and "museum/model/" in done.stdout
    assert "refused liar.glb (400)" in done.stdout
    server = await make_server(data_dir=data)
    async with server.http() as http:
        (subject,) = (await http.get("/api/workspaces/museum/subjects")).json()["subjects"]
        assert subject["kind"] == "model"
        meta = (await http.get(f"/api/history/museum/model/{subject['id']}/state")).json()
        # The URL names the server's public root (here the default); its path is ours.
        served = await http.get(urlsplit(meta["content"]["meta"]["asset"]["url"]).path)
    assert served.status_code == 200 and served.content == good.read_bytes()
