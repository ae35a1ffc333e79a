"""What a person sending a bad annotation is told: unknown selectors, malformed regions,
regions off the canvas, oversized or hostile content, bad ids."""

from __future__ import annotations

from typing import Any

import pytest

from annotations import Annotation, Invalid, check_annotation, parse_annotation
from annotations.models import MAX_BODY_BYTES

from .test_annotations_jsonld import CANVAS, CONTAINER, W3C


def annotation(target: Any, body: Any = None, **fields: Any) -> dict[str, Any]:
    return {
        "@context": W3C,
        "type": "Annotation",
        "motivation": "commenting",
        "body": body if body is not None else {"type": "TextualBody", "value": "note"},
        "target": target,
        **fields,
    }


def on_canvas(selector: Any) -> dict[str, Any]:
    return annotation({"type": "SpecificResource", "source": CANVAS, "selector": selector})


def problems_of(data: dict[str, Any], id: str = "a1") -> list[str]:
    with pytest.raises(Invalid) as caught:
        parse_annotation(data, CONTAINER, id=id)
    return [str(p) for p in caught.value.problems]


def test_an_unknown_selector_type_is_named_with_the_choices() -> None:
    [message] = problems_of(on_canvas({"type": "CssSelector", "value": "#x"}))
    assert "unknown selector type 'CssSelector'" in message
    assert "FragmentSelector, SvgSelector, PointSelector" in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("xywh=10,20,thirty,40", "must be numbers"),
        ("xywh=10,20,30", "four numbers"),
        ("xywh=-5,20,30,40", "must not be negative"),
        ("xywh=10,20,0,40", "greater than zero"),
        ("xywh=10.5,20,30,40", "whole numbers"),
        ("xywh=percent:90,0,20,10", "within 0-100"),
        ("t=20,10", "end is before the start"),
        ("zoom=2", "expected xywh"),
    ],
)
def test_a_malformed_media_fragment_says_what_is_wrong(value: str, expected: str) -> None:
    [message] = problems_of(on_canvas({"type": "FragmentSelector", "value": value}))
    assert expected in message
    assert message.startswith("target/0/selector/0")


def test_well_formed_fragments_are_normalised() -> None:
    parsed = parse_annotation(
        on_canvas({"type": "FragmentSelector", "value": "xywh=pixel:10,20,30,40&t=npt:1:05,70"}),
        CONTAINER,
        id="a1",
    )
    selector = parsed.target[0].selector[0]  # type: ignore[union-attr]
    assert selector.value == "xywh=10,20,30,40&t=65,70"  # type: ignore[union-attr]


def test_a_fragment_selector_of_another_standard_is_refused() -> None:
    messages = problems_of(
        on_canvas(
            {
                "type": "FragmentSelector",
                "conformsTo": "http://tools.ietf.org/rfc/rfc3778",
                "value": "page=2",
            }
        )
    )
    assert any(
        "conformsTo 'http://tools.ietf.org/rfc/rfc3778' is not supported" in m for m in messages
    )


def test_regions_outside_the_canvas_are_reported_with_its_size() -> None:
    inside = parse_annotation(annotation(CANVAS + "#xywh=0,0,5412,7216"), CONTAINER, id="a1")
    assert check_annotation(inside, source=CANVAS, width=5412, height=7216) == []
    outside = parse_annotation(annotation(CANVAS + "#xywh=5000,7000,500,300"), CONTAINER, id="a2")
    [problem] = check_annotation(outside, source=CANVAS, width=5412, height=7216)
    assert "outside the canvas (5412 x 7216)" in problem.message


def test_points_and_shapes_outside_the_canvas_are_reported() -> None:
    point = parse_annotation(
        on_canvas({"type": "PointSelector", "x": 6000, "y": 10}), CONTAINER, id="p"
    )
    assert check_annotation(point, width=5412, height=7216)
    svg = (
        "<svg xmlns='http://www.w3.org/2000/svg'>"
        "<polygon points='100,100 9000,100 9000,400'/></svg>"
    )
    shape = parse_annotation(on_canvas({"type": "SvgSelector", "value": svg}), CONTAINER, id="s")
    assert check_annotation(shape, width=5412, height=7216)
    near_edge = parse_annotation(
        on_canvas({"type": "SvgSelector", "value": svg.replace("9000", "5413")}), CONTAINER, id="e"
    )
    assert check_annotation(near_edge, width=5412, height=7216) == []  # a pixel of slack


def test_an_annotation_on_another_canvas_is_reported() -> None:
    other = parse_annotation(annotation("https://elsewhere.example/canvas/9"), CONTAINER, id="a1")
    [problem] = check_annotation(other, source=CANVAS)
    assert "but this document annotates" in problem.message


def test_a_3d_point_on_an_image_canvas_is_reported() -> None:
    data = on_canvas({"type": "PointSelector", "x": 1.5, "y": 2, "z": 3})
    parsed = parse_annotation(data, CONTAINER, id="a1")
    [problem] = check_annotation(parsed, source=CANVAS, kind="canvas")
    assert "3D point" in problem.message


def test_a_huge_body_is_refused_with_the_limit() -> None:
    at_limit = {"type": "TextualBody", "value": "x" * MAX_BODY_BYTES}
    parse_annotation(annotation(CANVAS, body=at_limit), CONTAINER, id="ok")
    over = {"type": "TextualBody", "value": "é" * (MAX_BODY_BYTES // 2 + 1)}  # counted in bytes
    [message] = problems_of(annotation(CANVAS, body=over))
    assert f"the limit is {MAX_BODY_BYTES}" in message


@pytest.mark.parametrize("bad", ["../etc", "a/b", "-leading-dash", "x" * 129, ""])
def test_unsafe_annotation_ids_are_refused(bad: str) -> None:
    messages = problems_of(annotation(CANVAS), id=bad)
    assert any("must be 1-128 characters" in m for m in messages)


def test_script_in_an_html_body_is_refused_and_plain_markup_accepted() -> None:
    hostile = {"type": "TextualBody", "format": "text/html", "value": '<p onclick="steal()">hi</p>'}
    [message] = problems_of(annotation(CANVAS, body=hostile))
    assert "attribute 'onclick' on <p> is not allowed" in message
    script = {"type": "TextualBody", "format": "text/html", "value": "<script>x()</script>"}
    assert "<script> is not allowed" in problems_of(annotation(CANVAS, body=script))[0]
    link = {"type": "TextualBody", "format": "text/html", "value": '<a href="javascript:x()">a</a>'}
    assert "not an http(s) or mailto link" in problems_of(annotation(CANVAS, body=link))[0]
    fine = {
        "type": "TextualBody",
        "format": "text/html",
        "value": '<p>See <a href="https://doi.org/10.1/x">the report</a>, <em>fig. 2</em>.</p>',
    }
    parse_annotation(annotation(CANVAS, body=fine), CONTAINER, id="ok")


def test_script_in_an_svg_selector_is_refused() -> None:
    svg = "<svg xmlns='http://www.w3.org/2000/svg' onload='x()'><rect width='5' height='5'/></svg>"
    [message] = problems_of(on_canvas({"type": "SvgSelector", "value": svg}))
    assert "onload" in message
    embedded = "<svg><foreignObject><div>x</div></foreignObject></svg>"
    assert (
        "<foreignobject> is not allowed"
        in problems_of(on_canvas({"type": "SvgSelector", "value": embedded}))[0]
    )


def test_an_unknown_motivation_lists_the_choices() -> None:
    [message] = problems_of(annotation(CANVAS, motivation="liking"))
    assert "unknown motivation 'liking'" in message and "commenting" in message


def test_a_reply_cannot_target_a_region() -> None:
    reply = on_canvas({"type": "FragmentSelector", "value": "xywh=1,1,1,1"})
    reply["motivation"] = "replying"
    assert "a reply targets the annotation it answers" in problems_of(reply)[0]


def test_an_annotation_needs_a_target() -> None:
    data = annotation(CANVAS)
    del data["target"]
    assert any(m.startswith("target") for m in problems_of(data))


def test_every_problem_is_reported_at_once() -> None:
    data = annotation(
        {"type": "SpecificResource", "source": CANVAS, "selector": {"type": "Nope"}},
        body={"type": "TextualBody", "value": "x", "language": "english please"},
        motivation="liking",
    )
    assert len(problems_of(data)) == 3


def test_models_built_in_code_are_validated_too() -> None:
    with pytest.raises(ValueError, match="unknown motivation"):
        Annotation(id="a", motivation="liking", target=[CANVAS])
