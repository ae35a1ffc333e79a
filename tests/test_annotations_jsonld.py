"""W3C JSON-LD in and out of the annotation container, with a checker of the Web Annotation
Data Model's MUSTs that every emitted annotation must pass (the IIIF export tests use it
too)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest

from annotations import (
    Annotation,
    Invalid,
    PointSelector3D,
    TextualBody,
    container_page,
    parse_annotation,
    to_jsonld,
)
from annotations.vocabularies import MOTIVATIONS

W3C = "http://www.w3.org/ns/anno.jsonld"
CONTAINER = "https://sinopia.example.org/api/annotations/museum/canvas/fol-1r-5a1f0b8e4c/"
CANVAS = "https://iiif.example-library.org/iiif/canvas/5a1f0b8e.json"
MANIFEST = "https://iiif.example-library.org/iiif/manifest/ms-douce-135.json"
AAT_TERM = "http://vocab.getty.edu/aat/300000001"  # any AAT-shaped IRI: tests need no lookup

_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+$")


# ---------------------------------------------------------------------------- the checker


def _many(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _check_iri(value: Any, what: str) -> None:
    assert isinstance(value, str) and _IRI.match(value), f"{what} must be an IRI, got {value!r}"


def _check_datetime(value: Any, what: str) -> None:
    assert isinstance(value, str), f"{what} must be an xsd:dateTime string"
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None, f"{what} should carry a timezone"


def _check_resource(resource: Any, what: str) -> None:
    if isinstance(resource, str):
        _check_iri(resource, what)
        return
    assert isinstance(resource, dict), f"{what} must be an IRI or an object"
    kind = resource.get("type")
    if kind == "TextualBody":
        assert isinstance(resource.get("value"), str), f"{what}: a TextualBody has one value"
        for key in ("format", "language"):
            if key in resource:
                assert isinstance(resource[key], str), f"{what}.{key} is a single string"
    elif kind == "SpecificResource":
        source = resource.get("source")
        assert source is not None, f"{what}: a SpecificResource has exactly one source"
        _check_iri(source if isinstance(source, str) else source.get("id"), f"{what}.source")
        for selector in _many(resource.get("selector", [])):
            assert isinstance(selector, dict) and selector.get("type"), f"{what}: selector type"
            if selector["type"] == "FragmentSelector":
                assert isinstance(selector.get("value"), str), "FragmentSelector has one value"
            if selector["type"] == "SvgSelector":
                assert "value" in selector or "id" in selector, "SvgSelector has value or id"
    else:
        _check_iri(resource.get("id"), f"{what}.id (an external resource has one IRI)")
    if "purpose" in resource:
        assert all(p in MOTIVATIONS for p in _many(resource["purpose"])), f"{what}.purpose"


def assert_w3c_annotation(data: dict[str, Any], *, embedded: bool = False) -> None:
    """The MUSTs of the W3C Web Annotation Data Model for one annotation. `embedded` ones sit
    in a page whose @context covers them (IIIF AnnotationPages)."""
    if not embedded:
        context = data.get("@context")
        assert context == W3C or (isinstance(context, list) and W3C in context), (
            "@context must be or include the Web Annotation context"
        )
    _check_iri(data.get("id"), "id")
    assert "Annotation" in _many(data.get("type")), "type must include Annotation"
    assert data.get("target"), "an annotation has one or more targets"
    for target in _many(data["target"]):
        _check_resource(target, "target")
    if "bodyValue" in data:
        assert isinstance(data["bodyValue"], str), "bodyValue is one string"
        assert "body" not in data, "bodyValue and body are never both present"
    for body in _many(data.get("body", [])):
        _check_resource(body, "body")
    for motivation in _many(data.get("motivation", [])):
        assert motivation in MOTIVATIONS, f"motivation {motivation!r} is a W3C motivation"
    for key in ("created", "modified"):
        if key in data:
            _check_datetime(data[key], key)
    for agent in _many(data.get("creator", [])):
        if isinstance(agent, dict):
            if "id" in agent:
                _check_iri(agent["id"], "creator.id")
            assert agent.get("id") or agent.get("name"), "a creator is identified or named"


# ---------------------------------------------------------------------------- sample input


def comment(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "@context": W3C,
        "id": CONTAINER + "c1",
        "type": "Annotation",
        "motivation": "commenting",
        "body": [
            {
                "type": "TextualBody",
                "value": "Flaking of the blue pigment along the hem",
                "format": "text/plain",
                "language": "en",
                "purpose": "commenting",
            },
            {
                "type": "SpecificResource",
                "purpose": "classifying",
                "source": {"id": AAT_TERM, "label": "flaking"},
            },
        ],
        "target": {
            "type": "SpecificResource",
            "source": {
                "id": CANVAS,
                "type": "Canvas",
                "partOf": [{"id": MANIFEST, "type": "Manifest"}],
            },
            "selector": {
                "type": "FragmentSelector",
                "conformsTo": "http://www.w3.org/TR/media-frags/",
                "value": "xywh=1200,3400,300,150",
            },
        },
        "creator": {
            "id": "https://sinopia.example.org/people/anna",
            "type": "Person",
            "name": "Anna",
        },
        "created": "2025-03-01T09:30:00Z",
        "modified": "2025-03-01T10:00:00Z",
    }
    data.update(overrides)
    return data


# ---------------------------------------------------------------------------- tests


def test_a_comment_round_trips_and_is_served_as_valid_w3c() -> None:
    annotation = parse_annotation(comment(), CONTAINER)
    assert annotation.id == "c1"  # stored under its local id
    out = to_jsonld(annotation, CONTAINER)
    assert_w3c_annotation(out)
    original = comment()
    for key in ("id", "motivation", "body", "target", "creator", "created", "modified"):
        assert out[key] == original[key], key
    assert parse_annotation(out, CONTAINER) == annotation


def test_body_value_shorthand_is_accepted_as_one_textual_body() -> None:
    data = comment(bodyValue="Old repair visible under UV")
    del data["body"]
    annotation = parse_annotation(data, CONTAINER)
    assert annotation.body == [TextualBody(value="Old repair visible under UV")]
    assert_w3c_annotation(to_jsonld(annotation, CONTAINER))


def test_body_and_body_value_together_are_refused() -> None:
    with pytest.raises(Invalid) as caught:
        parse_annotation(comment(bodyValue="x"), CONTAINER)
    assert "not both" in str(caught.value)


def test_mirador_annotation_without_target_type_is_understood() -> None:
    # What the Mirador annotation plugin writes: no SpecificResource type, two selectors.
    data = {
        "@context": W3C,
        "id": "mirador-uuid-1",
        "type": "Annotation",
        "motivation": "commenting",
        "body": {
            "type": "TextualBody",
            "value": "<p>Gilding <b>lost</b></p>",
            "format": "text/html",
        },
        "target": {
            "source": CANVAS,
            "selector": [
                {"type": "FragmentSelector", "value": "xywh=10,20,30,40"},
                {
                    "type": "SvgSelector",
                    "value": "<svg xmlns='http://www.w3.org/2000/svg'><path d='M10,20 L40,20 "
                    "L40,60 Z' fill-opacity='0' stroke='#00bfff' data-paper-data='{}'/></svg>",
                },
            ],
        },
    }
    annotation = parse_annotation(data, CONTAINER)
    out = to_jsonld(annotation, CONTAINER)
    assert_w3c_annotation(out)
    assert out["id"] == CONTAINER + "mirador-uuid-1"
    assert [s["type"] for s in out["target"]["selector"]] == ["FragmentSelector", "SvgSelector"]


def test_a_reply_stores_the_parent_id_and_serves_its_iri() -> None:
    reply = parse_annotation(
        {
            "@context": W3C,
            "type": "Annotation",
            "motivation": "replying",
            "body": {"type": "TextualBody", "value": "Agreed, consolidate before the loan."},
            "target": CONTAINER + "c1",
        },
        CONTAINER,
        id="r1",
    )
    assert reply.target == ["c1"]
    assert reply.reply_to() == ["c1"]
    out = to_jsonld(reply, CONTAINER)
    assert out["target"] == CONTAINER + "c1"
    assert_w3c_annotation(out)


def test_an_annotation_of_another_container_is_refused() -> None:
    data = comment(id="https://elsewhere.example/annotations/x/c1")
    with pytest.raises(Invalid) as caught:
        parse_annotation(data, CONTAINER)
    assert caught.value.problems[0].path == "id"
    assert "is not an id in" in caught.value.problems[0].message


def test_wrong_context_and_type_are_both_reported() -> None:
    data = comment(**{"@context": "http://schema.org/", "type": "Note"})
    with pytest.raises(Invalid) as caught:
        parse_annotation(data, CONTAINER)
    assert {p.path for p in caught.value.problems} == {"@context", "type"}


def test_a_3d_annotation_keeps_its_point_normal_and_camera() -> None:
    model = "https://3d.example-museum.org/iiif/scene/astrolabe"
    data = {
        "@context": W3C,
        "type": "Annotation",
        "motivation": "describing",
        "body": {"type": "TextualBody", "value": "Corrosion pit on the rete"},
        "target": {
            "type": "SpecificResource",
            "source": {"id": model, "type": "Scene"},
            "selector": {
                "type": "PointSelector",
                "x": 0.12,
                "y": -0.5,
                "z": 1.25,
                "sinopia:normal": [0, 0, 2],
                "sinopia:camera": {
                    "position": [0, 1, 5],
                    "target": [0.12, -0.5, 1.25],
                    "fieldOfView": 35,
                },
            },
        },
    }
    annotation = parse_annotation(data, CONTAINER, id="p3d")
    selector = annotation.target[0].selector[0]  # type: ignore[union-attr]
    assert isinstance(selector, PointSelector3D)
    assert selector.normal == [0.0, 0.0, 1.0]  # stored unit length
    out = to_jsonld(annotation, CONTAINER)
    assert_w3c_annotation(out)
    emitted = out["target"]["selector"]
    assert emitted["z"] == 1.25
    assert emitted["sinopia:camera"]["fieldOfView"] == 35
    assert emitted["sinopia:normal"] == [0.0, 0.0, 1.0]


def test_the_container_page_embeds_every_annotation_validly() -> None:
    first = parse_annotation(comment(), CONTAINER)
    second = Annotation(
        id="c2", target=[CANVAS + "#xywh=0,0,10,10"], body=[TextualBody(value="Dust")]
    )
    page = container_page(CONTAINER, [first, second], label="fol. 1r")
    assert page["total"] == 2
    assert W3C in page["@context"]
    for item in page["first"]["items"]:
        assert_w3c_annotation(item, embedded=True)
        assert item["id"].startswith(CONTAINER)
