"""Sign-in and one's own credentials: `/api/auth/...` (OpenID Connect sign-in, sign-out,
short-lived access tokens), `/api/me`, `/api/tokens...` (personal API tokens), and the
operators' `/api/users` and `/api/audit`."""

from __future__ import annotations

import secrets
from dataclasses import asdict
from typing import Any

from pydantic import AliasChoices, BaseModel, Field
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.access import grants, roles
from server.access.auth import SESSION_COOKIE, Auth, expiry
from server.access.caller import auth_of, caller
from server.access.oidc import Flow, OIDCClient
from server.access.roles import Role
from server.access.tokens import AUDIENCE_ACCESS, AUDIENCE_SESSION, AUDIENCE_SIGNIN, BadCredential
from server.directory import ApiToken, DirectoryError, Session, User, new_id, operations
from server.directory.people import People
from server.http.problems import HTTPProblem
from server.http.requests import int_param
from server.http.routes import Api, Param, Record, also, json

api = Api("access")
SIGNIN_COOKIE = "sinopia_signin"
SIGNIN_SECONDS = 600


def _secure(request: Request, auth: Auth) -> bool:
    base = auth.settings.public_url or str(request.base_url)
    return base.startswith("https://")


def _cookie(
    response: Response, request: Request, name: str, value: str, seconds: int, path: str = "/"
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=seconds,
        path=path,
        httponly=True,
        # Lax: sent on the provider's redirect back to us and on links from elsewhere,
        # never on cross-site writes (which also need the CSRF header).
        samesite="lax",
        secure=_secure(request, auth_of(request)),
    )


def _redirect_uri(request: Request, auth: Auth) -> str:
    base = (auth.settings.public_url or str(request.base_url)).rstrip("/")
    return f"{base}/api/auth/callback"


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


_oidc_clients: dict[tuple[str, str], OIDCClient] = {}


def _oidc(auth: Auth) -> OIDCClient:
    s = auth.settings
    if not (s.oidc_enabled and s.oidc_issuer and s.oidc_client_id and s.oidc_client_secret):
        raise HTTPProblem(404, "sign-in is not configured on this server (SINOPIA_OIDC_*)")
    key = (s.oidc_issuer, s.oidc_client_id)
    if key not in _oidc_clients:
        _oidc_clients[key] = OIDCClient(
            s.oidc_issuer, s.oidc_client_id, s.oidc_client_secret, s.oidc_scopes
        )
    return _oidc_clients[key]


def next_path_of(value: str | None) -> str:
    """`value` if it is a path on this server, else `/`: never an open redirect."""
    if (
        value
        and value.startswith("/")
        and not value.startswith("//")
        and "\\" not in value
        # Browsers drop tabs and newlines from URLs: "/\t/elsewhere" would be "//elsewhere".
        and not any(ord(c) < 0x20 or ord(c) == 0x7F for c in value)
        and len(value) <= 2000
    ):
        return value
    return "/"


class AccountUser(Record):
    id: str
    name: str
    email: str | None = None
    display_name: str | None = None
    admin: bool = False


class Membership(BaseModel):
    workspace: str
    role: str


class Me(BaseModel):
    principal: str = Field(description="as recorded in history")
    kind: str = Field(description="user, token or share")
    user: AccountUser | None = None
    agent: dict[str, str] | None = Field(
        None, description="the `creator` to put on your annotations (commenters must)"
    )
    memberships: list[Membership] = []
    scope: list[str] | None = Field(None, description="only these workspaces")
    max_role: str | None = None
    expires: int | None = Field(None, description="ms since the epoch")
    csrf_token: str | None = Field(
        None, description="send as X-CSRF-Token on writes authenticated by the session cookie"
    )


class AccessTokenIn(BaseModel):
    workspace: str | None = Field(None, description="only this workspace")
    role: Role | None = Field(None, description="at most this role")


class AccessTokenOut(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int


class TokenIn(BaseModel):
    label: str = Field("", max_length=200)
    workspaces: list[str] | None = Field(None, description="default: all of yours")
    role: Role | None = Field(None, description="at most this role")
    expires: str = Field("90d", description="e.g. 30d, 12h, never")


class TokenOut(Record):
    id: str
    label: str
    workspaces: list[str] | None = None
    role: str | None = Field(None, validation_alias=AliasChoices("role", "max_role"))
    created: int = also("created_ms")
    expires: int | None = also("expires_ms", None)
    revoked: int | None = also("revoked_ms", None)


class TokenCreated(TokenOut):
    token: str = Field(description="shown once: only its hash is kept")


class Tokens(BaseModel):
    tokens: list[TokenOut]


class Users(BaseModel):
    users: list[AccountUser]


class Event(BaseModel):
    seq: int
    time: int
    action: str
    actor: str
    workspace: str | None = None
    target: str = ""
    detail: dict[str, Any] = {}
    address: str | None = None
    # Actors and user targets are pseudonymous (`user:<id>`): their names, looked up now
    # (an erased person reads "erased user N").
    actor_name: str | None = None
    target_name: str | None = None


class Events(BaseModel):
    events: list[Event]


def account_user(user: User) -> AccountUser:
    return AccountUser.model_validate(user)


def token_out(t: ApiToken) -> TokenOut:
    return TokenOut.model_validate(t)


def events_out(found: list[Any], names: dict[str, str] | None = None) -> Events:
    names = names or {}
    return Events(
        events=[
            Event(
                seq=e.seq,
                time=e.time_ms,
                action=e.action,
                actor=e.actor,
                workspace=e.workspace,
                target=e.target,
                detail=e.detail,
                address=e.address,
                actor_name=names.get(e.actor),
                target_name=names.get(e.target),
            )
            for e in found
        ]
    )


# -- sign-in -----------------------------------------------------------------------------


@api.get(
    "/api/auth/login",
    "public",
    params=(Param("next", "query", "a path on this server to return to"),),
    statuses={302: "To the provider", 404: "Sign-in is not configured", 429: "Too many"},
)
async def login(request: Request) -> Response:
    """Sign in with the configured OpenID Connect provider.

    Redirects to the provider (authorization code flow with PKCE); it sends the browser
    back to `/api/auth/callback`.
    """
    auth = auth_of(request)
    client = _oidc(auth)
    if not auth.signin_limit.allow(_address(request)):
        raise HTTPProblem(429, "too many sign-in attempts, try again later")
    try:
        url, flow = await client.begin(_redirect_uri(request, auth))
    except Exception:
        raise HTTPProblem(503, "the identity provider cannot be reached") from None
    flow_jwt = auth.signer.sign(
        AUDIENCE_SIGNIN,
        "signin",
        SIGNIN_SECONDS,
        **asdict(flow),
        next=next_path_of(request.query_params.get("next")),
    )
    response = RedirectResponse(url, status_code=302)
    _cookie(response, request, SIGNIN_COOKIE, flow_jwt, SIGNIN_SECONDS, path="/api/auth")
    return response


@api.get(
    "/api/auth/callback",
    "public",
    params=(Param("code", "query", "authorization code"), Param("state", "query", "state")),
    statuses={302: "Signed in", 401: "Sign-in failed", 429: "Too many"},
)
async def callback(request: Request) -> Response:
    """Where the provider sends the browser back after sign-in."""
    auth = auth_of(request)
    client = _oidc(auth)
    address = _address(request)
    if not auth.signin_limit.allow(address):
        raise HTTPProblem(429, "too many sign-in attempts, try again later")
    params = request.query_params
    try:
        if "error" in params:
            raise BadCredential(f"the provider answered {params['error'][:64]}")
        flow_cookie = request.cookies.get(SIGNIN_COOKIE)
        if not flow_cookie:
            raise BadCredential("no sign-in in progress (cookie missing or expired)")
        flow_claims = auth.signer.verify(flow_cookie, AUDIENCE_SIGNIN)
        flow = Flow(flow_claims["state"], flow_claims["nonce"], flow_claims["verifier"])
        claims = await client.finish(
            flow, params.get("state", ""), params.get("code", ""), _redirect_uri(request, auth)
        )
        email = claims.get("email") if claims.get("email_verified") else None
        user = await auth.user_for_identity(
            client.issuer,
            str(claims["sub"]),
            email=email,
            name_hint=str(claims.get("preferred_username") or claims.get("email") or claims["sub"]),
            display_name=claims.get("name"),
        )
        if user.disabled:
            raise BadCredential("this user is disabled")
    except (BadCredential, KeyError) as exc:
        reason = exc.reason if isinstance(exc, BadCredential) else "incomplete sign-in"
        auth.failure_limit.allow(address)
        await auth.audit("sign-in-failed", "anonymous", detail={"reason": reason}, address=address)
        raise HTTPProblem(401, f"sign-in failed: {reason}") from None
    response = await begin_session(
        request, user, flow_claims.get("next") or "/", {"issuer": client.issuer}, status=302
    )
    response.delete_cookie(SIGNIN_COOKIE, path="/api/auth")
    return response


async def begin_session(
    request: Request, user: User, next_path: str, detail: dict[str, Any], status: int = 303
) -> Response:
    """Sign `user` in: a new session, its cookie, the audit event, and a redirect to
    `next_path` (a path on this server). Every way of signing in ends here."""
    auth = auth_of(request)
    session = Session(
        new_id("x"),
        user.id,
        csrf=secrets.token_urlsafe(32),
        expires_ms=expiry(auth.settings.session_seconds),
    )
    await auth.directory.add_session(session)
    await auth.audit(
        "sign-in",
        user.label,
        target=user.label,
        detail=detail,
        address=_address(request),
    )
    cookie = auth.signer.sign(
        AUDIENCE_SESSION, user.id, auth.settings.session_seconds, sid=session.id
    )
    response = RedirectResponse(next_path_of(next_path), status_code=status)
    _cookie(response, request, SESSION_COOKIE, cookie, int(auth.settings.session_seconds))
    return response


@api.post("/api/auth/logout", "user")
async def logout(request: Request) -> Response:
    """Sign out: ends the browser session everywhere it is used."""
    auth = auth_of(request)
    principal = caller(request)
    if principal.session_id is not None:
        await auth.directory.revoke_session(principal.session_id)
        await auth.watch_once()  # this instance knows at once
        await auth.audit(
            "sign-out", principal.label, target=principal.label, address=_address(request)
        )
    response = json({"signed_out": True})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@api.get("/api/auth/jwks.json", "public")
async def jwks(request: Request) -> Response:
    """The public keys that verify Sinopia's tokens."""
    return json(auth_of(request).signer.jwks())


@api.post(
    "/api/auth/token",
    "user",
    answer=AccessTokenOut,
    statuses={400: "Bad input"},
)
async def access_token(request: Request, wanted: AccessTokenIn) -> Response:
    """A short-lived access token (JWT) for websocket and REST calls from a browser.

    Minted from the session cookie (or an API token); it stops working when that
    session ends or that token is revoked, and expires after `SINOPIA_ACCESS_TOKEN_SECONDS`.
    """
    auth = auth_of(request)
    principal = caller(request)
    if principal.session_id is not None:
        source = f"session:{principal.session_id}"
    elif principal.token_id is not None:
        source = f"token:{principal.token_id}"
    else:
        raise HTTPProblem(403, "use your own issuer's token directly")
    assert principal.user is not None
    scope = principal.scope
    if wanted.workspace is not None:
        if scope is not None and wanted.workspace not in scope:
            raise HTTPProblem(403, f"your credential does not cover {wanted.workspace}")
        scope = (wanted.workspace,)
    cap = roles.lower(wanted.role, principal.max_role) if wanted.role else principal.max_role
    claims: dict[str, Any] = {"src": source}
    if scope is not None:
        claims["ws"] = list(scope)
    if cap is not None:
        claims["role"] = cap
    seconds = int(auth.settings.access_token_seconds)
    token = auth.signer.sign(AUDIENCE_ACCESS, principal.user.id, seconds, **claims)
    return json(AccessTokenOut(access_token=token, expires_in=seconds))


@api.get("/api/me", "user", answer=Me)
async def me(request: Request) -> Response:
    """Who you are signed in as, your workspaces and the CSRF token."""
    principal = caller(request)
    directory = auth_of(request).directory
    user = principal.user
    assert user is not None
    if user.admin and principal.scope is None:
        memberships = [
            Membership(workspace=w.name, role="owner") for w in await directory.workspaces()
        ]
    else:
        memberships = [
            Membership(workspace=m.workspace, role=roles.lower(m.role, principal.max_role) or "")
            for m in await directory.memberships(user.id)
            if principal.scope is None or m.workspace in principal.scope
        ]
    return json(
        Me(
            principal=principal.label,
            kind=principal.kind,
            user=account_user(user),
            agent={"id": user.agent_iri, "type": "Person", "name": user.display_name or user.name},
            memberships=memberships,
            scope=list(principal.scope) if principal.scope is not None else None,
            max_role=principal.max_role,
            expires=principal.expires_ms,
            csrf_token=principal.csrf,
        )
    )


# -- personal API tokens -----------------------------------------------------------------


@api.get("/api/tokens", "user", answer=Tokens)
async def list_tokens(request: Request) -> Response:
    """Your personal API tokens (never the tokens themselves)."""
    principal = caller(request)
    assert principal.user is not None
    found = await auth_of(request).directory.tokens(principal.user.id)
    return json(Tokens(tokens=[token_out(t) for t in sorted(found, key=lambda t: t.created_ms)]))


@api.post(
    "/api/tokens",
    "user",
    answer=TokenCreated,
    statuses={400: "Bad input", 404: "No such workspace"},
)
async def create_token(request: Request, wanted: TokenIn) -> Response:
    """Create a personal API token (shown once).

    A token never grants more than the credential that created it: its workspaces and
    role are capped by the caller's.
    """
    auth = auth_of(request)
    principal = caller(request)
    assert principal.user is not None
    workspaces = tuple(wanted.workspaces) if wanted.workspaces is not None else principal.scope
    if principal.scope is not None and not set(workspaces or ()) <= set(principal.scope):
        raise HTTPProblem(403, "a token cannot cover workspaces your credential does not")
    cap = roles.lower(wanted.role, principal.max_role) if wanted.role else principal.max_role
    seconds = operations.duration_seconds(wanted.expires)
    token, record = await grants.create_token(
        auth.directory,
        principal.user,
        principal.label,
        label=wanted.label,
        workspaces=workspaces,
        max_role=cap,
        expires_seconds=seconds,
    )
    created = TokenCreated(**token_out(record).model_dump(), token=token)
    return json(created, status=201, headers={"Location": f"/api/tokens/{record.id}"})


@api.delete(
    "/api/tokens/{token}", "user", answer=TokenOut, statuses={404: "No such token of yours"}
)
async def revoke_token(request: Request) -> Response:
    """Revoke a personal API token: its open sockets close within a second."""
    auth = auth_of(request)
    principal = caller(request)
    assert principal.user is not None
    token = await auth.directory.token(request.path_params["token"])
    if token is None or (token.user_id != principal.user.id and not principal.is_admin):
        raise HTTPProblem(404, "no such token of yours")
    await grants.revoke_token(auth.directory, token, principal.label)
    await auth.watch_once()  # this instance knows at once (others within their poll)
    revoked = await auth.directory.token(token.id)
    assert revoked is not None
    return json(token_out(revoked))


# -- operators ---------------------------------------------------------------------------


@api.get("/api/users", "admin", answer=Users)
async def list_users(request: Request) -> Response:
    """Every user of this instance."""
    users = await auth_of(request).directory.users()
    return json(Users(users=[account_user(u) for u in users]))


@api.get(
    "/api/audit",
    "admin",
    answer=Events,
    params=(
        Param("before", "query", "only events before this sequence number", "integer"),
        Param("limit", "query", "at most this many (default 100)", "integer"),
    ),
)
async def instance_audit(request: Request) -> Response:
    """Instance-wide security events (sign-ins, users, tokens), newest first."""
    return await audit_page(request, None)


async def audit_page(request: Request, workspace: str | None) -> Response:
    limit = min(int_param(request, "limit", 100, minimum=1) or 100, 1000)
    before = int_param(request, "before", minimum=1)
    try:
        found = await auth_of(request).directory.events(workspace, limit=limit, before=before)
    except DirectoryError:
        raise HTTPProblem(503, "the directory is unavailable") from None
    names = await People(auth_of(request).directory).labels(
        label for e in found for label in (e.actor, e.target)
    )
    return json(events_out(found, names))
