"""Security headers on every response: nosniff, a Referrer-Policy, never framed (but the
embed pages), HSTS when served over https, each configurable."""

from __future__ import annotations

import httpx

from .conftest import Running, ServerFactory

# An app page, the API (a problem and an answer), operations, a missing path.
PATHS = ("/", "/api/me", "/api/openapi.json", "/healthz", "/no/such/page")


async def _get(server: Running, path: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        return await http.get(path, headers=headers)


async def test_every_response_carries_them(server: Running) -> None:
    for path in PATHS:
        answer = await _get(server, path)
        h = answer.headers
        assert h["x-content-type-options"] == "nosniff", path
        # URLs may carry share-link tokens: they never leave the site in Referer.
        assert h["referrer-policy"] == "same-origin", path
        assert "frame-ancestors 'none'" in h["content-security-policy"], path
        assert h["x-frame-options"] == "DENY", path
        # Plain http: no HSTS (browsers ignore it there, and it would pin a test host).
        assert "strict-transport-security" not in h, path
    # The app page keeps its own, fuller policy.
    page = await _get(server, "/")
    assert "script-src 'self'" in page.headers["content-security-policy"]


async def test_embed_pages_are_left_to_frame(server: Running) -> None:
    answer = await _get(server, "/embed/museum/canvas/x")
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "x-frame-options" not in answer.headers
    assert "frame-ancestors 'none'" not in answer.headers.get("content-security-policy", "")


async def test_hsts_over_https_and_configurable(make_server: ServerFactory) -> None:
    behind_tls = await make_server(
        public_url="https://sinopia.example.org", referrer_policy="no-referrer"
    )
    answer = await _get(behind_tls, "/healthz")
    assert answer.headers["strict-transport-security"] == f"max-age={180 * 86400}"
    assert answer.headers["referrer-policy"] == "no-referrer"
    # Behind a proxy on this machine, which says the request came over https.
    proxied = await make_server(hsts_seconds=600)
    answer = await _get(proxied, "/healthz", **{"X-Forwarded-Proto": "https"})
    assert answer.headers["strict-transport-security"] == "max-age=600"
    off = await make_server(public_url="https://sinopia.example.org", hsts_seconds=0)
    assert "strict-transport-security" not in (await _get(off, "/healthz")).headers
