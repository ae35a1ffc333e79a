"""The report page end to end, in Debian's Chromium against a real server (the fixtures of
test_webapp_browser.py: one server with a two-canvas manifest, a context per person).

Two conservators fill in one condition report live and see each other's edits and
presence; an editor submits, a lead approves, and the page locks and says why; a viewer
reads but cannot edit; the PDF downloads; the workspace lists reports by status and the
checks that are due; axe-core finds nothing serious on the report page. Screenshots of
the report page, the workspace's list and the locked state, at desktop and narrow widths,
go to tests/screenshots/.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from . import test_webapp_browser as web
from .conftest import eventually
from .test_webapp_browser import SHOTS, WS, Site, serious_axe_findings

# The browser tests' fixtures: one server and one browser for this module too.
site = web.site
browser = web.browser
people = web.people

pytestmark = pytest.mark.timeout(180)

CHECKER = {"id": "urn:sinopia:user:chiara", "name": "Chiara Rossi"}


async def _report(site: Site, report_id: str, **fields: Any) -> dict[str, Any]:
    canvas = f"canvas/{site.subjects[0]['id']}"
    body: dict[str, Any] = {
        "id": report_id,
        "type": "condition",
        "title": "Annual check: Saint Jerome",
        "reference": "CC-2026-3",
        "object": {"identifier": "1987.12", "title": "Saint Jerome", "subjects": [canvas]},
        "date": "2026-11-30",
        "next_check": "2026-12-10",
        "damage": [
            {"id": "d1", "term": "crack", "severity": "moderate", "activity": "stable",
             "location": "lower left", "extent": {"value": 12, "unit": "cm"}},
        ],
        **fields,
    }  # fmt: skip
    async with site.http("chiara") as http:
        made = await http.post(f"/api/reports/{WS}", json=body)
        assert made.status_code == 201, made.text
        return dict(made.json())


async def _live_report(site: Site, report_id: str) -> dict[str, Any]:
    async with site.http() as http:
        return dict((await http.get(f"/api/reports/{WS}/{report_id}")).json()["report"])


async def _until_stored(site: Site, report_id: str, check: Any, what: str) -> dict[str, Any]:
    import asyncio
    import time

    deadline = time.monotonic() + 10
    while True:
        report = await _live_report(site, report_id)
        if check(report):
            return report
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {report}"
        await asyncio.sleep(0.1)


async def _shots(page: Any, name: str) -> None:
    """The whole page at desktop and narrow widths (a viewport as tall as the page: a
    full-page capture leaves parts of long pages unpainted in headless Chromium)."""
    for width, size in ((1280, "desktop"), (420, "narrow")):
        await page.set_viewport_size({"width": width, "height": 900})
        height = await page.evaluate("() => document.documentElement.scrollHeight")
        await page.set_viewport_size({"width": width, "height": min(height, 6000)})
        await page.screenshot(path=str(SHOTS / f"{name}-{size}.png"))
    await page.set_viewport_size({"width": 1280, "height": 900})


async def _open(person: Any, report_id: str) -> None:
    await person.page.goto(f"{person.site.url}/w/{WS}/report/{report_id}")
    # The machine the tests run on may be busy: the first page of a fresh browser takes a while.
    await person.page.get_by_role("status").filter(has_text="Live").wait_for(timeout=30_000)
    await person.page.get_by_role("heading", level=1).wait_for(timeout=10_000)


async def test_two_conservators_fill_in_a_report_live(site: Site, people: Any) -> None:
    await _report(site, "live-1")
    chiara = await people("chiara")
    marco = await people("marco")
    await _open(chiara, "live-1")
    await _open(marco, "live-1")
    # Each sees the other present.
    await marco.page.get_by_text("Chiara Rossi", exact=True).first.wait_for(timeout=5000)
    await chiara.page.get_by_text("Marco Bianchi", exact=True).first.wait_for(timeout=5000)

    # Chiara writes the summary; Marco sees the words arrive, and where she is typing.
    summary = chiara.page.get_by_label("Summary")
    await summary.click()
    await marco.page.locator(".report-side").get_by_text("in Summary").wait_for(timeout=5000)
    await summary.type("Stable overall; one crack in the ground, lower left.")
    marco_summary = marco.page.get_by_label("Summary")
    await marco_summary.wait_for(timeout=5000)
    await _wait_value(marco_summary, "Stable overall; one crack in the ground, lower left.")

    # Marco sets the overall condition and adds a damage entry; Chiara sees both.
    await marco.page.get_by_label("Overall condition").select_option("fair")
    await _wait_value(chiara.page.get_by_label("Overall condition"), "fair")
    await marco.page.get_by_label("New damage entry").select_option("flaking")
    await marco.page.get_by_role("button", name="Add damage").click()
    await (
        chiara.page.locator(".damage-entry .entry-term")
        .filter(has_text="Flaking")
        .wait_for(timeout=5000)
    )
    # The entry's term from the vocabulary, with extent, severity and lighting.
    entry = marco.page.locator('.damage-entry:has(.entry-term:text-is("Flaking"))')
    await entry.get_by_label("Severity").select_option("severe")
    await entry.get_by_label("Extent").fill("3")
    await entry.get_by_label("Extent").press("Tab")
    await entry.get_by_role("button", name="Add photograph").click()
    await entry.get_by_label("Lighting").first.select_option("raking")
    stored = await _until_stored(
        site,
        "live-1",
        lambda r: any(
            d["term"] == "flaking"
            and d.get("severity") == "severe"
            and d.get("extent", {}).get("value") == 3
            and d.get("photographs", [{}])[0].get("lighting") == "raking"
            for d in r["damage"]
        ),
        "Marco's damage entry",
    )
    assert stored["summary"] == "Stable overall; one crack in the ground, lower left."
    assert stored["condition"] == "fair"
    await chiara.page.locator(
        '.damage-entry:has(.entry-term:text-is("Flaking")) .severity-severe'
    ).wait_for(timeout=5000)

    await _shots(chiara.page, "report")
    await _narrow_page_is_navigable(chiara.page)
    assert not chiara.errors and not marco.errors, chiara.errors + marco.errors


async def _narrow_page_is_navigable(page: Any) -> None:
    """On a phone the report is one long column: the section tabs, the status and the next
    step stay at the top while one scrolls, and a tab jumps to its section."""
    await page.set_viewport_size({"width": 390, "height": 844})
    nav = page.get_by_role("navigation", name="Sections of the report")
    await page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    await page.wait_for_function(
        "el => Math.abs(el.getBoundingClientRect().top) < 2",
        arg=await nav.element_handle(),
        timeout=5000,
    )
    await nav.get_by_text("Draft").wait_for(timeout=5000)
    # Nothing wider than the phone: no sideways scrolling of the page.
    assert await page.evaluate("() => document.documentElement.scrollWidth") <= 390
    await nav.get_by_role("link", name="Damage", exact=True).click()
    heading = page.locator("#damage-title")
    await page.wait_for_function(
        "([h, n]) => { const t = h.getBoundingClientRect().top;"
        " return t >= n.getBoundingClientRect().bottom - 1 && t < 400; }",
        arg=[await heading.element_handle(), await nav.element_handle()],
        timeout=5000,
    )
    await nav.locator('a[aria-current="true"]').filter(has_text="Damage").wait_for(timeout=5000)
    await page.screenshot(path=str(SHOTS / "report-nav-narrow.png"))
    # The next step from anywhere: it leads to the review, its button focused.
    await nav.get_by_role("link", name="Submit for review").click()
    await page.wait_for_function(
        "() => document.activeElement?.textContent === 'Submit for review'"
        " && document.activeElement.closest('.report-workflow') !== null",
        timeout=5000,
    )
    await page.screenshot(path=str(SHOTS / "report-nav-review-narrow.png"))
    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.evaluate("() => window.scrollTo(0, 0)")
    await page.screenshot(path=str(SHOTS / "report-nav-desktop.png"))


async def _wait_value(locator: Any, value: str) -> None:
    await locator.page.wait_for_function(
        "([el, v]) => el.value === v", arg=[await locator.element_handle(), value], timeout=5000
    )


async def test_an_editor_submits_a_lead_approves_and_the_page_locks(
    site: Site, people: Any
) -> None:
    await _report(site, "flow-1", checker=CHECKER, condition="good")
    chiara = await people("chiara")
    lena = await people("lena")
    await _open(chiara, "flow-1")
    await _open(lena, "flow-1")
    # An editor may not approve: the button says whose step it is.
    assert not await chiara.page.get_by_role("button", name="Approve and sign").count()
    await chiara.page.get_by_role("button", name="Submit for review").click()
    await chiara.page.get_by_text("Submitted for review.").first.wait_for(timeout=5000)
    # The lead sees the step arrive, returns it without a note: the page says what to do.
    await lena.page.get_by_role("button", name="Return with note").wait_for(timeout=5000)
    await lena.page.get_by_role("button", name="Return with note").click()
    await lena.page.get_by_text("Write a note saying what needs to change").wait_for(timeout=5000)
    # The lead asks in the discussion; the author sees it arrive, attributed, and answers.
    talk = lena.page.locator("#report-discussion")
    await talk.get_by_label("Your comment").fill("Is the crack in the ground or the varnish?")
    await talk.get_by_role("button", name="Post comment").click()
    asked = chiara.page.locator("#report-discussion li.comment").first
    await asked.get_by_text("Is the crack in the ground or the varnish?").wait_for(timeout=5000)
    await asked.get_by_text("Lena Weber").wait_for(timeout=5000)
    await asked.get_by_role("button", name="Reply to Lena Weber").click()
    await chiara.page.get_by_label("Your comment").fill("In the ground: see raking light.")
    await chiara.page.get_by_label("Your comment").press("Control+Enter")
    await (
        talk.locator("li.comment")
        .filter(has_text="In the ground: see raking light.")
        .get_by_text("In answer to Lena Weber")
        .wait_for(timeout=5000)
    )
    async with site.http() as http:
        talked = (await http.get(f"/api/reports/{WS}/flow-1")).json()["report"]
    assert [c["author"]["name"] for c in talked["comments"]] == ["Lena Weber", "Chiara Rossi"]
    assert talked["status"] == "in-review"
    await lena.page.locator(".report-side").screenshot(path=str(SHOTS / "report-discussion.png"))
    await lena.page.get_by_role("button", name="Approve and sign").click()
    await lena.page.get_by_text("Approved and signed.").first.wait_for(timeout=5000)
    # Both pages lock and say why; the fields no longer take input.
    for person in (lena, chiara):
        await person.page.get_by_text("This report is approved and signed").wait_for(timeout=5000)
        assert await person.page.get_by_label("Summary").get_attribute("readonly") is not None
        assert await person.page.get_by_label("Overall condition").is_disabled()
    assert not await chiara.page.get_by_role("button", name="Add damage").count()
    await chiara.page.get_by_text("the discussion is closed").wait_for(timeout=5000)
    assert not await chiara.page.get_by_label("Your comment").count()
    async with site.http() as http:
        answer = (await http.get(f"/api/reports/{WS}/flow-1")).json()
    assert answer["report"]["status"] == "approved" and answer["signed"]
    await chiara.page.get_by_role("link", name="Signed record (JSON)").wait_for(timeout=5000)
    await _shots(chiara.page, "report-locked")

    # The PDF downloads.
    await chiara.page.set_viewport_size({"width": 1280, "height": 900})
    async with chiara.page.expect_download(timeout=15_000) as waiting:
        await chiara.page.get_by_role("button", name="Download PDF").click()
    download = await waiting.value
    path = await download.path()
    assert download.suggested_filename == f"{WS}-flow-1.pdf"
    with open(path, "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

    # Starting the next check from it: a new draft with the damage carried over.
    await chiara.page.get_by_role("button", name="Start a new check from this report").click()
    await chiara.page.get_by_role("button", name="Submit for review").wait_for(timeout=10_000)
    assert "/report/flow-1" not in chiara.page.url
    await (
        chiara.page.locator(".damage-entry .entry-term")
        .filter(has_text="Cracks")
        .wait_for(timeout=5000)
    )
    await chiara.page.get_by_role("button", name="Compare with the previous report").click()
    await chiara.page.locator(".compare-counts").get_by_text("1 unchanged").wait_for(timeout=5000)
    assert not chiara.errors and not lena.errors, chiara.errors + lena.errors


async def test_a_viewer_reads_a_report_but_cannot_change_it(site: Site, people: Any) -> None:
    await _report(site, "view-1")
    vera = await people("vera")
    await _open(vera, "view-1")
    await vera.page.get_by_text("your role (Viewer) does not let you change it").wait_for(
        timeout=5000
    )
    assert await vera.page.get_by_label("Summary").get_attribute("readonly") is not None
    assert await vera.page.get_by_label("Report title").get_attribute("readonly") is not None
    assert not await vera.page.get_by_role("button", name="Add damage").count()
    assert not await vera.page.get_by_role("button", name="Submit for review").count()
    # The attachments and the discussion are read, not added to.
    await vera.page.get_by_text("Your role lets you read the discussion").wait_for(timeout=5000)
    assert not await vera.page.get_by_role("button", name="Attach").count()
    assert not await vera.page.get_by_label("Your comment").count()
    await vera.page.get_by_label("Summary").press("a")
    before = await _live_report(site, "view-1")
    assert before["summary"] == ""
    await _shots(vera.page, "report-viewer")


async def test_the_workspace_lists_reports_by_status_and_due_checks(
    site: Site, people: Any
) -> None:
    altarpiece = {"identifier": "1990.4", "title": "Altarpiece"}
    await _report(
        site, "due-1", title="Loan return: altarpiece", next_check="2026-01-05", object=altarpiece
    )
    chiara = await people("chiara")
    await chiara.page.goto(f"{site.url}/w/{WS}")
    reports = chiara.page.get_by_role("region", name="Reports")
    await reports.get_by_role("heading", name="Checks due").wait_for(timeout=5000)
    await reports.get_by_text("overdue since 2026-01-05").wait_for(timeout=5000)
    await reports.get_by_role("heading", name="Draft").wait_for(timeout=5000)
    for width, name in ((1280, "desktop"), (420, "narrow")):
        await chiara.page.set_viewport_size({"width": width, "height": 900})
        await reports.screenshot(path=str(SHOTS / f"workspace-reports-{name}.png"))
    await chiara.page.set_viewport_size({"width": 1280, "height": 900})
    # A new report from the form opens its page.
    await reports.get_by_label("Type").select_option("loan")
    await reports.get_by_label("Title", exact=True).fill("Outgoing loan: Saint Jerome")
    await reports.get_by_label("Object number").fill("1987.12")
    await reports.get_by_role("button", name="Create report").click()
    await chiara.page.get_by_role("heading", name="Outgoing loan: Saint Jerome").wait_for(
        timeout=10_000
    )
    await chiara.page.get_by_role("heading", name="Loan and handover").wait_for(timeout=5000)
    assert not chiara.errors, chiara.errors


async def test_axe_finds_nothing_serious_on_the_report_page(site: Site, people: Any) -> None:
    await _report(site, "axe-1")
    chiara = await people("chiara")
    await _open(chiara, "axe-1")
    await chiara.page.wait_for_load_state("networkidle")
    found = await serious_axe_findings(chiara.page)
    assert not found, found


async def test_a_damage_entry_and_its_region_point_at_each_other(site: Site, people: Any) -> None:
    canvas = f"canvas/{site.subjects[1]['id']}"
    async with site.http("chiara") as http:
        state = (await http.get(f"/api/history/{WS}/{canvas}/state")).json()
        made = await http.post(
            f"/api/annotations/{WS}/{canvas}/",
            json={
                "type": "Annotation",
                "motivation": "commenting",
                "body": {"type": "TextualBody", "value": "Flaking at the edge"},
                "target": {
                    "source": state["content"]["meta"]["iiif_id"],
                    "selector": {"type": "FragmentSelector", "value": "xywh=100,100,300,200"},
                },
            },
        )
        assert made.status_code == 201, made.text
    annotation = made.headers["location"].rstrip("/").split("/")[-1]
    link = {"subject": canvas, "annotation": annotation}
    await _report(
        site,
        "links-1",
        title="Check with regions",
        object={"identifier": "1987.12", "subjects": [canvas]},
        damage=[{"id": "d9", "term": "flaking", "severity": "minor", "annotations": [link]}],
    )
    chiara = await people("chiara")
    await _open(chiara, "links-1")
    region = chiara.page.locator('path.region[data-damage="d9"]')
    await region.wait_for(timeout=10_000)
    assert "lit" not in (await region.get_attribute("class") or "")
    # Choosing the entry lights its region on the image.
    await chiara.page.locator('li[data-damage="d9"] .damage-pick').click()
    await chiara.page.wait_for_function(
        "() => document.querySelector('path.region[data-damage=\"d9\"]').classList.contains('lit')",
        timeout=5000,
    )
    await chiara.page.screenshot(path=str(SHOTS / "report-region-lit.png"))
    # The entry's link opens the canvas with that annotation selected, and the canvas's
    # annotation shows its damage entry, which leads back to the report.
    await chiara.page.locator('li[data-damage="d9"] .entry-links a').click()
    await chiara.page.locator("#comment-text").wait_for(timeout=15_000)
    assert await chiara.page.locator("#comment-text").input_value() == "Flaking at the edge"
    back = chiara.page.get_by_role("link", name="Flaking, in “Check with regions”")
    await back.wait_for(timeout=5000)
    await chiara.page_shot("canvas-damage-entry")
    # The damage vocabulary is in the tag picker: a term stored as a vocabulary resource.
    await chiara.page.get_by_label("Add a tag").fill("Cracks")
    await chiara.page.get_by_label("Add a tag").press("Enter")
    await chiara.page.locator(".chip").filter(has_text="Cracks").wait_for(timeout=5000)
    await back.click()
    await chiara.page.locator('li.damage-entry.selected[data-damage="d9"]').wait_for(timeout=10_000)
    assert not chiara.errors, chiara.errors


# A one-page PDF, as a scanner writes one (the server sniffs the file's kind, not its name).
SCANNED_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


async def _workflow(site: Site, who: str, report_id: str, action: str) -> None:
    async with site.http(who) as http:
        done = await http.post(f"/api/reports/{WS}/{report_id}/workflow", json={"action": action})
        assert done.status_code == 200, done.text


async def test_a_treatment_record_is_written_live_with_people_and_attachments(
    site: Site, people: Any
) -> None:
    canvas = f"canvas/{site.subjects[0]['id']}"
    async with site.http("chiara") as http:
        state = (await http.get(f"/api/history/{WS}/{canvas}/state")).json()
        drawn = await http.post(
            f"/api/annotations/{WS}/{canvas}/",
            json={
                "type": "Annotation",
                "motivation": "commenting",
                "body": {"type": "TextualBody", "value": "Varnish test patch"},
                "target": {
                    "source": state["content"]["meta"]["iiif_id"],
                    "selector": {"type": "FragmentSelector", "value": "xywh=100,100,600,400"},
                },
            },
        )
        assert drawn.status_code == 201, drawn.text
    await _report(
        site,
        "treat-1",
        type="treatment",
        title="Cleaning: Saint Jerome",
        checker=CHECKER,
        proposal="Remove the discoloured varnish with a solvent gel; consolidate the flakes.",
        damage=[],
    )
    # The lead approves the proposal: now the steps may be recorded (not before).
    await _workflow(site, "chiara", "treat-1", "submit")
    await _workflow(site, "lena", "treat-1", "approve")
    async with site.http() as http:
        members = (await http.get(f"/api/workspaces/{WS}/members")).json()["members"]
    marco_id = next(m["user_id"] for m in members if m["user"] == "marco")

    chiara = await people("chiara")
    marco = await people("marco")
    await _open(chiara, "treat-1")
    await _open(marco, "treat-1")

    # Chiara records a dated step with a method and a material added; Marco sees it arrive.
    steps = chiara.page.locator("#report-steps")
    await steps.get_by_label("Date").fill("2026-11-20")
    await steps.get_by_label("What was done").fill("Varnish removed with a solvent gel.")
    await steps.get_by_role("button", name="Add step").click()
    step = steps.locator("li.step").first
    await step.get_by_label("Add to Methods").first.fill("solvent gel")
    await step.get_by_role("button", name="Add to Methods").click()
    await step.get_by_label("Add to Materials added").first.fill("Paraloid B-72")
    await step.get_by_label("Add to Materials added").first.press("Enter")
    marco_step = marco.page.locator("#report-steps li.step").first
    await marco_step.get_by_text("Paraloid B-72").wait_for(timeout=5000)
    await marco_step.get_by_text("solvent gel").wait_for(timeout=5000)
    # Marco notes what was taken off; Chiara removes the method again.
    await marco_step.get_by_label("Add to Materials removed").first.fill("discoloured varnish")
    await marco_step.get_by_role("button", name="Add to Materials removed").click()
    await step.get_by_text("discoloured varnish").wait_for(timeout=5000)
    await step.get_by_role("button", name="Remove solvent gel from Methods").click()

    # Marco adds a sample; Chiara adds a before image of a detail of the recto.
    analyses = marco.page.locator("#report-analyses")
    await analyses.get_by_label("Kind").select_option("sample")
    await analyses.get_by_role("button", name="Add analysis or sample").click()
    sample = analyses.locator("li.analysis").first
    await sample.get_by_label("Sample number").fill("S-1")
    await sample.get_by_label("Result").fill("Natural resin varnish, aged.")
    await sample.get_by_label("Result").press("Tab")
    images = chiara.page.locator("#report-images")
    await images.get_by_label("Stage").select_option("before")
    await images.get_by_label("Lighting").select_option("uv")
    await images.get_by_label("Region").fill("not a region")
    await images.get_by_role("button", name="Add image").click()
    await images.get_by_text("Write the region as full").wait_for(timeout=5000)
    # The region drawn on the canvas, chosen by its annotation, fills in its box.
    await images.get_by_label("Part of the image").select_option(label="Region: Varnish test patch")
    assert await images.get_by_label("Region", exact=True).input_value() == "100,100,600,400"
    await images.get_by_role("button", name="Add image").click()
    # The image shows, with the detail outlined, on both pages.
    for person in (chiara, marco):
        thumb = person.page.locator("#report-images li.image img.record-thumb")
        await thumb.wait_for(timeout=10_000)
        await person.page.wait_for_function(
            "el => el.complete && el.naturalWidth > 0", arg=await thumb.element_handle()
        )
        await person.page.locator("#report-images .region-outline").wait_for(timeout=5000)

    # The checker is a member picked by name; the recorder someone from outside.
    await chiara.page.get_by_label("Checked by").fill("Marco Bianchi")
    await chiara.page.get_by_label("Checked by").press("Tab")
    await chiara.page.get_by_label("Recorded by").fill("Anna Verdi (Uffizi)")
    await chiara.page.get_by_label("Recorded by").press("Tab")
    # Conservators likewise: a member by name (stored by id), and someone from outside.
    await chiara.page.get_by_label("Conservators").fill("marco bianchi; Luca Neri (freelance)")
    await chiara.page.get_by_label("Conservators").press("Tab")
    await (
        marco.page.locator(".person-field")
        .filter(has_text="Checked by")
        .get_by_text("Workspace member")
        .wait_for(timeout=5000)
    )
    await (
        marco.page.locator(".person-field")
        .filter(has_text="Recorded by")
        .get_by_text("From outside the workspace")
        .wait_for(timeout=5000)
    )

    stored = await _until_stored(
        site,
        "treat-1",
        lambda r: (
            r["steps"]
            and r["steps"][0].get("materials_removed") == ["discoloured varnish"]
            and not r["steps"][0].get("methods")
            and r["analyses"]
            and r["analyses"][0].get("result") == "Natural resin varnish, aged."
            and r["images"]
            and r.get("recorder", {}).get("name") == "Anna Verdi (Uffizi)"
            and len(r.get("conservators") or []) == 2
        ),
        "the treatment record",
    )
    step_stored = stored["steps"][0]
    assert step_stored["date"] == "2026-11-20"
    assert step_stored["description"] == "Varnish removed with a solvent gel."
    assert step_stored["materials_added"] == ["Paraloid B-72"]
    chiara_id = next(m["user_id"] for m in members if m["user"] == "chiara")
    # Members by id alone (the name is looked up to show); the REST answer names them.
    assert step_stored["by"] == {"type": "Person", "id": f"urn:sinopia:user:{chiara_id}",
                                 "name": "Chiara Rossi"}  # fmt: skip
    assert stored["analyses"][0]["kind"] == "sample" and stored["analyses"][0]["sample"] == "S-1"
    image = stored["images"][0]
    assert (image["subject"], image["region"], image["role"], image["lighting"]) == (
        canvas,
        "100,100,600,400",
        "before",
        "uv",
    )
    assert stored["checker"] == {
        "type": "Person",
        "id": f"urn:sinopia:user:{marco_id}",
        "name": "Marco Bianchi",
    }
    assert "id" not in stored["recorder"]
    assert stored["conservators"] == [
        {"type": "Person", "id": f"urn:sinopia:user:{marco_id}", "name": "Marco Bianchi"},
        {"type": "Person", "name": "Luca Neri (freelance)"},
    ]
    # Shown by the member's name as it is now, on the colleague's page too.
    conservators = marco.page.get_by_label("Conservators")

    async def shown() -> bool:
        return await conservators.input_value() == "Marco Bianchi; Luca Neri (freelance)"

    await eventually(shown, 5, "the conservators on the colleague's page")

    # A scanned legacy report is attached with a progress bar, listed on both pages, and
    # offered as a download only; a text file is refused with the reason.
    attach = chiara.page.locator("#report-attachments")
    await attach.get_by_label("Scanned PDF or photograph").set_input_files(
        {"name": "check-1998.pdf", "mimeType": "application/pdf", "buffer": SCANNED_PDF}
    )
    await attach.get_by_label("Caption (optional)").fill("Condition check, 1998 (paper)")
    await attach.get_by_role("button", name="Attach").click()
    await attach.get_by_text("check-1998.pdf is attached.").wait_for(timeout=10_000)
    link = marco.page.locator("#report-attachments").get_by_role("link", name="check-1998.pdf")
    await link.wait_for(timeout=5000)
    assert await link.get_attribute("download") == "check-1998.pdf"
    href = await link.get_attribute("href")
    async with site.http("marco") as http:
        got = await http.get(href)
    assert got.status_code == 200 and got.content == SCANNED_PDF
    assert got.headers["content-disposition"].startswith("attachment;")
    assert not await marco.page.locator(
        f'iframe[src*="{href}"], embed[src*="{href}"], img[src*="{href}"], object'
    ).count()
    await attach.get_by_label("Scanned PDF or photograph").set_input_files(
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"just some notes\n"}
    )
    await attach.get_by_role("button", name="Attach").click()
    await attach.get_by_text("notes.txt is not a PDF or an image").wait_for(timeout=10_000)
    stored = await _live_report(site, "treat-1")
    assert [a["filename"] for a in stored["attachments"]] == ["check-1998.pdf"]
    assert stored["attachments"][0]["caption"] == "Condition check, 1998 (paper)"

    await _shots(chiara.page, "report-treatment")
    for width, height, size in ((1280, 800, "desktop"), (390, 844, "narrow")):
        await chiara.page.set_viewport_size({"width": width, "height": height})
        width_used = await chiara.page.evaluate("() => document.documentElement.scrollWidth")
        assert width_used <= width, f"the page scrolls sideways at {width}px"
        for part in ("steps", "images", "attachments"):
            await chiara.page.locator(f"#report-{part}").screenshot(
                path=str(SHOTS / f"report-{part}-{size}.png")
            )
    await chiara.page.set_viewport_size({"width": 1280, "height": 800})
    # Marco takes the attachment off again (once he confirms); Chiara sees it go.
    marco.page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await marco.page.locator("#report-attachments").get_by_role("button", name="Remove").click()
    await attach.get_by_text("Nothing attached.").wait_for(timeout=5000)
    await _until_stored(site, "treat-1", lambda r: not r["attachments"], "the removal")
    # Nothing serious for axe-core on the record with every list filled in.
    found = await serious_axe_findings(chiara.page)
    assert not found, found
    # The browser logs the refused upload's 415; nothing else went wrong.
    unexpected = [e for e in chiara.errors + marco.errors if "status of 415" not in e]
    assert not unexpected, unexpected


async def test_a_damage_entry_and_its_3d_point_lead_to_each_other(site: Site, people: Any) -> None:
    from .models import box_glb

    async with site.http("chiara") as http:
        uploaded = await http.post(
            f"/api/media/{WS}", files={"file": ("Bronze box.glb", box_glb((1.0, 0.6, 0.4)))}
        )
        assert uploaded.status_code == 201, uploaded.text
        (model,) = uploaded.json()["subjects"]
        ref = f"model/{model['id']}"
        state = (await http.get(f"/api/history/{WS}/{ref}/state")).json()
        # A point on the box's front face, seen from in front.
        made = await http.post(
            f"/api/annotations/{WS}/{ref}/",
            json={
                "type": "Annotation",
                "motivation": "commenting",
                "body": {"type": "TextualBody", "value": "Corrosion pit on the lid"},
                "target": {
                    "type": "SpecificResource",
                    "source": {"id": state["content"]["meta"]["iiif_id"], "type": "Scene"},
                    "selector": {
                        "type": "PointSelector", "x": 0.2, "y": 0.1, "z": 0.4,
                        "sinopia:normal": [0, 0, 1],
                        "sinopia:camera": {"position": [0.5, 0.5, 3.5], "target": [0, 0, 0],
                                           "fieldOfView": 40},
                    },
                },
            },
        )  # fmt: skip
        assert made.status_code == 201, made.text
    annotation = made.headers["location"].rstrip("/").split("/")[-1]
    await _report(
        site,
        "links-3d",
        title="Bronze box: condition",
        object={"identifier": "2001.7", "title": "Bronze box", "subjects": [ref]},
        damage=[
            {"id": "d3", "term": "corrosion", "severity": "moderate", "activity": "active",
             "annotations": [{"subject": ref, "annotation": annotation}]},
        ],
    )  # fmt: skip
    chiara = await people("chiara")
    await _open(chiara, "links-3d")
    # Beside the damage list, the model with its linked point; choosing the entry lights it.
    point = chiara.page.locator('.model-point[data-damage="d3"]')
    await point.get_by_text("Corrosion pit on the lid").wait_for(timeout=10_000)
    assert "lit" not in (await point.get_attribute("class") or "")
    await chiara.page.locator('li[data-damage="d3"] .damage-pick').click()
    await chiara.page.wait_for_function(
        "() => document.querySelector('.model-point[data-damage=d3]').classList.contains('lit')",
        timeout=5000,
    )
    await (
        chiara.page.locator('li[data-damage="d3"] .entry-links')
        .get_by_text("Corrosion pit on the lid")
        .wait_for(timeout=5000)
    )
    assert not await chiara.page.locator('li[data-damage="d3"] .entry-photos select').count()
    for width, height, name in ((1280, 800, "desktop"), (390, 844, "narrow")):
        await chiara.page.set_viewport_size({"width": width, "height": height})
        await chiara.page.locator(".report-damage").screenshot(
            path=str(SHOTS / f"report-3d-point-{name}.png")
        )
    await chiara.page.set_viewport_size({"width": 1280, "height": 800})

    # The point's link opens the model page with that point chosen (the camera where it was
    # seen), and the model's annotation lists the damage entry, which leads back.
    await point.get_by_role("link").click()
    await chiara.page.get_by_role("status").filter(has_text="Live").wait_for(timeout=40_000)
    await chiara.page.locator(
        f'.model-viewer[data-state=ready][data-selected="{annotation}"]'
    ).wait_for(timeout=40_000)
    assert await chiara.page.locator("#comment-text").input_value() == "Corrosion pit on the lid"
    back = chiara.page.get_by_role("link", name="Corrosion, in “Bronze box: condition”")
    await back.wait_for(timeout=10_000)
    for width, height, name in ((1280, 800, "desktop"), (390, 844, "narrow")):
        await chiara.page.set_viewport_size({"width": width, "height": height})
        await chiara.page.screenshot(path=str(SHOTS / f"model-damage-entry-{name}.png"))
    await chiara.page.set_viewport_size({"width": 1280, "height": 800})
    await back.click()
    await chiara.page.locator('li.damage-entry.selected[data-damage="d3"]').wait_for(timeout=10_000)
    assert not chiara.errors, chiara.errors
