"""Condition reports and treatment records in a `report` document: the round trip, texts
co-written from two places, damage entries linked to annotations, what each status needs,
what only the workflow may change, and reports written before the current schema."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pycrdt import Array, Doc, Map, Text

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
from annotations.report_document import lock_reason, migrate
from annotations.reports import AnnotationLink, Environment, Loan, ObjectInfo, Photograph
from annotations.vocabularies import Term, Vocabulary

CHECKER = Agent(id="urn:sinopia:user:marta", name="Marta Ruiz")
RECORDER = Agent(id="urn:sinopia:user:sam", name="Sam Okafor")
LEAD = Agent(id="urn:sinopia:user:li", name="Li Wei")


def draft(**fields: Any) -> Report:
    values: dict[str, Any] = {
        "type": "loan",
        "title": "Outgoing loan: Book of Hours",
        "reference": "CC-2025-014",
        "object_info": ObjectInfo(
            identifier="MS. Douce 135",
            title="Book of Hours, use of Rome",
            materials="parchment, pigments, gold",
            subjects=["canvas/fol-1r-5a1f0b8e4c", "model/binding-9d0e1f2a3b"],
        ),
        "checker": CHECKER,
        "recorder": RECORDER,
        "date": date(2025, 3, 1),
        "method": "magnification",
        "reason": "loan-out",
        "condition": "fair",
        "environment": Environment(temperature=19.5, humidity=50, light=50, uv=10),
        "loan": Loan(handover="outgoing", lender="Example Library", number="L-2025-3"),
        "summary": "Stable overall. Flaking in the blue pigment of fol. 1r.",
        "recommendations": "Consolidate flaking before travel.",
        "damage": [
            DamageEntry(
                id="d1",
                term="flaking",
                location="fol. 1r, lower margin",
                extent={"value": 4, "unit": "cm2"},
                severity="moderate",
                activity="active",
                annotations=[AnnotationLink(subject="canvas/fol-1r-5a1f0b8e4c", annotation="c1")],
                photographs=[
                    Photograph(
                        id="p1",
                        subject="canvas/fol-1r-5a1f0b8e4c",
                        region="120,80,400,300",
                        lighting="raking",
                    )
                ],
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
    alice.get("summary", type=Text).insert(0, "Examined under raking light. ")
    summary_b = bob.get("summary", type=Text)
    summary_b.insert(len(str(summary_b).encode()), " No active insect damage.")
    sync(alice, bob)
    expected = (
        "Examined under raking light. Stable overall. Flaking in the blue pigment of fol. 1r."
        " No active insect damage."
    )
    assert read_report(alice).summary == read_report(bob).summary == expected  # type: ignore[union-attr]


def test_damage_entries_are_added_changed_and_removed_by_id() -> None:
    doc = Doc()
    write_report(doc, draft())
    crack = DamageEntry(id="d2", term="crack", location="upper board", severity="minor")
    add_damage(doc, crack)
    add_damage(doc, crack.model_copy(update={"severity": "severe"}))
    assert [(d.id, d.severity) for d in read_report(doc).damage] == [  # type: ignore[union-attr]
        ("d1", "moderate"),
        ("d2", "severe"),
    ]
    assert remove_damage(doc, "d1") is True
    assert remove_damage(doc, "d1") is False
    write_report(doc, draft())  # the whole report again: exactly its entries
    assert [d.id for d in read_report(doc).damage] == ["d1"]  # type: ignore[union-attr]


def test_bad_terms_severities_and_regions_are_refused_naming_the_field() -> None:
    doc = Doc()
    write_report(doc, draft())
    entry = doc.get("damage", type=Array)[0]
    entry["term"] = "mildew-ish"
    entry["severity"] = "catastrophic"
    problems = {p.path: p.message for p in validate(doc, "report")}
    assert "unknown damage term 'mildew-ish'" in problems["damage/0/term"]
    assert "unknown severity 'catastrophic'" in problems["damage/0/severity"]
    with pytest.raises(ValueError, match="region"):
        Photograph(subject="canvas/a", region="everything")
    with pytest.raises(ValueError, match="unknown lighting 'candle'"):
        Photograph(subject="canvas/a", lighting="candle")
    with pytest.raises(ValueError, match="must be canvas/<id> or model/<id>"):
        AnnotationLink(subject="report/x", annotation="a1")


def test_a_workspace_term_is_accepted_where_the_curated_list_has_none() -> None:
    doc = Doc()
    write_report(doc, draft(damage=[DamageEntry.model_construct(id="d9", term="red-rot")]))
    assert any(p.path == "damage/0/term" for p in validate(doc, "report"))
    terms = Vocabulary("damage term", [Term(value="red-rot", label="Red rot")])
    ours = read_report(doc, terms=terms)
    assert ours is not None and ours.damage[0].term == "red-rot"


def test_what_each_status_needs() -> None:
    with pytest.raises(ValueError, match="needs an approval"):
        draft(status="approved")
    with pytest.raises(ValueError, match="needs: checker"):
        draft(status="in-review", checker=None)
    approved = Approval(action="approved", agent=LEAD, at="2025-03-02T12:00:00Z")
    with pytest.raises(ValueError, match="give the overall condition"):
        draft(status="approved", approvals=[approved], condition=None)
    with pytest.raises(ValueError, match="after a lead has approved the proposal"):
        Report(type="treatment", steps=[{"date": "2025-03-01", "description": "cleaned"}])
    draft(status="approved", approvals=[approved])


def test_a_client_cannot_approve_or_sign_itself() -> None:
    server = Doc()
    write_report(server, draft())
    client = copy_of(server)
    client.get("report", type=Map)["status"] = "approved"
    client.get("approvals", type=Array).append(
        {"action": "approved", "agent": {"name": "me"}, "at": "2025-03-02T12:00:00Z"}
    )
    problems = check_update(server, client.get_update(server.get_state()), "report")
    assert {p.path for p in problems} == {"report/status", "approvals"}
    assert all(p.denied for p in problems)


def test_an_approved_report_takes_no_change_at_all() -> None:
    server = Doc()
    write_report(server, draft())
    add_approval(
        server,
        Approval(action="approved", agent=LEAD, at="2025-03-02T12:00:00Z"),
        status="approved",
    )
    client = copy_of(server)
    client.get("summary", type=Text).insert(0, "Amended: ")
    [problem] = check_update(server, client.get_update(server.get_state()), "report")
    assert problem.denied and "approved and locked" in problem.message


def test_a_handover_report_signed_by_one_party_is_locked_for_the_other() -> None:
    view = draft(status="in-review").to_json()
    view["approvals"] = [
        {"action": "submitted", "agent": RECORDER.to_json(), "at": "2025-03-02T09:00:00Z"},
        {"action": "signed", "agent": CHECKER.to_json(), "at": "2025-03-02T10:00:00Z"},
    ]
    assert "signed by Marta Ruiz" in str(lock_reason(view))


def test_a_report_written_before_the_current_schema_is_migrated() -> None:
    doc = Doc()
    with doc.transaction():
        fields = doc.get("report", type=Map)
        fields.update(
            {
                "type": "condition",
                "title": "Old loan report",
                "object": {"identifier": "MS. 1"},
                "examiner": {"id": "urn:sinopia:user:marta", "name": "Marta Ruiz"},
                "date": "2024-01-05",
                "condition": "good",
                "purpose": "loan-out",
                "lender": "Example Library",
                "status": "signed",
            }
        )
        doc.get("damage", type=Array).append(Map({"id": "x", "type": "stain", "notes": "tea"}))
        approvals = doc.get("approvals", type=Array)
        li = {"name": "Li"}
        approvals.append({"action": "approved", "agent": li, "at": "2024-01-06T10:00:00Z"})
        approvals.append({"action": "signed", "agent": li, "at": "2024-01-06T10:01:00Z"})
    assert validate(doc, "report") == []
    report = read_report(doc)
    assert report is not None
    assert report.checker == report.recorder == CHECKER
    assert (report.type, report.reason, report.status) == ("loan", "loan-out", "approved")
    assert report.loan is not None and report.loan.handover == "outgoing"
    assert report.loan.lender == "Example Library"
    assert (report.damage[0].term, report.damage[0].note) == ("stain", "tea")
    assert "examiner" not in migrate({"examiner": {"name": "x"}})


def test_a_mistyped_report_field_is_reported() -> None:
    doc = Doc()
    write_report(doc, draft())
    doc.get("report", type=Map)["inspector"] = "someone"
    doc.get("report", type=Map)["title"] = Text("a Text where JSON belongs")
    problems = {str(p) for p in validate(doc, "report")}
    assert problems == {
        "report/inspector: is not a report field",
        "report/title: must be a plain JSON value",
    }
    other = Doc()
    write_report(other, draft())
    other.get("report", type=Map)["reference"] = 5
    with pytest.raises(Invalid) as caught:
        read_report(other)
    assert [str(p) for p in caught.value.problems] == [
        "report/reference: Input should be a valid string"
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
    assert view["environment"] == {"temperature": 19.5, "humidity": 50, "light": 50, "uv": 10}
