"""The Presentation 3 export a IIIF viewer (Mirador 3/4) loads: per-canvas AnnotationPages
and a workspace Manifest, both validated by iiif-prezi3, every annotation by the W3C
checker."""

from __future__ import annotations

import json
from typing import Any

import pytest
from iiif_prezi3 import AnnotationPage, Manifest
from pydantic import ValidationError

from annotations import Annotation, TextualBody, parse_annotation, to_jsonld
from iiif import WorkspaceUrls, annotation_page, manifest, parse_manifest

from .test_annotations_jsonld import AAT_TERM, assert_w3c_annotation, comment
from .test_iiif_manifests import load

URLS = WorkspaceUrls(base_url="https://sinopia.example.org/", workspace="museum")


def canvas_annotations() -> tuple[str, str, list[dict[str, Any]]]:
    subject = parse_manifest(load("p3_book_of_hours.json"))[0]
    container = URLS.annotation_container(subject.kind, subject.id)
    data = comment(id=container + "c1")
    data["target"]["source"]["id"] = subject.iiif_id
    region = parse_annotation(data, container)
    point = Annotation(
        id="p1",
        motivation="identifying",
        body=[TextualBody(value="Prick mark", purpose="identifying")],
        target=[
            {
                "type": "SpecificResource",
                "source": subject.iiif_id,
                "selector": {"type": "PointSelector", "x": 40, "y": 7000},
            }
        ],
    )
    reply = Annotation(
        id="r1", motivation="replying", target=["c1"], body=[TextualBody(value="ok")]
    )
    items = [to_jsonld(a, container) for a in (region, point, reply)]
    return subject.iiif_id, URLS.annotation_page(subject.kind, subject.id), items


def test_a_canvas_page_loads_in_iiif_prezi3_and_holds_valid_annotations() -> None:
    canvas_id, page_id, items = canvas_annotations()
    page = annotation_page(page_id, items, target=canvas_id)
    loaded = AnnotationPage(**page)
    assert str(loaded.id) == page_id
    assert page["@context"] == "http://iiif.io/api/presentation/3/context.json"
    # The reply targets an annotation, not the canvas: threads stay in the W3C container.
    assert [item["id"].rsplit("/", 1)[1] for item in page["items"]] == ["c1", "p1"]
    for item in page["items"]:
        assert "@context" not in item  # the page's context covers them
        assert_w3c_annotation(item, embedded=True)
    # Vocabulary terms in the cookbook's tagging shape, their label shown as text.
    bodies = page["items"][0]["body"]
    assert {"type": "SpecificResource", "source": AAT_TERM, "purpose": "classifying"} in bodies
    assert {
        "type": "TextualBody",
        "value": "flaking",
        "format": "text/plain",
        "purpose": "classifying",
    } in bodies
    # Mirador finds annotations for a canvas by the target's source id.
    assert page["items"][0]["target"]["source"]["id"] == canvas_id
    assert page["items"][1]["target"]["source"] == canvas_id
    json.dumps(page)


def test_an_empty_page_is_still_a_valid_page() -> None:
    page = annotation_page(URLS.annotation_page("canvas", "x"), [])
    AnnotationPage(**page)
    assert page["items"] == []


def test_the_workspace_manifest_shows_original_images_with_our_annotations() -> None:
    subjects = (
        parse_manifest(load("p3_book_of_hours.json"))
        + parse_manifest(load("p2_gallica_style.json"))
        + parse_manifest(load("p3_3d_scene.json"))
    )
    exported = manifest(URLS, "loan-2025", subjects, label="Loan 2025")
    loaded = Manifest(**exported)
    assert str(loaded.id) == "https://sinopia.example.org/iiif/museum/manifest/loan-2025"
    assert exported["label"] == {"none": ["Loan 2025"]}
    canvases = exported["items"]
    # Image canvases only (Presentation 3 has no 3D), in manifest order, original ids kept.
    image_subjects = [s for s in subjects if s.kind == "canvas"]
    in_order = sorted(image_subjects, key=lambda s: (s.manifest or "", s.index))
    assert [c["id"] for c in canvases] == [s.iiif_id for s in in_order]
    by_id = {c["id"]: c for c in canvases}
    for subject in image_subjects:
        canvas = by_id[subject.iiif_id]
        assert canvas["annotations"] == [
            {"id": URLS.annotation_page("canvas", subject.id), "type": "AnnotationPage"}
        ]
        [painting] = canvas["items"][0]["items"]
        assert painting["target"] == subject.iiif_id
        assert (canvas["width"], canvas["height"]) == (subject.width, subject.height)
    # Version 2 image services keep their JSON-LD keys, as Presentation 3 asks.
    annunciation = by_id[image_subjects[1].iiif_id]
    service = annunciation["items"][0]["items"][0]["body"]["service"][0]
    assert service == {
        "@id": "https://iiif.example-library.org/iiif/image/7c2e91d4-img",
        "@type": "ImageService2",
        "profile": "level2",
    }
    types = [s.get("type") or s.get("@type") for s in exported["service"]]
    assert types == ["SearchService2", "SearchService1"]


def test_prezi3_would_catch_a_broken_export() -> None:
    # The check above means something: the same manifest with a bad canvas size is refused.
    subjects = parse_manifest(load("p3_book_of_hours.json"))
    exported = manifest(URLS, "m", subjects)
    exported["items"][0]["width"] = "wide"
    with pytest.raises(ValidationError):
        Manifest(**exported)


def test_a_3d_model_page_keeps_points_normals_and_camera_views() -> None:
    scene = parse_manifest(load("p3_3d_scene.json"))[0]
    container = URLS.annotation_container(scene.kind, scene.id)
    pin = Annotation(
        id="pin",
        motivation="describing",
        body=[TextualBody(value="Corrosion pit on the rete")],
        target=[
            {
                "type": "SpecificResource",
                "source": {"id": scene.iiif_id, "type": "Scene"},
                "selector": {
                    "type": "PointSelector",
                    "x": 0.1,
                    "y": 0.2,
                    "z": 0.3,
                    "sinopia:normal": [0, 1, 0],
                    "sinopia:camera": {"position": [0, 0, 2], "target": [0.1, 0.2, 0.3]},
                },
            }
        ],
    )
    page = annotation_page(
        URLS.annotation_page(scene.kind, scene.id),
        [to_jsonld(pin, container)],
        target=scene.iiif_id,
    )
    [item] = page["items"]
    assert_w3c_annotation(item, embedded=True)
    selector = item["target"]["selector"]
    assert (selector["x"], selector["y"], selector["z"]) == (0.1, 0.2, 0.3)
    assert selector["sinopia:normal"] == [0.0, 1.0, 0.0]
    assert selector["sinopia:camera"]["fieldOfView"] == 45.0
