"""How `sinopia serve` serves the browser app: its pages at the app's paths under a strict
Content-Security-Policy naming the signed-in user's image services, its hashed assets
cached as immutable, a page saying how to build it when it is not built; and the build
hook's own checks (Node missing or too old). A stand-in build is used here, so these
hold whatever the client's code; tests/test_webapp_browser.py runs the real one."""

from __future__ import annotations

import importlib.util
import os
import stat
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from server.access import grants
from server.access.principal import SESSION_COOKIE
from server.directory import operations
from server.webapp import pages
from server.webapp.policy import origin

from .conftest import ROOT, Running, ServerFactory
from .staticiiif import manifest

SCRIPT = b"console.log('sinopia');\n" * 400
INDEX = (
    b'<!doctype html><html><head><script type="module" src="/assets/app-1a2b3c.js">'
    b'</script></head><body><div id="app"></div></body></html>'
)


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_bytes(INDEX)
    (dist / "assets" / "app-1a2b3c.js").write_bytes(SCRIPT)
    (dist / "assets" / ".hidden.js").write_bytes(b"secret")
    monkeypatch.setattr(pages, "DIST", dist)
    return dist


def _directives(policy: str) -> dict[str, list[str]]:
    out = {}
    for part in policy.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


async def test_app_paths_answer_the_app_with_a_strict_policy(built: Path, server: Running) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        for path in ("/", "/w/museum", "/w/museum/canvas/panel-1", "/w/museum/canvas/x/history"):
            answer = await http.get(path)
            assert answer.status_code == 200, path
            assert answer.content == INDEX
            assert answer.headers["content-type"] == "text/html; charset=utf-8"
            assert answer.headers["cache-control"] == "no-cache"
            policy = _directives(answer.headers["content-security-policy"])
            assert policy["default-src"] == ["'self'"]
            assert policy["script-src"] == ["'self'"]
            assert policy["style-src"] == ["'self'"]
            assert policy["img-src"] == ["'self'", "data:", "blob:"]
            assert policy["connect-src"] == ["'self'"]
            assert policy["frame-ancestors"] == ["'none'"]
        # The API's answers stay the API's.
        missing = await http.get("/api/nothing-here")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        # (only the policy every response has: never framed; server.http.security_headers)
        assert (await http.get("/healthz")).headers["content-security-policy"] == (
            "frame-ancestors 'none'"
        )


async def _signed_in(server: Running, name: str) -> httpx.AsyncClient:
    assert server.app is not None
    directory = server.app.state.auth.directory
    user = await directory.user_by_name(name) or await operations.add_user(directory, name, "t")
    secret = await grants.create_login_link(directory, user, "t", expires_seconds=60)
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        answer = await http.get("/api/auth/link", params={"token": secret})
    assert SESSION_COOKIE in answer.cookies
    return httpx.AsyncClient(base_url=server.url, timeout=10, cookies=answer.cookies)


async def test_the_policy_names_the_image_services_of_the_users_workspaces(
    built: Path, make_server: ServerFactory
) -> None:
    server = await make_server()
    imports = {
        "museum": manifest(
            "https://images.museum.example", [("Recto", "https://images.museum.example/iiif/recto")]
        ),
        "loans": manifest("http://127.0.0.1:8182", [("Loan", "http://127.0.0.1:8182/iiif/loan")]),
        "private": manifest(
            "https://secret.example", [("Hidden", "https://secret.example/iiif/h")]
        ),
    }
    async with server.http() as operator:
        for ws, body in imports.items():
            server.workspace(ws)
            assert (await operator.post(f"/api/iiif/{ws}/import", json=body)).status_code in (
                200,
                201,
            )
    assert server.app is not None
    directory = server.app.state.auth.directory
    chiara = await operations.add_user(directory, "chiara", "t")
    await operations.set_member(directory, "museum", chiara, "editor", "t")
    await operations.set_member(directory, "loans", chiara, "viewer", "t")

    http = await _signed_in(server, "chiara")
    async with http:
        # Any app page: the app moves between workspaces without reloading.
        for path in ("/", "/w/museum/canvas/x"):
            policy = _directives((await http.get(path)).headers["content-security-policy"])
            for directive in ("img-src", "connect-src"):
                assert "https://images.museum.example" in policy[directive]
                assert "http://127.0.0.1:8182" in policy[directive]
                assert not any("secret" in v for v in policy[directive])
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        policy = _directives((await anonymous.get("/w/museum")).headers["content-security-policy"])
        assert policy["img-src"] == ["'self'", "data:", "blob:"]


async def test_the_policy_follows_a_manifest_imported_while_the_server_runs(
    built: Path, make_server: ServerFactory
) -> None:
    server = await make_server()
    server.workspace("museum")
    assert server.app is not None
    directory = server.app.state.auth.directory
    chiara = await operations.add_user(directory, "chiara", "t")
    await operations.set_member(directory, "museum", chiara, "editor", "t")
    http = await _signed_in(server, "chiara")
    async with http, server.http() as operator:
        first = _directives((await http.get("/w/museum")).headers["content-security-policy"])
        assert not any("newcomer" in v for v in first["img-src"])
        body = manifest(
            "https://images.newcomer.example",
            [("Newcomer", "https://images.newcomer.example/iiif/n")],
        )
        assert (await operator.post("/api/iiif/museum/import", json=body)).status_code in (
            200,
            201,
        )
        # The next page asked for names it: no restart, no cache to wait out.
        after = await http.get("/w/museum/canvas/anything")
        assert after.headers["cache-control"] == "no-cache"
        policy = _directives(after.headers["content-security-policy"])
        for directive in ("img-src", "connect-src"):
            assert "https://images.newcomer.example" in policy[directive]


def test_only_plain_origins_enter_the_policy() -> None:
    assert origin("https://IIIF.Example.org/iiif/3/x") == "https://iiif.example.org"
    assert origin("http://127.0.0.1:8182/iiif/x") == "http://127.0.0.1:8182"
    assert origin("http://[::1]:8182/x") == "http://[::1]:8182"
    for bad in (
        "https://evil.example;script-src *",
        "https://evil.example 'unsafe-inline'",
        "javascript:alert(1)",
        "data:image/png;base64,xx",
        "https://user:pw@example.org/x",
        "https://exa'mple.org/x",
        "//example.org/x",
        "",
        None,
    ):
        assert origin(bad) is None, bad


async def test_assets_are_immutable_and_compressed(built: Path, server: Running) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        plain = await http.get("/assets/app-1a2b3c.js", headers={"Accept-Encoding": "identity"})
        assert plain.status_code == 200 and plain.content == SCRIPT
        assert plain.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert plain.headers["content-type"].startswith("text/javascript")
        raw = await http.send(
            http.build_request("GET", "/assets/app-1a2b3c.js", headers={"Accept-Encoding": "gzip"}),
            stream=True,
        )
        body = await raw.aread()  # httpx decodes; the header says what was sent
        assert raw.headers["content-encoding"] == "gzip" and body == SCRIPT
        assert int(raw.headers["content-length"]) < len(SCRIPT) / 10
        for path in ("/assets/missing.js", "/assets/.hidden.js", "/assets/../index.html",
                     "/assets/%2e%2e/index.html", "/assets/", "/assets//etc/passwd"):  # fmt: skip
            assert (await http.get(path)).status_code == 404, path


async def test_without_a_build_the_pages_say_how_to_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: Running
) -> None:
    monkeypatch.setattr(pages, "DIST", tmp_path / "never-built")
    assert server.app is not None
    # The routes were made when the app was: a fresh app sees the missing build.
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    with TestClient(Starlette(routes=pages.routes())) as client:
        answer = client.get("/w/museum")
    assert answer.status_code == 503
    assert answer.headers["content-type"].startswith("text/html")
    assert "The browser app is not built" in answer.text
    assert "pip install -e ." in answer.text and "npm run build" in answer.text


# -- the build hook (setup.py) ---------------------------------------------------------


def _setup_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sinopia_setup", ROOT / "setup.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fake(folder: Path, name: str, output: str) -> None:
    tool = folder / name
    tool.write_text(f"#!/bin/sh\necho {output}\n")
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)


def test_the_build_hook_says_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = _setup_module()
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SystemExit) as missing:
        setup._check_node()
    message = str(missing.value)
    assert "Node.js was not found on PATH" in message and "20.19 or later" in message
    assert "SINOPIA_SKIP_WEB_BUILD=1" in message

    _fake(tmp_path, "node", "v18.20.4")
    _fake(tmp_path, "npm", "10.0.0")
    with pytest.raises(SystemExit) as old:
        setup._check_node()
    assert "Node.js 20.19 or later is needed" in str(old.value) and "v18.20.4" in str(old.value)

    _fake(tmp_path, "node", "v20.20.2")
    assert setup._check_node() == str(tmp_path / "npm")

    # Skipped on request: nothing runs (the fake npm would fail the build).
    monkeypatch.setenv("SINOPIA_SKIP_WEB_BUILD", "1")
    setup.build_web_client()
    assert not any(p.name == "dist" for p in tmp_path.iterdir())
    assert os.environ["PATH"] == str(tmp_path)
