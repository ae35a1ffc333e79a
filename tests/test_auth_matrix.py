"""The authorization matrix: every kind of caller against every REST route of the route
table and every websocket action, asserting allowed or refused, and that a refused write
changed nothing.

The REST rows are generated from `app.state.api.endpoints`: a new route is covered the
moment it is added, by its `permission`; a permission without a rule here fails, and so
does any route of the app that does not come from the table (it would bypass the guard).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.routing import Route, WebSocketRoute

from annotations import parse_annotation, write_annotation, write_subject
from server.access.auth import Auth
from server.access.tokens import split_api_token
from server.directory import Directory
from server.http.routes import Endpoint
from server.webapp import pages as webapp_pages

from .access import user_token
from .conftest import Running, ServerFactory
from .test_annotations_document import SUBJECT
from .test_annotations_jsonld import CONTAINER, comment
from .yclient import YClient

WS = "museum"
DOC = f"{WS}/canvas/{SUBJECT.id}"

ROLES = ("owner", "lead", "editor", "commenter", "viewer")
# Callers that are not a role in the workspace, and what the guard answers them.
OUTSIDERS = ("anonymous", "expired", "revoked", "garbage", "share", "other-workspace", "admin")

# Who may pass each permission (a permission missing here fails the matrix).
RANK = {role: i for i, role in enumerate(ROLES[::-1], 1)}  # viewer 1 ... owner 5
NEEDED = {"read": 1, "comment": 2, "write": 3, "approve": 4, "manage": 5}


def expected(permission: str, caller: str, covers_shared_doc: bool) -> int | None:
    """None: allowed; otherwise the status the guard must answer."""
    if caller in ("anonymous", "expired", "revoked", "garbage"):
        return None if permission == "public" else 401
    if permission == "public":
        return None
    if permission == "admin":
        return None if caller == "admin" else 403
    if permission == "user":
        return 403 if caller == "share" else None
    if permission not in NEEDED:
        raise AssertionError(f"no rule for permission {permission!r}: add one to the matrix")
    if caller == "admin":
        return None
    if caller == "other-workspace":
        return 403
    if caller == "share":
        return None if permission == "read" and covers_shared_doc else 403
    return None if RANK[caller] >= NEEDED[permission] else 403


# Path parameters: the shared document, and for "one thing" parameters ids that do not
# exist, so that an allowed destructive call (revoke, remove) finds nothing and leaves the
# callers of the next rows intact.
PARAMS = {
    "workspace": WS,
    "kind": "canvas",
    "id": SUBJECT.id,
    "user": "nobody-here",
    "token": "0000000000000000",
    "share": "s0000000000000000",
    "version": "v1",
}

# Bodies that would change something if allowed (so "refused changed nothing" means
# something), chosen so that what they change when allowed harms no other row.
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/api/history/{workspace}/{kind}/{id}/versions"): {"name": "matrix-{caller}"},
    ("POST", "/api/history/{workspace}/{kind}/{id}/restore"): {"seq": 1},
    ("POST", "/api/workspaces"): {"name": "ws-{caller}"},
    ("POST", "/api/workspaces/{workspace}/members"): {
        "email": "{caller}@invited.example",
        "role": "viewer",
    },
    ("PUT", "/api/workspaces/{workspace}/members/{user}"): {"role": "owner"},
    ("POST", "/api/workspaces/{workspace}/shares"): {"subject": "canvas/shared-{caller}"},
    ("POST", "/api/tokens"): {"label": "made by {caller}"},
    ("POST", "/api/auth/token"): {},
    ("PUT", "/api/workspaces/{workspace}/tags"): {
        "tags": [{"label": "{caller}", "color": "#a0522d"}]
    },
}


def _fill(template: str, caller: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        return PARAMS.get(name, "x")

    return re.sub(r"\{([^}]+)\}", value, template).replace("{caller}", caller)


def _body(endpoint: Endpoint, caller: str) -> Any:
    body = BODIES.get((endpoint.method, endpoint.path), {})
    if isinstance(body, dict):
        return {
            k: v.replace("{caller}", caller) if isinstance(v, str) else v for k, v in body.items()
        }
    return body


@dataclass
class World:
    server: Running
    headers: dict[str, dict[str, str]]
    tokens: dict[str, str | None]

    @property
    def auth(self) -> Auth:
        assert self.server.app is not None
        auth: Auth = self.server.app.state.auth
        return auth

    async def snapshot(self) -> tuple[Any, ...]:
        """Everything a request could change."""
        directory: Directory = self.auth.directory
        assert self.server.app is not None
        store = self.server.app.state.manager.store
        return (
            await directory.generation(),
            len(await directory.events(None, limit=10_000)),
            len(await directory.events(WS, limit=10_000)),
            await store.head(DOC),
            [v.name for v in await store.versions(DOC)],
            sorted(await store.documents("")),
        )


@pytest.fixture
async def world(make_server: ServerFactory) -> World:
    # Rate limits are tested on their own (test_auth_live): here every row must be judged
    # on its permission alone.
    server = await make_server(rate_auth_failures_per_minute=1e6, rate_requests_per_second=1e6)
    tokens: dict[str, str | None] = {"anonymous": None, "garbage": "snp_not-a-token"}
    for role in ROLES:
        tokens[role] = await user_token(server, role, WS, role)
    tokens["other-workspace"] = await user_token(server, "outsider", "elsewhere", "owner")
    tokens["admin"] = server.token
    tokens["expired"] = await user_token(server, "owner", expires_seconds=0.001)
    revoked = await user_token(server, "owner")
    parts = split_api_token(revoked)
    assert parts is not None and server.app is not None
    auth: Auth = server.app.state.auth
    record = await auth.directory.token(parts[0])
    assert record is not None
    await auth.directory.revoke_token(record.id)
    tokens["revoked"] = revoked
    # The shared document has history (for the history routes) and a subject.
    editor = await YClient(server.ws(DOC, tokens["editor"])).connect()
    write_subject(editor.doc, SUBJECT)
    write_annotation(editor.doc, parse_annotation(comment(), CONTAINER))
    await editor.drain()
    await editor.close()
    async with server.http() as operator:
        share = await operator.post(f"/api/workspaces/{WS}/shares", json={"subject": DOC})
        assert share.status_code == 201, share.text
        tokens["share"] = share.json()["token"]
        await operator.post(f"/api/history/{DOC}/versions", json={"name": "v1"})
    await asyncio.sleep(0.01)
    headers = {k: ({"Authorization": f"Bearer {v}"} if v else {}) for k, v in tokens.items()}
    return World(server, headers, tokens)


def test_every_route_of_the_app_comes_from_the_guarded_table(make_app: Any) -> None:
    app = make_app
    table = {(e.path, e.method) for e in app.state.api.endpoints}
    # Routes outside the table, each deliberately public (no user data).
    outside = {"/api/openapi.json", "/healthz", "/readyz", "/metrics"}
    # The browser app's pages and assets (server/webapp): the same page for everyone; what
    # it shows comes from the guarded API.
    outside |= webapp_pages.PATHS
    for route in app.routes:
        if isinstance(route, WebSocketRoute):
            assert route.path.startswith("/collab/"), route.path  # Auth.admit guards these
            continue
        if not isinstance(route, Route):
            # A mount (static files, the web client) must stay out of the API.
            assert not getattr(route, "path", "").startswith("/api"), route
            continue
        if route.path in outside:
            continue
        methods = (route.methods or set()) - {"HEAD"}
        for method in methods:
            assert (route.path, method) in table, f"{method} {route.path} bypasses the guard"


def test_a_route_without_a_known_permission_is_refused(make_app: Any) -> None:
    auth: Auth = make_app.state.auth

    async def handler(request: Any) -> Any:
        raise AssertionError("never reached")

    with pytest.raises(ValueError, match="no rule"):
        auth.guard(Endpoint("/api/new", "GET", handler, "new", "members-only", "x"))  # type: ignore[arg-type]
    for endpoint in make_app.state.api.endpoints:
        for caller in (*ROLES, *OUTSIDERS):
            expected(endpoint.permission, caller, True)  # raises for an unknown permission


@pytest.fixture
def make_app(tmp_path: Any) -> Any:
    from server.app import create_app
    from server.settings import Settings

    return create_app(Settings(data_dir=tmp_path / "app"))


async def test_rest_matrix(world: World) -> None:
    endpoints: list[Endpoint] = world.server.app.state.api.endpoints  # type: ignore[union-attr]
    assert len(endpoints) > 20
    failures: list[str] = []
    checked = 0
    async with httpx.AsyncClient(base_url=world.server.url, timeout=30) as http:
        for endpoint in endpoints:
            for caller in (*OUTSIDERS, *ROLES):
                path = _fill(endpoint.path, caller)
                covers = "{id}" in endpoint.path and "{kind}" in endpoint.path
                want = expected(endpoint.permission, caller, covers)
                before = await world.snapshot() if want is not None else None
                kwargs: dict[str, Any] = {"headers": world.headers[caller]}
                if endpoint.method in ("POST", "PUT", "PATCH"):
                    kwargs["json"] = _body(endpoint, caller)
                answer = await http.request(endpoint.method, path, **kwargs)
                checked += 1
                row = f"{endpoint.method} {endpoint.path} as {caller}"
                if want is None:
                    if answer.status_code in (401, 403):
                        failures.append(f"{row}: refused {answer.status_code} {answer.text[:200]}")
                    continue
                if answer.status_code != want:
                    failures.append(f"{row}: {answer.status_code}, wanted {want}")
                    continue
                if answer.headers.get("content-type") != "application/problem+json":
                    failures.append(f"{row}: not problem+json")
                if await world.snapshot() != before:
                    failures.append(f"{row}: refused, but something changed")
    assert not failures, "\n".join(failures)
    assert checked == len(endpoints) * (len(OUTSIDERS) + len(ROLES))


async def test_websocket_matrix(world: World) -> None:
    server = world.server
    watcher = await YClient(server.ws(DOC, world.tokens["owner"])).connect()
    outcomes: dict[str, str] = {}
    for caller in (*ROLES, *OUTSIDERS):
        token = world.tokens[caller]
        url = f"{server.ws_base}/{DOC}" + (f"?token={token}" if token else "")
        client = YClient(url)
        client.awareness.set_local_state({"caller": caller})
        await client.connect(wait_synced=False)
        try:
            await client.wait_for(lambda c=client: c.synced.is_set() or c.close_code, 10)
        except TimeoutError:
            pass
        if client.close_code is not None:
            outcomes[caller] = f"closed {client.close_code}"
            continue
        if caller == "share":
            # Presence: a share link (the public) publishes none (tests/test_audiences.py).
            await client.round_trip()
            await watcher.round_trip()
            assert {"caller": caller} not in watcher.peers().values()
        else:
            # Presence: every admitted member is seen.
            await watcher.wait_for(
                lambda c=caller: {"caller": c} in watcher.peers().values(), 5, f"{caller} presence"
            )
        head = await server.app.state.manager.store.head(DOC)  # type: ignore[union-attr]
        seen = len(client.denied)
        client.map()[f"by-{caller}"] = 1
        try:
            await watcher.wait_for(
                lambda c=caller: watcher.content().get(f"by-{c}") == 1, 1.0, f"{caller}'s edit"
            )
            outcomes[caller] = "writes"
        except TimeoutError:
            await client.wait_for(lambda c=client, s=seen: len(c.denied) > s, 5, "denial")
            await asyncio.sleep(0.05)
            assert await server.app.state.manager.store.head(DOC) == head  # type: ignore[union-attr]
            assert f"by-{caller}" not in watcher.content()
            outcomes[caller] = "read-only"
        await client.close()
    assert outcomes == {
        "owner": "writes",
        "lead": "writes",
        "editor": "writes",
        # Commenters write only comments (test_auth_live has the details).
        "commenter": "read-only",
        "viewer": "read-only",
        "anonymous": "closed 4401",
        "expired": "closed 4401",
        "revoked": "closed 4401",
        "garbage": "closed 4401",
        "share": "read-only",
        "other-workspace": "closed 4403",
        "admin": "writes",
    }
