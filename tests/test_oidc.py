"""Sign-in end to end against a real OpenID Connect provider (npm `oidc-provider`, started
on localhost by the fixture): authorization code with PKCE, the session cookie, CSRF,
access tokens for the websocket, invitation by email, sign-out, and the audit log."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import time
from collections.abc import AsyncIterator
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest

from server.access.auth import SESSION_COOKIE

from .conftest import Running, ServerFactory, free_port
from .jsclients import JS_DIR
from .yclient import YClient


@pytest.fixture(scope="module", autouse=True)
def _provider_installed() -> None:
    # Sign-in against a real provider is a requirement: fail loudly when it cannot run.
    assert shutil.which("node") and (JS_DIR / "node_modules" / "oidc-provider").is_dir(), (
        "needs node and npm ci --prefix tests/js"
    )


CLIENT_ID = "sinopia-test"
CLIENT_SECRET = "a client secret: with characters to encode &=+"
DOC = "museum/canvas/folio-1"


class Provider:
    def __init__(self, port: int, process: asyncio.subprocess.Process) -> None:
        self.issuer = f"http://127.0.0.1:{port}"
        self.process = process


@pytest.fixture
async def signin(make_server: ServerFactory) -> AsyncIterator[tuple[Running, Provider]]:
    port = free_port()
    server = await make_server(
        oidc_issuer=f"http://127.0.0.1:{port}",
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
    )
    process = await asyncio.create_subprocess_exec(
        "node",
        str(JS_DIR / "oidc_provider.mjs"),
        cwd=JS_DIR,
        env={
            **os.environ,
            "PORT": str(port),
            "CLIENT_ID": CLIENT_ID,
            "CLIENT_SECRET": CLIENT_SECRET,
            "REDIRECT_URI": f"{server.url}/api/auth/callback",
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    ready = json.loads(await asyncio.wait_for(process.stdout.readline(), 30))
    assert ready["issuer"] == f"http://127.0.0.1:{port}"
    try:
        yield server, Provider(port, process)
    finally:
        process.terminate()
        await process.wait()


def _form(html: str, base: str) -> tuple[str, dict[str, str]]:
    action = unescape(re.search(r'<form[^>]*action="([^"]+)"', html).group(1))  # type: ignore[union-attr]
    fields = dict(
        re.findall(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html)
    )
    return urljoin(base, action), fields


async def sign_in(
    http: httpx.AsyncClient, server: Running, login: str, next_path: str = "/api/me"
) -> httpx.Response:
    """A browser's way through the provider's login and consent pages, back to us."""
    response = await http.get(f"{server.url}/api/auth/login", params={"next": next_path})
    assert response.status_code == 302, response.text
    authorize = urlsplit(response.headers["location"])
    query = parse_qs(authorize.query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert query["response_type"] == ["code"] and query["nonce"] and query["state"]
    assert "code_verifier" not in query
    url = response.headers["location"]
    for _ in range(20):
        response = await http.get(url)
        while response.status_code in (302, 303):
            url = urljoin(url, response.headers["location"])
            if url.startswith(server.url):
                return await http.get(url)
            response = await http.get(url)
        action, fields = _form(response.text, url)
        if fields.get("prompt") == "login":
            fields.update(login=login, password="any")
        response = await http.post(action, data=fields)
        assert response.status_code in (302, 303), response.text
        url = urljoin(action, response.headers["location"])
        if url.startswith(server.url):
            return await http.get(url)
    raise AssertionError("the sign-in never came back")


async def test_sign_in_with_pkce_then_work_then_sign_out(signin: tuple[Running, Provider]) -> None:
    server, provider = signin
    # Invited by email before they ever signed in: the first sign-in links the invitation.
    server.workspace("museum")
    async with server.http() as operator:
        invited = await operator.post(
            "/api/workspaces/museum/members", json={"email": "alice@example.org", "role": "editor"}
        )
        assert invited.status_code == 201, invited.text

    async with httpx.AsyncClient(timeout=20) as browser:
        back = await sign_in(browser, server, "alice")
        assert back.status_code == 302 and back.headers["location"] == "/api/me"
        cookie = next(
            c for c in back.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE)
        )
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
        me = await browser.get(f"{server.url}/api/me")
        assert me.status_code == 200, me.text
        who = me.json()
        assert who["user"]["name"] == "alice" and who["user"]["email"] == "alice@example.org"
        assert who["memberships"] == [{"workspace": "museum", "role": "editor"}]
        csrf = who["csrf_token"]

        # Cookie-authenticated writes need the CSRF header.
        assert (await browser.post(f"{server.url}/api/auth/token", json={})).status_code == 403
        minted = await browser.post(
            f"{server.url}/api/auth/token",
            json={"workspace": "museum"},
            headers={"X-CSRF-Token": csrf},
        )
        assert minted.status_code == 200, minted.text
        access = minted.json()["access_token"]
        assert minted.json()["expires_in"] == 600

        # The short-lived token opens the live document (what the browser client does).
        client = await YClient(server.ws(DOC, access)).connect()
        client.map()["by-alice"] = 1
        watcher = await YClient(server.ws(DOC)).connect()
        await watcher.wait_for(lambda: watcher.content().get("by-alice") == 1)

        # Signing out ends the session and everything minted from it.
        out = await browser.post(f"{server.url}/api/auth/logout", headers={"X-CSRF-Token": csrf})
        assert out.status_code == 200
        started = time.monotonic()
        code, reason = await client.wait_closed(5)
        assert code == 4401 and reason == "signed out" and time.monotonic() - started < 1.5
        stale = httpx.AsyncClient(cookies={SESSION_COOKIE: cookie.split(";")[0].split("=", 1)[1]})
        async with stale:
            assert (await stale.get(f"{server.url}/api/me")).status_code == 401
        answer = await httpx.AsyncClient().get(
            f"{server.url}/api/me", headers={"Authorization": f"Bearer {access}"}
        )
        assert answer.status_code == 401

    # Sign-in made no second user: the invitation was linked.
    async with server.http() as operator:
        users = (await operator.get("/api/users")).json()["users"]
        assert [u["name"] for u in users if u.get("email") == "alice@example.org"] == ["alice"]
        events = (await operator.get("/api/audit")).json()["events"]
        actions = [e["action"] for e in events]
        assert "sign-in" in actions and "sign-out" in actions
        signin_event = next(e for e in events if e["action"] == "sign-in")
        assert signin_event["detail"] == {"issuer": provider.issuer}


async def test_a_new_user_is_created_on_first_sign_in_and_has_no_access(
    signin: tuple[Running, Provider],
) -> None:
    server, _ = signin
    async with httpx.AsyncClient(timeout=20) as browser:
        back = await sign_in(browser, server, "bob", next_path="https://evil.example/")
        assert back.headers["location"] == "/"  # never an open redirect
        me = (await browser.get(f"{server.url}/api/me")).json()
        assert me["user"]["name"] == "bob" and me["memberships"] == []
        server.workspace("museum")
        assert (await browser.get(f"{server.url}/api/workspaces/museum")).status_code == 403


async def test_tampered_or_replayed_sign_ins_fail_and_are_audited(
    signin: tuple[Running, Provider],
) -> None:
    server, _ = signin
    async with httpx.AsyncClient(timeout=20) as browser:
        start = await browser.get(f"{server.url}/api/auth/login")
        state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
        forged = await browser.get(
            f"{server.url}/api/auth/callback", params={"code": "made-up", "state": state}
        )
        assert forged.status_code == 401
        wrong_state = await browser.get(
            f"{server.url}/api/auth/callback", params={"code": "x", "state": "other"}
        )
        assert wrong_state.status_code == 401
        assert "made-up" not in forged.text
    async with httpx.AsyncClient(timeout=20) as fresh:
        no_cookie = await fresh.get(
            f"{server.url}/api/auth/callback", params={"code": "x", "state": state}
        )
        assert no_cookie.status_code == 401
    events: list[dict[str, Any]] = (await server.get("/api/audit")).json()["events"]
    assert [e["action"] for e in events].count("sign-in-failed") == 3
