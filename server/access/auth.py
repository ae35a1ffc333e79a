"""Who is asking, and may they: authentication and authorization on every path.

- REST: every handler of the route table is wrapped by `Auth.guard` (see `server.api`):
  401 without a valid credential, 403 without the permission, problem+json either way.
- Websocket: `Auth.admit` runs after the socket is accepted and before it joins the
  room; refusals are close codes (4401, 4403, 4404, 4429) so that y-websocket stops
  retrying a credential that will never work.
- Updates: `Auth.update_check` runs in the room before an update is applied: per
  principal and per address rate limits, and the commenter rule.
- Open sockets: `Auth.watch_forever` polls the directory's generation counter and
  re-checks every open socket when it moves (or a credential expires): a demotion makes
  the socket read-only, a removal closes it with 4403, a revoked or expired credential
  with 4401.

Credentials: a personal API token, a JWT (Sinopia's access tokens and share links, or an
external issuer's), as `Authorization: Bearer` or the `token` query parameter; or the
session cookie of a browser sign-in (writes then need the CSRF header).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeVar
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from annotations.commenting import comment_refusal
from crdt import DocumentName, RoomManager
from crdt.errors import (
    InvalidName,
    NotAllowed,
    NotAuthenticated,
    RateLimited,
    StoreUnavailable,
    UnknownDocument,
)
from crdt.keyring import Keyring
from crdt.peer import Peer
from crdt.room import Refusal, Room, UpdateCheck
from iiif import subject_id
from server.access import roles
from server.access.principal import (
    CSRF_HEADER,
    SESSION_COOKIE,
    Access,
    Principal,
    credential,
)
from server.access.principal import address as address_of
from server.access.ratelimit import Limiter
from server.access.roles import Role
from server.access.tokens import (
    AUDIENCE_ACCESS,
    AUDIENCE_SESSION,
    AUDIENCE_SHARE,
    BadCredential,
    ExternalIssuer,
    Signer,
    looks_like_jwt,
    secret_matches,
    split_api_token,
    unverified_claims,
)
from server.directory import (
    ApiToken,
    AuditEvent,
    Directory,
    DirectoryError,
    Session,
    ShareLink,
    User,
    Workspace,
    now_ms,
    operations,
)
from server.http.problems import HTTPProblem
from server.http.routes import Endpoint, Handler
from server.settings import Settings

log = logging.getLogger("sinopia.auth")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PERMISSIONS = frozenset(
    {"public", "user", "read", "comment", "write", "approve", "manage", "admin"}
)


_NEVER = 1 << 62


def limit_key(principal: Principal, address: str) -> str:
    """What a rate limit counts by: the principal, except for a share link, whose audience
    is everyone who has the link (an exhibition page's visitors): there it counts per
    address, so one visitor cannot use up everyone's allowance."""
    if principal.share is not None:
        return f"share:{principal.share.id}@{address}"
    return principal.key


def is_share_token(raw: str) -> bool:
    """Whether `raw` claims to be a share link (unverified: never grants anything)."""
    if not looks_like_jwt(raw):
        return False
    try:
        return unverified_claims(raw).get("aud") == AUDIENCE_SHARE
    except BadCredential:
        return False


# A deep-zoom viewer asks for a screenful of tiles at once and more with every pan and zoom
# (OpenSeadragon on a large screen: a few hundred in a second): an Image API request counts
# as a tenth of a REST call, so a person browsing fast is never refused tiles, while a
# client hammering the API still is.
IMAGE_REQUEST_COST = 0.1


def _cost(request: Request) -> float:
    path = request.url.path
    return IMAGE_REQUEST_COST if path.startswith("/iiif/") and "/image/" in path else 1.0


class Auth:
    def __init__(self, settings: Settings, directory: Directory, signer: Signer) -> None:
        self.settings = settings
        self.directory = directory
        self.signer = signer
        self.external = (
            ExternalIssuer(
                settings.jwt_issuer,
                settings.jwt_jwks_url,
                settings.jwt_audience,
                settings.jwt_user_claim,
                [a.strip() for a in settings.jwt_algorithms.split(",") if a.strip()],
            )
            if settings.jwt_issuer and settings.jwt_jwks_url
            else None
        )
        self.manager: RoomManager | None = None
        self.connections: Callable[[], list[Any]] = list
        self.cors_origins = set(settings.cors_origin_list)
        # Per-minute limits allow a minute's worth at once.
        self.signin_limit = Limiter(
            settings.rate_signin_per_minute / 60, settings.rate_signin_per_minute
        )
        self.failure_limit = Limiter(
            settings.rate_auth_failures_per_minute / 60, settings.rate_auth_failures_per_minute
        )
        self.request_limit = Limiter(settings.rate_requests_per_second)
        self.connect_limit = Limiter(
            settings.rate_connections_per_second, 10 * settings.rate_connections_per_second
        )
        self.update_limit = Limiter(settings.rate_updates_per_second)
        self.address_update_limit = Limiter(settings.rate_updates_per_second)
        self._pending: dict[str, int] = {}
        # Positive lookups, valid while the directory's generation stays the same (the
        # watcher clears them when it moves): an unknown or revoked credential is always
        # looked up afresh, a revocation is seen within one poll.
        self._cache: dict[tuple[str, str], Any] = {}
        self._generation: int | None = None
        self._directory_down = False
        # The earliest expiry of an open socket's credential: until then, and while the
        # directory does not change, the sockets need no look.
        self._next_expiry = _NEVER

    def bind(self, manager: RoomManager, connections: Callable[[], list[Any]]) -> None:
        self.manager = manager
        self.connections = connections

    async def open(self) -> None:
        await self.directory.open()
        self._generation = await self.directory.generation()
        from server.access.first_start import welcome

        message = await welcome(self.settings, self.directory)
        if message:
            print(message, file=sys.stderr, flush=True)

    async def close(self) -> None:
        await self.directory.close()

    # -- directory lookups, cached per generation ---------------------------------------

    async def _cached(self, kind: str, key: str, load: Callable[[], Awaitable[Any]]) -> Any:
        found = self._cache.get((kind, key))
        if found is None:
            found = await load()
            if found is not None:
                self._cache[(kind, key)] = found
        return found

    async def _user(self, user_id: str) -> User | None:
        found: User | None = await self._cached(
            "user", user_id, lambda: self.directory.user(user_id)
        )
        return found

    async def workspace(self, name: str) -> Workspace | None:
        found: Workspace | None = await self._cached(
            "workspace", name, lambda: self.directory.workspace(name)
        )
        return found

    async def _member_role(self, workspace: str, user_id: str) -> Role | None:
        member = await self._cached(
            "member", f"{workspace}/{user_id}", lambda: self.directory.member(workspace, user_id)
        )
        return member.role if member else None

    # -- credentials --------------------------------------------------------------------

    async def authenticate(self, raw: str) -> Principal:
        """The principal behind a bearer credential (API token or JWT)."""
        if split_api_token(raw) is not None:
            return await self._api_token(raw)
        if not looks_like_jwt(raw):
            raise BadCredential("malformed token")
        claims = unverified_claims(raw)
        if claims.get("iss") == self.signer.issuer:
            if claims.get("aud") == AUDIENCE_SHARE:
                return await self._share(self.signer.verify(raw, AUDIENCE_SHARE))
            return await self._access_jwt(self.signer.verify(raw, AUDIENCE_ACCESS))
        if self.external and claims.get("iss") == self.external.issuer:
            return await self._external(raw)
        raise BadCredential("token from an unknown issuer")

    async def _api_token(self, raw: str) -> Principal:
        parts = split_api_token(raw)
        assert parts is not None
        token_id, secret = parts
        token: ApiToken | None = await self._cached(
            "token", token_id, lambda: self.directory.token(token_id)
        )
        # One answer for "no such token" and "wrong secret": ids are not secrets, but a
        # caller learns nothing either way.
        if token is None or not secret_matches(secret, token.secret_hash):
            raise BadCredential("unknown token")
        user = await self._check_token(token)
        return Principal(
            "token",
            f"token:{user.id}/{token.id}",
            user=user,
            token_id=token.id,
            scope=token.workspaces,
            max_role=token.max_role,
            expires_ms=token.expires_ms,
        )

    async def _check_token(self, token: ApiToken) -> User:
        _still_valid(token, "token revoked", "token expired")
        return await self._active_user(token.user_id)

    async def _active_user(self, user_id: str) -> User:
        user = await self._user(user_id)
        if user is None or user.disabled:
            raise BadCredential("user disabled or removed")
        return user

    async def _check_session(self, session_id: str) -> Session:
        session: Session | None = await self._cached(
            "session", session_id, lambda: self.directory.session(session_id)
        )
        return _still_valid(session, "signed out", "session expired")

    async def _access_jwt(self, claims: dict[str, Any]) -> Principal:
        # An access token lives no longer than what it was minted from: its session or
        # API token is re-checked on every use.
        source = str(claims.get("src", ""))
        kind, _, source_id = source.partition(":")
        user = await self._active_user(str(claims["sub"]))
        session_id = token_id = None
        # The JWT's own `exp` was checked above (REST checks it on every call); an open
        # socket then lives as long as the session or token it was minted from, so that
        # a browser is not cut off (4401, for good) every few minutes.
        lives_until: int | None
        if kind == "session":
            session = await self._check_session(source_id)
            session_id, lives_until = session.id, session.expires_ms
        elif kind == "token":
            token = await self._cached("token", source_id, lambda: self.directory.token(source_id))
            if token is None or token.user_id != user.id:
                raise BadCredential("token revoked")
            await self._check_token(token)
            token_id, lives_until = token.id, token.expires_ms
        else:
            raise BadCredential("token claims refused (src)")
        scope = claims.get("ws")
        max_role = claims.get("role")
        return Principal(
            "user",
            user.label,
            user=user,
            session_id=session_id,
            token_id=token_id,
            scope=tuple(scope) if isinstance(scope, list) else None,
            max_role=max_role if isinstance(max_role, str) and roles.is_role(max_role) else None,  # type: ignore[arg-type]
            expires_ms=lives_until,
        )

    async def _share(self, claims: dict[str, Any]) -> Principal:
        share_id = str(claims["sub"])
        link: ShareLink | None = await self._cached(
            "share", share_id, lambda: self.directory.share(share_id)
        )
        link = _still_valid(link, "share link revoked", "share link expired")
        return Principal(
            "share",
            f"share:{link.id}",
            share=link,
            scope=(link.workspace,),
            max_role="viewer",
            expires_ms=link.expires_ms,
        )

    async def _external(self, raw: str) -> Principal:
        assert self.external is not None
        value, claims = await self.external.verify(raw)
        user = await self.user_for_identity(
            self.external.issuer,
            value,
            email=claims.get("email") if claims.get("email_verified", True) else None,
            name_hint=claims.get("preferred_username") or claims.get("email") or value,
            display_name=claims.get("name"),
        )
        if user.disabled:
            raise BadCredential("user disabled or removed")
        # Checked when used; an open socket then lives while the user is active.
        return Principal("user", user.label, user=user)

    async def session_principal(self, cookie: str) -> Principal:
        claims = self.signer.verify(cookie, AUDIENCE_SESSION)
        session = await self._check_session(str(claims.get("sid", "")))
        user = await self._active_user(session.user_id)
        return Principal(
            "user",
            user.label,
            user=user,
            session_id=session.id,
            expires_ms=session.expires_ms,
            cookie=True,
            csrf=session.csrf,
        )

    async def user_for_identity(
        self,
        issuer: str,
        subject: str,
        *,
        email: str | None,
        name_hint: str,
        display_name: str | None = None,
    ) -> User:
        """The user signing in as (issuer, subject): found, linked by a verified email to
        a user invited by email, or created (users are created on first sign-in)."""
        user = await self.directory.user_by_identity(issuer, subject)
        if user is not None:
            return user
        if email:
            invited = await self.directory.user_by_email(email.lower())
            if invited is not None and invited.subject is None:
                linked = replace(invited, issuer=issuer, subject=subject)
                await self.directory.update_user(linked)
                return linked
        return await operations.add_user(
            self.directory,
            await operations.free_name(self.directory, name_hint),
            "system",
            email=email,
            display_name=display_name,
            issuer=issuer,
            subject=subject,
        )

    # -- roles --------------------------------------------------------------------------

    async def role(self, principal: Principal, workspace: str) -> Role | None:
        """The principal's effective role on `workspace` (None: no access)."""
        if principal.scope is not None and workspace not in principal.scope:
            return None
        if principal.share is not None:
            return "viewer" if principal.share.workspace == workspace else None
        assert principal.user is not None
        base: Role | None = (
            "owner"
            if principal.user.admin
            else await self._member_role(workspace, principal.user.id)
        )
        return roles.lower(base, principal.max_role)

    async def share_covers(self, link: ShareLink, name: DocumentName) -> bool:
        if name.workspace != link.workspace:
            return False
        if link.subject is not None:
            return str(name) == link.subject
        if link.manifest is None or name.kind == "report" or self.manager is None:
            return False
        from annotations.subject_document import meta_json

        async with self.manager.hold(str(name)) as room:
            return bool(meta_json(room.doc).get("manifest") == link.manifest)

    async def share_covers_file(self, link: ShareLink, workspace: str, path: str) -> bool:
        """Whether `link` covers the subject whose 3D model file is served at `path` (the
        request's path): the model of the subject it shares, or of one of the subjects of
        the manifest it shares. The file belongs to the subject whose document names it as
        its asset, so a link to another subject is refused."""
        if link.workspace != workspace or self.manager is None:
            return False
        prefix = f"{workspace}/model/"
        if link.subject is not None:
            names = [link.subject] if link.subject.startswith(prefix) else []
        else:
            stored = await self.manager.store.documents(prefix)
            names = sorted({*stored, *(n for n in self.manager.rooms if n.startswith(prefix))})
        from annotations.subject_document import meta_json

        for name in names:
            async with self.manager.hold(name) as room:
                meta = meta_json(room.doc)
            asset = meta.get("asset")
            url = asset.get("url") if isinstance(asset, dict) else None
            if not isinstance(url, str) or urlsplit(url).path != path:
                continue
            if link.subject is not None or meta.get("manifest") == link.manifest:
                return True
        return False

    async def recheck(self, principal: Principal) -> Principal:
        """The principal as the directory has it now; `BadCredential` if it is gone."""
        if principal.share is not None:
            return await self._share({"sub": principal.share.id})
        assert principal.user is not None
        token_id = principal.token_id
        if token_id is not None:
            token = await self._cached("token", token_id, lambda: self.directory.token(token_id))
            if token is None:
                raise BadCredential("token revoked")
            user = await self._check_token(token)
        elif principal.session_id is not None:
            session = await self._check_session(principal.session_id)
            user = await self._active_user(session.user_id)
        else:
            user = await self._active_user(principal.user.id)
        if principal.expires_ms is not None and principal.expires_ms <= now_ms():
            raise BadCredential("credential expired")
        return replace(principal, user=user)

    # -- REST ---------------------------------------------------------------------------

    def guard(self, endpoint: Endpoint) -> Handler:
        """`endpoint`'s handler behind its permission: the only way REST handlers are
        reached (the route table builds every route through this)."""
        if endpoint.permission not in PERMISSIONS:
            raise ValueError(
                f"{endpoint.method} {endpoint.path}: no rule for {endpoint.permission!r}"
            )
        permission = endpoint.permission
        handler = endpoint.handler

        async def guarded(request: Request) -> Response:
            if permission == "public":
                # A public route works whatever credential comes along (a stale cookie
                # must not keep anyone from signing in again).
                try:
                    principal = await self.request_principal(request)
                except HTTPProblem:
                    principal = None
            else:
                principal = await self.request_principal(request)
            if principal is not None:
                request.state.principal = principal.label
                request.state.auth = principal
            if permission != "public":
                if principal is None:
                    raise HTTPProblem(
                        401,
                        "a credential is required: Authorization: Bearer, the token "
                        "parameter, or signing in",
                        headers={"WWW-Authenticate": 'Bearer realm="sinopia"'},
                    )
                await self._authorize(request, principal, permission)
            return await handler(request)

        guarded.__name__ = handler.__name__
        guarded.__doc__ = handler.__doc__
        return guarded

    async def request_principal(self, request: Request) -> Principal | None:
        address = address_of(request)
        raw, source = credential(request)
        if raw is None:
            return None
        if self.failure_limit.exhausted(address):
            raise HTTPProblem(429, "too many failed attempts, try again later")
        try:
            if source == "cookie":
                return await self.session_principal(raw)
            return await self.authenticate(raw)
        except BadCredential as exc:
            self.failure_limit.allow(address)
            headers = {"WWW-Authenticate": 'Bearer realm="sinopia", error="invalid_token"'}
            if source == "cookie":
                # A stale cookie: tell the browser to forget it.
                headers["Set-Cookie"] = f"{SESSION_COOKIE}=; Max-Age=0; Path=/; HttpOnly"
            raise HTTPProblem(401, exc.reason, headers=headers) from None
        except DirectoryError:
            raise HTTPProblem(503, "the directory is unavailable, try again") from None

    async def _authorize(self, request: Request, principal: Principal, permission: str) -> None:
        key = limit_key(principal, address_of(request))
        if not self.request_limit.allow(key, _cost(request)):
            raise HTTPProblem(
                429,
                "too many requests",
                headers={"Retry-After": str(self.request_limit.retry_after(key))},
            )
        if principal.cookie and request.method not in SAFE_METHODS:
            self.check_csrf(request, principal)
        if permission == "user":
            if principal.user is None:
                raise HTTPProblem(403, "a share link only grants viewing its subject")
            return
        if permission == "admin":
            if not principal.is_admin:
                raise HTTPProblem(403, "only the instance's administrators may do this")
            return
        workspace = request.path_params.get("workspace")
        if workspace is None:
            # A workspace permission on a route without one: any signed-in user.
            if principal.user is None:
                raise HTTPProblem(403, "a share link only grants viewing its subject")
            return
        try:
            known = await self.workspace(workspace)
        except DirectoryError:
            raise HTTPProblem(503, "the directory is unavailable, try again") from None
        if known is None:
            raise HTTPProblem(404, f"no such workspace: {workspace}")
        role = await self.role(principal, workspace)
        if not roles.allows(role, permission):
            needed = roles.NEEDED[permission]
            raise HTTPProblem(
                403,
                f"this needs the {needed} role on {workspace}"
                + (f"; you are {role}" if role else "; you are not a member"),
            )
        if principal.share is not None:
            params = request.path_params
            link = principal.share
            refusal = self.share_origin_refusal(request, link, request.headers.get("origin"))
            if refusal:
                raise HTTPProblem(403, refusal)
            if "kind" not in params and request.url.path.startswith(f"/iiif/{workspace}/manifest/"):
                # A link to one manifest's subjects opens that manifest (the viewer an
                # embedding page loads); a link to one subject does not list the others.
                if not (link.manifest and subject_id(link.manifest) == params.get("id")):
                    raise HTTPProblem(403, "this share link does not cover this manifest")
            elif "model" in params and "kind" not in params:
                # A 3D model's file is its model subject's: a link to that subject, or to
                # its manifest, loads it.
                if not await self.share_covers_file(link, workspace, request.url.path):
                    raise HTTPProblem(403, "this share link does not cover this model")
            else:
                kind, subject = params.get("kind", ""), params.get("id", "")
                if "image" in params and not kind:
                    # An uploaded image is its canvas subject's (same id): a link to the
                    # subject, or to its manifest, loads its tiles.
                    kind, subject = "canvas", params["image"]
                try:
                    name = DocumentName.of(workspace, kind, subject)
                except InvalidName:
                    raise HTTPProblem(403, "a share link only grants viewing its subject") from None
                if not await self.share_covers(link, name):
                    raise HTTPProblem(403, "this share link does not cover this document")
        assert role is not None
        request.state.access = Access(principal, workspace, role, address_of(request))

    def check_csrf(self, request: Request, principal: Principal) -> None:
        """Cookie-authenticated writes must prove they come from our own pages: the CSRF
        header (from GET /api/me) and, when the browser sends one, an allowed Origin."""
        origin = request.headers.get("origin")
        if origin and not self.origin_allowed(request, origin):
            raise HTTPProblem(403, "cross-site request refused (origin not allowed)")
        sent = request.headers.get(CSRF_HEADER, "")
        if not principal.csrf or not hmac.compare_digest(sent.encode(), principal.csrf.encode()):
            raise HTTPProblem(403, "missing or wrong X-CSRF-Token header (see GET /api/me)")

    def own_origins(self, conn: HTTPConnection) -> set[str]:
        scheme = {"ws": "http", "wss": "https"}.get(conn.url.scheme, conn.url.scheme)
        own = {f"{scheme}://{conn.headers.get('host', '')}"}
        if self.settings.public_url:
            parts = urlsplit(self.settings.public_url)
            own.add(f"{parts.scheme}://{parts.netloc}")
        return own

    def origin_allowed(self, conn: HTTPConnection, origin: str) -> bool:
        origin = origin.rstrip("/")
        if origin in self.cors_origins:
            return True
        return origin in self.own_origins(conn)

    def share_origin_refusal(
        self, conn: HTTPConnection, link: ShareLink, origin: str | None
    ) -> str | None:
        """Why a page at `origin` may not use share link `link`, or None if it may: a link
        limited to some origins works on their pages and on Sinopia's own (the iframe
        page). A request without `Origin` comes from no web page (a script, a server),
        which the limit is not about: it keeps other sites from embedding the link."""
        if not link.origins or origin is None:
            return None
        origin = origin.rstrip("/").lower()
        if origin in link.origins or origin in self.own_origins(conn):
            return None
        return (
            f"this share link may not be embedded on {origin}: "
            "its owner can add that origin to the link"
        )

    # -- websocket ----------------------------------------------------------------------

    async def admit(self, websocket: WebSocket, conn: Any, name: str) -> None:
        """Authenticate a socket before it joins `name`'s room, within the time limit;
        sets the connection's principal, write permission and access, or raises the
        `CollabError` to close it with."""
        address = address_of(websocket)
        raw, _ = credential(websocket)
        # Known before the credential is checked, only to choose how a refusal for load
        # is said: an embed's socket is told to try again later (see server/live).
        conn.public = raw is not None and is_share_token(raw)
        if self._pending.get(address, 0) >= self.settings.max_unauthenticated_per_address:
            raise RateLimited("too many unauthenticated connections from this address")
        self._pending[address] = self._pending.get(address, 0) + 1
        try:
            access = await asyncio.wait_for(
                self._admit(websocket, name, address), self.settings.auth_timeout_seconds
            )
        except TimeoutError:
            raise StoreUnavailable("authentication timed out, reconnect") from None
        except DirectoryError:
            raise StoreUnavailable("the directory is unavailable, reconnect") from None
        finally:
            self._pending[address] -= 1
            if not self._pending[address]:
                del self._pending[address]
        conn.access = access
        if access.principal.expires_ms is not None:
            self._next_expiry = min(self._next_expiry, access.principal.expires_ms)
        conn.principal = access.principal.label
        conn.can_write = roles.can_write(access.role)
        # Share links are the public: staff's presence is not theirs to see, and theirs
        # is nobody's business (members see each other whatever their role).
        conn.public = access.principal.share is not None
        conn.presence = not conn.public

    async def _admit(self, websocket: WebSocket, name: str, address: str) -> Access:
        raw, source = credential(websocket)
        if raw is None:
            raise NotAuthenticated(
                "a credential is required: the token parameter, Authorization: Bearer, "
                "or a session cookie"
            )
        if self.failure_limit.exhausted(address):
            raise RateLimited("too many failed attempts, try again later")
        try:
            if source == "cookie":
                origin = websocket.headers.get("origin")
                # Browsers send cookies on cross-site websockets and CORS does not apply:
                # only our own pages and the allow-list may use the session.
                if origin is None or not self.origin_allowed(websocket, origin):
                    raise NotAllowed("origin not allowed for cookie sign-in")
                principal = await self.session_principal(raw)
            else:
                principal = await self.authenticate(raw)
        except BadCredential as exc:
            self.failure_limit.allow(address)
            raise NotAuthenticated(exc.reason) from None
        if not self.connect_limit.allow(limit_key(principal, address)):
            raise RateLimited("too many connections")
        doc = DocumentName.parse(name)
        if await self.workspace(doc.workspace) is None:
            raise UnknownDocument(f"no such workspace: {doc.workspace}")
        role = await self.role(principal, doc.workspace)
        if role is None:
            raise NotAllowed(f"not a member of {doc.workspace}")
        origin = websocket.headers.get("origin")
        if principal.share is not None:
            if not await self.share_covers(principal.share, doc):
                raise NotAllowed("this share link does not cover this document")
            refusal = self.share_origin_refusal(websocket, principal.share, origin)
            if refusal:
                raise NotAllowed(refusal)
        return Access(
            principal, doc.workspace, role, address, origin, frozenset(self.own_origins(websocket))
        )

    def update_check(self, inner: UpdateCheck | None = None) -> UpdateCheck:
        """The room's check for updates from sockets: rate limits and the commenter rule,
        then `inner` (e.g. the document schema)."""

        def check(room: Room, peer: Peer, update: bytes) -> Refusal | None:
            access: Access | None = getattr(peer, "access", None)
            if access is not None:
                key = access.principal.key
                if not self.update_limit.allow(key) or not self.address_update_limit.allow(
                    access.address
                ):
                    peer.close(RateLimited.code, "rate limited: too many updates")
                    return Refusal("rate limited")
                if access.role == "commenter":
                    user = access.principal.user
                    agent = user.agent_iri if user else ""
                    before = (user.legacy_agent_iri,) if user else ()
                    kind = DocumentName.parse(room.name).kind
                    reason = comment_refusal(room.doc, update, kind, agent, before)
                    if reason:
                        return Refusal(reason)
            return inner(room, peer, update) if inner is not None else None

        return check

    # -- open sockets follow the directory ----------------------------------------------

    async def watch_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.access_poll_seconds)
            try:
                await self.watch_once()
            except DirectoryError as exc:
                # Open sockets keep their access while the directory is unreachable; new
                # ones are refused with 1011 and retry.
                if not self._directory_down:
                    log.warning("directory unreachable: %s", exc, extra={"event": "error"})
                self._directory_down = True
            except Exception:
                log.exception("access re-check failed")

    async def watch_once(self) -> None:
        generation = await self.directory.generation()
        self._directory_down = False
        changed = generation != self._generation
        if changed:
            self._cache.clear()
            self._generation = generation
        now = now_ms()
        if not changed and now < self._next_expiry:
            # Nothing changed and no socket's credential has expired: no need to look at
            # every open socket (thousands of an exhibition's watchers, four times a second).
            return
        next_expiry = _NEVER
        verdicts: dict[tuple[str, str, str], tuple[int, str] | Role] = {}
        for conn in self.connections():
            access: Access | None = getattr(conn, "access", None)
            if access is None or conn.close_code is not None:
                continue
            expires = access.principal.expires_ms
            if not changed and not (expires is not None and expires <= now):
                if expires is not None:
                    next_expiry = min(next_expiry, expires)
                continue
            # A share link's sockets differ by the page they were opened from.
            key = (access.principal.key, access.workspace, access.origin or "")
            if key not in verdicts:
                verdicts[key] = await self._verdict(access)
            verdict = verdicts[key]
            if isinstance(verdict, tuple):
                conn.close(*verdict)
                continue
            if verdict != access.role:
                log.info(
                    "role changed on an open socket",
                    extra={"event": "access", "principal": access.principal.label},
                )
            access.role = verdict
            conn.can_write = roles.can_write(verdict)
            if access.principal.expires_ms is not None:
                next_expiry = min(next_expiry, access.principal.expires_ms)
        self._next_expiry = next_expiry

    async def _verdict(self, access: Access) -> tuple[int, str] | Role:
        try:
            access.principal = await self.recheck(access.principal)
        except BadCredential as exc:
            return (NotAuthenticated.code, exc.reason)
        role = await self.role(access.principal, access.workspace)
        if role is None or await self.workspace(access.workspace) is None:
            return (NotAllowed.code, f"access to {access.workspace} was removed")
        link = access.principal.share
        if link is not None and link.origins and access.origin is not None:
            origin = access.origin.rstrip("/").lower()
            if origin not in link.origins and origin not in access.own_origins:
                return (NotAllowed.code, f"this share link may no longer be embedded on {origin}")
        return role

    # -- audit --------------------------------------------------------------------------

    async def audit(
        self,
        action: str,
        actor: str,
        *,
        workspace: str | None = None,
        target: str = "",
        detail: dict[str, Any] | None = None,
        address: str | None = None,
    ) -> None:
        event = AuditEvent(action, actor, workspace, target, detail or {}, address)
        log.info(
            "audit: %s",
            action,
            extra={"event": "audit", "action": action, "actor": actor, "workspace": workspace},
        )
        with contextlib.suppress(DirectoryError):
            await self.directory.add_event(event)


Grant = TypeVar("Grant", ApiToken, Session, ShareLink)


def _still_valid(grant: Grant | None, revoked: str, expired: str) -> Grant:
    """`grant` if it exists, is not revoked and has not expired; else `BadCredential`."""
    if grant is None or grant.revoked_ms is not None:
        raise BadCredential(revoked)
    if grant.expires_ms is not None and grant.expires_ms <= now_ms():
        raise BadCredential(expired)
    return grant


def expiry(seconds: float) -> int:
    return now_ms() + int(seconds * 1000)


def create_auth(settings: Settings, keyring: Keyring | None = None) -> Auth:
    """The app's `Auth`: its directory (SQLite in the data directory, or MongoDB; its
    secrets sealed with `keyring`) and the key that signs Sinopia's JWTs (created on first
    start, like the sealing key)."""
    from server.directory import open_directory

    directory = open_directory(settings.mongo_url, settings.data_dir, keyring)
    return Auth(settings, directory, create_signer(settings, keyring))


def create_signer(settings: Settings, keyring: Keyring | None = None) -> Signer:
    """The JWT signer; its key file wrapped by the master key when there is one."""
    from crdt import keyfiles
    from crdt.keyring import open_keyring

    if keyring is None:
        keyring = open_keyring(settings.key_url)
    private = keyfiles.load_or_create(settings.auth_key_file, keyring)
    issuer = (settings.public_url or "urn:sinopia").rstrip("/")
    return Signer.from_private_key(private, issuer)
