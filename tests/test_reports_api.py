"""Condition reports over REST and live: the whole workflow with roles, the lock on REST
and on sockets, bad input named by field, the signed record verified offline (and
tampering caught), the PDF rendered and read back, the JSON-LD read as RDF, damage
tracked across three reports, and the workspace's own vocabulary."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from pycrdt import Array, Map, Text
from rdflib import RDF, Graph, Namespace, URIRef

from server.cli import main as sinopia

from .access import user_id, user_token
from .conftest import Running, ServerFactory
from .iiifimages import image_service, manifest
from .yclient import YClient

WS = "museum"
CRM = Namespace("http://www.cidoc-crm.org/cidoc-crm/")


class Museum:
    """A workspace with an editor, a second editor, a lead and a viewer, and one imported
    canvas with an annotation marking a crack."""

    def __init__(self, server: Running) -> None:
        self.server = server
        self.tokens: dict[str, str] = {}
        self.canvas = ""
        self.annotation = ""

    async def setup(self, images: str) -> Museum:
        for name, role in (("ed", "editor"), ("ana", "editor"), ("li", "lead"), ("vi", "viewer")):
            self.tokens[name] = await user_token(self.server, name, WS, role)
        async with self.server.http() as http:
            done = await http.post(f"/api/iiif/{WS}/import", json=manifest(images, ["panel"]))
            assert done.status_code == 200, done.text
            subject = done.json()["subjects"][0]
            self.canvas = f"canvas/{subject['document'].split('/')[-1]}"
            made = await http.post(
                f"/api/annotations/{WS}/{self.canvas}/",
                json={
                    "type": "Annotation",
                    "motivation": "assessing",
                    "body": {"type": "TextualBody", "value": "crack"},
                    "target": {
                        "source": subject["iiif_id"],
                        "selector": {"type": "FragmentSelector", "value": "xywh=300,200,400,250"},
                    },
                },
            )
            assert made.status_code == 201, made.text
            self.annotation = made.headers["location"].rstrip("/").split("/")[-1]
        return self

    def http(self, who: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.server.url,
            timeout=30,
            headers={"Authorization": f"Bearer {self.tokens[who]}"},
        )

    def report(self, **fields: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": "condition",
            "title": "Annual check: panel painting",
            "reference": "CC-2025-7",
            "object": {"identifier": "1987.12", "title": "Saint Jerome", "materials": "oil on oak"},
            "checker": {"id": "urn:sinopia:user:ed", "name": "Ed Kowalski"},
            "date": "2025-05-02",
            "method": "visual",
            "reason": "survey",
            "environment": {"temperature": 20, "humidity": 48, "light": 150},
            "damage": [
                {
                    "id": "d1",
                    "term": "crack",
                    "location": "upper left of the panel",
                    "severity": "moderate",
                    "activity": "stable",
                    "extent": {"value": 12, "unit": "cm"},
                    "annotations": [{"subject": self.canvas, "annotation": self.annotation}],
                    "photographs": [
                        {"subject": self.canvas, "region": "250,150,500,350", "lighting": "raking"}
                    ],
                }
            ],
        }
        body.update(fields)
        return body


async def _act(http: httpx.AsyncClient, report: str, action: str, note: str = "") -> httpx.Response:
    return await http.post(
        f"/api/reports/{WS}/{report}/workflow", json={"action": action, "note": note}
    )


@pytest.fixture
async def museum(make_server: ServerFactory) -> Any:
    # The image service is on loopback, which the server does not fetch from by default.
    server = await make_server(iiif_fetch_private=True)
    with image_service() as images:
        yield await Museum(server).setup(images)


def _errors(answer: httpx.Response) -> dict[str, str]:
    return {e["path"]: e["message"] for e in answer.json().get("errors", [])}


async def test_the_condition_workflow_over_rest_with_roles_signatures_and_outputs(
    museum: Museum, tmp_path: Path
) -> None:
    base = f"/api/reports/{WS}"
    async with museum.http("ed") as ed, museum.http("li") as li, museum.http("vi") as vi:
        # Bad input is refused, naming the field; nothing is made.
        bad_term = museum.report(id="x1")
        bad_term["damage"][0]["term"] = "crackle-ish"
        bad_term["damage"][0]["severity"] = "catastrophic"
        answer = await ed.post(base, json=bad_term)
        assert answer.status_code == 400
        errors = _errors(answer)
        assert "unknown damage term 'crackle-ish'" in errors["damage/0/term"]
        assert "unknown severity 'catastrophic'" in errors["damage/0/severity"]
        dangling = museum.report(id="x2")
        dangling["damage"][0]["annotations"][0]["annotation"] = "nothing-here"
        answer = await ed.post(base, json=dangling)
        assert answer.status_code == 400
        assert "has no annotation 'nothing-here'" in _errors(answer)["damage/0/annotations/0"]
        assert (await ed.get(f"{base}/x1")).status_code == 404

        made = await ed.post(base, json=museum.report(id="r1"))
        assert made.status_code == 201, made.text
        ed_agent = f"urn:sinopia:user:{await user_id(museum.server, 'ed')}"
        assert made.json()["report"]["recorder"]["id"] == ed_agent
        assert (await vi.patch(f"{base}/r1", json={"summary": "x"})).status_code == 403

        patched = await ed.patch(
            f"{base}/r1",
            json={"summary": "Stable; one crack.", "condition": "fair", "environment": {"uv": 8}},
        )
        assert patched.status_code == 200, patched.text
        report = patched.json()["report"]
        assert report["summary"] == "Stable; one crack."
        assert report["environment"] == {"temperature": 20, "humidity": 48, "light": 150, "uv": 8}
        typo = await ed.patch(f"{base}/r1", json={"sumary": "x"})
        assert typo.status_code == 400 and _errors(typo) == {"sumary": "is not a report field"}
        sneaky = await ed.patch(f"{base}/r1", json={"status": "approved"})
        assert sneaky.status_code == 409 and "workflow" in sneaky.json()["detail"]

        assert (await _act(ed, "r1", "approve")).status_code == 409  # a draft
        assert (await _act(ed, "r1", "submit")).json()["report"]["status"] == "in-review"
        refused = await _act(ed, "r1", "approve")
        assert refused.status_code == 403 and "lead" in refused.json()["detail"]
        assert (await _act(li, "r1", "return")).status_code == 400  # needs a note
        back = await _act(li, "r1", "return", "add the UV reading under raking light")
        assert back.json()["report"]["status"] == "draft"
        await _act(ed, "r1", "submit")
        approved = await _act(li, "r1", "approve")
        assert approved.status_code == 200, approved.text
        assert approved.json()["signed"] and approved.json()["locked"]

        locked = await ed.patch(f"{base}/r1", json={"summary": "changed after approval"})
        assert locked.status_code == 409 and "approved and locked" in locked.json()["detail"]

        # The signed record verifies offline, and a changed copy fails naming the change.
        signed = (await vi.get(f"{base}/r1/signed")).json()
        good = tmp_path / "r1.signed.json"
        good.write_text(json.dumps(signed))
        assert sinopia(["report", "verify", str(good)]) == 0
        signed["record"]["condition"] = "good"
        bad = tmp_path / "r1.altered.json"
        bad.write_text(json.dumps(signed))
        done = subprocess.run(
            [str(Path(__file__).parent.parent / ".venv/bin/sinopia"), "report", "verify", str(bad)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1
        assert "record/condition: differs from what was signed" in done.stdout

        # Linked Art / CIDOC-CRM
        jsonld = await vi.get(f"{base}/r1", headers={"Accept": "application/ld+json"})
        graph = Graph().parse(data=jsonld.text, format="json-ld")
        me = URIRef(f"{museum.server.url}/api/reports/{WS}/r1")
        assert (me, RDF.type, CRM.E14_Condition_Assessment) in graph
        crack = URIRef(f"{me}#damage-d1")
        assert (me, CRM.P35_has_identified, crack) in graph
        assert (crack, RDF.type, CRM.E3_Condition_State) in graph

        csv_answer = await vi.get(f"{base}/r1", headers={"Accept": "text/csv"})
        assert csv_answer.text.splitlines()[1].startswith("CC-2025-7,2025-05-02,")

        # The PDF: rendered to images and its text read back.
        pdf = await vi.get(f"{base}/r1", headers={"Accept": "application/pdf"})
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        path = tmp_path / "r1.pdf"
        path.write_bytes(pdf.content)
        raw = subprocess.run(
            ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
        text = " ".join(raw.split())
        for expected in (
            "Saint Jerome",
            "1987.12",
            "Observed by",
            "Ed Kowalski",
            "Recorded by",
            "Cracks",
            "AAT 300209168",
            "Raking light".lower(),
            "Li",
            "fingerprint",
            signed["signature"]["key_id"],
            "ODC Attribution License",
        ):
            assert expected.lower() in text.lower(), expected
        subprocess.run(
            ["pdftoppm", "-r", "50", "-png", str(path), str(tmp_path / "page")], check=True
        )
        pages = [tmp_path / f"page-{n}.png" for n in range(1, 4)]
        assert all(p.exists() and p.stat().st_size > 1000 for p in pages[:2])
        (Path("/tmp") / "sinopia-report-r1.pdf").write_bytes(pdf.content)

        # Superseding makes a new draft that links back; the old one stays signed.
        new = await _act(ed, "r1", "supersede", "the crack was measured wrong")
        assert new.status_code == 200, new.text
        assert new.json()["report"]["status"] == "superseded"
        successor = new.json()["new_version"]["id"]
        follow = (await ed.get(f"{base}/{successor}")).json()
        assert follow["report"]["status"] == "draft"
        assert follow["report"]["supersedes"] == "r1"
        assert sinopia(["report", "verify", str(good)]) == 0


async def test_a_loan_handover_is_signed_by_both_parties(museum: Museum) -> None:
    base = f"/api/reports/{WS}"
    loan = museum.report(
        id="loan1",
        type="loan",
        condition="good",
        loan={"handover": "incoming", "lender": "Kunstmuseum", "borrower": "Our museum"},
    )
    async with museum.http("ed") as ed, museum.http("ana") as ana:
        assert (await ed.post(base, json=loan)).status_code == 201
        await _act(ed, "loan1", "submit")
        first = await _act(ed, "loan1", "sign")
        assert first.json()["report"]["status"] == "in-review"
        assert "signed by" in first.json()["locked"]
        assert (await ana.patch(f"{base}/loan1", json={"summary": "x"})).status_code == 409
        assert (await _act(ed, "loan1", "sign")).status_code == 409
        second = await _act(ana, "loan1", "sign")
        assert second.json()["report"]["status"] == "approved" and second.json()["signed"]
        signers = (await ed.get(f"{base}/loan1/signed")).json()["signed"]["by"]
        assert [s["agent"]["name"] for s in signers] == ["ed", "ana"]


async def test_the_lock_on_live_sockets(museum: Museum) -> None:
    """Editors co-write the report live; a client that writes the status is told
    "permission denied" and stays connected; once a lead approves over REST, every live
    edit is refused the same way and the socket stays open, read-only."""
    server = museum.server
    async with museum.http("ed") as ed, museum.http("li") as li:
        assert (
            await ed.post(f"/api/reports/{WS}", json=museum.report(id="r9", condition="fair"))
        ).status_code == 201
        client = await YClient(server.ws(f"{WS}/report/r9", museum.tokens["ed"])).connect()
        viewer = await YClient(server.ws(f"{WS}/report/r9", museum.tokens["vi"])).connect()
        try:
            client.doc.get("summary", type=Text).insert(0, "Typed live. ")
            await client.drain()
            await viewer.wait_for(
                lambda: str(viewer.doc.get("summary", type=Text)).startswith("Typed live"),
                what="the live edit",
            )
            seen = len(client.denied)
            client.doc.get("report", type=Map)["status"] = "approved"
            await client.wait_for(lambda: len(client.denied) > seen, 5, "refusal of status")
            assert "workflow" in client.denied[-1]
            assert client.close_code is None
            rest = (await ed.get(f"/api/reports/{WS}/r9")).json()["report"]
            assert rest["status"] == "draft" and rest["summary"].startswith("Typed live")

            # The whole workflow, seen live: submit, approve.
            await _act(ed, "r9", "submit")
            assert (await _act(li, "r9", "approve")).status_code == 200
            await viewer.wait_for(
                lambda: viewer.doc.get("report", type=Map).get("signature") is not None,
                what="the signature, live",
            )
            # Fresh clients (one that was refused holds its edit back, as Yjs does).
            for attempt in range(2):
                late = await YClient(server.ws(f"{WS}/report/r9", museum.tokens["ed"])).connect()
                try:
                    late.doc.get("summary", type=Text).insert(0, f"Amended {attempt}. ")
                    await late.wait_for(lambda c=late: bool(c.denied), 5, "refusal")
                    assert "approved and locked" in late.denied[-1]
                    assert late.ws is not None
                    await late.ws.ping()  # still open, read-only
                    assert late.close_code is None
                finally:
                    await late.close()
            final = (await ed.get(f"/api/reports/{WS}/r9")).json()["report"]
            assert not final["summary"].startswith("Amended")
        finally:
            await client.close()
            await viewer.close()


async def test_damage_is_tracked_across_three_reports_over_rest(museum: Museum) -> None:
    base = f"/api/reports/{WS}"
    async with museum.http("ed") as ed:
        first = museum.report(id="c2023", date="2023-05-02")
        first["damage"].append({"id": "d2", "term": "stain", "severity": "minor"})
        assert (await ed.post(base, json=first)).status_code == 201
        second = await ed.post(base, json={"id": "c2024", "from": "c2023", "date": "2024-05-02"})
        assert second.status_code == 201, second.text
        carried = second.json()["report"]
        assert [d["id"] for d in carried["damage"]] == ["d1", "d2"]
        assert carried["previous"] == "c2023" and carried["object"]["identifier"] == "1987.12"
        damage = carried["damage"]
        damage[0]["severity"] = "severe"
        damage.append({"id": "d3", "term": "flaking", "severity": "moderate", "activity": "active"})
        assert (await ed.patch(f"{base}/c2024", json={"damage": damage})).status_code == 200
        third = await ed.post(base, json={"id": "c2025", "from": "c2024", "date": "2025-05-02"})
        later = [d for d in third.json()["report"]["damage"] if d["id"] != "d2"]
        assert (await ed.patch(f"{base}/c2025", json={"damage": later})).status_code == 200

        result = (await ed.get(f"{base}/c2025/comparison")).json()
        assert result["earlier"] == "c2024"
        assert result["counts"] == {"new": 0, "changed": 0, "unchanged": 2, "resolved": 1}
        assert result["series"]["reports"] == ["c2023", "c2024", "c2025"]
        lines = {line["term"]: line["changes"] for line in result["series"]["damage"]}
        assert lines == {
            "crack": [None, "changed", "unchanged"],
            "stain": [None, "unchanged", "resolved"],
            "flaking": [None, "new", "unchanged"],
        }
        against_first = (await ed.get(f"{base}/c2025/comparison?with=c2023")).json()
        assert against_first["counts"]["new"] == 1 and against_first["counts"]["changed"] == 1


async def test_workspace_terms_and_vocabulary_import(museum: Museum) -> None:
    vocab = f"/api/vocabularies/{WS}/damage"
    async with museum.http("ed") as ed, museum.http("li") as li:
        listed = (await ed.get(vocab + "?lang=de")).json()
        loss = next(t for t in listed["terms"] if t["value"] == "loss")
        assert loss["label"] == "Substanzverlust" and loss["concept"].endswith("/300263354")
        assert "ODC Attribution License" in listed["attribution"]
        term = {"value": "red-rot", "label": "Red rot", "labels": {"fr": "Pourriture rouge"}}
        assert (await ed.post(vocab, json=term)).status_code == 403
        assert (await li.post(vocab, json=term)).status_code == 201
        assert (await li.post(vocab, json=term)).status_code == 409
        report = museum.report(id="leather")
        report["damage"][0]["term"] = "red-rot"
        assert (await ed.post(f"/api/reports/{WS}", json=report)).status_code == 201
        turtle = (
            "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
            '<https://vocab.example.org/cupping> a skos:Concept ; skos:prefLabel "cupping"@en .\n'
        )
        imported = await li.post(
            vocab + "/import", content=turtle, headers={"Content-Type": "text/turtle"}
        )
        assert imported.json() == {"imported": ["cupping"], "skipped": []}
        broken = await li.post(
            vocab + "/import",
            content="value,label\nbad value,\n",
            headers={"Content-Type": "text/csv"},
        )
        assert broken.status_code == 400 and _errors(broken)
        one = (await ed.get(vocab + "/crack")).json()
        assert one["curator_check"] and one["provenance"]["aat_sources"][0]["source"]
        assert (await li.delete(vocab + "/crack")).status_code == 409
        assert (await li.delete(vocab + "/cupping")).status_code == 204


async def test_a_treatment_waits_for_the_proposal_and_records_steps(museum: Museum) -> None:
    base = f"/api/reports/{WS}"
    record = museum.report(
        id="t1",
        type="treatment",
        treatment_purpose="Stabilise the crack before the exhibition",
        proposal="Consolidate with sturgeon glue.",
        conservators=[{"name": "Ana Silva"}],
    )
    step = {"date": "2025-06-01", "description": "Consolidated", "materials_added": ["glue"]}
    async with museum.http("ed") as ed, museum.http("li") as li:
        assert (await ed.post(base, json=record)).status_code == 201
        early = await ed.patch(f"{base}/t1", json={"steps": [step]})
        assert early.status_code == 400 and "approved the proposal" in early.text
        await _act(ed, "t1", "submit")
        started = await _act(li, "t1", "approve")
        assert started.json()["report"]["status"] == "in-treatment"
        assert (await ed.patch(f"{base}/t1", json={"steps": [step]})).status_code == 200
        await _act(ed, "t1", "submit")
        done = await _act(li, "t1", "approve")
        assert done.json()["report"]["status"] == "approved" and done.json()["signed"]


async def test_reports_are_listed_and_due_checks_found(make_server: ServerFactory) -> None:
    server = await make_server()
    server.workspace(WS)
    async with server.http() as http:
        for report_id, due in (("a", "2025-06-01"), ("b", "2027-01-01")):
            body = {"id": report_id, "title": report_id, "next_check": due, "date": "2025-01-01"}
            assert (await http.post(f"/api/reports/{WS}", json=body)).status_code == 201
        listed = (await http.get(f"/api/reports/{WS}?due=2026-01-01")).json()["reports"]
        assert [r["id"] for r in listed] == ["a"]
    done = subprocess.run(
        [
            str(Path(__file__).parent.parent / ".venv/bin/sinopia"),
            "report",
            "--data-dir",
            str(server.data_dir),
            "list",
            WS,
            "--due",
            "2026-01-01",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stdout.split()[0] == "a", done.stdout + done.stderr


async def test_the_reports_that_link_to_a_canvas_are_found_with_their_entries(
    museum: Museum,
) -> None:
    """What the canvas page shows beside an annotation: the damage entries pointing at it."""
    async with museum.http("ed") as ed:
        made = await ed.post(f"/api/reports/{WS}", json=museum.report(id="linked"))
        assert made.status_code == 201, made.text
        other = await ed.post(f"/api/reports/{WS}", json=museum.report(id="plain", damage=[]))
        assert other.status_code == 201, other.text
        found = await ed.get(f"/api/reports/{WS}", params={"subject": museum.canvas})
        assert found.status_code == 200, found.text
        reports = found.json()["reports"]
        assert [r["id"] for r in reports] == ["linked"]
        assert reports[0]["damage"] == [
            {
                "id": "d1",
                "term": "crack",
                "severity": "moderate",
                "annotations": [museum.annotation],
            }
        ]
        none = await ed.get(f"/api/reports/{WS}", params={"subject": "canvas/elsewhere"})
        assert none.json()["reports"] == []


async def test_the_review_discussion_is_attributed_live_and_apart_from_the_workflow(
    museum: Museum,
) -> None:
    """A lead comments on a report in review and its author answers: each comment is the
    caller's, dated by the server, seen live; a client cannot write or rewrite one over
    its socket, nor by PATCH; the workflow's status does not move; an approved report
    takes no more comments; the signed record keeps the discussion."""
    server = museum.server
    async with museum.http("ed") as ed, museum.http("li") as li, museum.http("vi") as vi:
        assert (
            await ed.post(f"/api/reports/{WS}", json=museum.report(id="talk", condition="fair"))
        ).status_code == 201
        await _act(ed, "talk", "submit")
        watcher = await YClient(server.ws(f"{WS}/report/talk", museum.tokens["vi"])).connect()
        try:
            asked = await li.post(
                f"/api/reports/{WS}/talk/comments",
                json={"text": "Is the crack in the ground or only in the varnish?"},
            )
            assert asked.status_code == 201, asked.text
            question = asked.json()
            assert question["author"]["id"] == f"urn:sinopia:user:{await user_id(server, 'li')}"
            assert question["role"] == "lead" and question["at"].endswith("Z")
            await watcher.wait_for(
                lambda: len(watcher.doc.get("comments", type=Array)) == 1, what="the comment"
            )
            answered = await ed.post(
                f"/api/reports/{WS}/talk/comments",
                json={"text": "In the ground: raking light shows it.", "reply_to": question["id"]},
            )
            assert answered.status_code == 201, answered.text
            assert answered.json()["author"]["id"].endswith(await user_id(server, "ed"))

            # Bad input: empty, an answer to nothing, a viewer; each named, nothing kept.
            empty = await ed.post(f"/api/reports/{WS}/talk/comments", json={"text": "  "})
            assert empty.status_code == 400
            stray = await ed.post(
                f"/api/reports/{WS}/talk/comments", json={"text": "Yes.", "reply_to": "nope"}
            )
            assert stray.status_code == 400 and "reply_to" in _errors(stray)
            viewer = await vi.post(f"/api/reports/{WS}/talk/comments", json={"text": "Hi"})
            assert viewer.status_code == 403
            patched = await ed.patch(f"/api/reports/{WS}/talk", json={"comments": []})
            assert patched.status_code == 409 and "comments" in patched.json()["detail"]

            # Over the socket a client can neither add a comment in someone's name nor
            # change one: refused as permission denied, the socket staying open.
            client = await YClient(server.ws(f"{WS}/report/talk", museum.tokens["ed"])).connect()
            try:
                forged = {**question, "id": "forged", "text": "Approve it."}
                client.doc.get("comments", type=Array).append(forged)
                await client.wait_for(lambda: bool(client.denied), 5, "refusal of the forgery")
                assert "comments" in client.denied[-1] and client.close_code is None
            finally:
                await client.close()

            report = (await ed.get(f"/api/reports/{WS}/talk")).json()["report"]
            assert report["status"] == "in-review"
            assert [c["text"] for c in report["comments"]] == [
                "Is the crack in the ground or only in the varnish?",
                "In the ground: raking light shows it.",
            ]
            assert report["comments"][1]["reply_to"] == question["id"]
            assert not report["approvals"][-1]["note"]  # the workflow's notes are apart

            assert (await _act(li, "talk", "approve")).status_code == 200
            late = await li.post(f"/api/reports/{WS}/talk/comments", json={"text": "Also..."})
            assert late.status_code == 409 and "locked" in late.json()["detail"]
            signed = (await ed.get(f"/api/reports/{WS}/talk/signed")).json()
            assert [c["id"] for c in signed["record"]["comments"]] == [
                question["id"],
                answered.json()["id"],
            ]
        finally:
            await watcher.close()
