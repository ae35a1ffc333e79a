"""Annotations inside a subject's live pycrdt document: the round trip through the shared
types, co-writing one comment from two places, replacing an annotation while someone types
in it, and the checks a room runs before accepting a client's update."""

from __future__ import annotations

from pycrdt import Array, Doc, Map, Text

from annotations import (
    Annotation,
    annotation_jsonld,
    annotations_jsonld,
    check_update,
    delete_annotation,
    parse_annotation,
    read_annotation,
    read_annotations,
    read_subject,
    snapshot,
    validate,
    write_annotation,
    write_subject,
)
from annotations.models import TextualBody
from iiif import Subject

from .test_annotations_jsonld import CANVAS, CONTAINER, MANIFEST, assert_w3c_annotation, comment

SUBJECT = Subject(
    kind="canvas",
    id="fol-1r-5a1f0b8e4c",
    iiif_id=CANVAS,
    label="fol. 1r",
    label_map={"none": ["fol. 1r"]},
    manifest=MANIFEST,
    width=5412,
    height=7216,
)


def new_doc() -> Doc:
    doc = Doc()
    write_subject(doc, SUBJECT)
    return doc


def copy_of(doc: Doc) -> Doc:
    other = Doc()
    other.apply_update(doc.get_update())
    return other


def sync(a: Doc, b: Doc) -> None:
    a_missing = b.get_update(a.get_state())
    b_missing = a.get_update(b.get_state())
    a.apply_update(a_missing)
    b.apply_update(b_missing)


def body_text(doc: Doc, annotation_id: str, index: int = 0) -> Text:
    return doc.get("annotations", type=Map)[annotation_id]["body"][index]["value"]


def append(text: Text, words: str) -> None:
    text.insert(len(str(text).encode()), words)  # pycrdt positions are UTF-8 bytes


def test_an_annotation_reads_back_exactly_as_written() -> None:
    doc = new_doc()
    annotation = parse_annotation(comment(), CONTAINER)
    write_annotation(doc, annotation)
    assert read_annotation(doc, "c1") == annotation
    assert read_annotation(copy_of(doc), "c1") == annotation  # and so does every peer
    assert read_subject(copy_of(doc)) == SUBJECT  # sizes come back as ints, not floats
    assert validate(doc, "canvas") == []


def test_two_people_typing_in_one_comment_both_keep_their_words() -> None:
    server = new_doc()
    write_annotation(server, parse_annotation(comment(), CONTAINER))
    alice, bob = copy_of(server), copy_of(server)
    body_text(alice, "c1").insert(0, "Severe: ")
    append(body_text(bob, "c1"), "; consolidate before the loan")
    sync(alice, server)
    sync(bob, server)
    sync(alice, server)
    for doc in (alice, bob, server):
        text = read_annotation(doc, "c1").body[0].value  # type: ignore[union-attr]
        assert text == (
            "Severe: Flaking of the blue pigment along the hem; consolidate before the loan"
        )


def test_accented_text_is_edited_at_the_right_place() -> None:
    doc = new_doc()
    base = parse_annotation(comment(), CONTAINER)
    body = TextualBody(value="Écaillage près de l'ourlet", language="fr")
    write_annotation(doc, base.model_copy(update={"body": [body]}))
    fixed = TextualBody(value="Écaillage sévère près de l'ourlet", language="fr")
    write_annotation(doc, base.model_copy(update={"body": [fixed]}))
    assert read_annotation(doc, "c1").body[0].value == "Écaillage sévère près de l'ourlet"  # type: ignore[union-attr]


def test_replacing_an_annotation_keeps_what_someone_is_typing_in_it() -> None:
    server = new_doc()
    original = parse_annotation(comment(), CONTAINER)
    write_annotation(server, original)
    bob = copy_of(server)
    append(body_text(bob, "c1"), " and the sleeve")  # Bob is typing, not yet synced
    # Meanwhile a REST client fixes the first word and moves the region.
    edited = parse_annotation(
        comment(
            body=[
                {"type": "TextualBody", "value": "Lifting of the blue pigment along the hem"},
                comment()["body"][1],
            ],
            target=CANVAS + "#xywh=1100,3300,400,250",
        ),
        CONTAINER,
    )
    write_annotation(server, edited)
    sync(bob, server)
    for doc in (bob, server):
        result = read_annotation(doc, "c1")
        assert result.body[0].value == "Lifting of the blue pigment along the hem and the sleeve"  # type: ignore[union-attr]
        assert result.target == [CANVAS + "#xywh=1100,3300,400,250"]


def test_rewriting_an_unchanged_annotation_sends_nothing() -> None:
    doc = new_doc()
    annotation = parse_annotation(comment(), CONTAINER)
    write_annotation(doc, annotation)
    state = doc.get_state()
    write_annotation(doc, annotation)
    assert doc.get_state() == state


def test_a_body_can_change_kind_and_bodies_can_be_removed() -> None:
    doc = new_doc()
    annotation = parse_annotation(comment(), CONTAINER)
    write_annotation(doc, annotation)
    swapped = annotation.model_copy(update={"body": [annotation.body[1], annotation.body[0]]})
    write_annotation(doc, swapped)
    assert read_annotation(doc, "c1") == swapped
    only_tag = annotation.model_copy(update={"body": [annotation.body[1]]})
    write_annotation(doc, only_tag)
    assert read_annotation(doc, "c1") == only_tag


def test_a_client_written_annotation_reads_as_the_model_with_whole_numbers() -> None:
    # What a browser writes with Y.Map / Y.Array / Y.Text; every number arrives as a double.
    client = Doc()
    annotations = client.get("annotations", type=Map)
    annotations["pin-1"] = Map(
        {
            "motivation": "commenting",
            "body": Array([Map({"type": "TextualBody", "value": Text("Scratch")})]),
            "target": {
                "type": "SpecificResource",
                "source": CANVAS,
                "selector": {"type": "PointSelector", "x": 120, "y": 4000},
            },
            "created": "2025-03-02T08:00:00Z",
        }
    )
    server = new_doc()
    server.apply_update(client.get_update())
    pin = read_annotation(server, "pin-1")
    assert pin is not None
    point = pin.target[0].selector[0]  # type: ignore[union-attr]
    assert (point.x, point.y) == (120, 4000) and isinstance(point.x, int)  # type: ignore[union-attr]
    assert validate(server, "canvas") == []


def test_deleting_an_annotation_can_take_its_thread_with_it() -> None:
    doc = new_doc()
    write_annotation(doc, parse_annotation(comment(), CONTAINER))
    for reply_id, parent in (("r1", "c1"), ("r2", "r1"), ("other", "c9")):
        write_annotation(
            doc,
            Annotation(
                id=reply_id,
                motivation="replying",
                target=[parent],
                body=[TextualBody(value="reply")],
            ),
        )
    assert delete_annotation(doc, "missing") == []
    assert sorted(delete_annotation(doc, "c1", with_replies=True)) == ["c1", "r1", "r2"]
    assert [a.id for a in read_annotations(doc)] == ["other"]


def test_malformed_entries_are_reported_and_left_out_of_listings() -> None:
    doc = new_doc()
    write_annotation(doc, parse_annotation(comment(), CONTAINER))
    annotations = doc.get("annotations", type=Map)
    annotations["plain-string"] = Map(
        {"body": Array([Map({"type": "TextualBody", "value": "not a Text"})]), "target": CANVAS}
    )
    annotations["extra"] = Map({"target": CANVAS, "colour": "red"})
    annotations["off-canvas"] = Map({"target": CANVAS + "#xywh=9000,9000,10,10"})
    annotations["no-target"] = Map({"motivation": "commenting"})
    # Listings are forgiving (oldest first, undated last); validation is not.
    listed = [a.id for a in read_annotations(doc)]
    assert listed == ["c1", "extra", "off-canvas", "plain-string"]
    problems = {str(p) for p in validate(doc, "canvas")}
    assert "annotations/plain-string/body/0/value: a textual body's value is a Text" in problems
    assert "annotations/extra/colour: is not an annotation field" in problems
    assert any(p.startswith("annotations/off-canvas/target: the region") for p in problems)
    assert any(p.startswith("annotations/no-target/target") for p in problems)


def test_check_update_refuses_a_bad_new_annotation_and_changes_nothing() -> None:
    server = new_doc()
    write_annotation(server, parse_annotation(comment(), CONTAINER))
    state = server.get_update()
    client = copy_of(server)
    client.get("annotations", type=Map)["bad"] = Map(
        {"target": CANVAS + "#xywh=5400,7200,100,100", "motivation": "commenting"}
    )
    update = client.get_update(server.get_state())
    [problem] = check_update(server, update, "canvas")
    assert problem.path == "annotations/bad/target"
    assert "outside the canvas" in problem.message
    assert server.get_update() == state
    assert read_annotation(server, "bad") is None


def test_an_old_bad_entry_does_not_block_new_edits() -> None:
    server = new_doc()
    server.get("annotations", type=Map)["legacy"] = Map({"colour": "red"})
    write_annotation(server, parse_annotation(comment(), CONTAINER))
    assert validate(server, "canvas")  # the old problem is known...
    client = copy_of(server)
    append(body_text(client, "c1"), " (checked)")
    assert (
        check_update(server, client.get_update(server.get_state()), "canvas") == []
    )  # ...and ignored


def test_check_update_refuses_unknown_and_mistyped_shared_types() -> None:
    server = new_doc()
    stray = Doc()
    stray.get("scratchpad", type=Array).append("x")
    assert [p.path for p in check_update(server, stray.get_update(), "canvas")] == ["scratchpad"]
    mistyped = Doc()
    mistyped.get("annotations", type=Array).append("x")
    [problem] = check_update(server, mistyped.get_update(), "canvas")
    assert (problem.path, problem.message) == ("annotations", "must be a Map")


def test_check_update_protects_the_subject_record() -> None:
    server = new_doc()
    client = copy_of(server)
    client.get("meta", type=Map)["width"] = -5
    [problem] = check_update(server, client.get_update(server.get_state()), "canvas")
    assert problem.path.startswith("meta")


def test_snapshot_is_the_plain_json_view() -> None:
    doc = new_doc()
    write_annotation(doc, parse_annotation(comment(), CONTAINER))
    view = snapshot(doc, "canvas")
    assert view["meta"]["width"] == 5412 and isinstance(view["meta"]["width"], int)
    assert view["annotations"]["c1"]["body"][0]["value"].startswith("Flaking")
    assert view["annotations"]["c1"]["target"]["selector"]["value"] == "xywh=1200,3400,300,150"


def test_rest_readers_get_w3c_json_ld_from_the_live_document() -> None:
    doc = new_doc()
    write_annotation(doc, parse_annotation(comment(), CONTAINER))
    one = annotation_jsonld(doc, "c1", CONTAINER)
    assert one is not None and one["id"] == CONTAINER + "c1"
    assert_w3c_annotation(one)
    assert annotations_jsonld(doc, CONTAINER) == [one]
    assert annotation_jsonld(doc, "missing", CONTAINER) is None
