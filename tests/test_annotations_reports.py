"""Condition reports and treatment records in a `report` document: the round trip, texts
co-written from two places, damage entries linked to annotations, and the approval
workflow a conservator relies on."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pycrdt import Doc, Map, Text

from annotations import (
    Agent,
    Approval,
    DamageEntry,
    Invalid,
    Report,
    add_approval,
    add_damage,
    check_update,
    read_report,
    remove_damage,
    snapshot,
    validate,
    write_report,
)
from annotations.reports import AnnotationLink, Environment, ObjectInfo

EXAMINER = Agent(id="https://sinopia.example.org/people/marta", name="Marta Ruiz")
CURATOR = Agent(id="https://sinopia.example.org/people/li", name="Li Wei")


def draft(**fields: Any) -> Report:
    values: dict[str, Any] = {
        "title": "Outgoing loan: Book of Hours",
        "object_info": ObjectInfo(
            identifier="MS. Douce 135",
            title="Book of Hours, use of Rome",
            materials="parchment, pigments, gold",
            subjects=["canvas/fol-1r-5a1f0b8e4c", "model/binding-9d0e1f2a3b"],
        ),
        "examiner": EXAMINER,
        "date": date(2025, 3, 1),
        "condition": "fair",
        "environment": Environment(temperature=19.5, humidity=50, light=50),
        "lender": "Example Library",
        "purpose": "loan-out",
        "summary": "Stable overall. Flaking in the blue pigment of fol. 1r.",
        "recommendations": "Consolidate flaking before travel.",
        "damage": [
            DamageEntry(
                id="d1",
                type="flaking",
                location="fol. 1r, lower margin",
                severity="moderate",
                annotations=[AnnotationLink(subject="canvas/fol-1r-5a1f0b8e4c", annotation="c1")],
            )
        ],
    }
    values.update(fields)
    return Report(**values)


def sync(a: Doc, b: Doc) -> None:
    a_missing, b_missing = b.get_update(a.get_state()), a.get_update(b.get_state())
    a.apply_update(a_missing)
    b.apply_update(b_missing)


def copy_of(doc: Doc) -> Doc:
    other = Doc()
    other.apply_update(doc.get_update())
    return other


def test_a_report_reads_back_as_written() -> None:
    doc = Doc()
    report = draft()
    write_report(doc, report)
    assert read_report(copy_of(doc)) == report
    assert validate(doc, "report") == []


def test_an_empty_document_has_no_report_and_a_partial_draft_is_fine() -> None:
    doc = Doc()
    assert read_report(doc) is None
    write_report(doc, Report(title="New report"))  # filled in together, later
    assert read_report(doc) == Report(title="New report")
    assert validate(doc, "report") == []


def test_two_people_write_the_summary_at_once() -> None:
    server = Doc()
    write_report(server, draft())
    alice, bob = copy_of(server), copy_of(server)
    summary_a = alice.get("summary", type=Text)
    summary_a.insert(0, "Examined under raking light. ")
    summary_b = bob.get("summary", type=Text)
    summary_b.insert(len(str(summary_b).encode()), " No active insect damage.")
    sync(alice, bob)
    expected = (
        "Examined under raking light. Stable overall. Flaking in the blue pigment of fol. 1r."
        " No active insect damage."
    )
    assert read_report(alice).summary == read_report(bob).summary == expected  # type: ignore[union-attr]


def test_rewriting_a_report_edits_only_the_changed_text() -> None:
    server = Doc()
    write_report(server, draft())
    bob = copy_of(server)
    recommendations = bob.get("recommendations", type=Text)
    recommendations.insert(len(str(recommendations).encode()), " Use a sealed case.")
    write_report(server, draft(recommendations="Consolidate all flaking before travel."))
    sync(server, bob)
    assert read_report(server).recommendations == (  # type: ignore[union-attr]
        "Consolidate all flaking before travel. Use a sealed case."
    )


def test_damage_entries_are_added_changed_and_removed_by_id() -> None:
    doc = Doc()
    write_report(doc, draft())
    crack = DamageEntry(id="d2", type="crack", location="upper board", severity="minor")
    add_damage(doc, crack)
    add_damage(doc, crack.model_copy(update={"severity": "severe"}))
    assert [(d.id, d.severity) for d in read_report(doc).damage] == [  # type: ignore[union-attr]
        ("d1", "moderate"),
        ("d2", "severe"),
    ]
    assert remove_damage(doc, "d1") is True
    assert remove_damage(doc, "d1") is False
    assert [d.id for d in read_report(doc).damage] == ["d2"]  # type: ignore[union-attr]
    # Writing the whole report again puts back exactly its entries.
    write_report(doc, draft())
    assert [d.id for d in read_report(doc).damage] == ["d1"]  # type: ignore[union-attr]


def test_unknown_vocabulary_terms_are_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="unknown damage type 'mildew'; expected one of"):
        DamageEntry(type="mildew")
    with pytest.raises(ValueError, match="unknown condition grade 'meh'"):
        draft(condition="meh")
    with pytest.raises(ValueError, match="must be canvas/<id> or model/<id>"):
        AnnotationLink(subject="report/x", annotation="a1")


def test_approval_needs_a_grade_an_examiner_and_someone_approving() -> None:
    with pytest.raises(ValueError, match="needs an approval"):
        draft(status="approved")
    with pytest.raises(ValueError, match="needs: examiner"):
        draft(status="in-review", examiner=None)
    approved = Approval(action="approved", agent=CURATOR, at="2025-03-02T12:00:00Z")
    with pytest.raises(ValueError, match="needs a signature"):
        draft(status="signed", approvals=[approved])
    with pytest.raises(ValueError, match="give the overall condition"):
        draft(status="approved", approvals=[approved], condition=None)
    draft(status="approved", approvals=[approved])


def test_the_workflow_is_recorded_in_the_document() -> None:
    doc = Doc()
    write_report(doc, draft())
    add_approval(
        doc,
        Approval(action="submitted", agent=EXAMINER, at="2025-03-02T09:00:00Z"),
        status="in-review",
    )
    add_approval(
        doc,
        Approval(action="approved", agent=CURATOR, at="2025-03-02T12:00:00Z"),
        status="approved",
    )
    report = read_report(doc)
    assert report is not None and report.status == "approved"
    assert [a.action for a in report.approvals] == ["submitted", "approved"]


def test_a_client_cannot_approve_without_an_approval() -> None:
    server = Doc()
    write_report(server, draft())
    client = copy_of(server)
    client.get("report", type=Map)["status"] = "approved"
    problems = check_update(server, client.get_update(server.get_state()), "report")
    assert any("needs an approval" in p.message for p in problems)


def test_a_signed_report_can_no_longer_change() -> None:
    signed = draft(
        status="signed",
        approvals=[
            Approval(action="approved", agent=CURATOR, at="2025-03-02T12:00:00Z"),
            Approval(action="signed", agent=CURATOR, at="2025-03-02T12:05:00Z"),
        ],
    )
    server = Doc()
    write_report(server, signed)
    client = copy_of(server)
    client.get("summary", type=Text).insert(0, "Amended: ")
    [problem] = check_update(server, client.get_update(server.get_state()), "report")
    assert "signed and can no longer change" in problem.message


def test_a_mistyped_report_field_is_reported() -> None:
    doc = Doc()
    write_report(doc, draft())
    doc.get("report", type=Map)["inspector"] = "someone"
    doc.get("report", type=Map)["lender"] = Text("a Text where JSON belongs")
    problems = {str(p) for p in validate(doc, "report")}
    assert problems == {
        "report/inspector: is not a report field",
        "report/lender: must be a plain JSON value",
    }
    other = Doc()
    write_report(other, draft())
    other.get("report", type=Map)["lender"] = 5
    with pytest.raises(Invalid) as caught:
        read_report(other)
    assert [str(p) for p in caught.value.problems] == [
        "report/lender: Input should be a valid string"
    ]


def test_the_report_snapshot_has_texts_damage_and_approvals() -> None:
    doc = Doc()
    write_report(doc, draft())
    view = snapshot(doc, "report")["report"]
    assert view["condition"] == "fair"
    assert view["summary"].startswith("Stable overall")
    assert view["damage"][0]["annotations"] == [
        {"subject": "canvas/fol-1r-5a1f0b8e4c", "annotation": "c1"}
    ]
    assert view["environment"] == {"temperature": 19.5, "humidity": 50, "light": 50}
