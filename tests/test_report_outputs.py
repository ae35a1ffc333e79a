"""What a report becomes outside Sinopia: its canonical JSON (RFC 8785), the signed record
and its offline verification, Linked Art / CIDOC-CRM JSON-LD read as RDF, and the
CollectionSpace condition check CSV."""

from __future__ import annotations

import copy
import csv
import io
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rdflib import RDF, Graph, Literal, Namespace, URIRef

from annotations import Report
from annotations.canonical import NotCanonical, canonical
from annotations.collectionspace import COLUMNS, to_csv
from annotations.damage_terms import DAMAGE_TERMS
from annotations.linked_art import to_linked_art
from annotations.signed_record import record_of, sign, verify

from .test_annotations_reports import draft

CRM = Namespace("http://www.cidoc-crm.org/cidoc-crm/")


def test_canonical_json_follows_rfc_8785() -> None:
    # RFC 8785 §3.2.3: members sorted by UTF-16 code units, not by code points.
    names = {"\u20ac": "Euro", "\r": "CR", "\ufb33": "Hebrew", "1": "One", "\U0001f600": "Smiley",
             "\u0080": "Control", "\u00f6": "o"}  # fmt: skip
    assert canonical(names).decode() == (
        '{"\\r":"CR","1":"One","\u0080":"Control","\u00f6":"o","\u20ac":"Euro",'
        '"\U0001f600":"Smiley","\ufb33":"Hebrew"}'
    )
    numbers = [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001, -0.0, 1e21]
    assert canonical(numbers) == b"[333333333.3333333,1e+30,4.5,0.002,1e-27,0,1e+21]"
    assert canonical({"a": '\u2028\x0f"\\'}) == '{"a":"\u2028\\u000f\\"\\\\"}'.encode()
    with pytest.raises(NotCanonical):
        canonical({"n": float("nan")})


KEY = Ed25519PrivateKey.generate()


def signed(report: Report | None = None) -> dict[str, Any]:
    record = record_of((report or draft()).to_json())
    return sign(
        document="museum/report/r1",
        record=record,
        history={
            "seq": 7,
            "hash": "ab" * 32,
            "seal": {"last_seq": 7, "hash": "ab" * 32, "first_seq": 1},
        },
        signers=[{"name": "Li Wei", "role": "lead", "action": "approved"}],
        signed_at="2025-03-02T12:00:00Z",
        key=KEY,
    )


def test_a_signed_record_verifies_offline_and_names_what_was_altered() -> None:
    good = signed()
    assert verify(json.loads(json.dumps(good))).ok
    altered = copy.deepcopy(good)
    altered["record"]["damage"][0]["severity"] = "minor"
    altered["record"]["condition"] = "good"
    problems = verify(altered).problems
    assert problems[:2] == [
        "record/condition: differs from what was signed",
        "record/damage/0: differs from what was signed",
    ]
    assert problems[-1].startswith("signature: does not verify")
    # Forging the digests too leaves only the signature to say so.
    forged = copy.deepcopy(altered)
    forged["digests"] = signed(Report.model_validate(altered["record"]))["digests"]
    assert verify(forged).problems == [
        "signature: does not verify over the record and its history head"
    ]
    moved = copy.deepcopy(good)
    moved["history"]["seq"] = 6
    assert "history: the head does not match its seal" in verify(moved).problems
    stranger = Ed25519PrivateKey.generate()
    resigned = sign(
        document=good["document"], record=good["record"], history=good["history"],
        signers=[], signed_at="2025-03-02T12:00:00Z", key=stranger,
    )  # fmt: skip
    assert verify(resigned).ok
    assert verify(resigned, trusted={good["signature"]["key_id"]}).problems == [
        f"signature/key_id: {resigned['signature']['key_id']} is not a key you trust"
    ]
    swapped = copy.deepcopy(good)
    swapped["signature"]["key_id"] = resigned["signature"]["key_id"]
    assert "is not the fingerprint of the public key" in verify(swapped).problems[0]
    assert not verify({"format": "something else"}).ok


def _iri(vocabulary: str, value: str) -> str:
    name = vocabulary.replace(" ", "-")
    return f"https://sinopia.example.org/api/vocabularies/museum/{name}/{value}"


def test_the_linked_art_json_ld_reads_as_cidoc_crm() -> None:
    report = draft(
        damage=[
            *draft().damage,
            {"id": "d2", "term": "loss", "severity": "minor", "note": "small loss of gilding"},
        ]
    )
    iri = "https://sinopia.example.org/api/reports/museum/r1"
    doc = to_linked_art(
        report,
        iri,
        term_iri=_iri,
        annotation_iri=lambda s, a: f"https://sinopia.example.org/api/annotations/museum/{s}/{a}",
        photo_url=lambda p: f"https://img.example.org/iiif/x/{p.region}/max/0/default.jpg",
        damage_terms=DAMAGE_TERMS,
    )
    graph = Graph().parse(data=json.dumps(doc), format="json-ld")
    me = URIRef(iri)
    assert (me, RDF.type, CRM.E14_Condition_Assessment) in graph
    states = set(graph.objects(me, CRM.P35_has_identified))
    assert len(states) == 3  # the overall condition and two damage entries
    assert all((s, RDF.type, CRM.E3_Condition_State) in graph for s in states)
    loss = URIRef(f"{iri}#damage-d2")
    assert (loss, CRM.P2_has_type, URIRef("http://vocab.getty.edu/aat/300263354")) in graph
    # Flaking has no sourced AAT id: typed by the workspace vocabulary's own term.
    flaking = URIRef(f"{iri}#damage-d1")
    assert (flaking, CRM.P2_has_type, URIRef(_iri("damage term", "flaking"))) in graph
    assert (flaking, CRM.P129i_is_subject_of, None) in graph
    [objekt] = graph.objects(me, CRM.P34_concerned)
    assert (objekt, RDF.type, CRM["E22_Human-Made_Object"]) in graph
    notes = {str(o) for o in graph.objects(None, CRM.P190_has_symbolic_content)}
    assert "small loss of gilding" in notes and any("ODC" in n for n in notes)
    values = list(graph.objects(None, CRM.P90_has_value))
    assert Literal(4.0) in values


def test_a_treatment_record_is_an_e11_modification_with_dated_steps() -> None:
    record = draft(
        type="treatment",
        proposal="Consolidate.",
        treatment_purpose="Stabilise the flaking paint",
        approvals=[
            {"action": "approved-proposal", "agent": {"name": "Li"}, "at": "2025-03-02T12:00:00Z"}
        ],
        status="in-treatment",
        steps=[
            {
                "id": "s1",
                "date": "2025-03-05",
                "description": "Consolidated with isinglass",
                "methods": ["brush"],
                "materials_added": ["isinglass 3%"],
            }
        ],
    )
    iri = "https://sinopia.example.org/api/reports/museum/t1"
    doc = to_linked_art(
        record, iri, term_iri=_iri, annotation_iri=lambda s, a: f"urn:x:{a}",
        photo_url=lambda p: None, damage_terms=DAMAGE_TERMS,
    )  # fmt: skip
    graph = Graph().parse(data=json.dumps(doc), format="json-ld")
    treatment = URIRef(f"{iri}#treatment")
    assert (treatment, RDF.type, CRM.E11_Modification) in graph
    assert (treatment, CRM.P17_was_motivated_by, URIRef(iri)) in graph
    [part] = graph.objects(treatment, CRM.P9_consists_of)
    assert (part, RDF.type, CRM.E11_Modification) in graph
    assert (part, CRM.P126_employed, None) in graph


def test_the_collectionspace_csv_has_the_import_columns() -> None:
    text = to_csv([draft()])
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert tuple(row) == COLUMNS
    assert row["conditioncheckrefnumber"] == "CC-2025-014"
    assert row["conditioncheckassessmentdate"] == "2025-03-01"
    assert row["conditioncheckerperson"] == "Marta Ruiz"
    assert row["condition"] == "exhibitableneedswork|"
    assert row["conditionnote"].split("|")[1].startswith("Flaking at fol. 1r")
    assert row["envconditionnote"] == "19.5 °C; 50 % RH; 50 lux; 10 µW/lm"
