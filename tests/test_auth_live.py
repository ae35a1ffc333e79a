"""Access control on live sockets and over REST: viewers (a real y-websocket client),
commenters, demotion and revocation on open sockets, share links, bad credentials of
every shape, limits, CSRF and CORS, the audit log and the admin command line."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
import time
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import websockets
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pycrdt import Map

from annotations import parse_annotation, write_annotation, write_subject
from server.access.auth import SESSION_COOKIE
from server.access.tokens import AUDIENCE_ACCESS, AUDIENCE_SESSION, Signer, split_api_token
from server.directory import Session, new_id

from .access import user_id, user_token
from .conftest import ROOT, Running, ServerFactory, eventually
from .jsclients import JsClients
from .test_annotations_document import SUBJECT
from .test_annotations_jsonld import CONTAINER, comment
from .yclient import YClient

WS = "museum"
DOC = f"{WS}/canvas/{SUBJECT.id}"
OTHER_DOC = f"{WS}/canvas/other-subject"


class People:
    """A workspace with one member of each role, an outsider (editor elsewhere), and a
    token each."""

    def __init__(self, server: Running) -> None:
        self.server = server
        self.tokens: dict[str, str] = {}
        # Each person's pseudonymous id: what history and creator.id carry.
        self.ids: dict[str, str] = {}

    async def setup(self) -> People:
        s = self.server
        for name, role in (
            ("olga", "owner"),
            ("lena", "lead"),
            ("ed", "editor"),
            ("cora", "commenter"),
            ("vic", "viewer"),
        ):
            self.tokens[name] = await user_token(s, name, WS, role)
        self.tokens["otto"] = await user_token(s, "otto", "elsewhere", "editor")
        for name in self.tokens:
            self.ids[name] = await user_id(s, name)
        return self

    def agent(self, who: str) -> str:
        return f"urn:sinopia:user:{self.ids[who]}"

    def ws(self, who: str, doc: str = DOC) -> str:
        return self.server.ws(doc, self.tokens[who])

    def http(self, who: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.server.url,
            timeout=10,
            headers={"Authorization": f"Bearer {self.tokens[who]}"},
        )

    async def client(self, who: str, doc: str = DOC, **kwargs: Any) -> YClient:
        return await YClient(self.ws(who, doc)).connect(**kwargs)


@pytest.fixture
async def people(server: Running) -> People:
    return await People(server).setup()


async def _entries(server: Running, doc: str = DOC) -> list[Any]:
    assert server.app is not None
    entries: list[Any] = await server.app.state.manager.store.read(doc)
    return entries


def _token_id(token: str) -> str:
    parts = split_api_token(token)
    assert parts is not None
    return parts[0]


async def _denied_after_edit(client: YClient, key: str) -> None:
    seen = len(client.denied)
    client.map()[key] = 1
    await client.wait_for(lambda: len(client.denied) > seen, 5, f"denial of {key}")
    assert client.denied[-1] == "permission denied"


# ---------------------------------------------------------------------- viewers


async def test_viewer_with_y_websocket_sees_live_edits_and_its_edits_go_nowhere(
    server: Running, people: People
) -> None:
    editor = await people.client("ed")
    async with JsClients() as js:
        await js.open("viewer", server.ws_base, DOC, params={"token": people.tokens["vic"]})
        await js.open("peer", server.ws_base, DOC, params={"token": people.tokens["ed"]})
        await js.wait_synced("viewer")
        await js.wait_synced("peer")

        editor.map()["live"] = "from the editor"
        await js.wait_for("viewer", "map", key="live", equals="from the editor")

        await js.call("set", name="viewer", key="forged", value="by the viewer")
        denied = await js.wait_event("permission-denied", name="viewer")
        assert denied["reason"] == "permission denied"
        # Nothing reached the other clients or the store, and the socket stays open.
        editor.map()["after"] = 2
        await js.wait_for("peer", "map", key="after", equals=2)
        await js.wait_for("viewer", "map", key="after", equals=2)
        assert "forged" not in (await js.get("peer"))["m"]
        assert "forged" not in editor.content()
        assert (await js.call("status", name="viewer"))["connected"]
        # Awareness flows to viewers too (they show up as present, read-only).
        await js.call("awareness_set", name="viewer", state={"user": "vic"})
        await editor.wait_for(lambda: {"user": "vic"} in editor.peers().values(), 5)
    entries = await _entries(server)
    assert all(b"forged" not in e.update for e in entries)
    assert {e.principal for e in entries} == {
        f"token:{people.ids['ed']}/{_token_id(people.tokens['ed'])}"
    }


# ---------------------------------------------------------------------- commenters


def _annotation(doc: Any, id: str, agent: str, **fields: Any) -> None:
    data = comment(
        id=CONTAINER + id, creator={"id": agent, "type": "Person", "name": agent}, **fields
    )
    write_annotation(doc, parse_annotation(data, CONTAINER))


async def test_commenters_add_and_change_only_their_own_comments(
    server: Running, people: People
) -> None:
    editor = await people.client("ed")
    write_subject(editor.doc, SUBJECT)
    _annotation(editor.doc, "ed1", people.agent("ed"))
    commenter = await people.client("cora")
    await commenter.wait_for(lambda: "ed1" in commenter.doc.get("annotations", type=Map))
    notes = commenter.doc.get("annotations", type=Map)
    me = people.agent("cora")

    _annotation(commenter.doc, "mine", me)
    await editor.wait_for(lambda: "mine" in editor.doc.get("annotations", type=Map), 5)

    async def refused(change: Any, what: str) -> None:
        # Each attempt on a fresh socket: a refused update stays in the client's own
        # document, and a reconnect would send it again.
        nonlocal commenter
        await commenter.close()
        commenter = await people.client("cora")
        notes = commenter.doc.get("annotations", type=Map)
        seen = len(commenter.denied)
        before = len(await _entries(server))
        change(commenter.doc, notes)
        await commenter.wait_for(lambda: len(commenter.denied) > seen, 5, what)
        assert "commenter" in commenter.denied[-1], commenter.denied[-1]
        assert len(await _entries(server)) == before

    await refused(
        lambda doc, notes: _annotation(doc, "desc", me, motivation="describing"),
        "a describing annotation",
    )
    await refused(
        lambda doc, notes: _annotation(doc, "forged", people.agent("ed")),
        "a comment in someone else's name",
    )
    await refused(lambda doc, notes: notes["ed1"].__setitem__("motivation", "replying"), "edit")
    await refused(lambda doc, notes: notes.pop("ed1"), "delete someone else's")
    await refused(
        lambda doc, notes: doc.get("meta", type=Map).__setitem__("label", "renamed"), "meta"
    )
    await refused(lambda doc, notes: doc.get("m", type=Map).__setitem__("x", 1), "other roots")

    # Their own: edit and remove. (On a fresh socket: a refused update stays in the
    # sender's document, and Yjs holds back everything that client sends after it.)
    await commenter.close()
    commenter = await people.client("cora")
    notes = commenter.doc.get("annotations", type=Map)
    notes["mine"]["modified"] = "2026-01-01T00:00:00Z"
    await editor.wait_for(
        lambda: (
            editor.doc.get("annotations", type=Map)["mine"].get("modified")
            == "2026-01-01T00:00:00Z"
        ),
        5,
    )
    del notes["mine"]
    await editor.wait_for(lambda: "mine" not in editor.doc.get("annotations", type=Map), 5)
    assert set(editor.doc.get("annotations", type=Map).keys()) == {"ed1"}


# ---------------------------------------------------------------------- changes on open sockets


async def test_demotion_promotion_and_removal_reach_the_open_socket(
    server: Running, people: People
) -> None:
    ed = await people.client("ed")
    quiet = await people.client("ed")  # a second socket of the same token
    ed.map()["first"] = 1
    watcher = await people.client("olga")
    await watcher.wait_for(lambda: watcher.content().get("first") == 1)
    conns = _conns(server, f"token:{people.ids['ed']}/")
    assert len(conns) == 2 and all(c.can_write for c in conns)
    async with people.http("olga") as owner:
        started = time.monotonic()
        answer = await owner.put(f"/api/workspaces/{WS}/members/ed", json={"role": "viewer"})
        assert answer.status_code == 200, answer.text
        await eventually(lambda: not any(c.can_write for c in conns), 2, "demotion")
        assert time.monotonic() - started < 1.0
        await _denied_after_edit(ed, "while-a-viewer")
        assert ed.close_code is None  # read-only, still connected and receiving
        watcher.map()["to-viewers"] = 1
        await ed.wait_for(lambda: ed.content().get("to-viewers") == 1)

        started = time.monotonic()
        answer = await owner.put(f"/api/workspaces/{WS}/members/ed", json={"role": "editor"})
        assert answer.status_code == 200
        await eventually(lambda: all(c.can_write for c in conns), 2, "promotion")
        assert time.monotonic() - started < 1.0
        quiet.map()["again"] = 1
        await watcher.wait_for(lambda: watcher.content().get("again") == 1, 5)

        started = time.monotonic()
        assert (await owner.delete(f"/api/workspaces/{WS}/members/ed")).status_code == 200
        for client in (ed, quiet):
            code, reason = await client.wait_closed(5)
            assert code == 4403, reason
        assert time.monotonic() - started < 1.0
    # Nothing the demoted socket sent was stored.
    assert all(b"while-a-viewer" not in e.update for e in await _entries(server))


def _conns(server: Running, prefix: str) -> list[Any]:
    assert server.app is not None
    return [c for c in server.app.state.collab.connections if c.principal.startswith(prefix)]


async def test_revoked_token_closes_its_sockets_within_a_second(
    server: Running, people: People
) -> None:
    token = await user_token(server, "ed", label="laptop")
    client = await YClient(server.ws(DOC, token)).connect()
    other = await people.client("ed")  # another token of the same user stays
    async with people.http("ed") as ed:
        started = time.monotonic()
        answer = await ed.delete(f"/api/tokens/{_token_id(token)}")
        assert answer.status_code == 200 and answer.json()["revoked"], answer.text
    code, reason = await client.wait_closed(5)
    assert code == 4401 and reason == "token revoked"
    assert time.monotonic() - started < 1.5
    assert other.close_code is None
    # And it cannot come back.
    again = YClient(server.ws(DOC, token))
    await again.connect(wait_synced=False)
    assert (await again.wait_closed())[0] == 4401


async def test_admin_commands_work_with_the_server_running(server: Running, people: People) -> None:
    def admin(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "server.cli", "admin", *args]
        command += ["--data-dir", str(server.data_dir)]
        return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)

    assert admin("user", "add", "wanda").returncode == 0
    assert admin("member", "add", WS, "wanda", "editor").returncode == 0
    made = admin("token", "create", "wanda", "--workspace", WS, "--expires", "30d")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert made.stdout == token + "\n" and split_api_token(token), made.stdout  # token alone
    client = await YClient(server.ws(DOC, token)).connect()
    client.map()["by-wanda"] = 1
    watcher = await people.client("olga")
    await watcher.wait_for(lambda: watcher.content().get("by-wanda") == 1)

    demoted = admin("member", "add", WS, "wanda", "viewer")
    assert demoted.returncode == 0
    await eventually(lambda: getattr(_conn_of(server, token), "can_write", True) is False, 1.5)

    revoked = admin("token", "revoke", token)
    assert revoked.returncode == 0, revoked.stderr
    finished = time.monotonic()
    code, _ = await client.wait_closed(5)
    assert code == 4401 and time.monotonic() - finished < 1.5
    assert admin("member", "add", WS, "nobody", "editor").returncode == 1
    assert admin("token", "create", "wanda", "--role", "boss").returncode == 2


def _conn_of(server: Running, token: str) -> Any:
    assert server.app is not None
    for conn in server.app.state.collab.connections:
        if conn.principal.endswith(f"/{_token_id(token)}"):
            return conn
    return None


# ---------------------------------------------------------------------- share links


async def test_share_link_views_one_subject_live_and_is_revocable(
    server: Running, people: People
) -> None:
    editor = await people.client("ed")
    write_subject(editor.doc, SUBJECT)
    await editor.close()
    editor = await people.client("ed")
    async with people.http("olga") as owner:
        made = await owner.post(
            f"/api/workspaces/{WS}/shares", json={"subject": f"canvas/{SUBJECT.id}"}
        )
        assert made.status_code == 201, made.text
        link = made.json()
        by_manifest = await owner.post(
            f"/api/workspaces/{WS}/shares", json={"manifest": SUBJECT.manifest}
        )
        assert by_manifest.status_code == 201, by_manifest.text
    async with people.http("ed") as ed:
        assert (await ed.post(f"/api/workspaces/{WS}/shares", json={})).status_code == 403

    for token in (link["token"], by_manifest.json()["token"]):
        viewer = await YClient(server.ws(DOC, token)).connect()
        editor.map()[f"live-{token[-6:]}"] = 1
        key = f"live-{token[-6:]}"
        await viewer.wait_for(lambda v=viewer, k=key: v.content().get(k) == 1)
        await _denied_after_edit(viewer, "forged")
        elsewhere = YClient(server.ws(OTHER_DOC, token))
        await elsewhere.connect(wait_synced=False)
        assert (await elsewhere.wait_closed())[0] == 4403
        await viewer.close()
        async with httpx.AsyncClient(base_url=server.url) as anyone:
            history = await anyone.get(f"/api/history/{DOC}", params={"token": token})
            assert history.status_code == 200, history.text
            newest = history.json()["changes"][0]
            assert newest["principal"].startswith(f"token:{people.ids['ed']}/")
            assert newest["principal_name"] == "ed"  # looked up: the log holds the id
            other = await anyone.get(f"/api/history/{OTHER_DOC}", params={"token": token})
            assert other.status_code == 403
            me = await anyone.get("/api/me", params={"token": token})
            assert me.status_code == 403

    viewer = await YClient(server.ws(DOC, link["token"])).connect()
    async with people.http("olga") as owner:
        started = time.monotonic()
        gone = await owner.delete(f"/api/workspaces/{WS}/shares/{link['id']}")
        assert gone.status_code == 200 and gone.json()["revoked"]
    assert (await viewer.wait_closed(5))[0] == 4401
    assert time.monotonic() - started < 1.5
    assert all(b"forged" not in e.update for e in await _entries(server))


# ---------------------------------------------------------------------- bad credentials


def _forged_jwt(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    return ".".join(
        (part(json.dumps(header).encode()), part(json.dumps(claims).encode()), part(signature))
    )


async def test_bad_credentials_of_every_shape_are_refused(server: Running, people: People) -> None:
    assert server.app is not None
    signer: Signer = server.app.state.auth.signer
    ed = await server.app.state.auth.directory.user_by_name("ed")
    claims = {"src": f"token:{_token_id(people.tokens['ed'])}"}
    good = signer.sign(AUDIENCE_ACCESS, ed.id, 60, **claims)
    stranger = Signer.from_private_key(Ed25519PrivateKey.generate(), signer.issuer)
    now = int(time.time())
    revoked = await user_token(server, "ed")
    async with people.http("ed") as client:
        assert (await client.delete(f"/api/tokens/{_token_id(revoked)}")).status_code == 200
    expired_pat = await user_token(server, "ed", expires_seconds=0.001)
    await asyncio.sleep(0.01)
    cases = {
        "garbage": "not a token at all",
        "api token with a wrong secret": people.tokens["ed"][:-4] + "AAAA",
        "api token of nobody": "snp_0123456789abcdef_" + "A" * 43,
        "expired api token": expired_pat,
        "revoked api token": revoked,
        "wrong signature": stranger.sign(AUDIENCE_ACCESS, ed.id, 60, **claims),
        "wrong audience": signer.sign(AUDIENCE_SESSION, ed.id, 60, **claims),
        "expired": signer.sign(AUDIENCE_ACCESS, ed.id, -120, **claims),
        "alg none": _forged_jwt(
            {"alg": "none", "typ": "JWT"},
            {"iss": signer.issuer, "aud": AUDIENCE_ACCESS, "sub": ed.id, "exp": now + 60, **claims},
        ),
        "unknown issuer": stranger.__class__(stranger.key, "https://evil.example").sign(
            AUDIENCE_ACCESS, ed.id, 60, **claims
        ),
        "tampered claims": good.split(".")[0]
        + "."
        + base64.urlsafe_b64encode(
            json.dumps({**json.loads(_payload(good)), "sub": "someone-else"}).encode()
        )
        .rstrip(b"=")
        .decode()
        + "."
        + good.split(".")[2],
    }
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        # No credential at all.
        answer = await http.get(f"/api/history/{DOC}")
        assert answer.status_code == 401
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["www-authenticate"].startswith("Bearer")
        for what, token in cases.items():
            answer = await http.get(
                f"/api/workspaces/{WS}", headers={"Authorization": f"Bearer {token}"}
            )
            assert answer.status_code == 401, (what, answer.text)
            assert answer.json()["status"] == 401
            assert token not in answer.text
        good_answer = await http.get(
            f"/api/workspaces/{WS}", headers={"Authorization": f"Bearer {good}"}
        )
        assert good_answer.status_code == 200
        # A good credential for another workspace.
        other = await http.get(f"/api/workspaces/{WS}", headers=_bearer(people.tokens["otto"]))
        assert other.status_code == 403
        scoped = await user_token(server, "ed", workspaces=("elsewhere",))
        assert (await http.get(f"/api/workspaces/{WS}", headers=_bearer(scoped))).status_code == 403
        unknown = await http.get("/api/workspaces/atlantis", headers=_bearer(people.tokens["ed"]))
        assert unknown.status_code == 404

    async def close_code(url: str) -> int:
        client = YClient(url)
        await client.connect(wait_synced=False)
        return (await client.wait_closed())[0]

    base = f"{server.ws_base}/{DOC}"
    assert await close_code(base) == 4401
    for what, token in cases.items():
        assert await close_code(f"{base}?token={quote(token)}") == 4401, what
    assert await close_code(server.ws(DOC, people.tokens["otto"])) == 4403
    assert await close_code(server.ws(DOC, scoped)) == 4403
    assert await close_code(f"{server.ws_base}/atlantis/canvas/x?token={good}") == 4404
    await YClient(f"{base}?token={good}").connect()  # the good one is admitted
    # Authorization: Bearer works on the handshake too (non-browser clients).
    async with websockets.connect(base, additional_headers=_bearer(good)) as ws:
        assert (await ws.recv())[0] == 0  # the sync opening: admitted
    log = server.app.state.collab
    assert log.errors.get(4401, 0) >= len(cases)


def _payload(token: str) -> str:
    part = token.split(".")[1]
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_y_websocket_stops_retrying_a_refused_credential(server: Running) -> None:
    async with JsClients() as js:
        await js.open("bad", server.ws_base, DOC, params={"token": "garbage"})
        closed = await js.wait_event("connection-close", name="bad")
        assert closed["code"] == 4401
        await asyncio.sleep(1.5)  # max_backoff is 0.5 s: it would have retried by now
        assert len(js.events_of("connection-close", name="bad")) == 1


# ---------------------------------------------------------------------- limits


async def test_unauthenticated_sockets_are_capped_and_timed_out(
    make_server: ServerFactory,
) -> None:
    server = await make_server(max_unauthenticated_per_address=2, auth_timeout_seconds=1)
    assert server.app is not None
    auth = server.app.state.auth
    url = server.ws(DOC)
    real = auth.authenticate

    async def stuck(raw: str) -> Any:
        await asyncio.sleep(30)
        return await real(raw)

    auth.authenticate = stuck
    slow = [YClient(url), YClient(url)]
    for client in slow:
        await client.connect(wait_synced=False)
    await eventually(lambda: sum(auth._pending.values()) == 2, 5)
    third = YClient(url)
    await third.connect(wait_synced=False)
    assert (await third.wait_closed())[0] == 4429
    for client in slow:
        code, reason = await client.wait_closed(5)
        assert code == 1011 and "timed out" in reason
    auth.authenticate = real
    await YClient(url).connect()


async def test_failed_attempts_and_floods_are_rate_limited(make_server: ServerFactory) -> None:
    server = await make_server(rate_auth_failures_per_minute=3)
    codes = []
    for _ in range(10):
        client = YClient(f"{server.ws(DOC)}x")
        await client.connect(wait_synced=False)
        codes.append((await client.wait_closed())[0])
    assert codes[0] == 4401 and codes[-1] == 4429
    async with httpx.AsyncClient(base_url=server.url) as http:
        answer = await http.get(f"/api/workspaces/{WS}", headers=_bearer("garbage"))
        assert answer.status_code == 429
        # The address is refused even with a good credential until the bucket refills.
        assert (await http.get(f"/api/workspaces/{WS}", headers=server.headers)).status_code == 429
    # Updates: a burst of 10 is allowed at 5 per second, then the socket is closed.
    server = await make_server(rate_updates_per_second=5)
    writer = await YClient(server.ws(DOC)).connect()
    for i in range(40):
        writer.map()[f"k{i}"] = i
    code, reason = await writer.wait_closed(5)
    assert code == 4429 and "rate limited" in reason


# ---------------------------------------------------------------------- browsers


async def _session_cookie(server: Running, name: str) -> tuple[str, str]:
    """A signed-in browser session for `name` (as the OpenID Connect callback makes)."""
    assert server.app is not None
    auth = server.app.state.auth
    user = await auth.directory.user_by_name(name)
    session = Session(new_id("x"), user.id, csrf="csrf-" + new_id(""), expires_ms=10**13)
    await auth.directory.add_session(session)
    return auth.signer.sign(AUDIENCE_SESSION, user.id, 600, sid=session.id), session.csrf


async def test_cookie_writes_need_the_csrf_header_and_an_allowed_origin(
    make_server: ServerFactory,
) -> None:
    server = await make_server(cors_origins="https://museum.example.org")
    people = await People(server).setup()
    cookie, csrf = await _session_cookie(server, "olga")
    async with httpx.AsyncClient(base_url=server.url, cookies={SESSION_COOKIE: cookie}) as b:
        me = await b.get("/api/me")
        assert me.status_code == 200 and me.json()["csrf_token"] == csrf
        body = {"label": "script"}
        assert (await b.post("/api/tokens", json=body)).status_code == 403
        wrong = await b.post("/api/tokens", json=body, headers={"X-CSRF-Token": "nope"})
        assert wrong.status_code == 403
        evil = await b.post(
            "/api/tokens",
            json=body,
            headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"},
        )
        assert evil.status_code == 403
        ok = await b.post(
            "/api/tokens",
            json=body,
            headers={"X-CSRF-Token": csrf, "Origin": "https://museum.example.org"},
        )
        assert ok.status_code == 201, ok.text
        # CORS: the allow-list only.
        allowed = await b.options(
            "/api/me",
            headers={
                "Origin": "https://museum.example.org",
                "Access-Control-Request-Method": "GET",
            },
        )
        assert allowed.headers["access-control-allow-origin"] == "https://museum.example.org"
        assert allowed.headers["access-control-allow-credentials"] == "true"
        other = await b.get("/api/me", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
    # Cookie-authenticated sockets: our own pages and the allow-list only.
    headers = {"Cookie": f"{SESSION_COOKIE}={cookie}"}
    base = f"{server.ws_base}/{DOC}"
    server.workspace(WS)
    async with websockets.connect(
        base, additional_headers=headers, origin="https://museum.example.org"
    ) as ws:
        assert (await ws.recv())[0] == 0
    async with websockets.connect(
        base, additional_headers=headers, origin="https://evil.example"
    ) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    del people


# ---------------------------------------------------------------------- audit, attribution


async def test_audit_log_is_readable_by_owners_only(server: Running, people: People) -> None:
    async with people.http("olga") as owner:
        await owner.put(f"/api/workspaces/{WS}/members/vic", json={"role": "commenter"})
        await owner.post(
            f"/api/workspaces/{WS}/members", json={"email": "newbie@example.org", "role": "viewer"}
        )
        log = await owner.get(f"/api/workspaces/{WS}/audit")
        assert log.status_code == 200, log.text
        # Events name people by id (what erasure leaves), shown with their names now.
        actions = [(e["action"], e.get("target_name")) for e in log.json()["events"]]
        assert actions[0] == ("member-added", "newbie")
        assert ("member-role-changed", "vic") in actions
        changed = next(e for e in log.json()["events"] if e["action"] == "member-role-changed")
        assert changed["detail"] == {"role": "commenter", "previous": "viewer"}
        assert changed["actor"].startswith(f"token:{people.ids['olga']}/")
        assert changed["actor_name"] == "olga"
        assert changed["target"] == f"user:{people.ids['vic']}"
        members = (await owner.get(f"/api/workspaces/{WS}/members")).json()["members"]
        assert {"user": "newbie", "role": "viewer"}.items() <= next(
            m for m in members if m["user"] == "newbie"
        ).items()
        # The last owner cannot leave.
        assert (await owner.delete(f"/api/workspaces/{WS}/members/olga")).status_code == 409
    for who in ("lena", "ed", "cora", "vic", "otto"):
        async with people.http(who) as other:
            assert (await other.get(f"/api/workspaces/{WS}/audit")).status_code in (403,)
    async with people.http("ed") as ed:
        assert (await ed.get("/api/audit")).status_code == 403
    operator = await server.get("/api/audit")
    assert operator.status_code == 200
    assert any(e["action"] == "token-created" for e in operator.json()["events"])


async def test_every_stored_update_names_its_credential(server: Running, people: People) -> None:
    for who in ("ed", "lena", "olga"):
        client = await people.client(who)
        client.map()[who] = 1
        await client.drain()
        await client.close()
    await eventually(lambda: _count(server), 5)
    principals = [e.principal for e in await _entries(server)]
    assert principals == [
        f"token:{people.ids[w]}/{_token_id(people.tokens[w])}" for w in ("ed", "lena", "olga")
    ]


async def _count(server: Running) -> bool:
    return len(await _entries(server)) == 3


async def test_jwts_of_an_external_issuer_map_a_claim_to_users(
    make_server: ServerFactory,
) -> None:
    # The "portal" is another server whose signing key is published at its JWKS URL.
    portal = await make_server(public_url="https://portal.example.org")
    server = await make_server(
        jwt_issuer="https://portal.example.org",
        jwt_jwks_url=f"{portal.url}/api/auth/jwks.json",
        jwt_audience="sinopia",
        jwt_user_claim="email",
    )
    assert portal.app is not None and server.app is not None
    signer: Signer = portal.app.state.auth.signer
    token = signer.sign(AUDIENCE_ACCESS, "p-42", 60, email="pat@museum.example", name="Pat")
    async with httpx.AsyncClient(base_url=server.url, headers=_bearer(token)) as pat:
        me = await pat.get("/api/me")
        assert me.status_code == 200, me.text
        assert me.json()["user"]["name"] == "pat" and me.json()["memberships"] == []
        server.workspace(WS)
        assert (await pat.get(f"/api/workspaces/{WS}")).status_code == 403
        async with server.http() as operator:
            added = await operator.post(
                f"/api/workspaces/{WS}/members", json={"user": "pat", "role": "editor"}
            )
            assert added.status_code == 201, added.text
        assert (await pat.get(f"/api/workspaces/{WS}")).json()["role"] == "editor"
        # The same user again (found by the claim), and a live socket with the token.
        assert (await pat.get("/api/me")).json()["user"]["name"] == "pat"
    client = await YClient(server.ws(DOC, token)).connect()
    client.map()["by-pat"] = 1
    await client.drain()
    pat_id = await user_id(server, "pat")
    await eventually(lambda: _has_principal(server, f"user:{pat_id}"), 5)
    for bad in (
        signer.sign("another-audience", "p-42", 60, email="pat@museum.example"),
        signer.sign(AUDIENCE_ACCESS, "p-42", 60),  # no email claim
        signer.sign(AUDIENCE_ACCESS, "p-42", -120, email="pat@museum.example"),
    ):
        answer = await httpx.AsyncClient(base_url=server.url).get("/api/me", headers=_bearer(bad))
        assert answer.status_code == 401, answer.text


async def _has_principal(server: Running, principal: str) -> bool:
    return any(e.principal == principal for e in await _entries(server))
