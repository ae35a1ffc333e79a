"""Operations on the directory that the REST API and `sinopia admin` share: each checks
its input, does one change, and writes the audit event that goes with it. (Credentials,
which need the signing machinery of access, are made in server.access.grants.)"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, TypeVar

from crdt import DocumentName
from crdt.errors import InvalidName
from server.directory import (
    ROLES,
    AuditEvent,
    Directory,
    Exists,
    Member,
    Role,
    User,
    Workspace,
    new_id,
)

USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
T = TypeVar("T")
_NOT_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class Refused(Exception):
    """An operation that cannot be done as asked; `status` is the HTTP status to answer."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def found(record: T | None, missing: str) -> T:
    """`record`, or a 404 saying what is `missing`."""
    if record is None:
        raise Refused(404, missing)
    return record


def duration_seconds(text: str) -> float | None:
    """`30d`, `12h`, `90m`, `2w`, `3600s` as seconds; `never` as None."""
    text = text.strip().lower()
    if text in ("never", "none", "0"):
        return None
    match = _DURATION.fullmatch(text)
    if not match:
        raise Refused(400, f"{text!r} is not a duration such as 30d, 12h, 90m or never")
    return float(match.group(1)) * _UNITS[match.group(2)]


def check_workspace_name(name: str) -> None:
    try:
        DocumentName.of(name, "canvas", "x")
    except InvalidName as exc:
        raise Refused(400, str(exc).replace("workspace", "a workspace name", 1)) from None


def check_role(role: str) -> Role:
    if role not in ROLES:
        raise Refused(400, f"role must be one of {', '.join(ROLES)}")
    return role  # type: ignore[return-value]


async def audit(directory: Directory, action: str, actor: str, **fields: Any) -> None:
    await directory.add_event(AuditEvent(action, actor, **fields))


async def add_user(
    directory: Directory,
    name: str,
    actor: str,
    *,
    email: str | None = None,
    admin: bool = False,
    display_name: str | None = None,
    issuer: str | None = None,
    subject: str | None = None,
) -> User:
    """A new user; `issuer` and `subject` link the external identity they sign in as."""
    if not USER_NAME.fullmatch(name):
        raise Refused(400, "a user name is 1-64 characters of A-Z a-z 0-9 . _ -")
    if email is not None and not EMAIL.fullmatch(email):
        raise Refused(400, f"{email!r} is not an email address")
    user = User(
        new_id("u"),
        name,
        email=email.lower() if email else None,
        admin=admin,
        display_name=display_name,
        issuer=issuer,
        subject=subject,
    )
    try:
        await directory.add_user(user)
    except Exists:
        raise Refused(409, f"there is already a user named {name}") from None
    detail: dict[str, Any] = {"admin": admin, **({"issuer": issuer} if issuer else {})}
    await audit(directory, "user-created", actor, target=user.label, detail=detail)
    return user


async def free_name(directory: Directory, hint: str) -> str:
    """A user name made from `hint` (an email's local part, a display name) that no user
    has yet: `ada`, else `ada-2`, `ada-3`, ..."""
    base = _NOT_NAME.sub("-", hint.split("@")[0]).strip("-._")[:48] or "user"
    name, n = base, 1
    while await directory.user_by_name(name) is not None:
        n += 1
        name = f"{base}-{n}"
    return name


async def find_user(directory: Directory, ref: str) -> User:
    """A user by name, id or email."""
    user = (
        await directory.user_by_name(ref)
        or await directory.user(ref)
        or (await directory.user_by_email(ref) if "@" in ref else None)
    )
    if user is None:
        raise Refused(404, f"no user {ref!r}")
    return user


async def add_workspace(directory: Directory, name: str, actor: str, title: str = "") -> Workspace:
    check_workspace_name(name)
    try:
        workspace = await directory.add_workspace(Workspace(name, title or name))
    except Exists:
        raise Refused(409, f"workspace {name} exists") from None
    await audit(directory, "workspace-created", actor, workspace=name, target=name)
    return workspace


def check_deletion(name: str, confirm: str | None) -> None:
    """Deleting a workspace destroys its data for good: the caller repeats its name."""
    if confirm != name:
        raise Refused(
            400,
            f"deleting workspace {name} destroys its documents and history for good "
            f"(no backup can bring them back): confirm with its name, confirm={name}",
        )


async def remove_workspace(directory: Directory, name: str, actor: str) -> Workspace:
    """The directory's part of deleting a workspace (the store's is Store.delete_workspace)."""
    workspace = await directory.remove_workspace(name)
    if workspace is None:
        raise Refused(404, f"no such workspace: {name}")
    await audit(directory, "workspace-deleted", actor, target=name)
    return workspace


async def existing_workspace(directory: Directory, name: str) -> Workspace:
    workspace = await directory.workspace(name)
    if workspace is None:
        raise Refused(404, f"no such workspace: {name}")
    return workspace


async def set_member(
    directory: Directory, workspace: str, user: User, role: Role, actor: str
) -> Role | None:
    """Add `user` to `workspace` with `role`, or change their role; returns the old one."""
    await existing_workspace(directory, workspace)
    current = await directory.member(workspace, user.id)
    if current is not None and current.role == "owner" and role != "owner":
        await _keep_an_owner(directory, workspace, user.id)
    previous = await directory.set_member(Member(workspace, user.id, role))
    if previous != role:
        action = "member-added" if previous is None else "member-role-changed"
        detail = {"role": role, **({"previous": previous} if previous else {})}
        await audit(directory, action, actor, workspace=workspace, target=user.label, detail=detail)
    return previous


async def remove_member(directory: Directory, workspace: str, user: User, actor: str) -> None:
    current = await directory.member(workspace, user.id)
    if current is None:
        raise Refused(404, f"{user.name} is not a member of {workspace}")
    if current.role == "owner":
        await _keep_an_owner(directory, workspace, user.id)
    await directory.remove_member(workspace, user.id)
    await audit(
        directory,
        "member-removed",
        actor,
        workspace=workspace,
        target=user.label,
        detail={"previous": current.role},
    )


async def _keep_an_owner(directory: Directory, workspace: str, leaving: str) -> None:
    owners = [m for m in await directory.members(workspace) if m.role == "owner"]
    if all(m.user_id == leaving for m in owners):
        raise Refused(409, f"{workspace} must keep at least one owner")


async def set_disabled(directory: Directory, user: User, disabled: bool, actor: str) -> None:
    await directory.update_user(replace(user, disabled=disabled))
    action = "user-disabled" if disabled else "user-enabled"
    await audit(directory, action, actor, target=user.label)
