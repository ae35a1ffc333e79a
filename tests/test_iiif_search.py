"""Content Search 2.0 and 1.0 over a workspace's annotations: what a researcher typing in
Mirador's search box gets back, in what order, page by page."""

from __future__ import annotations

from typing import Any

import pytest

from iiif import SearchQueryError, search_v1, search_v2

from .test_annotations_jsonld import assert_w3c_annotation

SERVICE = "https://sinopia.example.org/iiif/museum/search"
CANVAS = "https://iiif.example-library.org/iiif/canvas/5a1f0b8e.json"
AAT_FLAKING = "http://vocab.getty.edu/aat/300000001"
ANNA = "https://sinopia.example.org/people/anna"
BEN = "https://sinopia.example.org/people/ben"


def note(
    id: str,
    text: str,
    *,
    created: str = "2025-03-01T10:00:00Z",
    modified: str | None = None,
    motivation: str = "commenting",
    creator: str = ANNA,
    extra: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "id": f"https://sinopia.example.org/api/annotations/museum/canvas/f1/{id}",
        "type": "Annotation",
        "motivation": motivation,
        "body": [{"type": "TextualBody", "value": text}, *(extra or [])],
        "target": f"{CANVAS}#xywh=10,20,30,40",
        "creator": {"id": creator, "type": "Person", "name": creator.rsplit("/", 1)[1].title()},
        "created": created,
    }
    if modified:
        data["modified"] = modified
    return data


ANNOTATIONS = [
    note("old-both", "Flaking paint and a crack in the varnish", created="2025-01-01T00:00:00Z"),
    note("new-both", "Crack with flaking edges", created="2025-02-01T00:00:00Z"),
    note("only-crack", "A hairline crack", created="2025-03-01T00:00:00Z"),
    note(
        "html",
        "<p>Étude of the <b>CRACKS</b> near the seal</p>",
        created="2025-01-15T00:00:00Z",
        creator=BEN,
        motivation="describing",
    ),
    note("unrelated", "Gold leaf intact", created="2025-03-05T00:00:00Z"),
    note(
        "tagged",
        "See term",
        created="2024-12-01T00:00:00Z",
        motivation="tagging",
        extra=[{"type": "SpecificResource", "source": {"id": AAT_FLAKING, "label": "flaking"}}],
    ),
]


def ids(response: dict[str, Any], key: str = "items") -> list[str]:
    return [item.get("id", item.get("@id")).rsplit("/", 1)[1] for item in response[key]]


def test_more_matched_words_rank_first_then_the_newest() -> None:
    response = search_v2(SERVICE, {"q": "crack flaking"}, ANNOTATIONS)
    # Both words: newest first; then one word: newest first. Word prefixes, any case,
    # accents and HTML aside, and the label of a linked term all count.
    assert ids(response) == ["new-both", "old-both", "only-crack", "html", "tagged"]
    assert response["partOf"]["total"] == 5
    for item in response["items"]:
        assert_w3c_annotation(item, embedded=True)


def test_a_later_edit_makes_an_annotation_recent() -> None:
    edited = [
        *ANNOTATIONS[:2],
        note("revived", "crack", created="2020-01-01T00:00:00Z", modified="2025-06-01T00:00:00Z"),
    ]
    assert ids(search_v2(SERVICE, {"q": "crack"}, edited))[0] == "revived"


def test_accents_and_case_do_not_matter() -> None:
    assert ids(search_v2(SERVICE, {"q": "ETUDE"}, ANNOTATIONS)) == ["html"]


def test_a_uri_finds_annotations_linked_to_that_term() -> None:
    assert ids(search_v2(SERVICE, {"q": AAT_FLAKING}, ANNOTATIONS)) == ["tagged"]


def test_motivation_date_and_user_filter() -> None:
    assert ids(search_v2(SERVICE, {"motivation": "describing tagging"}, ANNOTATIONS)) == [
        "html",
        "tagged",
    ]
    january = {"date": "2025-01-01T00:00:00Z/2025-01-31T23:59:59Z"}
    assert ids(search_v2(SERVICE, january, ANNOTATIONS)) == ["html", "old-both"]
    assert ids(search_v2(SERVICE, {"q": "crack", "user": BEN}, ANNOTATIONS)) == ["html"]


def test_unsupported_parameters_are_reported_as_ignored() -> None:
    response = search_v2(
        SERVICE,
        {"q": "crack", "box": "0,0,10,10", "user": BEN},
        ANNOTATIONS,
        supported=("q", "motivation", "date"),
    )
    assert response["ignored"] == ["box", "user"]
    assert len(response["items"]) == 4  # the user filter was not applied
    assert "box" not in response["id"] and "user" not in response["id"]


def test_a_malformed_date_is_a_clear_error() -> None:
    with pytest.raises(SearchQueryError, match="is not a range YYYY-MM-DDThh:mm:ssZ"):
        search_v2(SERVICE, {"date": "2025-01-01"}, ANNOTATIONS)
    with pytest.raises(SearchQueryError, match="ends before it starts"):
        search_v2(SERVICE, {"date": "2025-02-01T00:00:00Z/2025-01-01T00:00:00Z"}, ANNOTATIONS)
    with pytest.raises(SearchQueryError, match="page must be"):
        search_v2(SERVICE, {"q": "x", "page": "0"}, ANNOTATIONS)


def test_v2_pages_link_to_each_other_and_to_the_collection() -> None:
    first = search_v2(SERVICE, {"q": "crack flaking"}, ANNOTATIONS, page_size=2)
    assert first["@context"] == [
        "http://iiif.io/api/presentation/3/context.json",
        "http://iiif.io/api/search/2/context.json",
    ]
    assert first["id"] == SERVICE + "?q=crack+flaking&page=1"
    assert first["partOf"]["id"] == SERVICE + "?q=crack+flaking"
    assert first["partOf"]["total"] == 5
    assert first["partOf"]["last"]["id"].endswith("page=3")
    assert first["next"]["id"].endswith("page=2") and "prev" not in first
    last = search_v2(SERVICE, {"q": "crack flaking", "page": "3"}, ANNOTATIONS, page_size=2)
    assert ids(last) == ["tagged"]
    assert last["prev"]["id"].endswith("page=2") and "next" not in last
    assert last["startIndex"] == 4
    # Together the pages hold every match once.
    pages = [
        search_v2(SERVICE, {"q": "crack flaking", "page": str(n)}, ANNOTATIONS, page_size=2)
        for n in (1, 2, 3)
    ]
    assert [i for p in pages for i in ids(p)] == ids(
        search_v2(SERVICE, {"q": "crack flaking"}, ANNOTATIONS)
    )


def test_v2_highlights_quote_the_matched_words() -> None:
    response = search_v2(SERVICE, {"q": "hairline"}, ANNOTATIONS)
    [highlight] = response["annotations"][0]["items"]
    assert highlight["motivation"] == "highlighting"
    assert highlight["target"]["source"] == response["items"][0]["id"]
    [quote] = highlight["target"]["selector"]
    assert (quote["prefix"], quote["exact"], quote["suffix"]) == ("A ", "hairline", " crack")
    assert "@context" not in response["items"][0]


def test_v1_answers_in_the_presentation_2_shape() -> None:
    response = search_v1(SERVICE + "/v1", {"q": "crack", "foo": "bar"}, ANNOTATIONS, page_size=2)
    assert response["@type"] == "sc:AnnotationList"
    assert response["@context"] == [
        "http://iiif.io/api/presentation/2/context.json",
        "http://iiif.io/api/search/1/context.json",
    ]
    assert response["within"]["total"] == 4
    assert response["within"]["ignored"] == ["foo"]
    assert response["within"]["first"].endswith("page=0")
    assert response["next"].endswith("page=1")
    resource = response["resources"][0]
    assert resource["@type"] == "oa:Annotation"
    assert resource["motivation"] == ["oa:commenting"]
    assert resource["on"] == f"{CANVAS}#xywh=10,20,30,40"
    assert resource["resource"]["chars"] == "A hairline crack"
    hit = response["hits"][0]
    assert hit["annotations"] == [resource["@id"]]
    assert (hit["before"], hit["match"], hit["after"]) == ("A hairline ", "crack", "")


def test_v1_points_and_shapes_become_regions_of_the_canvas() -> None:
    shape = note("shape", "crack")
    shape["target"] = {
        "type": "SpecificResource",
        "source": CANVAS,
        "selector": {"type": "SvgSelector", "value": "<svg><path d='M0,0 L1,1'/></svg>"},
    }
    point = note("point", "crack")
    point["target"] = {
        "type": "SpecificResource",
        "source": CANVAS,
        "selector": {"type": "PointSelector", "x": 5, "y": 6},
    }
    response = search_v1(SERVICE + "/v1", {"q": "crack"}, [shape, point])
    on = {r["@id"].rsplit("/", 1)[1]: r["on"] for r in response["resources"]}
    assert on["point"] == f"{CANVAS}#xywh=5,6,1,1"
    assert on["shape"]["selector"]["@type"] == "oa:SvgSelector"


def test_no_parameters_lists_everything_newest_first() -> None:
    response = search_v2(SERVICE, {}, ANNOTATIONS)
    assert ids(response)[0] == "unrelated"
    assert response["partOf"]["total"] == len(ANNOTATIONS)
    assert "ignored" not in response
