"""The browser app end to end, in Debian's Chromium (Playwright, no browser download; WebGL
on SwiftShader), against a real server with the built app and pictures from a static IIIF
image service on loopback.

Two conservators co-annotate one canvas: one draws, the other sees it within a second and
replies; each sees the other present; one follows the other's view; a viewer cannot edit;
an edit made offline arrives on reconnect; a lead's restore and a REST client's annotation
appear on the open pages; spent sign-in links and an unknown subject say so; axe-core
finds nothing serious on the three pages.

Annotorious draws on a canvas, not in the DOM: where it matters what is on the screen, the
tests compare screenshots of the image area. Screenshots are kept in tests/screenshots/
(gitignored) to look at. One server and one browser for the module; a context per person.
"""

from __future__ import annotations

import asyncio
import io
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageChops

from server.access import grants
from server.app import Server, create_app, server_config
from server.directory import operations
from server.settings import Settings
from server.webapp.pages import DIST

from . import access, staticiiif
from .chromium import CHROMIUM, WEBGL, launched
from .conftest import free_port
from .jsclients import JS_DIR
from .statichttp import serve

pytestmark = pytest.mark.timeout(180)

AXE = JS_DIR / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path(__file__).resolve().parent / "screenshots"
WS = "museum"
PEOPLE = {
    "chiara": ("Chiara Rossi", "editor"),
    "marco": ("Marco Bianchi", "editor"),
    "lena": ("Lena Weber", "lead"),
    "vera": ("Vera Costa", "viewer"),
}


@dataclass
class Site:
    url: str
    settings: Settings
    token: str
    app: Any
    subjects: list[dict[str, Any]] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)

    def subject_path(self, n: int = 0) -> str:
        return f"/w/{WS}/canvas/{self.subjects[n]['id']}"

    def document(self, n: int = 0) -> str:
        return str(self.subjects[n]["document"])

    async def link(self, name: str, next_path: str = "/", seconds: float = 600) -> str:
        directory = self.app.state.auth.directory
        user = await directory.user_by_name(name)
        secret = await grants.create_login_link(directory, user, "test", expires_seconds=seconds)
        return grants.login_link_url(self.url, secret, next_path)

    def http(self, who: str | None = None) -> httpx.AsyncClient:
        token = self.tokens[who] if who else self.token
        return httpx.AsyncClient(
            base_url=self.url, timeout=10, headers={"Authorization": f"Bearer {token}"}
        )


@pytest.fixture(scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    assert CHROMIUM.exists(), "Debian's chromium is needed: apt-get install -y chromium"
    assert (DIST / "index.html").exists(), (
        "the browser app is not built: pip install -e . (Node 20+), or npm ci && npm run build "
        "in web-client/"
    )
    assert AXE.exists(), "npm ci --prefix tests/js (axe-core is pinned there)"
    root = tmp_path_factory.mktemp("webapp")
    images = root / "images"
    images.mkdir()
    with serve(images) as base:
        recto = staticiiif.write_service(images, base, "recto")
        verso = staticiiif.write_service(images, base, "verso")
        settings = Settings(data_dir=root / "data", port=free_port())
        token = access.provision(settings, (WS,))
        app = create_app(settings)
        server = Server(server_config(app, settings), app)
        server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        task = asyncio.get_running_loop().create_task(server.serve())
        deadline = time.monotonic() + 10
        while not server.started:
            assert not task.done() and time.monotonic() < deadline, "server did not start"
            await asyncio.sleep(0.01)
        site = Site(f"http://127.0.0.1:{settings.port}", settings, token, app)
        directory = app.state.auth.directory
        for name, (display, role) in PEOPLE.items():
            user = await operations.add_user(directory, name, "test", display_name=display)
            await operations.set_member(directory, WS, user, role, "test")  # type: ignore[arg-type]
            site.tokens[name], _ = await grants.create_token(directory, user, "test")
        async with site.http() as http:
            body = staticiiif.manifest(base, [("Recto", recto), ("Verso", verso)])
            assert (await http.post(f"/api/iiif/{WS}/import", json=body)).status_code in (200, 201)
            site.subjects = (await http.get(f"/api/workspaces/{WS}/subjects")).json()["subjects"]
        shutil.rmtree(SHOTS, ignore_errors=True)
        SHOTS.mkdir()
        try:
            yield site
        finally:
            server.should_exit = True
            await task


@pytest.fixture(scope="module")
async def browser(site: Site) -> AsyncIterator[Any]:
    async with launched(WEBGL) as chromium:
        yield chromium


async def serious_axe_findings(page: Any) -> list[str]:
    """What axe-core finds serious or critical on the page as it is now, one line each."""
    # Through the devtools protocol: the page's own policy refuses inline scripts.
    await page.evaluate(f"() => {{ {AXE.read_text()}\n}}")
    assert await page.evaluate("() => typeof axe") == "object"
    result = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


class Person:
    """One person's browser context, signed in with a one-time link."""

    def __init__(self, site: Site, context: Any, page: Any, name: str) -> None:
        self.site, self.context, self.page, self.name = site, context, page, name
        self.errors: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on(
            "console",
            lambda m: m.type == "error" and self.errors.append(m.text),
        )

    @property
    def viewer(self) -> Any:
        return self.page.get_by_role("region", name="Image")

    async def open_canvas(self, n: int = 0) -> None:
        await self.page.goto(self.site.url + self.site.subject_path(n))
        await self.live()
        await self.wait_drawn()

    async def live(self) -> None:
        await self.page.get_by_role("status").filter(has_text="Live").wait_for(timeout=10_000)

    async def wait_drawn(self) -> None:
        # The image is drawn when the viewer shows the painting's ground colour.
        await until(lambda: self.shows(staticiiif.GROUND), 10, f"{self.name}'s image")

    async def shot(
        self, name: str, part: tuple[float, float, float, float] | None = None
    ) -> Image.Image:
        """What the image area shows (or the `part` of it: fractions x0, y0, x1, y1)."""
        box = await self.viewer.bounding_box()
        x0, y0, x1, y1 = part or (0, 0, 1, 1)
        clip = {
            "x": box["x"] + box["width"] * x0,
            "y": box["y"] + box["height"] * y0,
            "width": box["width"] * (x1 - x0),
            "height": box["height"] * (y1 - y0),
        }
        png = await self.page.screenshot(path=str(SHOTS / f"{name}.png"), clip=clip)
        return Image.open(io.BytesIO(png)).convert("RGB")

    async def page_shot(self, name: str) -> None:
        await self.page.screenshot(path=str(SHOTS / f"{name}.png"))

    async def shows(self, colour: tuple[int, int, int]) -> bool:
        image = await self.shot(f"{self.name}-probe")
        return share_of(image, lambda p: close(p, colour, 12)) > 0.2

    async def draw_rectangle(self, x0: float, y0: float, x1: float, y1: float) -> None:
        """Draw from (x0, y0) to (x1, y1), as fractions of the image area."""
        await self.page.get_by_role("button", name="Rectangle", exact=True).click()
        box = await self.viewer.bounding_box()
        mouse = self.page.mouse
        await mouse.move(box["x"] + box["width"] * x0, box["y"] + box["height"] * y0)
        await mouse.down()
        for step in range(1, 6):
            f = step / 5
            await mouse.move(
                box["x"] + box["width"] * (x0 + (x1 - x0) * f),
                box["y"] + box["height"] * (y0 + (y1 - y0) * f),
            )
        await mouse.up()


def close(pixel: tuple[int, ...], colour: tuple[int, int, int], tolerance: int) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=True))


def share_of(image: Image.Image, test: Callable[[tuple[int, ...]], bool]) -> float:
    small = image.resize((image.width // 4 or 1, image.height // 4 or 1))
    pixels = list(small.getdata())
    return sum(1 for p in pixels if test(p)) / len(pixels)


def changed_share(before: Image.Image, after: Image.Image, clear: int = 40) -> float:
    """The share of pixels that differ clearly (by more than `clear` in a channel)
    between two shots of one area."""
    diff = ImageChops.difference(before, after.resize(before.size))
    return share_of(diff, lambda p: max(p[:3]) > clear)


def region(image: Image.Image, x0: float, y0: float, x1: float, y1: float) -> Image.Image:
    w, h = image.size
    return image.crop((int(w * x0), int(h * y0), int(w * x1), int(h * y1)))


async def until(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> float:
    """Wait until `check()` holds (polling what is on screen); the seconds it took."""
    start = time.monotonic()
    while not await check():
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
    return time.monotonic() - start


@pytest.fixture
async def people(site: Site, browser: Any) -> AsyncIterator[Callable[..., Awaitable[Person]]]:
    contexts: list[Any] = []

    async def sign_in(name: str, next_path: str = "/") -> Person:
        context = await browser.new_context(
            viewport={"width": 1280, "height": 800}, locale="en-US", timezone_id="Europe/Rome"
        )
        contexts.append(context)
        page = await context.new_page()
        person = Person(site, context, page, name)
        await page.goto(await site.link(name, next_path))
        return person

    yield sign_in
    for context in contexts:
        await context.close()


async def annotations_of(site: Site, n: int = 0) -> list[dict[str, Any]]:
    async with site.http() as http:
        page = await http.get(
            f"/api/annotations/{site.document(n)}/",
            headers={
                "Prefer": 'return=representation;include="http://www.w3.org/ns/oa#PreferContainedDescriptions"'
            },
        )
    items = page.json().get("first", {}).get("items", [])
    return list(items)


# -- two conservators on one canvas ----------------------------------------------------


async def test_two_conservators_annotate_one_canvas_live(site: Site, people: Any) -> None:
    chiara = await people("chiara")
    marco = await people("marco")
    await chiara.open_canvas()
    await marco.open_canvas()
    # Presence both ways, by name.
    presence = lambda p: p.page.get_by_role("region", name="Here now")  # noqa: E731
    await marco.page.get_by_text("Chiara Rossi", exact=True).first.wait_for(timeout=5000)
    await chiara.page.get_by_text("Marco Bianchi", exact=True).first.wait_for(timeout=5000)
    del presence

    before = await marco.shot("marco-before")
    await chiara.draw_rectangle(0.2, 0.55, 0.45, 0.8)
    drawn_at = time.monotonic()
    lower_left = (0.15, 0.5, 0.5, 0.85)
    lower_left_before = region(before, *lower_left)
    looked_at: list[float] = []

    async def marco_sees_it() -> bool:
        looked_at.append(time.monotonic())
        after = await marco.shot("marco-sees", lower_left)
        return changed_share(lower_left_before, after) > 0.01

    await until(marco_sees_it, 5, "Marco to see Chiara's rectangle")
    # Within a second of her letting go: the look that saw it began by then.
    seen_after = looked_at[-1] - drawn_at
    assert seen_after < 1.0, f"seen after {seen_after:.2f} s ({len(looked_at)} looks)"
    comment = chiara.page.locator("#comment-text")
    await comment.wait_for(timeout=5000)
    await comment.type("Crack in the ground layer, lower left")
    # Outside the rectangle, nothing moved.
    after = await marco.shot("marco-after")
    assert (
        changed_share(region(before, 0.6, 0.1, 0.9, 0.4), region(after, 0.6, 0.1, 0.9, 0.4)) < 0.01
    )
    await chiara.page_shot("chiara-drew")

    # Marco opens it from the list and replies; Chiara reads the reply.
    await marco.page.get_by_text("Crack in the ground layer, lower left").first.click(timeout=5000)
    reply = marco.page.get_by_label("Your reply")
    await reply.fill("Agreed: it runs under the varnish too.")
    await marco.page.get_by_role("button", name="Send reply").click()
    await chiara.page.get_by_text("Agreed: it runs under the varnish too.").wait_for(timeout=5000)
    await marco.page_shot("marco-replied")
    await chiara.page_shot("chiara-sees-reply")

    stored = await annotations_of(site)
    texts = [b.get("value") for a in stored for b in _bodies(a)]
    assert "Crack in the ground layer, lower left" in texts
    assert "Agreed: it runs under the varnish too." in texts
    assert not chiara.errors and not marco.errors, chiara.errors + marco.errors


def _bodies(annotation: dict[str, Any]) -> list[dict[str, Any]]:
    body = annotation.get("body", [])
    return body if isinstance(body, list) else [body]


async def test_following_a_colleague_moves_ones_view_with_theirs(site: Site, people: Any) -> None:
    lena = await people("lena")
    marco = await people("marco")
    await lena.open_canvas(1)
    await marco.open_canvas(1)
    await marco.page.get_by_role("button", name="Follow Lena Weber").click(timeout=5000)
    await marco.page.get_by_text("Following Lena Weber").wait_for(timeout=5000)
    before = await marco.shot("marco-following-before")
    # Lena zooms in on the frame's corner: the dark border fills more of the view.
    for _ in range(3):
        await lena.page.get_by_role("button", name="Zoom in").click()

    async def marco_follows() -> bool:
        after = await marco.shot("marco-following-after")
        return changed_share(before, after) > 0.05

    await until(marco_follows, 5, "Marco's view to follow Lena's")
    lena_view = await lena.shot("lena-zoomed")
    marco_view = await marco.shot("marco-following-after")
    # Both show the same part of the panel (sizes differ a little with the side panels).
    assert changed_share(lena_view, marco_view) < 0.1
    await marco.page_shot("marco-following")
    await marco.page.get_by_role("button", name="Stop following").first.click()
    await marco.page.get_by_text("Following Lena Weber").wait_for(state="hidden", timeout=5000)


async def test_a_viewer_looks_but_cannot_annotate(site: Site, people: Any) -> None:
    vera = await people("vera")
    await vera.open_canvas(1)
    await vera.page.get_by_text("your role does not let you annotate").wait_for(timeout=5000)
    assert await vera.page.get_by_role("button", name="Rectangle", exact=True).is_disabled()
    before = len(await annotations_of(site, 1))
    # Dragging on the image pans it; nothing is drawn and nothing is stored.
    box = await vera.viewer.bounding_box()
    await vera.page.mouse.move(box["x"] + 300, box["y"] + 300)
    await vera.page.mouse.down()
    await vera.page.mouse.move(box["x"] + 400, box["y"] + 380, steps=5)
    await vera.page.mouse.up()
    await asyncio.sleep(0.5)  # what is checked is that nothing arrives in this time
    assert len(await annotations_of(site, 1)) == before
    await vera.page_shot("vera-viewer")
    # On screen: the painting and the viewer's background, no shape in any other colour.
    shown = await vera.shot("vera-after")
    assert share_of(shown, lambda p: not _of_the_picture(p)) < 0.005


def _of_the_picture(pixel: tuple[int, ...]) -> bool:
    r, g, b = pixel[:3]
    # The ground, the lines, what lies between them (anti-aliasing), the dark background.
    warm = r >= g >= b - 8 and r - b < 90
    return warm or max(r, g, b) < 60


async def test_an_edit_made_offline_arrives_on_reconnect(site: Site, people: Any) -> None:
    chiara = await people("chiara")
    marco = await people("marco")
    await chiara.open_canvas(1)
    await marco.open_canvas(1)
    before = await marco.shot("marco-offline-before")
    await chiara.context.set_offline(True)
    await chiara.page.get_by_role("status").filter(has_text="Offline").wait_for(timeout=15_000)
    await chiara.draw_rectangle(0.55, 0.15, 0.8, 0.35)
    await chiara.page.locator("#comment-text").type("Lifting paint, upper right")
    await chiara.page_shot("chiara-offline")
    await asyncio.sleep(0.5)  # offline: nothing may reach Marco meanwhile
    upper_right = (0.5, 0.1, 0.85, 0.4)
    still = await marco.shot("marco-offline-still")
    assert changed_share(region(before, *upper_right), region(still, *upper_right)) < 0.01
    await chiara.context.set_offline(False)
    await chiara.live()

    async def arrived() -> bool:
        after = await marco.shot("marco-offline-after")
        return changed_share(region(before, *upper_right), region(after, *upper_right)) > 0.01

    await until(arrived, 15, "Chiara's offline edit to reach Marco")
    await marco.page.get_by_text("Lifting paint, upper right").first.wait_for(timeout=5000)
    texts = [b.get("value") for a in await annotations_of(site, 1) for b in _bodies(a)]
    assert "Lifting paint, upper right" in texts


async def test_a_restore_and_a_rest_client_are_seen_on_the_open_page(
    site: Site, people: Any
) -> None:
    chiara = await people("chiara")
    await chiara.open_canvas()
    document = site.document()
    async with site.http("lena") as lena:
        named = await lena.post(
            f"/api/history/{document}/versions", json={"name": "before the loan"}
        )
        assert named.status_code == 201, named.text
        before = await chiara.shot("chiara-rest-before")
        added = await lena.post(
            f"/api/annotations/{document}/",
            json={
                "@context": "http://www.w3.org/ns/anno.jsonld",
                "type": "Annotation",
                "motivation": "commenting",
                "body": {
                    "type": "TextualBody",
                    "value": "Old retouching, centre right",
                    "language": "en",
                },
                "target": {
                    "source": await _canvas_iri(site),
                    "selector": {"type": "FragmentSelector", "value": "xywh=720,400,240,180",
                                 "conformsTo": "http://www.w3.org/TR/media-frags/"},
                },
            },
        )  # fmt: skip
        assert added.status_code == 201, added.text
        await chiara.page.get_by_text("Old retouching, centre right").first.wait_for(timeout=5000)
        centre_right = (0.55, 0.4, 0.85, 0.7)

        async def drawn() -> bool:
            after = await chiara.shot("chiara-rest-after")
            # Faint: the fill is the creator's colour, from their (random) id, and some
            # colours of the palette lie close to the image's.
            return (
                changed_share(region(before, *centre_right), region(after, *centre_right), 12)
                > 0.01
            )

        await until(drawn, 5, "the REST client's annotation on Chiara's screen")
        await chiara.page_shot("chiara-rest-added")
        restored = await lena.post(
            f"/api/history/{document}/restore", json={"version": "before the loan"}
        )
        assert restored.status_code == 200, restored.text
    await chiara.page.get_by_text("Old retouching, centre right").wait_for(
        state="detached", timeout=5000
    )

    async def gone() -> bool:
        after = await chiara.shot("chiara-restored")
        return changed_share(region(before, *centre_right), region(after, *centre_right)) < 0.005

    await until(gone, 5, "the restore on Chiara's screen")
    await chiara.page_shot("chiara-after-restore")


async def _canvas_iri(site: Site) -> str:
    async with site.http() as http:
        state = (await http.get(f"/api/history/{site.document()}/state")).json()
    return str(state["content"]["meta"]["iiif_id"])


# -- what goes wrong says so -------------------------------------------------------------


async def test_spent_links_and_unknown_subjects_say_what_happened(
    site: Site, browser: Any, people: Any
) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    try:
        page = await context.new_page()
        link = await site.link("chiara", f"/w/{WS}")
        await page.goto(link)
        await page.get_by_role("heading", name=WS).first.wait_for(timeout=5000)
        await page.context.clear_cookies()
        await page.goto(link)
        await page.get_by_text("already been used").wait_for(timeout=5000)
        await page.screenshot(path=str(SHOTS / "link-used.png"))
        expired = await site.link("chiara", seconds=0.01)
        await asyncio.sleep(0.05)  # the link's lifetime passing is what is tested
        await page.goto(expired)
        await page.get_by_text("expired").first.wait_for(timeout=5000)
        await page.screenshot(path=str(SHOTS / "link-expired.png"))
        await page.goto(site.url + "/api/auth/link?token=made-up")
        assert "signin=invalid" in page.url
        await page.screenshot(path=str(SHOTS / "link-invalid.png"))
    finally:
        await context.close()
    chiara = await people("chiara", f"/w/{WS}/canvas/no-such-panel")
    await (
        chiara.page.get_by_role("link", name="Back to the workspace")
        .or_(chiara.page.get_by_text("not found").first)
        .first.wait_for(timeout=5000)
    )
    await chiara.page_shot("unknown-subject")


async def test_axe_finds_nothing_serious_on_the_three_pages(site: Site, people: Any) -> None:
    chiara = await people("chiara")
    found: dict[str, list[str]] = {}
    for name, path in (("home", "/"), ("workspace", f"/w/{WS}"), ("canvas", site.subject_path())):
        await chiara.page.goto(site.url + path)
        if name == "canvas":
            await chiara.live()
            await chiara.wait_drawn()
        else:
            await chiara.page.get_by_role("heading").first.wait_for(timeout=5000)
            await chiara.page.wait_for_load_state("networkidle")
        found[name] = await serious_axe_findings(chiara.page)
        await chiara.page_shot(f"axe-{name}")
    assert not any(found.values()), found
