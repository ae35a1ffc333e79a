"""Importing manifests shaped like those of major IIIF publishers: what subjects a person
gets to annotate, with which labels, sizes, image services and 3D assets."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from crdt.names import DocumentName
from iiif import ManifestError, language_map, parse_manifest, pick, subject_id

FIXTURES = Path(__file__).parent / "fixtures" / "iiif"


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def test_a_presentation_3_book_gives_one_subject_per_canvas() -> None:
    subjects = parse_manifest(load("p3_book_of_hours.json"))
    assert [s.kind for s in subjects] == ["canvas"] * 3
    assert [s.label for s in subjects] == [
        "fol. 1r",
        "fol. 1v: Annunciation miniature",
        "fol. 2r (multispectral)",
    ]
    first, second, third = subjects
    assert first.manifest == "https://iiif.example-library.org/iiif/manifest/ms-douce-135.json"
    assert first.manifest_label == "Book of Hours, use of Rome (MS. Douce 135)"
    assert (first.width, first.height) == (5412, 7216)
    # The first service a publisher lists wins: here Image API 3 ahead of its 2 twin.
    assert first.image_service is not None
    assert (first.image_service.version, first.image_service.profile) == (3, "level1")
    assert first.thumbnail and first.thumbnail.endswith("/full/256,/0/default.jpg")
    # The canvas states no size: the image's is used; `info.json` is not part of a service id.
    assert (second.width, second.height) == (5380, 7190)
    assert second.image_service is not None
    assert second.image_service.id == "https://iiif.example-library.org/iiif/image/7c2e91d4-img"
    assert (second.image_service.version, second.image_service.profile) == (2, "level2")
    assert second.label_map == {
        "en": ["fol. 1v: Annunciation miniature"],
        "fr": ["fol. 1v : miniature de l'Annonciation"],
    }
    # A Choice of images (natural light / UV): the first is the one annotated.
    assert third.image is not None and third.image.id.endswith(
        "9e4b7a20-natural/full/max/0/default.jpg"
    )
    # No thumbnail given: one is asked of the image service.
    assert third.thumbnail == (
        "https://iiif.example-library.org/iiif/image/9e4b7a20-natural/full/!200,200/0/default.jpg"
    )


def test_a_presentation_2_manifest_with_old_services_and_loose_values() -> None:
    subjects = parse_manifest(load("p2_gallica_style.json"))
    assert len(subjects) == 3
    cover, january, unlabelled = subjects
    assert cover.label == "Plat supérieur"
    assert cover.image_service is not None
    assert (cover.image_service.version, cover.image_service.profile) == (1, "level2")
    assert cover.thumbnail and cover.thumbnail.endswith("/f1/full/,128/0/native.jpg")
    # Labels as @value/@language lists: English preferred, every language kept.
    assert january.label == "January: the New Year gifts"
    assert january.label_map["fr"] == ["Janvier : les étrennes"]
    assert (january.width, january.height) == (4010, 5330)  # given as strings
    assert january.image_service is not None and january.image_service.version == 2
    assert unlabelled.label == "Canvas 3"
    assert unlabelled.image_service is not None
    assert unlabelled.image_service.id.endswith("/f3")  # trailing slash dropped


def test_3d_models_become_model_subjects() -> None:
    subjects = parse_manifest(load("p3_3d_scene.json"))
    assert [(s.kind, s.iiif_type) for s in subjects] == [
        ("model", "Scene"),
        ("model", "Canvas"),
        ("canvas", "Canvas"),
    ]
    scene, on_canvas, photo = subjects
    assert scene.asset is not None
    assert (scene.asset.url, scene.asset.format) == (
        "https://3d.example-museum.org/assets/astrolabe.glb",
        "model/gltf-binary",
    )
    # A model wrapped in a SpecificResource, its format told by its extension.
    assert on_canvas.asset is not None and on_canvas.asset.format == "model/gltf+json"
    assert photo.label == "Study photograph (front)"  # a plain-string label, tolerated
    assert photo.image_service is not None and photo.image_service.version == 3


@pytest.mark.parametrize(
    "fixture", ["p3_book_of_hours.json", "p2_gallica_style.json", "p3_3d_scene.json"]
)
def test_subject_ids_are_stable_safe_document_names(fixture: str) -> None:
    first = parse_manifest(load(fixture))
    again = parse_manifest(load(fixture))
    assert [s.id for s in first] == [s.id for s in again]
    for subject in first:
        name = DocumentName.of("museum", subject.kind, subject.id)  # the store accepts it
        assert str(name) == subject.document_name("museum")


@pytest.mark.parametrize(
    "iiif_id",
    [
        "https://example.org/iiif/book1/canvas/p1",
        "https://example.org/iiif/book1/canvas/p1.json",
        "urn:uuid:5a1f0b8e-4c1d-4e0a-9a4e-2f0e5d8c1b01",
        "https://example.org/canvas/%C3%A9t%C3%A9/..",
        "https://example.org/" + "x" * 500,
        "https://example.org/",
        "https://example.org/manifest#canvas=1",
    ],
)
def test_any_canvas_id_gives_a_valid_distinct_subject_id(iiif_id: str) -> None:
    made = subject_id(iiif_id)
    DocumentName.of("museum", "canvas", made)
    assert made != subject_id(iiif_id + "x")


def test_readable_slugs() -> None:
    assert subject_id("https://example.org/iiif/book1/canvas/p1").startswith("canvas-p1-")
    assert subject_id("https://example.org/iiif/canvas/folio-12r.json").startswith("folio-12r-")


def test_label_forms() -> None:
    assert language_map("fol. 1") == {"none": ["fol. 1"]}
    assert language_map([{"@value": "f. 1", "@language": "fr"}, "plain"]) == {
        "fr": ["f. 1"],
        "none": ["plain"],
    }
    assert pick({"de": ["Blatt 1"], "en-GB": ["Leaf 1"]}) == "Leaf 1"
    assert pick({"de": ["Blatt 1"]}) == "Blatt 1"
    assert pick({}) == ""


def broken(mutate: Any, fixture: str = "p3_book_of_hours.json") -> str:
    data = copy.deepcopy(load(fixture))
    mutate(data)
    with pytest.raises(ManifestError) as caught:
        parse_manifest(data)
    return str(caught.value)


def test_bad_input_is_refused_with_the_place_and_the_problem() -> None:
    with pytest.raises(ManifestError, match="must be a JSON object"):
        parse_manifest([])
    assert "not a IIIF Presentation manifest" in broken(
        lambda d: d.update({"@context": None, "type": None})
    )
    assert "expected a Manifest" in broken(lambda d: d.update({"type": "Collection"}))
    assert "items:" in broken(lambda d: d.pop("items"))
    assert "items[1]: the Canvas has no id" in broken(lambda d: d["items"][1].pop("id"))
    assert "items[0].width: expected a positive whole number, got -3" in broken(
        lambda d: d["items"][0].update({"width": -3})
    )
    assert "items[2].label:" in broken(lambda d: d["items"][2].update({"label": True}))
    assert "no canvases" in broken(lambda d: d.update({"items": []}))
    assert "sequences:" in broken(lambda d: d.pop("sequences"), "p2_gallica_style.json")
    assert "sequences[0].canvases[0]: expected a canvas object" in broken(
        lambda d: d["sequences"][0]["canvases"].__setitem__(0, "f1"), "p2_gallica_style.json"
    )


def test_a_canvas_listed_twice_is_imported_once() -> None:
    data = load("p3_book_of_hours.json")
    data["items"].append(copy.deepcopy(data["items"][0]))
    assert len(parse_manifest(data)) == 3
