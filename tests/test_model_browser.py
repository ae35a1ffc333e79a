"""The 3D subject page end to end in Debian's Chromium (WebGL through SwiftShader): two
conservators open one model; one places a point on its surface and writes a comment, the
other sees the pin and the comment live; the annotation's REST export has the point, its
normal and the camera, the IIIF export the draft's PointSelector and camera scope; each
sees the other's 3D pointer and can follow the other's camera.

The model (a GLB box made by tests/models.py) is uploaded and served from the blob store;
one that cannot be reached says so. Screenshots go to tests/screenshots/."""

from __future__ import annotations

import asyncio
import io
import math
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops

from . import test_webapp_browser as web
from .models import box_glb
from .test_webapp_browser import SHOTS, WS, Person, Site, until

# The app's browser fixtures: one server and one Chromium for the module, a context each.
site = web.site
browser = web.browser
people = web.people

pytestmark = pytest.mark.timeout(240)

HALF = (1.0, 0.6, 0.4)


@pytest.fixture(scope="module")
async def model(site: Site) -> dict[str, Any]:
    """The box, uploaded: stored in the blob store and served from there (with ranges)."""
    async with site.http() as http:
        answer = await http.post(
            f"/api/media/{WS}", files={"file": ("Bronze box.glb", box_glb(HALF))}
        )
        assert answer.status_code == 201, answer.text
        (subject,) = answer.json()["subjects"]
    subject["annotation_page"] = f"{site.url}/iiif/{WS}/model/{subject['id']}/annotations"
    return subject


def _path(subject: dict[str, Any]) -> str:
    return f"/w/{WS}/model/{subject['id']}"


async def _ready(person: Person) -> None:
    # Generous: on the shared 2-core test machine a cold page (and its WebGL) can be slow.
    await person.page.get_by_role("status").filter(has_text="Live").wait_for(timeout=40_000)
    await person.page.locator(".model-viewer[data-state=ready]").wait_for(timeout=40_000)


async def _stage(person: Person, name: str) -> Image.Image:
    box = await person.page.locator(".model-viewer").bounding_box()
    png = await person.page.screenshot(path=str(SHOTS / f"{name}.png"), clip=box)
    return Image.open(io.BytesIO(png)).convert("RGB")


def _difference(a: Image.Image, b: Image.Image) -> float:
    """The share of pixels that differ clearly between two shots of the stage."""
    diff = (
        ImageChops.difference(a, b.resize(a.size))
        .convert("L")
        .point(lambda v: 255 if v > 40 else 0)
    )
    histogram = diff.histogram()
    return histogram[255] / (a.width * a.height)


async def test_two_conservators_annotate_a_model_live(
    site: Site,
    model: dict[str, Any],
    people: Any,
) -> None:
    path = _path(model)
    chiara = await people("chiara", path)
    marco = await people("marco", path)
    await asyncio.gather(_ready(chiara), _ready(marco))
    await chiara.page_shot("model-opened")
    before = await _stage(chiara, "model-before")

    # Chiara places a point at the middle of the view and writes her comment.
    await chiara.page.get_by_role("button", name="Add a point").click()
    stage = await chiara.page.locator(".model-canvas").bounding_box()
    centre = (stage["x"] + stage["width"] / 2, stage["y"] + stage["height"] / 2)
    await chiara.page.mouse.click(*centre)
    comment = chiara.page.locator("#comment-text")
    await comment.wait_for(timeout=5_000)
    await comment.fill("Loss of patina, green corrosion below")
    pinned = await _stage(chiara, "model-pinned")
    assert _difference(before, pinned) > 0.0005, "no pin drawn where Chiara clicked"

    # Marco sees it at once: the comment in the list, a pin on his model.
    await (
        marco.page.locator(".annotation-list").get_by_text("Loss of patina").wait_for(timeout=5_000)
    )
    await marco.page_shot("model-seen-by-marco")

    # Exported: W3C with the point, its normal and the camera; IIIF in the draft's form.
    async with site.http() as http:
        container = (await http.get(model["annotations"])).json()
        (annotation,) = container["first"]["items"]
        selector = annotation["target"]["selector"]
        point = [selector["x"], selector["y"], selector["z"]]
        normal = selector["sinopia:normal"]
        # On the box's surface, facing out along one axis.
        assert any(math.isclose(abs(p), h, abs_tol=1e-3) for p, h in zip(point, HALF, strict=True))
        assert sorted(abs(n) for n in normal) == pytest.approx([0, 0, 1], abs=1e-6)
        axis = max(range(3), key=lambda i: abs(normal[i]))
        assert math.isclose(point[axis], math.copysign(HALF[axis], normal[axis]), abs_tol=1e-3)
        camera = selector["sinopia:camera"]
        assert camera["target"] != camera["position"] and 10 < camera["fieldOfView"] < 120
        assert annotation["creator"]["name"] == "Chiara Rossi"
        assert annotation["body"]["value"] == "Loss of patina, green corrosion below"
        page = (await http.get(model["annotation_page"])).json()
        (item,) = page["items"]
        assert item["target"]["selector"][0]["type"] == "PointSelector"
        assert item["target"]["selector"][0]["z"] == selector["z"]
        placed = item["target"]["scope"]["target"]["items"][0]["items"][0]
        assert placed["body"]["type"] == "PerspectiveCamera"
        assert placed["target"]["selector"][0]["x"] == camera["position"][0]

    # Presence: Chiara's pointer on the surface shows on Marco's screen with her name.
    await chiara.page.mouse.move(centre[0] + 20, centre[1] + 10)
    await chiara.page.mouse.move(centre[0] + 25, centre[1] + 12)
    label = marco.page.locator(".model-pointer-label", has_text="Chiara Rossi")
    await label.wait_for(state="visible", timeout=5_000)
    await marco.page_shot("model-pointer")

    # Marco follows Chiara's camera: she turns the model, his view turns with hers.
    await marco.page.get_by_role("button", name="Follow Chiara Rossi").click()
    await chiara.page.mouse.move(*centre)
    await chiara.page.mouse.down()
    for step in range(1, 11):
        await chiara.page.mouse.move(centre[0] - 18 * step, centre[1] + 6 * step)
    await chiara.page.mouse.up()
    await chiara.page.mouse.move(stage["x"] + 2, stage["y"] + 2)
    await chiara.page.mouse.move(stage["x"] - 20, stage["y"] - 20)  # off the model: no pointer
    turned = await _stage(chiara, "model-chiara-turned")
    assert _difference(pinned, turned) > 0.02, "dragging did not turn Chiara's model"

    async def same_view() -> bool:
        mine = await _stage(chiara, "model-chiara-now")
        theirs = await _stage(marco, "model-marco-following")
        return _difference(mine, theirs) < 0.01

    await until(same_view, 10, "Marco's view to follow Chiara's")
    assert await marco.page.get_by_text("Following Chiara Rossi").is_visible()
    # Marco turning the model himself stops following.
    marco_stage = await marco.page.locator(".model-canvas").bounding_box()
    mx, my = (
        marco_stage["x"] + marco_stage["width"] / 2,
        marco_stage["y"] + marco_stage["height"] / 2,
    )
    await marco.page.mouse.move(mx, my)
    await marco.page.mouse.down()
    await marco.page.mouse.move(mx + 80, my)
    await marco.page.mouse.up()
    await marco.page.get_by_role("button", name="Follow Chiara Rossi").wait_for(timeout=5_000)

    # Opening the annotation from the list brings back the view it was made from.
    await marco.page.locator(".annotation-list").get_by_text("Loss of patina").click()

    async def at_saved_view() -> bool:
        shot = await _stage(marco, "model-marco-saved-view")
        return _difference(pinned, shot) < 0.02

    await until(at_saved_view, 10, "the annotation's saved view")
    assert not chiara.errors and not marco.errors, (chiara.errors, marco.errors)

    # The workspace lists the model as a 3D model, opening this page.
    await marco.page.goto(site.url + f"/w/{WS}")
    card = marco.page.locator(".subject-link", has_text="Bronze box.glb")
    await card.wait_for(timeout=10_000)
    assert await card.get_attribute("href") == path
    assert "3D model" in await card.inner_text()


async def test_a_model_that_cannot_be_loaded_says_so(
    site: Site,
    people: Any,
    tmp_path: Path,
) -> None:
    manifest = {
        "@context": "http://iiif.io/api/presentation/3/context.json",
        "id": "http://127.0.0.1:9/gone/manifest.json",
        "type": "Manifest",
        "label": {"en": ["Gone"]},
        "items": [
            {
                "id": "http://127.0.0.1:9/gone/scene",
                "type": "Scene",
                "items": [
                    {
                        "id": "http://127.0.0.1:9/gone/page",
                        "type": "AnnotationPage",
                        "items": [
                            {
                                "id": "http://127.0.0.1:9/gone/anno",
                                "type": "Annotation",
                                "motivation": "painting",
                                "body": {"id": "http://127.0.0.1:9/gone/x.glb", "type": "Model"},
                                "target": "http://127.0.0.1:9/gone/scene",
                            }
                        ],
                    }
                ],
            }
        ],
    }
    async with site.http() as http:
        answer = await http.post(f"/api/iiif/{WS}/import", json=manifest)
        (subject,) = answer.json()["subjects"]
    vera = await people("lena", _path(subject))
    await vera.page.locator(".model-viewer[data-state=failed]").wait_for(timeout=20_000)
    assert await vera.page.get_by_role("status").filter(has_text="could not be loaded").count()
    await vera.page_shot("model-failed")
