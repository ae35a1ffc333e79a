"""`sinopia media add WS FILE...`: a batch of images into the store (server stopped) or
through a running server, each file taken or refused on a line of its own, a progress bar
on a terminal, and errors as one line `sinopia: error: ...`."""

from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path

from server.commands.media import Progress
from tests import pictures
from tests.test_cli import one_line_error, sinopia


def images(tmp_path: Path) -> list[Path]:
    jpg = pictures.write(tmp_path / "front.jpg", pictures.picture(900, 700))
    tif = pictures.multi_page(tmp_path / "folios.tif", [pictures.picture(600, 400)] * 2)
    fake = tmp_path / "fake.jpg"
    fake.write_text("not an image at all\n" * 10)
    return [jpg, tif, fake]


async def test_a_batch_into_the_store(make_server, tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert sinopia("admin", "workspace", "add", "museum", "--data-dir", str(data)).returncode == 0
    jpg, tif, fake = images(tmp_path)
    done = await asyncio.to_thread(
        sinopia, "media", "add", "museum", str(jpg), str(fake), str(tif), "--data-dir", str(data)
    )
    one_line_error(done, "1 of 3 files were not taken")
    assert "taken front.jpg" in done.stdout and "taken folios.tif" in done.stdout
    assert "refused fake.jpg (415)" in done.stdout
    assert done.stdout.count("museum/canvas/") == 3  # one image and two pages
    originals = re.findall(
        r"original: \S*(/api/media/museum/upload-[0-9a-f]+/original)", done.stdout
    )
    assert len(originals) == 2  # one per file taken, none for the refused one
    # What it made is there for the server started afterwards: subjects and their tiles,
    # and the masters as they were sent.
    server = await make_server(data_dir=data)
    async with server.http() as client:
        subjects = (await client.get("/api/workspaces/museum/subjects")).json()["subjects"]
        assert len(subjects) == 3
        tile = await client.get(f"/iiif/museum/image/{subjects[0]['id']}/full/100,/0/default.jpg")
        masters = [(await client.get(path)).content for path in originals]
    assert tile.status_code == 200 and tile.headers["content-type"] == "image/jpeg"
    assert sorted(masters) == sorted([jpg.read_bytes(), tif.read_bytes()])


async def test_a_batch_through_a_running_server(server, tmp_path: Path) -> None:
    server.workspace("museum")
    jpg, tif, _ = images(tmp_path)
    done = await asyncio.to_thread(
        sinopia,
        "media",
        "add",
        "museum",
        str(jpg),
        str(tif),
        "--server",
        server.url,
        "--token",
        server.token,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(f"original: {server.url}/api/media/museum/upload-") == 2
    async with server.http() as client:
        subjects = (await client.get("/api/workspaces/museum/subjects")).json()
    labels = sorted(s["label"] for s in subjects["subjects"])
    assert labels == ["folios.tif, page 1", "folios.tif, page 2", "front.jpg"]


def test_mistakes_are_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    jpg = images(tmp_path)[0]
    one_line_error(
        sinopia("media", "add", "museum", str(tmp_path / "none.jpg")), "none.jpg", "no such file"
    )
    one_line_error(
        sinopia("media", "add", "nowhere", str(jpg), "--data-dir", str(data)), "no workspace"
    )
    one_line_error(
        sinopia("media", "add", "museum", str(jpg), "--server", "http://127.0.0.1:9"), "--token"
    )
    helped = sinopia("media", "add", "--help")
    assert helped.returncode == 0 and "sinopia media add my-museum" in helped.stdout


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_fills_as_the_batch_goes(tmp_path: Path) -> None:
    files = images(tmp_path)[:2]
    out = Terminal()
    bar = Progress(files, out)
    bar.start(0, files[0])
    bar.advance(files[0].stat().st_size)
    bar.start(1, files[1])
    bar.advance(files[1].stat().st_size)
    bar.draw(force=True)
    frames = [f.strip() for f in out.getvalue().split("\r") if f.strip()]
    assert frames[0].startswith("[" + "." * 30 + "]   0%  1/2 front.jpg")
    assert frames[-1].startswith("[" + "#" * 30 + "] 100%  2/2 folios.tif")
    quiet = io.StringIO()  # not a terminal: no bar at all
    Progress(files, quiet).start(0, files[0])
    assert quiet.getvalue() == ""
