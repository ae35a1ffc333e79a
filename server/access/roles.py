"""Workspace roles and what each may do: the one place that ranks them."""

from __future__ import annotations

# Lowest first (server.directory.ROLES): every role may do what the ones before it may.
from server.directory import ROLES, Role

__all__ = ["NEEDED", "ROLES", "Role", "allows", "can_write", "is_role", "lower", "rank"]

# The least role each route-table permission needs on the workspace in the path.
# "public", "user" (any signed-in principal) and "admin" (instance operators) name no role.
NEEDED: dict[str, Role] = {
    "read": "viewer",
    "comment": "commenter",
    "write": "editor",
    "approve": "lead",
    "manage": "owner",
}


def rank(role: str | None) -> int:
    """0 for no role, then 1 (viewer) to 5 (owner)."""
    return ROLES.index(role) + 1 if role in ROLES else 0  # type: ignore[arg-type]


def is_role(value: str) -> bool:
    return value in ROLES


def lower(a: Role | None, b: Role | None) -> Role | None:
    """The lesser of two roles; None (no role) is below all. `b` None means no cap."""
    if b is None:
        return a
    if a is None:
        return None
    return a if rank(a) <= rank(b) else b


def allows(role: str | None, permission: str) -> bool:
    needed = NEEDED.get(permission)
    return needed is not None and rank(role) >= rank(needed)


def can_write(role: str | None) -> bool:
    """Whether a live socket may send updates at all (commenters: only comments, checked
    per update)."""
    return rank(role) >= rank("commenter")
