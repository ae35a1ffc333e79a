"""Who a caller is: the principal behind a credential, what it may do on one workspace,
and where a request or socket carries its credential."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from starlette.requests import HTTPConnection

from server.access.roles import Role
from server.directory import ShareLink, User

SESSION_COOKIE = "sinopia_session"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. `label` is what history records as the author."""

    kind: Literal["user", "token", "share"]
    label: str
    user: User | None = None
    token_id: str | None = None  # the API token used, or the one an access JWT came from
    session_id: str | None = None  # the sign-in session, for cookies and JWTs minted from it
    share: ShareLink | None = None
    scope: tuple[str, ...] | None = None  # only these workspaces (None: all of the user's)
    max_role: Role | None = None
    expires_ms: int | None = None
    cookie: bool = False
    csrf: str | None = None

    @property
    def is_admin(self) -> bool:
        # Only an unrestricted credential carries an operator's instance-wide powers.
        return bool(self.user and self.user.admin and self.scope is None and self.max_role is None)

    @property
    def key(self) -> str:
        """One key per credential, for rate limits and re-checks."""
        return self.label if self.kind != "user" else f"{self.label}#{self.session_id}"


@dataclass
class Access:
    """What an open socket (or a REST call) may do on one workspace; the socket's copy is
    updated in place when the directory changes."""

    principal: Principal
    workspace: str
    role: Role
    address: str = ""
    # The web page's origin the socket was opened from (its `Origin` header), if any:
    # re-checked against a share link's origins when they change.
    origin: str | None = None
    # Sinopia's own origins as that socket saw them (its iframe page is always allowed).
    own_origins: frozenset[str] = frozenset()


def address(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client else "unknown"


def credential(conn: HTTPConnection) -> tuple[str | None, str]:
    """(the credential, where it came from): the Authorization header, then the `token`
    query parameter, then the session cookie."""
    header = conn.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.partition(" ")
        return (value.strip() or "-", "bearer") if scheme.lower() == "bearer" else ("-", "bearer")
    token = conn.query_params.get("token")
    if token is not None:
        return token, "query"
    cookie = conn.cookies.get(SESSION_COOKIE)
    if cookie:
        return cookie, "cookie"
    return None, ""
