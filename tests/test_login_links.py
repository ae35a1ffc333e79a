"""One-time sign-in links, for the embedded default with no identity provider: made by
`sinopia admin login-link` (and by the first start of an empty data directory), used at
`/api/auth/link`: once, before they expire, to a path on this server only."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from typing import Any
from urllib.parse import urlsplit

import httpx

from server.access import grants
from server.access.principal import SESSION_COOKIE
from server.directory import Directory, operations

from .conftest import ROOT, Running, ServerFactory


def _directory(server: Running) -> Directory:
    assert server.app is not None
    directory: Directory = server.app.state.auth.directory
    return directory


async def _link(server: Running, name: str, seconds: float = 900, **user: Any) -> str:
    directory = _directory(server)
    found = await directory.user_by_name(name)
    if found is None:
        found = await operations.add_user(directory, name, "test", **user)
    return await grants.create_login_link(directory, found, "test", expires_seconds=seconds)


async def _open(server: Running, secret: str, next_path: str | None = None) -> httpx.Response:
    params = {"token": secret, **({"next": next_path} if next_path is not None else {})}
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        return await http.get("/api/auth/link", params=params)


async def test_a_link_signs_in_once_and_goes_where_it_says(make_server: ServerFactory) -> None:
    server = await make_server()
    server.workspace("museum")
    secret = await _link(server, "chiara", display_name="Chiara Rossi")
    answer = await _open(server, secret, "/w/museum/canvas/panel-1")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/w/museum/canvas/panel-1"
    cookie = answer.cookies.get(SESSION_COOKIE)
    assert cookie, answer.headers
    assert "httponly" in answer.headers["set-cookie"].lower()
    async with httpx.AsyncClient(base_url=server.url, cookies={SESSION_COOKIE: cookie}) as http:
        me = (await http.get("/api/me")).json()
    # History names her by her pseudonymous id, never by her name.
    assert me["principal"] == f"user:{me['user']['id']}" and me["csrf_token"]
    assert me["user"]["name"] == "chiara" and "chiara" not in me["agent"]["id"]

    again = await _open(server, secret, "/w/museum")
    assert (again.status_code, again.headers["location"]) == (303, "/?signin=used")
    assert SESSION_COOKIE not in again.cookies
    # Only a hash is kept: the secret itself is nowhere in the directory.
    links = await _directory(server).login_links(me["user"]["id"])
    assert len(links) == 1 and secret not in repr(links) and links[0].used_ms is not None
    events = [(e.action, e.detail) for e in await _directory(server).events(None, limit=20)]
    assert ("sign-in", {"method": "link"}) in events
    assert ("sign-in-failed", {"method": "link", "reason": "used"}) in events


async def test_expired_unknown_and_disabled_links_say_why(make_server: ServerFactory) -> None:
    server = await make_server()
    expired = await _link(server, "ed", seconds=0.05)
    await asyncio.sleep(0.1)  # the link's lifetime passing is what is tested
    answer = await _open(server, expired)
    assert answer.headers["location"] == "/?signin=expired"
    assert (await _open(server, expired)).headers["location"] == "/?signin=expired"
    assert (await _open(server, "not-a-link")).headers["location"] == "/?signin=invalid"
    assert (await _open(server, "")).headers["location"] == "/?signin=invalid"
    assert (await _open(server, "x" * 5000)).headers["location"] == "/?signin=invalid"

    disabled = await _link(server, "dora")
    directory = _directory(server)
    user = await directory.user_by_name("dora")
    assert user is not None
    await operations.set_disabled(directory, user, True, "test")
    answer = await _open(server, disabled)
    assert answer.headers["location"] == "/?signin=invalid"
    assert SESSION_COOKIE not in answer.cookies


async def test_a_link_never_redirects_off_this_server(server: Running) -> None:
    for bad in ("//evil.example/x", "https://evil.example/", "/\t/evil.example", "\\\\evil", "w/x"):
        answer = await _open(server, await _link(server, "nina"), bad)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/", bad


async def test_link_sign_ins_are_rate_limited_per_address(make_server: ServerFactory) -> None:
    server = await make_server(rate_signin_per_minute=3)
    answers = [(await _open(server, f"guess-{n}")).status_code for n in range(4)]
    assert answers == [303, 303, 303, 429]


async def test_providers_say_how_to_sign_in(make_server: ServerFactory) -> None:
    plain = await make_server()
    assert (await plain.get("/api/auth/providers")).json() == {
        "oidc": False,
        "login_url": "/api/auth/login",
    }
    with_idp = await make_server(
        oidc_issuer="https://idp.example.org", oidc_client_id="c", oidc_client_secret="s"
    )
    async with httpx.AsyncClient(base_url=with_idp.url) as anonymous:
        assert (await anonymous.get("/api/auth/providers")).json()["oidc"] is True


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", "admin", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_the_command_prints_a_link_that_works(server: Running) -> None:
    done = await asyncio.to_thread(
        _cli, "login-link", "tester", "--next", "/w/museum", "--data-dir", str(server.data_dir),
        "--server", server.url,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    url = done.stdout.strip()
    assert url.startswith(f"{server.url}/api/auth/link?token=") and "\n" not in url
    assert "works once, within 15 minutes" in done.stderr
    async with httpx.AsyncClient(timeout=10) as http:
        answer = await http.get(url)
    assert (answer.status_code, answer.headers["location"]) == (303, "/w/museum")

    refused = await asyncio.to_thread(
        _cli, "login-link", "tester", "--next", "https://evil.example", "--data-dir",
        str(server.data_dir),
    )  # fmt: skip
    assert refused.returncode != 0 and "--next must be a path" in refused.stderr
    unknown = await asyncio.to_thread(
        _cli, "login-link", "nobody", "--data-dir", str(server.data_dir)
    )
    assert unknown.returncode != 0 and "nobody" in unknown.stderr


async def test_first_start_makes_an_administrator_and_prints_a_link(
    process_factory: Any,
) -> None:
    proc = process_factory("fresh")
    proc.token = "skip-provisioning"  # a brand-new data directory, as on a fresh machine
    running = await proc.start()
    log = proc.log.read_text()
    links = re.findall(r"http://\S+/api/auth/link\?token=\S+", log)
    assert len(links) == 1, log
    assert urlsplit(links[0]).port == running.port
    assert 'an administrator, "admin", was made' in log
    assert "sinopia admin login-link admin" in log and "sinopia admin token create admin" in log
    async with httpx.AsyncClient(timeout=10) as http:
        answer = await http.get(links[0])
        assert (answer.status_code, answer.headers["location"]) == (303, "/")
        # The client keeps the session cookie, as a browser does.
        me = await http.get(f"{running.url}/api/me")
    assert me.json()["user"]["admin"] is True
    proc.terminate()
    # A second start has users: nothing is made or printed again.
    await proc.start()
    proc.terminate()
    assert len(re.findall(r"/api/auth/link\?token=", proc.log.read_text())) == 1
