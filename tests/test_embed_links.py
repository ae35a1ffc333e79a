"""Share links for embeds on museum websites: limited to the origins allowed to embed them
(the websocket's `Origin`, REST calls from other pages), made without expiry when the
owner says so, renewed or re-scoped without changing the token (the snippet on the
museum's page), revoked with open embeds told at once. Real websockets and HTTP."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from annotations import write_subject

from .access import user_token
from .conftest import Running, eventually
from .test_annotations_document import SUBJECT
from .yclient import YClient

WS = "museum"
DOC = f"{WS}/canvas/{SUBJECT.id}"
MUSEUM = "https://museum.example"
ELSEWHERE = "https://copycat.example"


class Owner:
    def __init__(self, server: Running, token: str) -> None:
        self.server = server
        self.client = httpx.AsyncClient(
            base_url=server.url, timeout=10, headers={"Authorization": f"Bearer {token}"}
        )

    async def share(self, **body: Any) -> dict[str, Any]:
        made = await self.client.post(
            f"/api/workspaces/{WS}/shares", json={"subject": f"canvas/{SUBJECT.id}", **body}
        )
        assert made.status_code == 201, made.text
        return dict(made.json())

    async def change(self, link: dict[str, Any], **body: Any) -> httpx.Response:
        return await self.client.patch(f"/api/workspaces/{WS}/shares/{link['id']}", json=body)


@pytest.fixture
async def owner(server: Running) -> Owner:
    token = await user_token(server, "olga", WS, "owner")
    editor = await YClient(server.ws(DOC)).connect()
    write_subject(editor.doc, SUBJECT)
    await editor.round_trip()
    await editor.close()
    return Owner(server, token)


async def _annotations(server: Running, token: str, origin: str | None) -> httpx.Response:
    headers = {"Origin": origin} if origin else {}
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as anyone:
        return await anyone.get(
            f"/api/annotations/{DOC}/", params={"token": token}, headers=headers
        )


async def test_a_link_limited_to_origins_works_only_on_their_pages(
    server: Running, owner: Owner
) -> None:
    link = await owner.share(origins=[MUSEUM + "/", "HTTPS://Museum.Example:443"])
    assert link["origins"] == [MUSEUM]
    token = link["token"]

    on_museum = await YClient(server.ws(DOC, token), origin=MUSEUM).connect()
    assert on_museum.synced.is_set()
    copycat = YClient(server.ws(DOC, token), origin=ELSEWHERE)
    await copycat.connect(wait_synced=False)
    code, reason = await copycat.wait_closed()
    assert code == 4403 and ELSEWHERE in reason
    # Sinopia's own iframe page (same origin) and scripts without a page may use it.
    own = await YClient(server.ws(DOC, token), origin=server.url).connect()
    script = await YClient(server.ws(DOC, token)).connect()

    assert (await _annotations(server, token, MUSEUM)).status_code == 200
    refused = await _annotations(server, token, ELSEWHERE)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert ELSEWHERE in refused.json()["detail"]

    # The owner moves the exhibition to another site: embeds on the old one stop at once.
    started = time.monotonic()
    moved = await owner.change(link, origins=["https://exhibition.example"])
    assert moved.status_code == 200, moved.text
    assert moved.json()["origins"] == ["https://exhibition.example"]
    code, _ = await on_museum.wait_closed(5)
    assert code == 4403 and time.monotonic() - started < 1.5
    assert own.close_code is None and script.close_code is None
    for client in (own, script):
        await client.close()


async def test_bad_origins_are_refused_clearly(server: Running, owner: Owner) -> None:
    for bad in ("museum.example", "https://museum.example/exhibition", "ftp://museum.example",
                "https://museum.example;script-src *", "https://user@museum.example"):  # fmt: skip
        made = await owner.client.post(
            f"/api/workspaces/{WS}/shares",
            json={"subject": f"canvas/{SUBJECT.id}", "origins": [bad]},
        )
        assert made.status_code == 400, bad
        assert "web origin" in made.json()["detail"]
    from server.access.grants import MAX_SHARE_ORIGINS

    many = [f"https://site{i}.example" for i in range(MAX_SHARE_ORIGINS + 1)]
    made = await owner.client.post(
        f"/api/workspaces/{WS}/shares", json={"subject": f"canvas/{SUBJECT.id}", "origins": many}
    )
    assert made.status_code == 400 and str(MAX_SHARE_ORIGINS) in made.json()["detail"]
    assert (await owner.share(origins=many[:MAX_SHARE_ORIGINS]))["origins"] == many[:-1]
    listed = await owner.client.get(f"/api/workspaces/{WS}/shares")
    assert not any(bad in str(listed.json()) for bad in ("museum.example/exhibition", "ftp:"))


async def test_a_link_without_expiry_and_renewal_keep_the_same_token(
    server: Running, owner: Owner
) -> None:
    forever = await owner.share(expires="never")
    assert forever["never_expires"] and "expires" not in forever
    assert (await _annotations(server, forever["token"], MUSEUM)).status_code == 200

    short = await owner.share(expires="1s")
    token = short["token"]

    async def refused() -> bool:
        return (await _annotations(server, token, MUSEUM)).status_code == 401

    await eventually(refused, 5, "the link to expire")
    renewed = await owner.change(short, expires="30d")
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["expires"] > (time.time() + 29 * 86400) * 1000
    assert not renewed.json()["never_expires"]
    # The snippet on the page is unchanged, and works again at once on the instance that
    # renewed it (others see the change within their next look at the directory).
    assert (await _annotations(server, token, MUSEUM)).status_code == 200
    viewer = await YClient(server.ws(DOC, token), origin=MUSEUM).connect()
    forever_now = await owner.change(short, expires="never", label="Exhibition 2027")
    assert forever_now.json()["never_expires"] and "expires" not in forever_now.json()
    assert forever_now.json()["label"] == "Exhibition 2027"
    assert (await owner.change(short, expires="soon")).status_code == 400

    started = time.monotonic()
    gone = await owner.client.delete(f"/api/workspaces/{WS}/shares/{short['id']}")
    assert gone.status_code == 200
    assert await refused()  # at once: no request after the revocation is answered
    code, reason = await viewer.wait_closed(5)
    assert code == 4401 and "revoked" in reason and time.monotonic() - started < 1.5
    again = await owner.change(short, expires="30d")
    assert again.status_code == 409 and "new one" in again.json()["detail"]
    assert await refused()


async def test_only_owners_change_links(server: Running, owner: Owner) -> None:
    link = await owner.share()
    editor = await user_token(server, "ed", WS, "editor")
    async with httpx.AsyncClient(
        base_url=server.url, headers={"Authorization": f"Bearer {editor}"}
    ) as ed:
        path = f"/api/workspaces/{WS}/shares/{link['id']}"
        tried = await ed.patch(path, json={"expires": "never"})
        assert tried.status_code == 403
    missing = await owner.client.patch(f"/api/workspaces/{WS}/shares/s0000", json={})
    assert missing.status_code == 404


def test_the_command_line_makes_links_for_embeds(tmp_path: Path) -> None:
    from .test_cli import one_line_error, sinopia

    data = ("--data-dir", str(tmp_path / "data"))
    assert sinopia("admin", "workspace", "add", WS, *data).returncode == 0
    made = sinopia(
        "admin", "share", "create", WS, "--subject", "canvas/f1", "--expires", "never",
        "--origin", MUSEUM, *data,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "expires never" in made.stderr + made.stdout
    listed = sinopia("admin", "share", "list", WS, *data).stdout
    assert f"expires never  on {MUSEUM}" in listed
    bad = sinopia(
        "admin", "share", "create", WS, "--subject", "canvas/f1", "--origin", "museum", *data
    )
    one_line_error(bad, "not a web origin", "https://museum.example")
