"""3D subjects: a model's document keeps its asset; its annotations are a surface point with
its normal and a saved camera view, written through the REST container and exported as
W3C annotations and as the IIIF Presentation 4 draft's PointSelector with the camera as
the target's scope; the manifest gives a draft Scene; a draft manifest's comments and
camera views import back into the same shape."""

from __future__ import annotations

import json
from typing import Any

import httpx
from iiif_prezi3 import Manifest

from iiif import parse_manifest
from iiif.scenes import PRESENTATION_4, model_upload_manifest, scene_annotation

from .conftest import Running
from .test_iiif_carried import CARRIED
from .test_iiif_manifests import load

WORKSPACE = "museum"


def _pin(scene: str, text: str = "Corrosion pit on the rete") -> dict[str, Any]:
    return {
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "type": "Annotation",
        "motivation": "commenting",
        "body": {"type": "TextualBody", "value": text},
        "target": {
            "type": "SpecificResource",
            "source": {"id": scene, "type": "Scene"},
            "selector": {
                "type": "PointSelector",
                "x": 0.1,
                "y": 0.25,
                "z": -0.3,
                "sinopia:normal": [0, 2, 0],
                "sinopia:camera": {
                    "position": [0.5, 1.5, 2.0],
                    "target": [0.1, 0.25, -0.3],
                    "fieldOfView": 40,
                },
            },
        },
    }


async def _import(http: httpx.AsyncClient, body: Any) -> dict[str, Any]:
    answer = await http.post(f"/api/iiif/{WORKSPACE}/import", json=body)
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()
    return data


def test_the_draft_form_of_a_point_with_its_camera() -> None:
    scene = "https://x.example/scene/1"
    annotation = {"id": "https://s.example/a/1", **_pin(scene)}
    draft = scene_annotation(annotation, scene)
    target = draft["target"]
    assert target["source"] == [{"id": scene, "type": "Scene"}]
    (point,) = target["selector"]
    assert (point["type"], point["x"], point["y"], point["z"]) == ("PointSelector", 0.1, 0.25, -0.3)
    placed = target["scope"]["target"]["items"][0]["items"][0]
    assert target["scope"]["motivation"] == ["contentState"]
    assert placed["body"]["type"] == "PerspectiveCamera"
    assert placed["body"]["lookAt"] == {"type": "PointSelector", "x": 0.1, "y": 0.25, "z": -0.3}
    assert placed["body"]["fieldOfView"] == 40.0
    assert placed["target"]["selector"] == [{"type": "PointSelector", "x": 0.5, "y": 1.5, "z": 2.0}]
    assert draft["motivation"] == ["commenting"]


async def test_a_3d_annotation_round_trip_over_rest_and_iiif(server: Running) -> None:
    server.workspace(WORKSPACE)
    async with server.http() as http:
        done = await _import(http, load("p3_3d_scene.json"))
        model = next(s for s in done["subjects"] if s["kind"] == "model")
        # The document's meta holds the 3D asset.
        state = await http.get(f"/api/history/{model['document']}/state")
        meta = state.json()["content"]["meta"]
        assert meta["asset"] == {
            "url": "https://3d.example-museum.org/assets/astrolabe.glb",
            "format": "model/gltf-binary",
        }
        assert meta["kind"] == "model" and meta["iiif_type"] == "Scene"

        made = await http.post(model["annotations"], json=_pin(model["iiif_id"]))
        assert made.status_code == 201, made.text
        # W3C: the point, its unit normal, the camera, as stored.
        w3c = (await http.get(made.headers["location"])).json()
        selector = w3c["target"]["selector"]
        assert (selector["x"], selector["y"], selector["z"]) == (0.1, 0.25, -0.3)
        assert selector["sinopia:normal"] == [0.0, 1.0, 0.0]
        assert selector["sinopia:camera"]["position"] == [0.5, 1.5, 2.0]

        # IIIF: the draft's AnnotationPage, PointSelector on the Scene, camera as scope.
        page = await http.get(model["annotation_page"])
        assert PRESENTATION_4 in page.headers["content-type"]
        data = page.json()
        assert data["@context"] == PRESENTATION_4
        (item,) = data["items"]
        assert item["id"] == w3c["id"]
        assert item["target"]["source"] == [{"id": model["iiif_id"], "type": "Scene"}]
        assert item["target"]["selector"][0]["z"] == -0.3
        camera = item["target"]["scope"]["target"]["items"][0]["items"][0]["body"]
        assert camera["type"] == "PerspectiveCamera" and camera["fieldOfView"] == 40.0

        # The manifest: a Scene painting the model, linking that page.
        p3 = (await http.get(done["iiif_manifest"])).json()
        Manifest(**p3)  # still valid Presentation 3, the Scene left to the draft form
        assert all(c["type"] == "Canvas" for c in p3["items"])
        (see_also,) = p3["seeAlso"]
        p4 = await http.get(see_also["id"])
        assert PRESENTATION_4 in p4.headers["content-type"]
        scenes = {i["id"]: i for i in p4.json()["items"] if i["type"] == "Scene"}
        # Both 3D models of the manifest (one in a Scene, one painted on a Canvas).
        assert len(scenes) == 2
        scene = scenes[model["iiif_id"]]
        painted = scene["items"][0]["items"][0]
        assert painted["body"] == {
            "id": "https://3d.example-museum.org/assets/astrolabe.glb",
            "type": "Model",
            "format": "model/gltf-binary",
        }
        assert scene["annotations"][0]["id"] == model["annotation_page"]
        assert p4.json()["@context"] == PRESENTATION_4

        # Bad input: a 2D region on a model, a 3D point on an image canvas.
        canvas = next(s for s in done["subjects"] if s["kind"] == "canvas")
        flat = {**_pin(model["iiif_id"]), "target": f"{model['iiif_id']}#xywh=1,1,10,10"}
        refused = await http.post(model["annotations"], json=flat)
        assert refused.status_code == 400 and "PointSelector with z" in refused.text
        on_image = _pin(canvas["iiif_id"])
        refused = await http.post(canvas["annotations"], json=on_image)
        assert refused.status_code == 400 and "3D point" in refused.text
        no_normal = _pin(model["iiif_id"])
        no_normal["target"]["selector"]["sinopia:normal"] = [0, 0, 0]
        refused = await http.post(model["annotations"], json=no_normal)
        assert refused.status_code == 400 and "normal must not be zero" in refused.text


async def test_a_draft_manifests_comments_and_camera_views_import(server: Running) -> None:
    server.workspace(WORKSPACE)
    draft = json.loads((CARRIED / "p4_scene_comments.json").read_text())
    (subject,) = parse_manifest(draft)
    assert subject.kind == "model"
    async with server.http() as http:
        done = await _import(http, draft)
        (model,) = done["subjects"]
        assert model["annotations_imported"] == 2 and done["warnings"] == []
        page = (await http.get(model["annotation_page"])).json()
        by_text = {i["body"]["value"]: i for i in page["items"]}
        handle = by_text["Old solder repair on the handle"]["target"]
        assert handle["selector"][0]["sinopia:camera"] == {
            "position": [3.0, 2.5, 4.0],
            "target": [1.0, 1.9, 0.2],
            "fieldOfView": 50.0,
        }
        assert handle["scope"]["target"]["items"][0]["items"][0]["body"]["lookAt"]["x"] == 1.0
        spout = by_text["Verdigris at the spout"]["target"]
        assert spout["selector"][0]["z"] == -0.066 and "scope" not in spout
        found = (await http.get(f"/iiif/{WORKSPACE}/search", params={"q": "solder"})).json()
        assert len(found["items"]) == 1
        # A manifest of 3D models only is served in the draft form by default.
        p4 = (await http.get(done["iiif_manifest"])).json()
        assert p4["@context"] == PRESENTATION_4 and p4["items"][0]["type"] == "Scene"


def test_an_uploaded_models_manifest_makes_a_model_subject() -> None:
    data = model_upload_manifest(
        "https://s.example/iiif/m/manifest/upload-1",
        "Bronze ewer (front).glb",
        "https://s.example/api/media/m/models/model-1",
        "model/gltf-binary",
    )
    (subject,) = parse_manifest(data)
    assert subject.kind == "model" and subject.iiif_type == "Scene"
    assert subject.iiif_id == "https://s.example/iiif/m/manifest/upload-1/scene/Bronze-ewer-front"
    assert subject.asset is not None
    assert subject.asset.url == "https://s.example/api/media/m/models/model-1"
    assert subject.asset.format == "model/gltf-binary"
    assert subject.label == "Bronze ewer (front).glb"
