"""What the history list says changed, between two versions of real documents."""

from __future__ import annotations

from datetime import UTC, datetime

from pycrdt import Doc, Map, Text

from annotations import (
    Agent,
    Annotation,
    Approval,
    DamageEntry,
    TextualBody,
    delete_annotation,
    diff_documents,
    parse_annotation,
    snapshot,
    summarize,
    text_diff,
    write_annotation,
    write_report,
    write_subject,
)
from annotations.changes import TextRun

from .test_annotations_document import SUBJECT
from .test_annotations_jsonld import CANVAS, CONTAINER, comment
from .test_annotations_reports import draft


def canvas_doc() -> Doc:
    doc = Doc()
    write_subject(doc, SUBJECT)
    return doc


def test_the_text_diff_shows_inserted_and_deleted_words() -> None:
    runs = text_diff("Flaking of the blue pigment", "Severe flaking of the azurite pigment")
    assert [r for r in runs if r.op != "equal"] == [
        TextRun(op="delete", text="Flaking"),
        TextRun(op="insert", text="Severe flaking"),
        TextRun(op="delete", text="blue"),
        TextRun(op="insert", text="azurite"),
    ]
    # The runs rebuild both versions.
    assert "".join(r.text for r in runs if r.op != "insert") == "Flaking of the blue pigment"
    assert "".join(r.text for r in runs if r.op != "delete") == (
        "Severe flaking of the azurite pigment"
    )


def test_adding_and_removing_annotations_is_summarised() -> None:
    doc = canvas_doc()
    empty = snapshot(doc, "canvas")
    write_annotation(doc, parse_annotation(comment(), CONTAINER))
    with_one = snapshot(doc, "canvas")
    assert summarize(empty, with_one) == [
        "Added commenting annotation “Flaking of the blue pigment along the hem” "
        "on xywh=1200,3400,300,150"
    ]
    delete_annotation(doc, "c1")
    [change] = diff_documents(with_one, snapshot(doc, "canvas"))
    assert change.kind == "annotation-removed"
    assert change.annotation == "c1"
    assert change.before["body"][0]["value"].startswith("Flaking")


def test_editing_a_comment_gives_its_text_diff() -> None:
    doc = canvas_doc()
    write_annotation(doc, parse_annotation(comment(), CONTAINER))
    before = snapshot(doc, "canvas")
    text = doc.get("annotations", type=Map)["c1"]["body"][0]["value"]
    assert isinstance(text, Text)
    text.insert(len(str(text).encode()), "; consolidate before the loan")
    [change] = diff_documents(before, snapshot(doc, "canvas"))
    assert change.kind == "body-edited"
    assert change.path == "annotations/c1/body/0/value"
    assert [r.text for r in change.diff or [] if r.op == "insert"] == [
        "; consolidate before the loan"
    ]
    assert change.summary == (
        "Edited the text of annotation “Flaking of the blue pigment along the hem; consolidate…”: "
        "+“; consolidate before the loan”"
    )


def test_moving_a_region_and_changing_the_motivation() -> None:
    doc = canvas_doc()
    original = parse_annotation(comment(), CONTAINER)
    write_annotation(doc, original)
    before = snapshot(doc, "canvas")
    write_annotation(
        doc,
        original.model_copy(
            update={"target": [CANVAS + "#xywh=1000,3000,600,400"], "motivation": "assessing"}
        ),
    )
    changes = diff_documents(before, snapshot(doc, "canvas"))
    assert [c.kind for c in changes] == ["motivation-changed", "target-moved"]
    assert changes[0].summary.endswith("from commenting to assessing")
    assert changes[1].summary.endswith("from xywh=1200,3400,300,150 to xywh=1000,3000,600,400")


def test_a_timestamp_alone_is_not_a_change_worth_listing() -> None:
    doc = canvas_doc()
    original = parse_annotation(comment(), CONTAINER)
    write_annotation(doc, original)
    before = snapshot(doc, "canvas")
    later = datetime(2025, 4, 1, tzinfo=UTC)
    write_annotation(doc, original.model_copy(update={"modified": later}))
    assert diff_documents(before, snapshot(doc, "canvas")) == []
    assert diff_documents(before, before) == []


def test_adding_a_tag_to_an_annotation() -> None:
    doc = canvas_doc()
    note = Annotation(id="n1", target=[CANVAS], body=[TextualBody(value="Gold leaf")])
    write_annotation(doc, note)
    before = snapshot(doc, "canvas")
    tag = TextualBody(value="gilding", purpose="tagging")
    write_annotation(doc, note.model_copy(update={"body": [*note.body, tag]}))
    [change] = diff_documents(before, snapshot(doc, "canvas"))
    assert change.kind == "body-added"
    assert change.summary == "Added text “gilding” to annotation “Gold leaf”"


def test_report_changes_read_like_a_conservator_would_say_them() -> None:
    doc = Doc()
    write_report(doc, draft())
    before = snapshot(doc, "report")
    write_report(
        doc,
        draft(
            condition="poor",
            summary="Stable overall. Active flaking in the blue pigment of fol. 1r.",
            damage=[DamageEntry(id="d2", term="crack", location="upper board", severity="minor")],
            approvals=[
                Approval(
                    action="submitted",
                    agent=Agent(name="Marta Ruiz"),
                    at="2025-03-02T09:00:00Z",
                )
            ],
        ),
    )
    lines = summarize(before, snapshot(doc, "report"))
    assert lines == [
        "Summary edited: +“Active flaking” -“Flaking”",
        "Overall condition changed from Fair to Poor",
        "Added damage entry: Cracks (minor) at upper board",
        "Removed damage entry: Flaking (moderate) at fol. 1r, lower margin",
        "Report submitted by Marta Ruiz",
    ]


def test_changing_a_damage_entry_names_the_fields() -> None:
    doc = Doc()
    write_report(doc, draft())
    before = snapshot(doc, "report")
    entry = draft().damage[0].model_copy(update={"severity": "severe"})
    write_report(doc, draft(damage=[entry]))
    [change] = diff_documents(before, snapshot(doc, "report"))
    assert change.kind == "damage-changed"
    assert (
        change.summary == "Changed damage entry Flaking (severe) at fol. 1r, lower margin: severity"
    )


def test_versions_written_before_any_schema_still_compare() -> None:
    odd_before = {"annotations": {"x": "not a map"}, "meta": {}}
    odd_after = {"annotations": {"x": {"target": 5}}, "meta": {"label": "f. 1"}}
    kinds = [c.kind for c in diff_documents(odd_before, odd_after)]
    assert kinds == ["meta-changed", "annotation-changed"]
