"""The subject page in Debian's Chromium, beyond co-annotation (tests/test_webapp_browser.py
has that): a long list of annotations scrolls in its panel; what one chose to see stays
when the language changes; an image server that sends no CORS headers, and one named by
a manifest imported after the page was loaded; drawing with the keyboard alone; an update
the server refuses is said and the document reloaded.

Same fixtures as tests/test_webapp_browser.py (a server, pictures from static IIIF image
services on loopback, a browser context per person); screenshots in tests/screenshots/.
"""

from __future__ import annotations

import re
from functools import partial
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from annotations import parse_annotation, write_annotation

from . import staticiiif
from . import test_webapp_browser as browser_tests
from .statichttp import _Quiet, serve, serving
from .test_webapp_browser import WS, Person, Site, annotations_of, until

# The fixtures of tests/test_webapp_browser.py: a server, a browser, people signed in.
site = browser_tests.site
browser = browser_tests.browser
people = browser_tests.people

pytestmark = pytest.mark.timeout(240)

# The plain ground the page shows where the picture cannot be had (canvas/annotator.ts).
STAND_IN = (217, 213, 204)


class _NoCors(_Quiet):
    """An image server as many museums' are: no Access-Control-Allow-Origin."""

    def end_headers(self) -> None:
        SimpleHTTPRequestHandler.end_headers(self)


async def _import(site: Site, base: str, label: str, service: str) -> dict[str, Any]:
    async with site.http() as http:
        body = staticiiif.manifest(base, [(label, service)])
        body["id"] = f"{base}/{label.lower()}.json"
        answer = await http.post(f"/api/iiif/{WS}/import", json=body)
        assert answer.status_code in (200, 201), answer.text
        subjects = (await http.get(f"/api/workspaces/{WS}/subjects")).json()["subjects"]
    return next(s for s in subjects if s["label"] == label)


async def _add(site: Site, subject: dict[str, Any], comment: str, xywh: str) -> None:
    async with site.http() as http:
        state = (await http.get(f"/api/history/{subject['document']}/state")).json()
        canvas = state["content"]["meta"]["iiif_id"]
        added = await http.post(
            f"/api/annotations/{subject['document']}/",
            json={
                "@context": "http://www.w3.org/ns/anno.jsonld",
                "type": "Annotation",
                "motivation": "commenting",
                "body": {"type": "TextualBody", "value": comment, "language": "en"},
                "target": {"source": canvas,
                           "selector": {"type": "FragmentSelector", "value": f"xywh={xywh}"}},
            },
        )  # fmt: skip
        assert added.status_code == 201, added.text


async def _open(person: Person, subject: dict[str, Any]) -> None:
    await person.page.goto(f"{person.site.url}/w/{WS}/canvas/{subject['id']}")
    await person.live()


def _page_errors(person: Person) -> list[str]:
    # The browser logs refused requests as console errors; what must not happen is the
    # page's own code failing.
    return [e for e in person.errors if not re.search(r"CORS|Failed to load resource|net::", e)]


async def test_the_side_panel_scrolls_through_many_annotations(site: Site, people: Any) -> None:
    subject = site.subjects[1]
    async with site.http() as http:
        state = (await http.get(f"/api/history/{subject['document']}/state")).json()
        canvas = state["content"]["meta"]["iiif_id"]
    count = 80

    def fill(doc: object) -> None:
        for n in range(count):
            note = {
                "@context": "http://www.w3.org/ns/anno.jsonld",
                "id": f"many{n}",
                "type": "Annotation",
                "motivation": "commenting",
                "body": {"type": "TextualBody", "value": f"Observation {n}: flaking"},
                "target": {"source": canvas, "selector": {"type": "FragmentSelector",
                           "value": f"xywh={(n % 10) * 110 + 10},{(n // 10) * 100 + 10},80,60"}},
            }  # fmt: skip
            write_annotation(doc, parse_annotation(note, canvas))  # type: ignore[arg-type]

    async with site.app.state.manager.hold(subject["document"]) as room:
        await room.write("test", fill, size_hint=count * 400)
    chiara = await people("chiara")
    await chiara.open_canvas(1)
    side = chiara.page.locator(".side")
    await side.get_by_text(f"{count} annotations").wait_for(timeout=10_000)
    await chiara.page.get_by_text(f"Observation {count - 1}: flaking").wait_for(timeout=10_000)
    sizes = await side.evaluate(
        "el => ({scroll: el.scrollHeight, client: el.clientHeight, page: "
        "document.documentElement.scrollHeight, window: innerHeight})"
    )
    # The panel holds a long list in the height the page leaves it; the page itself does
    # not grow below the image.
    assert sizes["scroll"] > sizes["client"] * 2, sizes
    assert sizes["page"] <= sizes["window"] + 2, sizes
    await side.evaluate("el => { el.scrollTop = el.scrollHeight; }")
    last = chiara.page.get_by_text(f"Observation {count - 1}: flaking")
    box = await last.bounding_box()
    assert box is not None and 0 <= box["y"] < sizes["window"], box
    await chiara.page_shot("side-panel-scrolled")


async def test_what_one_chose_to_see_stays_when_the_language_changes(
    site: Site, people: Any
) -> None:
    chiara = await people("chiara")
    await chiara.open_canvas()
    await chiara.page.get_by_role("button", name="Layers").click()
    await chiara.page.locator("#colour-by").select_option("tag")
    untagged = chiara.page.get_by_label("Without tags")
    await untagged.uncheck()
    await chiara.page.locator("#language").select_option("fr")
    await chiara.page.get_by_role("button", name="Calques").wait_for(timeout=10_000)
    await chiara.page.locator(".connection-live").wait_for(timeout=10_000)
    assert await chiara.page.locator("#colour-by").input_value() == "tag"
    assert await chiara.page.locator("#layers").is_visible()
    assert not await chiara.page.get_by_label("Sans étiquette").is_checked()
    await chiara.page_shot("layers-kept-in-french")
    await chiara.page.locator("#language").select_option("en")
    await chiara.page.get_by_role("button", name="Layers").wait_for(timeout=10_000)


async def test_a_picture_whose_server_sends_no_cors_headers(
    site: Site, people: Any, tmp_path: Path
) -> None:
    with serving(partial(_NoCors, directory=str(tmp_path))) as base:
        service = staticiiif.write_service(tmp_path, base, "loan")
        subject = await _import(site, base, "Loan panel", service)
        await _add(site, subject, "Craquelure along the top edge", "100,100,400,200")
        chiara = await people("chiara")
        await _open(chiara, subject)
        note = chiara.page.get_by_role("alert").filter(has_text="picture cannot be shown")
        await note.wait_for(timeout=15_000)
        assert "does not let other websites use its pictures" in await note.inner_text()
        assert base in await note.inner_text()
        # The annotations stay usable: listed, opened, discussed, on a ground of the
        # picture's size.
        await until(lambda: chiara.shows(STAND_IN), 10, "the plain ground")
        await chiara.page.get_by_text("Craquelure along the top edge").first.click()
        reply = chiara.page.get_by_label("Your reply")
        await reply.fill("Seen on the loan form too.")
        await chiara.page.get_by_role("button", name="Send reply").click()
        await chiara.page.get_by_text("Seen on the loan form too.").wait_for(timeout=5000)
        await chiara.page_shot("no-cors-note")
        assert not _page_errors(chiara), chiara.errors


async def test_a_server_named_by_a_manifest_imported_later_shows_its_picture(
    site: Site, people: Any, tmp_path: Path
) -> None:
    chiara = await people("chiara")
    await chiara.page.goto(f"{site.url}/w/{WS}")
    await chiara.page.get_by_role("heading").first.wait_for(timeout=5000)
    # Someone imports a manifest from a server the page's policy does not name yet...
    with serve(tmp_path) as images:
        service = staticiiif.write_service(tmp_path, images, "newcomer")
        subject = await _import(site, images, "Newcomer", service)
        # ...and Chiara goes to it without leaving the app (no reload by hand).
        await chiara.page.evaluate(
            "path => { history.pushState(null, '', path); "
            "dispatchEvent(new PopStateEvent('popstate')); }",
            f"/w/{WS}/canvas/{subject['id']}",
        )
        await chiara.live()
        await chiara.wait_drawn()
        assert not await chiara.page.get_by_text("picture cannot be shown").is_visible()
        await chiara.page_shot("new-server-shown")


async def test_drawing_with_the_keyboard_alone(site: Site, people: Any) -> None:
    chiara = await people("chiara")
    await chiara.open_canvas()
    before = {a["id"] for a in await annotations_of(site)}
    await chiara.viewer.focus()
    await chiara.page.keyboard.press("r")
    await chiara.page.get_by_role("button", name="Draw in the middle").wait_for(timeout=5000)
    await chiara.page.keyboard.press("d")

    async def drawn() -> list[dict[str, Any]]:
        return [a for a in await annotations_of(site) if a["id"] not in before]

    async def one_drawn() -> bool:
        return len(await drawn()) == 1

    await until(one_drawn, 5, "the rectangle drawn from the keyboard")

    def xywh(annotation: dict[str, Any]) -> list[float]:
        value = annotation["target"]["selector"]["value"]
        return [float(v) for v in value.split("=")[1].split(",")]

    x, y, w, h = xywh((await drawn())[0])
    for _ in range(3):
        await chiara.page.keyboard.press("ArrowRight")
    await chiara.page.keyboard.press("Shift+ArrowDown")

    async def moved() -> bool:
        nx, ny, nw, nh = xywh((await drawn())[0])
        return nx > x and nh > h and nw == w and ny == y

    await until(moved, 5, "the rectangle moved and resized with the arrow keys")
    await chiara.page.keyboard.press("c")
    await chiara.page.keyboard.type("Loss in the gilding, by keyboard")
    await chiara.page.get_by_text("Loss in the gilding, by keyboard").first.wait_for(timeout=5000)

    async def commented() -> bool:
        bodies = (await drawn())[0].get("body", [])
        bodies = bodies if isinstance(bodies, list) else [bodies]
        return any(b.get("value") == "Loss in the gilding, by keyboard" for b in bodies)

    await until(commented, 5, "the comment typed from the keyboard")
    await chiara.page_shot("drawn-with-the-keyboard")


async def test_a_refused_update_is_said_and_the_document_reloaded(site: Site, people: Any) -> None:
    marco = await people("marco")
    await marco.open_canvas(1)
    before = len(await annotations_of(site, 1))
    async with site.http() as operator:
        changed = await operator.put(f"/api/workspaces/{WS}/members/marco", json={"role": "viewer"})
        assert changed.status_code == 200, changed.text
    try:
        auth = site.app.state.auth

        async def socket_follows() -> bool:
            return any(
                getattr(c, "access", None) is not None
                and c.access.principal.user is not None
                and c.access.principal.user.name == "marco"
                and c.access.role == "viewer"
                for c in auth.connections()
            )

        await until(socket_follows, 5, "Marco's open socket to follow his new role")
        # His page still offers the tools (it read his role when it opened): he draws.
        await marco.draw_rectangle(0.3, 0.3, 0.5, 0.5)
        await marco.page.get_by_text("The server did not accept your last change").wait_for(
            timeout=10_000
        )
        # The document is opened again, with his role as it is now.
        await marco.page.get_by_text("your role does not let you annotate").wait_for(timeout=10_000)
        await marco.live()
        assert await marco.page.get_by_role("button", name="Rectangle", exact=True).is_disabled()
        assert len(await annotations_of(site, 1)) == before
        await marco.page_shot("refused-and-reloaded")
    finally:
        async with site.http() as operator:
            await operator.put(f"/api/workspaces/{WS}/members/marco", json={"role": "editor"})


@pytest.mark.parametrize("width,height", [(1280, 800), (390, 844)], ids=["desktop", "phone"])
async def test_the_three_pages_fit_the_window(
    site: Site, people: Any, width: int, height: int
) -> None:
    chiara = await people("chiara")
    await chiara.page.set_viewport_size({"width": width, "height": height})
    for name, path in (("home", "/"), ("workspace", f"/w/{WS}"), ("canvas", site.subject_path())):
        await chiara.page.goto(site.url + path)
        if name == "canvas":
            await chiara.live()
            await chiara.wait_drawn()
        else:
            await chiara.page.get_by_role("heading").first.wait_for(timeout=5000)
            await chiara.page.wait_for_load_state("networkidle")
        await chiara.page.screenshot(
            path=str(browser_tests.SHOTS / f"page-{name}-{width}.png"), full_page=True
        )
        # Nothing sticks out sideways: no page to scroll left and right to read.
        wide = await chiara.page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width + 1, f"{name} is {wide} px wide in a {width} px window"


async def test_the_history_says_what_happened_in_the_readers_language(
    site: Site, people: Any
) -> None:
    subject = site.subjects[0]
    await _add(site, subject, "Stain near the donor's hand", "300,300,120,90")
    chiara = await people("chiara")
    await chiara.open_canvas()
    await chiara.page.locator("#language").select_option("fr")
    await chiara.page.get_by_role("button", name="Historique").click(timeout=10_000)
    timeline = chiara.page.locator(".timeline")
    await timeline.get_by_text("Annotation ajoutée").first.wait_for(timeout=10_000)
    # The server's English details stay beside it, marked as English.
    detail = timeline.locator(".detail[lang=en]").first
    assert "Added" in await detail.inner_text()
    await chiara.page_shot("history-in-french")
    await chiara.page.locator("#language").select_option("en")
    await chiara.page.get_by_role("button", name="History").wait_for(timeout=10_000)


def _at_rest(data_dir: Path, skip_directory: bool) -> bytes:
    return b"".join(
        p.read_bytes()
        for p in sorted(data_dir.rglob("*"))
        if p.is_file() and not (skip_directory and p.name.startswith("directory.db"))
    )


async def test_the_app_stores_people_by_id_and_shows_their_name_as_it_is_now(
    site: Site, people: Any
) -> None:
    from server.commands.person import erase_user
    from server.directory import operations

    directory = site.app.state.auth.directory
    ottavia = await operations.add_user(
        directory, "ottavia", "test", display_name="Ottavia Ferrante"
    )
    await operations.set_member(directory, WS, ottavia, "editor", "test")
    author = await people("ottavia")
    await author.open_canvas(1)
    before = {a["id"] for a in await annotations_of(site, 1)}
    await author.viewer.focus()
    await author.page.keyboard.press("r")
    await author.page.get_by_role("button", name="Draw in the middle").wait_for(timeout=5000)
    await author.page.keyboard.press("d")
    await author.page.keyboard.press("c")
    marker = "Blistered varnish near the seal"
    await author.page.keyboard.type(marker)

    async def mine() -> list[dict[str, Any]]:
        return [a for a in await annotations_of(site, 1) if a["id"] not in before]

    async def commented() -> bool:
        found = await mine()
        return len(found) == 1 and marker in str(found[0].get("body"))

    await until(commented, 10, "the annotation drawn and commented in the app")
    (made,) = await mine()
    key = made["id"].rsplit("/", 1)[1].encode()

    async def stored() -> bool:
        # The annotation (its creator beside its id) has reached the update log's file:
        # so would her name have, had the app written it.
        return key in _at_rest(site.settings.data_dir, skip_directory=True)

    await until(stored, 10, "the annotation written to the update log")
    assert made["creator"] == {
        "id": f"urn:sinopia:user:{ottavia.id}",
        "type": "Person",
        "name": "Ottavia Ferrante",  # looked up for the answer, not stored
    }
    assert b"Ferrante" not in _at_rest(site.settings.data_dir, skip_directory=True)
    # Her own panel names her at once (the app knows its own user).
    item = author.page.locator(".annotation-item").filter(has_text=marker)
    await item.filter(has_text="Ottavia Ferrante").wait_for(timeout=5000)

    # A colleague's app looks her name up; after erasure it says "erased user 1".
    colleague = await people("marco")
    await colleague.open_canvas(1)
    theirs = colleague.page.locator(".annotation-item").filter(has_text=marker)
    await theirs.filter(has_text="Ottavia Ferrante").wait_for(timeout=5000)
    await erase_user(directory, ottavia, "test")
    await colleague.open_canvas(1)
    await theirs.filter(has_text="erased user 1").wait_for(timeout=5000)
    await theirs.click()
    await colleague.page.get_by_role("heading", name="erased user 1").wait_for(timeout=5000)
    await colleague.page_shot("erased-author")
    await colleague.page.set_viewport_size({"width": 390, "height": 844})
    await colleague.page.get_by_role("heading", name="erased user 1").scroll_into_view_if_needed()
    await colleague.page_shot("erased-author-narrow")
    await colleague.page.set_viewport_size({"width": 1280, "height": 800})
    assert "Ferrante" not in await colleague.page.locator("main").inner_text()
    # In the reader's language, and among the people of the layers.
    await colleague.page.locator("#language").select_option("it")
    await colleague.page.locator(".connection-live").wait_for(timeout=10_000)
    await theirs.filter(has_text="utente cancellato 1").wait_for(timeout=5000)
    await colleague.page.get_by_role("button", name="Livelli").click()
    await colleague.page.get_by_label("utente cancellato 1").wait_for(timeout=5000)
    await colleague.page.locator("#language").select_option("en")
    await colleague.page.get_by_role("button", name="Layers").wait_for(timeout=10_000)
    assert not _page_errors(colleague)
