"""IIIF Content State links: "open this folio at this annotation", shared by URL."""

from __future__ import annotations

import json

import pytest

from iiif import ContentState, ContentStateError
from iiif.content_state import decode, encode

CANVAS = "https://iiif.example-library.org/iiif/canvas/5a1f0b8e.json"
MANIFEST = "https://iiif.example-library.org/iiif/manifest/ms-douce-135.json"
ANNOTATION = "https://sinopia.example.org/api/annotations/museum/canvas/f1/c1"


def test_encoding_matches_the_specifications_example() -> None:
    # IIIF Content State 1.0, section 6.3: the condensed JSON and its encoded form.
    condensed = (
        '{"id":"https://example.org/object1/canvas7#xywh=1000,2000,1000,2000",'
        '"type":"Canvas","partOf":[{"id":"https://example.org/object1/manifest",'
        '"type":"Manifest"}]}'
    )
    expected = (
        "JTdCJTIyaWQlMjIlM0ElMjJodHRwcyUzQSUyRiUyRmV4YW1wbGUub3JnJTJGb2JqZWN0MSUyRmNhbnZhczcl"
        "MjN4eXdoJTNEMTAwMCUyQzIwMDAlMkMxMDAwJTJDMjAwMCUyMiUyQyUyMnR5cGUlMjIlM0ElMjJDYW52YXMl"
        "MjIlMkMlMjJwYXJ0T2YlMjIlM0ElNUIlN0IlMjJpZCUyMiUzQSUyMmh0dHBzJTNBJTJGJTJGZXhhbXBsZS5v"
        "cmclMkZvYmplY3QxJTJGbWFuaWZlc3QlMjIlMkMlMjJ0eXBlJTIyJTNBJTIyTWFuaWZlc3QlMjIlN0QlNUQlN0Q"
    )
    assert encode(condensed) == expected
    assert decode(expected) == json.loads(condensed)
    state = ContentState.decode(expected)
    assert (state.canvas, state.region, state.manifest) == (
        "https://example.org/object1/canvas7",
        "1000,2000,1000,2000",
        "https://example.org/object1/manifest",
    )


def test_a_link_to_an_annotation_round_trips() -> None:
    state = ContentState(
        canvas=CANVAS, manifest=MANIFEST, region="1200,3400,300,150", annotation=ANNOTATION
    )
    encoded = state.encode()
    assert "=" not in encoded and "+" not in encoded and "/" not in encoded  # URL-safe
    assert ContentState.decode(encoded) == state
    target = state.to_json()
    assert target["id"] == f"{CANVAS}#xywh=1200,3400,300,150"  # what generic viewers zoom to
    assert target["partOf"] == [{"id": MANIFEST, "type": "Manifest"}]


def test_non_ascii_identifiers_survive() -> None:
    state = ContentState(canvas="https://example.org/canvas/été", manifest=MANIFEST)
    assert ContentState.decode(state.encode()) == state


def test_the_full_annotation_form_and_a_specific_resource_are_understood() -> None:
    full = {
        "@context": "http://iiif.io/api/presentation/3/context.json",
        "id": "https://example.org/import/1",
        "type": "Annotation",
        "motivation": ["contentState"],
        "target": {
            "type": "SpecificResource",
            "source": {
                "id": CANVAS,
                "type": "Canvas",
                "partOf": [{"id": MANIFEST, "type": "Manifest"}],
            },
            "selector": {"type": "FragmentSelector", "value": "xywh=1,2,3,4"},
        },
    }
    state = ContentState.decode(encode(full))
    assert (state.canvas, state.manifest, state.region) == (CANVAS, MANIFEST, "1,2,3,4")
    # Unencoded JSON (paste, drag and drop) and a bare manifest URI are accepted too.
    assert ContentState.decode(json.dumps(full)).canvas == CANVAS
    assert ContentState.decode(MANIFEST).canvas == MANIFEST


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("not base64!", "not base64url"),
        ("abcde", "not base64url"),
        (encode("not json"), "not JSON"),
        (
            encode({"type": "Annotation", "motivation": "commenting", "target": CANVAS}),
            "contentState",
        ),
        (encode({"type": "Canvas"}), "has no id"),
        (encode({"id": CANVAS + "#xywh=a,b,c,d", "type": "Canvas"}), "is not x,y,w,h"),
    ],
)
def test_garbage_is_refused_clearly(text: str, message: str) -> None:
    with pytest.raises(ContentStateError, match=message):
        ContentState.decode(text)
