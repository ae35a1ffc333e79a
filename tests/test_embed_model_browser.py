"""<sinopia-viewer> showing a 3D subject on a museum's page (another origin), in Debian's
Chromium with WebGL through SwiftShader: the model drawn with three.js (a chunk loaded only
for models), a 3D annotation a conservator adds elsewhere appearing as a pin within a
second, choosing it (keyboard, then on the model itself) showing its text and flying to its
saved camera; no presence either way, no console errors, nothing asked of any host but
Sinopia. Then the iframe page of the same subject on a phone, and the Embed action of the
app's model page with its preview. Screenshots in
tests/screenshots/embed-model-*.png."""

from __future__ import annotations

import io
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from PIL import Image, ImageChops

from .chromium import WEBGL, launched
from .models import box_glb
from .test_embed_browser import (
    HOST_PAGE,
    LIVE_WITHIN_S,
    SHOTS,
    WS,
    Site,
    Visitor,
    _awareness,
    site,
    until,
    visit,
)

__all__ = ["site", "visit"]  # the image embed's fixtures, shared

pytestmark = pytest.mark.timeout(240)

# Generous: on the shared 2-core test machine a cold page and its software WebGL are slow.
MODEL_WITHIN_S = 40


@pytest.fixture(scope="module")
async def browser(site: Site) -> AsyncIterator[Any]:
    async with launched(WEBGL) as chromium:
        yield chromium


async def _drawn(visitor: Visitor) -> None:
    await visitor.page.wait_for_function(
        "() => performance.getEntriesByName('sinopia-embed:model').length",
        polling=100,
        timeout=MODEL_WITHIN_S * 1000,
    )


async def _stage(visitor: Visitor, name: str) -> Image.Image:
    png = (
        await visitor.viewer()
        .locator(".stage")
        .screenshot(path=str(SHOTS / f"embed-model-{name}.png"))
    )
    return Image.open(io.BytesIO(png)).convert("RGB")


def _difference(a: Image.Image, b: Image.Image) -> float:
    """The share of pixels that differ clearly between two shots."""
    diff = (
        ImageChops.difference(a, b.resize(a.size))
        .convert("L")
        .point(lambda v: 255 if v > 40 else 0)
    )
    return diff.histogram()[255] / (a.width * a.height)


def _pin(scene: str, text: str) -> dict[str, Any]:
    """A conservator's point on the box's top face, seen from a saved camera."""
    return {
        "type": "Annotation",
        "motivation": "commenting",
        "body": {"type": "TextualBody", "value": text, "format": "text/plain"},
        "target": {
            "type": "SpecificResource",
            "source": {"id": scene, "type": "Scene"},
            "selector": {
                "type": "PointSelector",
                "x": 0.2,
                "y": 0.6,
                "z": 0.1,
                "sinopia:normal": [0, 1, 0],
                "sinopia:camera": {
                    # From above, 12 degrees off the normal: the pin stands up at the
                    # middle of the saved view.
                    "position": [0.45, 2.4, 0.4],
                    "target": [0.2, 0.6, 0.1],
                    "fieldOfView": 45,
                },
            },
        },
    }


async def _embedded(site: Site, page: str, lang: str = "en") -> tuple[dict[str, Any], str, str]:
    """A box uploaded as a model subject, a share link to it for the museum, and the
    museum's page `page` embedding it: the subject, the link's token, its Scene IRI."""
    async with site.http() as http:
        made = await http.post(
            f"/api/media/{WS}", files={"file": ("Bronze box.glb", box_glb((1.0, 0.6, 0.4)))}
        )
        assert made.status_code == 201, made.text
        (model,) = made.json()["subjects"]
        shared = await http.post(
            f"/api/workspaces/{WS}/shares",
            json={"subject": model["document"].split("/", 1)[1], "origins": [site.museum]},
        )
        assert shared.status_code == 201, shared.text
        token = shared.json()["token"]
        scene = (await http.get(f"/api/embed/{model['document']}")).json()["canvas"]
    (site.pages / page).write_text(
        HOST_PAGE.format(
            server=site.url, document=model["document"], token=token, lang=lang, extra=""
        )
    )
    return model, token, scene


async def test_a_museum_page_shows_a_live_3d_model(site: Site, visit: Any) -> None:
    model, token, scene = await _embedded(site, "model.html")
    document = model["document"]

    blank = await visit(f"{site.museum}/blank.html")
    bare_globals = set(await blank.page.evaluate("Object.keys(window)"))
    visitor = await visit(f"{site.museum}/model.html")
    await until(lambda: _state_is(visitor, "live"), 30, "the live view")
    await _drawn(visitor)
    shadow = visitor.viewer()
    assert await shadow.locator(".empty").is_visible()  # no annotations yet
    before = await _stage(visitor, "opened")

    # A conservator adds a point elsewhere: its pin and its entry appear within a second.
    async with site.http() as http:
        added = await http.post(
            f"/api/annotations/{document}/", json=_pin(scene, "Casting flaw on the lid")
        )
        assert added.status_code == 201, added.text
    stored = time.monotonic()
    await visitor.wait_count(1, 5)
    assert time.monotonic() - stored < LIVE_WITHIN_S
    pinned = before

    async def pin_drawn() -> bool:
        nonlocal pinned
        pinned = await _stage(visitor, "pinned")
        return _difference(before, pinned) > 0.00005

    await until(pin_drawn, 15, "the new annotation's pin drawn")

    # Chosen from the list with the keyboard: its text, and the view flies to its camera.
    item = shadow.locator(".item-button").first
    await item.focus()
    await visitor.page.keyboard.press("Enter")
    assert await item.get_attribute("aria-expanded") == "true"
    assert "Casting flaw on the lid" in await shadow.locator(".item.chosen").inner_text()

    last = pinned

    async def flown() -> bool:
        # Arrived: the view differs from before, and no longer moves.
        nonlocal last
        now = await _stage(visitor, "chosen")
        moved, still = _difference(pinned, now) > 0.02, _difference(last, now) < 0.001
        last = now
        return moved and still

    await until(flown, 15, "the view moved to the annotation's saved camera")
    # And landed: a flight lasts FLY_MS (450 ms, src/model/scene.ts) of the page's time;
    # its last step is drawn in the first frame after that (on a busy machine frames can
    # lag the screenshots above).
    await visitor.page.evaluate(
        "() => new Promise(r => setTimeout(() => requestAnimationFrame(() =>"
        " requestAnimationFrame(r)), 500))"
    )
    await visitor.page.keyboard.press("Escape")
    assert await shadow.locator(".item.chosen").count() == 0

    # On the model itself: the saved view looks at the point along its pin, so Enter on
    # the view (the middle of it) chooses the pin.
    await shadow.locator(".model-canvas").focus()
    await visitor.page.keyboard.press("Enter")
    await shadow.locator(".item.chosen").wait_for(timeout=5_000)
    assert "Casting flaw" in await shadow.locator(".item.chosen").inner_text()
    await visitor.shot("model-desktop")

    # No presence either way; no globals left in the museum's page (three.js marks the
    # page it runs on); nothing asked of any host but Sinopia (and the page's own).
    assert set(await visitor.page.evaluate("Object.keys(window)")) == bare_globals
    assert _awareness(visitor.frames) == []
    assert any(way == "received" for way, _ in visitor.frames)
    own = {urlsplit(u).netloc for u in (site.museum, site.url)}
    assert visitor.hosts <= own, visitor.hosts - own
    assert visitor.errors == [], visitor.errors
    assert visitor.failed == [], visitor.failed

    # The iframe page of the same subject, on a phone: the model, and its list behind a
    # button.
    frame_url = f"{site.url}/embed/{document}?token={quote(token)}"
    (site.pages / "model-frame.html").write_text(
        "<!doctype html><html lang='it'><head><meta charset='utf-8'><title>Frame</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<link rel='icon' href='data:,'></head><body style='margin:0'>"
        f"<iframe src='{frame_url}' style='border:0;width:100%;height:560px'></iframe>"
        "</body></html>"
    )
    phone = await visit(
        f"{site.museum}/model-frame.html",
        width=390,
        height=844,
        is_mobile=True,
        has_touch=True,
        locale="it-IT",
    )
    frame = phone.page.frame_locator("iframe")
    viewer = frame.locator("sinopia-viewer")

    async def framed_live() -> bool:
        return await viewer.get_attribute("data-state") == "live"

    await until(framed_live, 30, "the framed 3D view")
    await frame.locator(".model-canvas").wait_for(timeout=MODEL_WITHIN_S * 1000)
    toggle = viewer.locator(".toggle")
    assert "Annotazioni (1)" in await toggle.inner_text()
    await phone.shot("model-phone")
    await toggle.click()
    await viewer.locator(".item-button").first.click()
    assert "Casting flaw" in await viewer.locator(".item.chosen").inner_text()
    await phone.shot("model-phone-list")
    assert phone.errors == [], phone.errors

    # The app's model page offers owners the Embed action; its preview shows the model.
    from server.access import grants

    directory = site.app.state.auth.directory
    owner = await directory.user_by_name("olga")
    secret = await grants.create_login_link(directory, owner, "test", expires_seconds=600)
    curator = await visit(grants.login_link_url(site.url, secret, f"/w/{WS}/model/{model['id']}"))
    await curator.page.get_by_role("button", name="Embed").click()
    assert "Visitors see the 3D model" in await curator.page.locator(".embed-dialog").inner_text()
    await curator.page.get_by_label("Websites allowed to show it").fill(site.museum)
    await curator.page.get_by_role("button", name="Make the embed code").click()
    snippet = await curator.page.get_by_label("For pages that allow scripts").input_value()
    assert f'document="{document}"' in snippet
    preview = curator.page.frame_locator("iframe.embed-preview")
    await preview.locator("sinopia-viewer .model-canvas").wait_for(timeout=MODEL_WITHIN_S * 1000)
    await curator.shot("model-app-dialog")
    assert curator.errors == [], curator.errors


async def _state_is(visitor: Visitor, state: str) -> bool:
    return await visitor.state() == state


async def test_with_websockets_blocked_a_3d_view_polls(site: Site, browser: Any) -> None:
    model, _, scene = await _embedded(site, "model-polling.html", lang="fr")
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        # A museum network's proxy that drops every websocket.
        await context.route_web_socket("**/collab/**", lambda ws: ws.close())
        visitor = Visitor(await context.new_page())
        await visitor.page.goto(f"{site.museum}/model-polling.html")
        await until(lambda: _state_is(visitor, "polling"), 20, "the polling fallback")
        await _drawn(visitor)
        assert (
            "Mis à jour toutes les quelques secondes"
            in await visitor.viewer().locator(".status").inner_text()
        )
        async with site.http() as http:
            added = await http.post(
                f"/api/annotations/{model['document']}/", json=_pin(scene, "Seen by polling")
            )
            assert added.status_code == 201, added.text
        await visitor.wait_count(1, 10)
        await visitor.viewer().locator(".item-button").first.click()
        assert "Seen by polling" in await visitor.viewer().locator(".item.chosen").inner_text()
        await visitor.shot("model-polling")
        assert [e for e in visitor.errors if "WebSocket" not in e] == []
    finally:
        await context.close()
