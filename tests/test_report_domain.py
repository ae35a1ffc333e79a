"""The report workflow table, damage tracked across successive reports, and the damage
vocabulary (its sources, workspace terms, SKOS and CSV import)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from annotations import Agent, DamageEntry, Invalid, Report
from annotations.damage_terms import ATTRIBUTION, DAMAGE_TERMS, provenance, sources
from annotations.reports import Loan, ObjectInfo
from annotations.tracking import carry_over, compare, follow
from annotations.vocabulary_import import parse
from annotations.workflow import TABLE, WorkflowError, allowed_actions, decide

ROLES = ("viewer", "commenter", "editor", "lead", "owner")
NOW = datetime(2025, 3, 2, 12, tzinfo=UTC)
ED = Agent(id="urn:sinopia:user:ed", name="Ed")
ANA = Agent(id="urn:sinopia:user:ana", name="Ana")
LEAD = Agent(id="urn:sinopia:user:li", name="Li")


def has(role: str):  # type: ignore[no-untyped-def]
    return lambda needed: ROLES.index(role) >= ROLES.index(needed)


def ready(**fields: Any) -> Report:
    values: dict[str, Any] = {
        "title": "Survey",
        "object_info": ObjectInfo(identifier="2024.1"),
        "checker": ED,
        "date": date(2025, 3, 1),
        "condition": "good",
    }
    values.update(fields)
    return Report(**values)


def step(report: Report, action: str, actor: Agent, role: str, note: str = "") -> Report:
    """Apply one workflow action as the server does: append the approval, set the status."""
    made = decide(report, action, actor, has(role), role=role, note=note, at=NOW)
    return Report.model_validate(
        {
            **report.to_json(),
            "status": made.status,
            "approvals": [*[a.to_json() for a in report.approvals], made.approval.to_json()],
        }
    )


def test_a_condition_report_goes_draft_review_approved_and_only_a_lead_approves() -> None:
    report = step(ready(), "submit", ED, "editor")
    assert report.status == "in-review"
    with pytest.raises(WorkflowError) as refused:
        step(report, "approve", ED, "editor")
    assert refused.value.status == 403 and "lead" in refused.value.message
    with pytest.raises(WorkflowError, match="note"):
        step(report, "return", LEAD, "lead")
    back = step(report, "return", LEAD, "lead", note="add the UV reading")
    assert back.status == "draft" and back.approvals[-1].action == "returned"
    approved = step(step(back, "submit", ED, "editor"), "approve", LEAD, "lead")
    assert approved.status == "approved" and approved.locked
    assert allowed_actions(approved) == [("supersede", "editor")]
    with pytest.raises(WorkflowError) as wrong_state:
        step(approved, "approve", LEAD, "lead")
    assert wrong_state.value.status == 409


def test_submitting_needs_the_object_the_checker_and_the_date() -> None:
    with pytest.raises(WorkflowError, match="object, checker, date") as refused:
        step(Report(title="empty"), "submit", ED, "editor")
    assert refused.value.status == 400


def test_a_handover_is_approved_when_two_different_members_have_signed() -> None:
    report = step(ready(type="loan", loan=Loan(handover="incoming")), "submit", ED, "editor")
    once = step(report, "sign", ED, "editor")
    assert once.status == "in-review"
    with pytest.raises(WorkflowError, match="signed this handover already"):
        step(once, "sign", ED, "editor")
    twice = step(once, "sign", ANA, "editor")
    assert twice.status == "approved"
    with pytest.raises(WorkflowError) as no_approve:
        step(report, "approve", LEAD, "lead")
    assert no_approve.value.status == 409  # a handover is signed, not approved


def test_a_treatment_waits_for_the_proposal_to_be_approved_before_work_starts() -> None:
    record = ready(type="treatment", proposal="Consolidate the flaking paint.")
    record = step(step(record, "submit", ED, "editor"), "approve", LEAD, "lead")
    assert record.status == "in-treatment" and record.proposal_approved
    data = record.to_json()
    data["steps"] = [{"date": "2025-03-05", "description": "Consolidated", "methods": ["brush"]}]
    record = Report.model_validate(data)
    reviewed = step(step(record, "submit", ED, "editor"), "return", LEAD, "lead", note="photos")
    assert reviewed.status == "in-treatment"  # back to the work, not to the proposal
    done = step(step(reviewed, "submit", ED, "editor"), "approve", LEAD, "lead")
    assert done.status == "approved"


def test_the_table_is_the_only_source_of_transitions() -> None:
    actions = {(rule.state, rule.action) for rule in TABLE}
    assert ("approved", "supersede") in actions and ("draft", "approve") not in actions
    with pytest.raises(WorkflowError) as unknown:
        step(ready(), "publish", ED, "owner")
    assert unknown.value.status == 400


def _damage(entry_id: str, term: str, severity: str, **more: Any) -> DamageEntry:
    return DamageEntry(id=entry_id, term=term, severity=severity, **more)


def test_damage_is_tracked_across_three_successive_reports() -> None:
    first = ready(damage=[_damage("a", "crack", "minor"), _damage("b", "stain", "minor")])
    second = ready(
        previous="r1",
        condition="fair",
        damage=[
            *[e.model_copy(update={"severity": "moderate"}) if e.id == "a" else e
              for e in carry_over(first)],
            _damage("c", "flaking", "moderate", activity="active"),
        ],
    )  # fmt: skip
    third = ready(
        previous="r2",
        # b was cleaned off; the flaking was re-recorded as a new entry that tracks c.
        damage=[
            second.damage[0],
            _damage("c2", "flaking", "minor", activity="stable", tracks="c"),
        ],
    )
    between = compare(first, second, earlier_id="r1", later_id="r2")
    assert {(e.change, e.before, e.after) for e in between.entries} == {
        ("changed", "a", "a"),
        ("unchanged", "b", "b"),
        ("new", None, "c"),
    }
    assert next(e for e in between.entries if e.change == "changed").fields == ["severity"]
    assert between.condition == ("good", "fair")
    later = compare(second, third)
    assert (later.count("unchanged"), later.count("changed"), later.count("resolved")) == (1, 1, 1)
    tracks = follow([("r1", first), ("r2", second), ("r3", third)])
    lines = {t.term: t.changes for t in tracks}
    assert lines == {
        "crack": [None, "changed", "unchanged"],
        "stain": [None, "unchanged", "resolved"],
        "flaking": [None, "new", "changed"],
    }


def test_every_curated_term_names_its_source_and_no_id_is_unsourced() -> None:
    cited = sources()
    assert "ODC Attribution License" in ATTRIBUTION
    for term in DAMAGE_TERMS:
        entry = provenance(term.value)
        assert entry is not None
        assert set(entry["labels"]) == {"en", "fr", "de", "it"}
        assert all(source in cited for source in entry["label_sources"].values())
        if term.aat:
            assert entry["aat_sources"], term.value
            for statement in entry["aat_sources"]:
                assert cited[statement["source"]]["licence"] == "CC BY 4.0"
        else:
            assert term.curator_check or term.value == "other"
            assert term.exported_iri is None
    # A term whose sources disagree keeps its candidate id but is not exported with it.
    mould = DAMAGE_TERMS.get("mould")
    assert mould is not None and mould.curator_check and mould.exported_iri is None
    assert DAMAGE_TERMS.get("loss").exported_iri == "http://vocab.getty.edu/aat/300263354"  # type: ignore[union-attr]
    assert DAMAGE_TERMS.label("stain", "de") == "Fleck"


SKOS_TURTLE = """
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
<https://vocab.example.org/red-rot> a skos:Concept ;
    skos:prefLabel "red rot"@en, "pourriture rouge"@fr ;
    skos:definition "Powdery deterioration of vegetable-tanned leather." ;
    skos:exactMatch <http://vocab.getty.edu/aat/300379824> .
<https://vocab.example.org/cupping> a skos:Concept ; skos:prefLabel "cupping"@en .
"""


def test_a_skos_vocabulary_imports_in_turtle_and_json_ld() -> None:
    terms = {t.value: t for t in parse(SKOS_TURTLE.encode(), "text/turtle")}
    assert terms["red-rot"].labels == {"en": "red rot", "fr": "pourriture rouge"}
    assert terms["red-rot"].aat == "300379824"
    assert terms["cupping"].uri == "https://vocab.example.org/cupping"
    jsonld = {
        "@context": {"skos": "http://www.w3.org/2004/02/skos/core#"},
        "@id": "https://vocab.example.org/tenting",
        "@type": "skos:Concept",
        "skos:prefLabel": {"@value": "tenting", "@language": "en"},
    }
    [tenting] = parse(json.dumps(jsonld).encode(), "application/ld+json")
    assert (tenting.value, tenting.label) == ("tenting", "tenting")


def test_a_csv_vocabulary_imports_and_bad_rows_are_named() -> None:
    good = "value,label,label_fr,aat\nred-rot,Red rot,Pourriture rouge,300379824\n"
    [term] = parse(good.encode(), "text/csv")
    assert term.labels == {"en": "Red rot", "fr": "Pourriture rouge"}
    bad = "value,label,aat\nred rot,Red rot,\nok,,12\n"
    with pytest.raises(Invalid) as caught:
        parse(bad.encode(), "text/csv")
    paths = {p.path.split("/")[0] for p in caught.value.problems}
    assert paths == {"line 2", "line 3"}
    with pytest.raises(Invalid, match="send one of"):
        parse(b"x", "application/pdf")


def test_the_review_discussion_is_validated_and_changes_only_by_appending() -> None:
    from pycrdt import Doc

    from annotations.report_document import (
        COMMENTS,
        add_comment,
        check_report_change,
        read_report,
        report_json,
        write_report,
    )
    from annotations.reports import MAX_COMMENTS, ReviewComment

    ask = ReviewComment(id="c1", author=LEAD, role="lead", at=NOW, text="Ground or varnish?")
    reply = ReviewComment(id="c2", author=ED, at=NOW, text="Ground.", reply_to="c1")
    report = ready(comments=[ask, reply])
    doc = Doc()
    write_report(doc, report)
    assert read_report(doc) == report
    # An answer to a comment that is not earlier, a repeated id, an empty text: refused.
    for bad, says in (
        ([reply, ask], "not an earlier comment"),
        ([ask, ask], "same id"),
    ):
        with pytest.raises(ValueError, match=says):
            ready(comments=bad)
    with pytest.raises(ValueError, match="says something"):
        ReviewComment(author=ED, at=NOW, text="   ")
    with pytest.raises(ValueError, match=f"at most {MAX_COMMENTS}"):
        ready(comments=[ReviewComment(author=ED, at=NOW, text="x")] * (MAX_COMMENTS + 1))
    # The server appends; a client changing the discussion (or adding to it) is refused.
    before = report_json(doc)
    add_comment(doc, ReviewComment(id="c3", author=LEAD, at=NOW, text="Thanks."))
    assert [c["id"] for c in report_json(doc)[COMMENTS]] == ["c1", "c2", "c3"]
    after = report_json(doc)
    (problem,) = check_report_change(before, after)
    assert problem.path == COMMENTS and problem.denied
    rewritten = {**before, COMMENTS: [{**before[COMMENTS][0], "text": "Approve it."}]}
    assert check_report_change(before, rewritten)[0].path == COMMENTS
