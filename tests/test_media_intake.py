"""Image intake: the bytes decide the type; limits hold before anything is decoded;
broken and hostile files are refused with a status and a reason, and leave nothing
stored; every readable format becomes a tiled pyramid per page."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest
import pyvips

from server.media.blobs import BlobError
from server.media.blobs.files import FileBlobs
from server.media.convert import TILE, Limits, Refused
from server.media.images import Images, safe_filename
from server.media.sniff import HEAD_BYTES, sniff
from tests import pictures

LIMITS = Limits(max_pixels=50_000_000, max_pages=8, seconds=120, memory_bytes=0)


@pytest.fixture
async def images(tmp_path: Path) -> Images:
    blobs = FileBlobs(tmp_path / "blobs")
    await blobs.open()
    return Images(blobs, tmp_path / "work", LIMITS)


def stored_files(images: Images) -> list[Path]:
    root = images.blobs.root  # type: ignore[attr-defined]
    return [p for p in (root / "data").rglob("*") if p.is_file()]


def head(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(HEAD_BYTES)


async def take(images: Images, path: Path, name: str = "img") -> list:
    sniffed = sniff(head(path))
    return await images.take("ws", path, sniffed, path.name, lambda page: f"{name}-p{page}")


def levels_ok(image, path: Path) -> None:
    """The stored pyramid is tiled, each level half the one before, down to one tile."""
    pyramid = pyvips.Image.tiffload(str(path))
    assert pyramid.get("tile-width") == TILE
    assert image.levels[0] == (image.width, image.height)
    for (w, h), (w2, h2) in zip(image.levels, image.levels[1:], strict=False):
        assert abs(w2 - w / 2) <= 1 and abs(h2 - h / 2) <= 1
    assert max(image.levels[-1]) <= TILE


@pytest.mark.parametrize(
    ("name", "options", "fmt", "bands"),
    [
        ("photo.jpg", {"Q": 90}, "jpeg", 3),
        ("scan.png", {}, "png", 3),
        ("scan-alpha.png", {}, "png", 3),
        ("scan.tif", {}, "tiff", 3),
        ("big.tif", {"bigtiff": True, "tile": True, "compression": "lzw"}, "bigtiff", 3),
        ("grey.tif", {}, "tiff", 1),
        ("photo.webp", {"Q": 80}, "webp", 3),
    ],
)
async def test_each_readable_format_becomes_a_pyramid(
    images: Images, tmp_path: Path, name: str, options: dict, fmt: str, bands: int
) -> None:
    source = pictures.picture(
        1500, 1100, bands=4 if "alpha" in name else 1 if "grey" in name else 3
    )
    path = pictures.write(tmp_path / name, source, **options)
    [image] = await take(images, path)
    assert (image.width, image.height, image.source_format) == (1500, 1100, fmt)
    assert image.bands == bands
    levels_ok(image, await images.pyramid_file(image))
    # The picture is still there: the red disc at the centre.
    pixel = pyvips.Image.tiffload(str(await images.pyramid_file(image)))(750, 550)
    assert bands == 1 or (pixel[0] > 200 and pixel[1] < 60)
    assert await images.get("ws", image.id) == image


async def test_sixteen_bit_images_are_kept_in_their_tones(images: Images, tmp_path: Path) -> None:
    wide = (pictures.picture(800, 600).cast("ushort") * 257).copy(interpretation="rgb16")
    for path in (
        pictures.write(tmp_path / "deep.png", wide),
        pictures.write(tmp_path / "deep.tif", wide),
    ):
        [image] = await take(images, path, path.suffix[1:])
        pixel = pyvips.Image.tiffload(str(await images.pyramid_file(image)))(400, 300)
        assert pixel[0] > 200 and pixel[1] < 60  # not clipped white, not shifted black


async def test_a_multi_page_tiff_makes_one_image_per_page(images: Images, tmp_path: Path) -> None:
    pages = [
        pictures.picture(700, 500).draw_rect([i * 100, 0, 0], 0, 0, 50, 50, fill=True)
        for i in range(3)
    ]
    path = pictures.multi_page(tmp_path / "folios.tif", pages)
    stored = await take(images, path, "folio")
    assert [i.id for i in stored] == ["folio-p0", "folio-p1", "folio-p2"]
    assert [i.page for i in stored] == [0, 1, 2]
    corners = [pyvips.Image.tiffload(str(await images.pyramid_file(i)))(10, 10)[0] for i in stored]
    assert corners[0] < 20 and 80 < corners[1] < 120 and 180 < corners[2] < 220


async def test_a_pyramidal_tiff_is_one_image(images: Images, tmp_path: Path) -> None:
    path = tmp_path / "pyr.tif"
    pictures.picture(2000, 1500).tiffsave(str(path), tile=True, pyramid=True)
    stored = await take(images, path)
    assert len(stored) == 1 and stored[0].width == 2000


async def test_too_many_pages(images: Images, tmp_path: Path) -> None:
    path = pictures.multi_page(tmp_path / "many.tif", [pictures.picture(64, 64)] * 9)
    with pytest.raises(Refused) as refused:
        await take(images, path)
    assert refused.value.status == 413 and "9 pages" in refused.value.detail
    assert stored_files(images) == []


async def test_an_image_over_the_pixel_limit_is_refused_from_its_header(
    images: Images, tmp_path: Path
) -> None:
    path = tmp_path / "bomb.png"
    # 10 gigapixels claimed, a kilobyte of data: decoding would fail as truncated, so a
    # 413 shows the header was refused first.
    path.write_bytes(pictures.png_header_only(100_000, 100_000))
    with pytest.raises(Refused) as refused:
        await take(images, path)
    assert refused.value.status == 413
    assert "100000 x 100000" in refused.value.detail
    assert stored_files(images) == []


@pytest.mark.parametrize(
    ("content", "status", "said"),
    [
        (b"just some text, named like a photograph\n" * 20, 415, "text"),
        (pictures.SVG, 415, "SVG"),
        (pictures.HTML, 415, "HTML"),
        (b"%PDF-1.7\n" + b"\x00" * 100, 415, "PDF"),
        (b"GIF89a" + b"\x00" * 100, 415, "GIF"),
        (b"", 400, "empty"),
        (pictures.JP2_SIGNATURE, 400, "JPEG 2000"),
    ],
)
async def test_what_is_not_an_image_we_read_is_refused_whatever_its_name(
    images: Images, tmp_path: Path, content: bytes, status: int, said: str
) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(content)
    with pytest.raises(Refused) as refused:
        await take(images, path)
    assert refused.value.status == status
    assert said in refused.value.detail
    assert stored_files(images) == []


@pytest.mark.parametrize("fmt", ["jpg", "png", "tif", "webp"])
async def test_truncated_files_are_refused_and_nothing_is_stored(
    images: Images, tmp_path: Path, fmt: str
) -> None:
    whole = pictures.write(tmp_path / f"whole.{fmt}", pictures.picture(1200, 900))
    cut = tmp_path / f"cut.{fmt}"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(Refused) as refused:
        await take(images, cut)
    assert refused.value.status == 400
    assert "damaged" in refused.value.detail or "truncated" in refused.value.detail
    assert stored_files(images) == []


async def test_a_later_page_failing_takes_the_earlier_ones_away(
    images: Images, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = pictures.multi_page(tmp_path / "folios.tif", [pictures.picture(900, 700)] * 3)
    put_file = images.blobs.put_file

    async def full_disk_on_the_last_page(key: str, source: Path, **kw: object) -> object:
        if "p2" in key:
            raise BlobError("cannot store it: No space left on device")
        return await put_file(key, source, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(images.blobs, "put_file", full_disk_on_the_last_page)
    with pytest.raises(BlobError):
        await take(images, path)
    assert stored_files(images) == []
    assert await images.get("ws", "img-p0") is None


@pytest.mark.parametrize(
    ("given", "label"),
    [
        ("../../etc/passwd.png", "passwd.png"),
        ("C:\\Users\\x\\..\\scan.tif", "scan.tif"),
        ("..", "upload"),
        ("/", "upload"),
        ("a\x00b\n.jpg", "ab.jpg"),
        (None, "upload"),
    ],
)
def test_uploaded_file_names_are_labels_never_paths(given: str | None, label: str) -> None:
    assert safe_filename(given) == label


async def test_pyramids_in_gridfs_are_read_from_a_local_copy(
    mongo_database: str, tmp_path: Path
) -> None:
    from server.media.blobs.gridfs import GridFSBlobs

    blobs = GridFSBlobs(mongo_database)
    await blobs.open()
    try:
        # Two instances over one database: the second reads what the first stored.
        one = Images(blobs, tmp_path / "one", LIMITS)
        two = Images(blobs, tmp_path / "two", LIMITS)
        path = pictures.write(tmp_path / "scan.png", pictures.picture(1500, 1100))
        [image] = await take(one, path)
        found = await two.get("ws", image.id)
        assert found == image
        copies = await asyncio.gather(*(two.pyramid_file(found) for _ in range(5)))
        assert len(set(copies)) == 1 and (tmp_path / "two") in copies[0].parents
        levels_ok(found, copies[0])
    finally:
        await blobs.close()


def jp2(path: Path, width: int, height: int, mode: str = "RGB") -> Path:
    """A JPEG 2000 made by Pillow (its wheel's openjpeg): the picture, tiled as scanners do."""
    from PIL import Image

    picture = pictures.picture(width, height)
    image = Image.frombytes("RGB", (width, height), picture.write_to_memory()).convert(mode)
    # A .j2k is a bare codestream (no JP2 boxes), as some cameras and archives write.
    codestream = path.suffix == ".j2k"
    image.save(path, format="JPEG2000", tile_size=(256, 256), no_jp2=codestream)
    return path


async def test_a_jpeg_2000_becomes_a_pyramid(images: Images, tmp_path: Path) -> None:
    # libvips' binary wheel reads no JPEG 2000: Pillow decodes it in the converter child.
    [colour] = await take(images, jp2(tmp_path / "scan.jp2", 1100, 700), "colour")
    [grey] = await take(images, jp2(tmp_path / "grey.j2k", 600, 400, "L"), "grey")
    assert (colour.width, colour.height, colour.bands, colour.source_format) == (
        1100,
        700,
        3,
        "jp2",
    )
    assert (grey.width, grey.height, grey.bands, grey.source_format) == (600, 400, 1, "jp2")
    path = await images.pyramid_file(colour)
    levels_ok(colour, path)
    # Lossless in the JPEG 2000, JPEG at quality 90 in the pyramid: the same picture.
    stored = pyvips.Image.tiffload(str(path))
    assert (stored - pictures.picture(1100, 700)).abs().avg() < 3


async def test_a_jpeg_2000_over_its_decoding_limit_says_to_send_tiff(tmp_path: Path) -> None:
    blobs = FileBlobs(tmp_path / "blobs")
    await blobs.open()
    limits = Limits(max_pixels=50_000_000, max_pages=8, seconds=120, memory_bytes=0)
    images = Images(blobs, tmp_path / "work", replace(limits, jp2_max_pixels=500_000))
    with pytest.raises(Refused) as refused:
        await take(images, jp2(tmp_path / "big.jp2", 1000, 600))
    assert refused.value.status == 413
    assert "1000 x 600" in refused.value.detail and "TIFF" in refused.value.detail
    assert stored_files(images) == []
    # A truncated one is damaged, and leaves nothing either.
    whole = jp2(tmp_path / "cut.jp2", 800, 600).read_bytes()
    (tmp_path / "cut.jp2").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(Refused) as cut:
        await take(images, tmp_path / "cut.jp2")
    assert cut.value.status == 400
    assert stored_files(images) == []
