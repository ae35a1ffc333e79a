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

from typing import Any

import pytest

from . import test_webapp_browser as web
from .test_webapp_browser import AXE, SHOTS, WS, Site

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
    assert not chiara.errors and not marco.errors, chiara.errors + marco.errors


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
    await lena.page.get_by_role("button", name="Approve and sign").click()
    await lena.page.get_by_text("Approved and signed.").first.wait_for(timeout=5000)
    # Both pages lock and say why; the fields no longer take input.
    for person in (lena, chiara):
        await person.page.get_by_text("This report is approved and signed").wait_for(timeout=5000)
        assert await person.page.get_by_label("Summary").get_attribute("readonly") is not None
        assert await person.page.get_by_label("Overall condition").is_disabled()
    assert not await chiara.page.get_by_role("button", name="Add damage").count()
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
    await vera.page.get_by_label("Summary").press("a")
    before = await _live_report(site, "view-1")
    assert before["summary"] == ""
    await _shots(vera.page, "report-viewer")


async def test_the_workspace_lists_reports_by_status_and_due_checks(
    site: Site, people: Any
) -> None:
    await _report(site, "due-1", title="Loan return: altarpiece", next_check="2026-01-05")
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
    await chiara.page.evaluate(f"() => {{ {AXE.read_text()}\n}}")
    result = await chiara.page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    found = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not found, found
