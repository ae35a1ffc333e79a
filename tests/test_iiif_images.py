"""The IIIF Image API over stored pyramids: the official validator passes at level 2 for
3.0, info.json matches the pyramid, each parameter form works or is refused with a 400
that says why, answers are cached (ETag, 304, a year), and access is the workspace's:
members, and share links to the image's subject sent as a bearer header."""

from __future__ import annotations

import asyncio
import io
import logging
import urllib.request
from pathlib import Path

import httpx
import pytest
import pyvips
from PIL import Image

from server.media.sniff import sniff
from tests import access, pictures

WS = "imgws"


def validator_grid() -> pyvips.Image:
    """The validator's test image: 1000 x 1000, ten by ten squares of 100 px whose colours
    are the validator's own (square x, y is colorInfo[x][y])."""
    from iiif_validator.validator import ValidationInfo

    colours = ValidationInfo().colorInfo
    rows = [
        pyvips.Image.arrayjoin(
            [
                (pyvips.Image.black(100, 100, bands=3) + list(colours[x][y])).cast("uchar")
                for x in range(10)
            ],
            across=10,
        )
        for y in range(10)
    ]
    return pyvips.Image.arrayjoin(rows, across=1).copy(interpretation="srgb")


async def store(
    server, tmp_path: Path, image: pyvips.Image, image_id: str, name: str = "x.png"
) -> None:
    path = tmp_path / name
    image.write_to_file(str(path))
    server.workspace(WS)
    with open(path, "rb") as f:
        head = f.read(512)
    await server.app.state.images.take(WS, path, sniff(head), name, lambda page: image_id)


@pytest.fixture
async def grid(server, tmp_path: Path) -> str:
    await store(server, tmp_path, validator_grid(), "validator-grid", "grid.png")
    return f"{server.url}/iiif/{WS}/image/validator-grid"


class _Bearer(urllib.request.BaseHandler):
    """The validator's requests carry the operator's token, as a viewer's would."""

    def __init__(self, token: str) -> None:
        self.token = token

    def http_request(self, req: urllib.request.Request) -> urllib.request.Request:
        req.add_header("Authorization", f"Bearer {self.token}")
        return req


def run_validator(host: str, prefix: str, identifier: str, token: str) -> tuple[int, list[str]]:
    from iiif_validator.validator import ImageAPI, TestSuite, ValidationInfo

    urllib.request.install_opener(urllib.request.build_opener(_Bearer(token)))
    failures = []
    ran = 0
    try:
        tests = TestSuite(ValidationInfo()).list_tests("3.0")
        for name, test in sorted(tests.items()):
            if test["level"] > 2:
                continue
            ran += 1
            result = ImageAPI(identifier, host, prefix, "http", "", "3.0", debug=False)
            try:
                TestSuite(ValidationInfo()).run_test(name, result)
            except Exception as exc:  # the validator's own way of failing some tests
                failures.append(f"{name}: {exc!r} {result.urls[-1:]}")
                continue
            if result.exception is not None and not result.exception.warning:
                failures.append(f"{name}: {result.exception} {result.urls[-1:]}")
    finally:
        urllib.request.install_opener(None)  # type: ignore[arg-type]
    return ran, failures


async def test_the_official_validator_passes_at_level_2(server, grid: str) -> None:
    logging.getLogger("iiif_validator").setLevel(logging.ERROR)
    ran, failures = await asyncio.to_thread(
        run_validator,
        f"127.0.0.1:{server.port}",
        f"iiif/{WS}/image",
        "validator-grid",
        server.token,
    )
    assert failures == []
    assert ran >= 30  # every test of levels 0, 1 and 2 for 3.0


def decode(response: httpx.Response) -> Image.Image:
    return Image.open(io.BytesIO(response.content))


async def test_info_json_tiles_and_scale_factors_are_the_pyramids(server, tmp_path: Path) -> None:
    await store(server, tmp_path, pictures.picture(3000, 2000), "large")
    async with server.http() as client:
        info = (await client.get(f"/iiif/{WS}/image/large/info.json")).json()
    assert info["id"] == f"{server.url}/iiif/{WS}/image/large"
    assert (info["width"], info["height"], info["profile"]) == (3000, 2000, "level2")
    assert info["tiles"] == [{"width": 512, "height": 512, "scaleFactors": [1, 2, 4, 8]}]
    assert info["sizes"] == [
        {"width": 375, "height": 250},
        {"width": 750, "height": 500},
        {"width": 1500, "height": 1000},
        {"width": 3000, "height": 2000},
    ]
    # Each level's tiles are there, as OpenSeadragon asks for them, edge tiles cut to size.
    async with server.http() as client:
        for factor, x, y, size in [
            (1, 0, 0, (512, 512)),
            (1, 2560, 1536, (440, 464)),
            (8, 0, 0, (375, 250)),
        ]:
            span = 512 * factor
            w, h = min(span, 3000 - x), min(span, 2000 - y)
            got = await client.get(
                f"/iiif/{WS}/image/large/{x},{y},{w},{h}/{size[0]},/0/default.jpg"
            )
            assert got.status_code == 200, got.text
            assert decode(got).size == size


async def test_sizes_regions_rotations_and_qualities(server, grid: str) -> None:
    async with server.http() as client:

        async def get(tail: str) -> Image.Image:
            got = await client.get(f"{grid}/{tail}")
            assert got.status_code == 200, (tail, got.text)
            return decode(got)

        assert (await get("full/max/0/default.png")).size == (1000, 1000)
        assert (await get("square/^1200,/0/default.jpg")).size == (1200, 1200)
        assert (await get("0,0,100,50/^!400,400/0/default.jpg")).size == (400, 200)
        assert (await get("pct:50,50,50,50/pct:50/0/default.webp")).size == (250, 250)
        assert (await get("900,900,500,500/max/0/default.jpg")).size == (100, 100)
        turned = await get("0,0,200,100/max/90/default.png")
        assert turned.size == (100, 200)
        mirrored = (await get("0,0,200,100/max/!0/default.png")).convert("RGB")
        plain = (await get("0,0,200,100/max/0/default.png")).convert("RGB")
        assert mirrored.getpixel((150, 50)) == plain.getpixel((50, 50))
        arbitrary = await get("full/100,/45/default.png")
        assert arbitrary.size[0] > 100 and arbitrary.mode == "RGBA"
        assert (await get("full/100,/0/gray.jpg")).mode == "L"
        bitonal = (await get("full/100,/0/bitonal.png")).convert("L")
        assert set(bitonal.getdata()) <= {0, 255}


BAD = [
    ("full/max/0/default.gif", "format"),
    ("full/max/0/sepia.jpg", "quality"),
    ("full/max/400/default.jpg", "rotation"),
    ("full/1200,/0/default.jpg", "^"),
    ("full/pct:101/0/default.jpg", "^"),
    ("full/0,/0/default.jpg", "nothing"),
    ("2000,0,10,10/max/0/default.jpg", "outside"),
    ("0,0,0,10/max/0/default.jpg", "above 0"),
    ("left/max/0/default.jpg", "region"),
    ("full/^20000,20000/0/default.jpg", "limits"),
]


async def test_bad_parameters_are_400_saying_which(server, grid: str) -> None:
    async with server.http() as client:
        for tail, said in BAD:
            got = await client.get(f"{grid}/{tail}")
            assert got.status_code == 400, tail
            assert got.headers["content-type"] == "application/problem+json"
            assert said in got.json()["detail"], (tail, got.json())


async def test_an_unknown_image_is_404_and_the_base_redirects(server, grid: str) -> None:
    async with server.http(follow_redirects=False) as client:
        assert (await client.get(f"/iiif/{WS}/image/nothing-here/info.json")).status_code == 404
        assert (
            await client.get(f"/iiif/{WS}/image/nothing-here/full/max/0/default.jpg")
        ).status_code == 404
        base = await client.get(grid)
    assert base.status_code == 303 and base.headers["location"] == grid + "/info.json"


async def test_tiles_are_cached_for_long_and_revalidate(server, grid: str) -> None:
    tile = f"{grid}/0,0,512,512/512,/0/default.jpg"
    async with server.http() as client:
        first = await client.get(tile)
        again = await client.get(tile, headers={"If-None-Match": first.headers["etag"]})
        other = await client.get(f"{grid}/0,0,512,512/256,/0/default.jpg")
    assert "max-age=31536000" in first.headers["cache-control"]
    assert again.status_code == 304 and again.content == b""
    assert other.headers["etag"] != first.headers["etag"]


async def test_any_origin_may_read_with_a_bearer_token(server, grid: str) -> None:
    origin = {"Origin": "https://museum.example"}
    async with httpx.AsyncClient() as anonymous:
        preflight = await anonymous.options(
            f"{grid}/0,0,512,512/512,/0/default.jpg",
            headers={
                **origin,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )
    assert preflight.status_code == 204
    assert "Authorization" in preflight.headers["access-control-allow-headers"]
    async with server.http() as client:
        info = await client.get(
            f"{grid}/info.json", headers={**origin, "Accept": "application/ld+json"}
        )
    assert info.headers["access-control-allow-origin"] == "*"
    assert info.headers["content-type"].startswith("application/ld+json")


async def test_a_share_link_to_the_subject_loads_its_tiles_and_nothing_else(
    server, grid: str, tmp_path: Path
) -> None:
    await store(server, tmp_path, pictures.picture(600, 400), "other")
    token = await access.share_token(server, f"{WS}/canvas/validator-grid")
    bearer = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (
            await client.get(f"{grid}/full/max/0/default.jpg", headers=bearer)
        ).status_code == 200
        refused = await client.get(f"/iiif/{WS}/image/other/info.json", headers=bearer)
        assert refused.status_code == 403
        nobody = await client.get(f"{grid}/info.json")
        assert nobody.status_code == 401
    outsider = await access.user_token(server, "outsider")
    async with httpx.AsyncClient(base_url=server.url) as client:
        got = await client.get(f"{grid}/info.json", headers={"Authorization": f"Bearer {outsider}"})
    assert got.status_code == 403


async def test_a_viewer_zooming_fast_is_never_refused_tiles(make_server, tmp_path: Path) -> None:
    """A deep-zoom viewer asks for a screenful of tiles at once: a tile counts as a tenth of
    a REST call, so a burst of tiles ten times the REST burst all arrive, while the REST
    API keeps its limit (here 5 calls a second, a burst of 10)."""
    server = await make_server(rate_requests_per_second=5)
    await store(server, tmp_path, validator_grid(), "validator-grid", "grid.png")
    tile = f"{server.url}/iiif/{WS}/image/validator-grid/0,0,512,512/256,/0/default.jpg"
    async with server.http() as client:
        tiles = await asyncio.gather(*(client.get(tile) for _ in range(90)))
        assert [t.status_code for t in tiles] == [200] * 90
        rest = [(await client.get(f"/api/workspaces/{WS}")).status_code for _ in range(20)]
    assert 429 in rest, rest


async def test_tiles_show_the_picture_at_every_level_and_edge(server, tmp_path: Path) -> None:
    # Whole tiles and edge tiles are stored bytes (the edges cut to size when the pyramid
    # was made), tiles asked smaller are decoded scaled down from one stored tile, other
    # regions read through the TIFF: each shows the picture's pixels there.
    picture = pictures.picture(1300, 700)
    await store(server, tmp_path, picture, "edgy")
    async with server.http() as client:
        for x, y, w, h, size in [
            (0, 0, 512, 512, 512),
            (1024, 0, 276, 512, 276),
            (0, 512, 512, 188, 512),
            (1024, 512, 276, 188, 276),
            (0, 0, 1300, 700, 325),  # the smallest level, one tile smaller than 512
            (0, 0, 512, 512, 256),  # a tile asked at half size
            (1024, 512, 276, 188, 69),  # an edge tile asked at a quarter
            (0, 0, 1024, 700, 256),  # a tile of level 1, asked at half its size
            (300, 100, 700, 500, 350),  # not a tile
        ]:
            for fmt in ("jpg", "png"):
                got = await client.get(
                    f"/iiif/{WS}/image/edgy/{x},{y},{w},{h}/{size},/0/default.{fmt}"
                )
                assert got.status_code == 200, got.text
                tile = decode(got).convert("RGB")
                height = round(h * size / w)
                assert tile.size == (size, height), (x, y, w, h, size)
                expected = picture.crop(x, y, w, h).resize(size / w, vscale=height / h)
                shown = pyvips.Image.new_from_memory(tile.tobytes(), size, height, 3, "uchar")
                assert (shown - expected).abs().avg() < 4, (x, y, w, h, size, fmt)
