"""The directory: who may do what. Users, workspaces and their members, personal API
tokens, sign-in sessions, share links and the audit log of security events.

One interface, one module per backend: SQLite (`directory.db` in the data directory, the
embedded default) and MongoDB (the store's database, when `SINOPIA_MONGO_URL` is set, so
that every instance and the `sinopia admin` commands see the same data).

Backends keep records (plain JSON objects) by kind and id, plus an append-only audit log
and a *generation* counter that every change to access bumps. Servers poll the counter
(it is one small read) and re-check their open sockets when it moves: that is how a role
change or a revocation made anywhere, by the REST API of another instance or by the
command line with the server running, reaches open connections within a second.
"""

from __future__ import annotations

import secrets
import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

if TYPE_CHECKING:
    from crdt.keyring import Keyring

R = TypeVar("R")

# A member's role on a workspace, lowest first: what each may do is decided by
# server.access.roles, not here.
Role = Literal["viewer", "commenter", "editor", "lead", "owner"]
ROLES: tuple[Role, ...] = ("viewer", "commenter", "editor", "lead", "owner")


class DirectoryError(Exception):
    """The directory could not be reached or refused a request."""


class Exists(DirectoryError):
    """A record with this id (or unique field) already exists."""


def now_ms() -> int:
    return int(time.time() * 1000)


def new_id(prefix: str) -> str:
    # Hex only: ids appear inside tokens split on "_" and in URLs.
    return f"{prefix}{secrets.token_hex(8)}"


@dataclass(frozen=True)
class User:
    id: str
    name: str
    email: str | None = None
    display_name: str | None = None
    # An operator of the instance: every workspace, every admin command.
    admin: bool = False
    disabled: bool = False
    # The external identity this user signs in as (OpenID Connect issuer and subject, or
    # an external JWT issuer and the mapped claim).
    issuer: str | None = None
    subject: str | None = None
    created_ms: int = field(default_factory=now_ms)
    # When the person was erased (`sinopia admin user erase`): the record then keeps only
    # the id, which history still names, and "erased user N".
    erased_ms: int | None = None

    @property
    def agent_iri(self) -> str:
        """The `creator.id` this user's annotations carry: how ownership is told. The id,
        not the name: a name can be erased, the id stays (server.directory.people)."""
        return f"urn:sinopia:user:{self.id}"

    @property
    def legacy_agent_iri(self) -> str:
        """The `creator.id` of annotations made before ids were used: still this user's."""
        return f"urn:sinopia:user:{self.name}"

    @property
    def label(self) -> str:
        """The author label history records for this user (pseudonymous: the id)."""
        return f"user:{self.id}"


@dataclass(frozen=True)
class Workspace:
    name: str
    title: str = ""
    created_ms: int = field(default_factory=now_ms)
    # The workspace's tag list for annotations: ({"label": ..., "color": "#rrggbb"}, ...).
    tags: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True)
class Member:
    workspace: str
    user_id: str
    role: Role
    added_ms: int = field(default_factory=now_ms)

    @property
    def id(self) -> str:
        return f"{self.workspace}/{self.user_id}"


@dataclass(frozen=True)
class ApiToken:
    """A personal API token: only the SHA-256 of its secret is kept."""

    id: str
    user_id: str
    label: str
    secret_hash: str  # hex SHA-256 of the secret part
    # None: every workspace the user is a member of; otherwise only these.
    workspaces: tuple[str, ...] | None = None
    # The most this token may do, whatever the user's role: None for no cap.
    max_role: Role | None = None
    created_ms: int = field(default_factory=now_ms)
    expires_ms: int | None = None
    revoked_ms: int | None = None


@dataclass(frozen=True)
class Session:
    """A browser sign-in; the cookie names it, signing out revokes it."""

    id: str
    user_id: str
    csrf: str
    expires_ms: int
    created_ms: int = field(default_factory=now_ms)
    revoked_ms: int | None = None


@dataclass(frozen=True)
class ShareLink:
    """Viewer access to one subject (`subject`: a document name) or to every subject of
    one IIIF manifest (`manifest`: its IRI) in one workspace.

    `expires_ms` None: it never expires (an owner's explicit choice, for an exhibition).
    `origins`: the web origins (`https://museum.example`) whose pages may embed it; none
    means any. Both may change (renewal) without changing the link's token."""

    id: str
    workspace: str
    created_by: str
    expires_ms: int | None
    subject: str | None = None
    manifest: str | None = None
    label: str = ""
    created_ms: int = field(default_factory=now_ms)
    revoked_ms: int | None = None
    origins: tuple[str, ...] = ()


@dataclass(frozen=True)
class LoginLink:
    """A one-time sign-in link; `id` is the SHA-256 (hex) of its secret, which is never
    kept. Used links stay (marked) so that a second use can be told apart from a typo."""

    id: str
    user_id: str
    created_by: str
    expires_ms: int
    created_ms: int = field(default_factory=now_ms)
    used_ms: int | None = None


@dataclass(frozen=True)
class AuditEvent:
    action: str  # e.g. "sign-in", "sign-in-failed", "member-role-changed", "token-revoked"
    actor: str  # the principal that acted, or "system"
    workspace: str | None = None  # None: instance-wide (sign-in, users)
    target: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    address: str | None = None
    time_ms: int = field(default_factory=now_ms)
    seq: int = 0


_KINDS: dict[str, type[Any]] = {
    "user": User,
    "workspace": Workspace,
    "member": Member,
    "token": ApiToken,
    "session": Session,
    "share": ShareLink,
    "login_link": LoginLink,
}


def _record_id(record: Any) -> str:
    return record.id if not isinstance(record, Workspace) else record.name


def to_data(record: Any) -> dict[str, Any]:
    data = asdict(record)
    for key, value in data.items():
        if isinstance(value, tuple):
            data[key] = list(value)
    return data


def from_data(cls: type[R], data: dict[str, Any]) -> R:
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    values = {k: v for k, v in data.items() if k in known}
    if cls is ApiToken and values.get("workspaces") is not None:
        values["workspaces"] = tuple(values["workspaces"])
    if cls is ShareLink and values.get("origins") is not None:
        values["origins"] = tuple(values["origins"])
    if cls is Workspace and values.get("tags") is not None:
        values["tags"] = tuple(values["tags"])
    return cls(**values)


class Directory(ABC):
    """The domain operations, on top of a few record primitives each backend provides."""

    # -- what a backend provides ---------------------------------------------------------

    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    def describe(self) -> str: ...

    @abstractmethod
    async def generation(self) -> int:
        """A number that changes whenever anything affecting access changes."""

    @abstractmethod
    async def _get(self, kind: str, id: str) -> dict[str, Any] | None: ...

    @abstractmethod
    async def _find(self, kind: str, key: str, value: Any) -> list[dict[str, Any]]:
        """Records of `kind` whose field `key` equals `value` (an indexed field)."""

    @abstractmethod
    async def _all(self, kind: str) -> list[dict[str, Any]]: ...

    @abstractmethod
    async def _insert(self, kind: str, id: str, data: dict[str, Any]) -> None:
        """Add a record and bump the generation; `Exists` if the id or a unique field
        (a user's name, a user's external identity) is taken."""

    @abstractmethod
    async def _put(self, kind: str, id: str, data: dict[str, Any]) -> dict[str, Any] | None:
        """Create or replace a record, bump the generation; returns the previous data."""

    @abstractmethod
    async def _claim(self, kind: str, id: str, unset: str, data: dict[str, Any]) -> bool:
        """Replace a record only if its field `unset` is null or missing (one atomic
        compare-and-set), bumping the generation; whether it was replaced."""

    @abstractmethod
    async def _delete(self, kind: str, id: str) -> dict[str, Any] | None:
        """Remove a record, bump the generation; returns what it held."""

    @abstractmethod
    async def add_event(self, event: AuditEvent) -> AuditEvent: ...

    @abstractmethod
    async def events(
        self, workspace: str | None, *, limit: int = 100, before: int | None = None
    ) -> list[AuditEvent]:
        """Newest first; `workspace` None: the instance-wide events."""

    # -- users ---------------------------------------------------------------------------

    async def add_user(self, user: User) -> User:
        await self._insert("user", user.id, to_data(user))
        return user

    async def user(self, user_id: str) -> User | None:
        return self._one(User, await self._get("user", user_id))

    async def user_by_name(self, name: str) -> User | None:
        return self._first(User, await self._find("user", "name", name))

    async def user_by_email(self, email: str) -> User | None:
        return self._first(User, await self._find("user", "email", email.lower()))

    async def user_by_identity(self, issuer: str, subject: str) -> User | None:
        for data in await self._find("user", "subject", subject):
            if data.get("issuer") == issuer:
                return from_data(User, data)
        return None

    async def update_user(self, user: User) -> None:
        await self._put("user", user.id, to_data(user))

    async def users(self) -> list[User]:
        return sorted((from_data(User, d) for d in await self._all("user")), key=_by_name)

    # -- workspaces ----------------------------------------------------------------------

    async def add_workspace(self, workspace: Workspace) -> Workspace:
        await self._insert("workspace", workspace.name, to_data(workspace))
        return workspace

    async def workspace(self, name: str) -> Workspace | None:
        return self._one(Workspace, await self._get("workspace", name))

    async def set_workspace_tags(self, name: str, tags: list[dict[str, str]]) -> Workspace | None:
        """Replace a workspace's tag list; None if there is no such workspace."""
        workspace = await self.workspace(name)
        if workspace is None:
            return None
        changed = replace(workspace, tags=tuple(tags))
        await self._put("workspace", name, to_data(changed))
        return changed

    async def remove_workspace(self, name: str) -> Workspace | None:
        """Remove a workspace and everything the directory holds about it: members, share
        links, vocabulary; tokens limited to it no longer name it. None if there is none."""
        workspace = await self.workspace(name)
        if workspace is None:
            return None
        # The workspace record first: from then on no one has access, even if removing
        # the rest is interrupted (and removing again finishes it).
        await self._delete("workspace", name)
        for member in await self.members(name):
            await self._delete("member", member.id)
        for link in await self.shares(name):
            await self._delete("share", link.id)
        await self._delete("vocabulary", name)
        for data in await self._all("token"):
            # A token limited to this workspace must not open a new one of the same name.
            if name in (data.get("workspaces") or ()):
                data["workspaces"] = [w for w in data["workspaces"] if w != name]
                await self._put("token", data["id"], data)
        return workspace

    async def workspaces(self) -> list[Workspace]:
        found = (from_data(Workspace, d) for d in await self._all("workspace"))
        return sorted(found, key=_by_name)

    # -- members -------------------------------------------------------------------------

    async def set_member(self, member: Member) -> Role | None:
        """Add a member or change their role; returns the role they had."""
        previous = await self._put("member", member.id, to_data(member))
        return previous["role"] if previous else None

    async def remove_member(self, workspace: str, user_id: str) -> Role | None:
        previous = await self._delete("member", f"{workspace}/{user_id}")
        return previous["role"] if previous else None

    async def member(self, workspace: str, user_id: str) -> Member | None:
        return self._one(Member, await self._get("member", f"{workspace}/{user_id}"))

    async def members(self, workspace: str) -> list[Member]:
        return [from_data(Member, d) for d in await self._find("member", "workspace", workspace)]

    async def memberships(self, user_id: str) -> list[Member]:
        return [from_data(Member, d) for d in await self._find("member", "user_id", user_id)]

    # -- tokens, sessions, share links ---------------------------------------------------

    async def add_token(self, token: ApiToken) -> None:
        await self._insert("token", token.id, to_data(token))

    async def token(self, token_id: str) -> ApiToken | None:
        return self._one(ApiToken, await self._get("token", token_id))

    async def tokens(self, user_id: str) -> list[ApiToken]:
        return [from_data(ApiToken, d) for d in await self._find("token", "user_id", user_id)]

    async def revoke_token(self, token_id: str) -> ApiToken | None:
        return await self._revoke(ApiToken, "token", token_id)

    async def add_session(self, session: Session) -> None:
        await self._insert("session", session.id, to_data(session))

    async def session(self, session_id: str) -> Session | None:
        return self._one(Session, await self._get("session", session_id))

    async def revoke_session(self, session_id: str) -> Session | None:
        return await self._revoke(Session, "session", session_id)

    async def add_share(self, link: ShareLink) -> None:
        await self._insert("share", link.id, to_data(link))

    async def share(self, share_id: str) -> ShareLink | None:
        return self._one(ShareLink, await self._get("share", share_id))

    async def shares(self, workspace: str) -> list[ShareLink]:
        return [from_data(ShareLink, d) for d in await self._find("share", "workspace", workspace)]

    async def revoke_share(self, share_id: str) -> ShareLink | None:
        return await self._revoke(ShareLink, "share", share_id)

    async def update_share(self, link: ShareLink) -> None:
        """Replace a share link's record (its expiry, origins or label changed)."""
        await self._put("share", link.id, to_data(link))

    async def add_login_link(self, link: LoginLink) -> None:
        await self._insert("login_link", link.id, to_data(link))

    async def login_link(self, link_id: str) -> LoginLink | None:
        return self._one(LoginLink, await self._get("login_link", link_id))

    async def login_links(self, user_id: str) -> list[LoginLink]:
        found = await self._find("login_link", "user_id", user_id)
        return [from_data(LoginLink, d) for d in found]

    async def use_login_link(self, link_id: str) -> LoginLink | None:
        """Mark a link used; returns it as it was before (`used_ms` None: this call used
        it), or None if unknown. Of two uses at once, exactly one finds it unused."""
        data = await self._get("login_link", link_id)
        if data is None:
            return None
        link = from_data(LoginLink, data)
        if link.used_ms is not None:
            return link
        used = replace(link, used_ms=now_ms())
        if await self._claim("login_link", link_id, "used_ms", to_data(used)):
            return link
        return self._one(LoginLink, await self._get("login_link", link_id))

    async def remove_login_link(self, link_id: str) -> None:
        await self._delete("login_link", link_id)

    # -- a workspace's own vocabulary terms (server.live.terms) ---------------------------

    async def vocabulary(self, workspace: str) -> list[dict[str, Any]]:
        """The terms a workspace added to its damage vocabulary (plain JSON records)."""
        data = await self._get("vocabulary", workspace)
        return list(data.get("terms", [])) if data else []

    async def set_vocabulary(self, workspace: str, terms: list[dict[str, Any]]) -> None:
        await self._put("vocabulary", workspace, {"workspace": workspace, "terms": terms})

    async def _revoke(self, cls: type[R], kind: str, id: str) -> R | None:
        """Mark revoked (kept for the audit trail); None if unknown or already revoked."""
        data = await self._get(kind, id)
        if data is None or data.get("revoked_ms") is not None:
            return None
        record = replace(from_data(cls, data), revoked_ms=now_ms())  # type: ignore[type-var]
        await self._put(kind, id, to_data(record))
        return record

    # -- helpers -------------------------------------------------------------------------

    @staticmethod
    def _one(cls: type[R], data: dict[str, Any] | None) -> R | None:
        return None if data is None else from_data(cls, data)

    @staticmethod
    def _first(cls: type[R], found: list[dict[str, Any]]) -> R | None:
        return from_data(cls, found[0]) if found else None


def _by_name(record: Any) -> str:
    return str(record.name)


# Fields each backend indexes for `_find` (and keeps unique where marked).
INDEXED: dict[str, tuple[str, ...]] = {
    "user": ("name", "email", "subject"),
    "member": ("workspace", "user_id"),
    "token": ("user_id",),
    "share": ("workspace",),
    "session": ("user_id",),
    "login_link": ("user_id",),
    "workspace": (),
}
UNIQUE: dict[str, tuple[str, ...]] = {"user": ("name",)}


def open_directory(
    mongo_url: str | None, data_dir: Path, keyring: Keyring | None = None
) -> Directory:
    """MongoDB when the store is on MongoDB (one directory for every instance), otherwise
    SQLite in the data directory; its secrets sealed with `keyring` (server.directory.sealed)."""
    from server.directory.sealed import SealedDirectory

    backend: Directory
    if mongo_url:
        from server.directory.mongo import MongoDirectory

        backend = MongoDirectory(mongo_url)
    else:
        from server.directory.sqlite import SQLiteDirectory

        backend = SQLiteDirectory(data_dir / "directory.db")
    return SealedDirectory(backend, keyring)


__all__ = [
    "ApiToken",
    "AuditEvent",
    "Directory",
    "DirectoryError",
    "Exists",
    "LoginLink",
    "Member",
    "Session",
    "ShareLink",
    "User",
    "Workspace",
    "new_id",
    "now_ms",
    "open_directory",
]
