"""Adding images in the browser: dropped on the workspace page, sent with a progress bar,
listed as subjects when taken; a file the server refuses says why, in the person's words
and the server's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests import pictures
from tests import test_webapp_browser as app_tests
from tests.test_webapp_browser import SHOTS, WS, Site, serious_axe_findings

# The browser tests' server, browser and signed-in people.
site, browser, people = app_tests.site, app_tests.browser, app_tests.people

pytestmark = pytest.mark.timeout(240)

DROP = """async ([name, b64, type]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type }));
  const zone = document.querySelector('.drop-zone');
  zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true }));
  zone.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true }));
}"""


async def drop(page: Any, name: str, content: bytes, media_type: str) -> None:
    import base64

    await page.evaluate(DROP, [name, base64.b64encode(content).decode(), media_type])


async def test_images_dropped_on_the_workspace_become_subjects(
    site: Site, people: Any, tmp_path: Path
) -> None:
    chiara = await people("chiara", f"/w/{WS}")
    page = chiara.page
    zone = page.locator(".drop-zone")
    await zone.wait_for(timeout=15_000)
    await page.screenshot(path=str(SHOTS / "upload-before.png"), full_page=True)

    photo = bytes(pictures.picture(2400, 1600).jpegsave_buffer(Q=90))
    await drop(page, "Predella, detail.jpg", photo, "image/jpeg")
    taken = page.get_by_text("Added 1 subject from Predella, detail.jpg.")
    await taken.wait_for(timeout=60_000)
    # The subject list shows it without a reload.
    await page.get_by_role("link", name="Predella, detail.jpg").first.wait_for(timeout=15_000)

    await drop(page, "notes.jpg", b"these are my notes, not a photograph\n" * 20, "image/jpeg")
    refused = page.get_by_role("alert").filter(has_text="notes.jpg is not a file")
    await refused.wait_for(timeout=30_000)
    assert "Send a JPEG, PNG, TIFF, WebP or JPEG 2000 image, or a GLB or glTF model" in (
        await refused.inner_text()
    )
    await page.screenshot(path=str(SHOTS / "upload-after.png"), full_page=True)
    # The refusal is an alert inside its list item (an item that is itself an alert is no
    # list item): nothing serious for axe-core on the page with its messages.
    serious = await serious_axe_findings(page)
    assert not serious, serious
    # On a phone the panel and its message fit the width: nothing to scroll sideways to.
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.screenshot(path=str(SHOTS / "upload-narrow.png"), full_page=True)
    assert await page.evaluate("() => document.documentElement.scrollWidth") <= 390
    await page.set_viewport_size({"width": 1280, "height": 800})

    # Choosing files works the same (the zone is a button for the keyboard too).
    tif = pictures.multi_page(tmp_path / "register.tif", [pictures.picture(900, 600)] * 2)
    await page.get_by_label("Choose files").set_input_files(str(tif))
    await page.get_by_text("Added 2 subjects from register.tif.").wait_for(timeout=60_000)
    assert chiara.errors == [] or all("415" in e for e in chiara.errors)


async def test_a_viewer_sees_no_upload(site: Site, people: Any) -> None:
    vera = await people("vera", f"/w/{WS}")
    await vera.page.get_by_role("heading", level=1).wait_for(timeout=15_000)
    assert await vera.page.locator(".drop-zone").count() == 0
