"""The directory backends (SQLite, MongoDB) behave alike: one conformance suite."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server.directory import (
    ApiToken,
    AuditEvent,
    Directory,
    Exists,
    LoginLink,
    Member,
    Session,
    ShareLink,
    User,
    Workspace,
    new_id,
    open_directory,
)


@pytest.fixture(params=["sqlite", "mongodb"])
async def directory(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Directory]:
    url = request.getfixturevalue("mongo_database") if request.param == "mongodb" else None
    d = open_directory(url, tmp_path)
    await d.open()
    try:
        yield d
    finally:
        await d.close()


async def test_users_workspaces_and_members(directory: Directory) -> None:
    start = await directory.generation()
    alice = await directory.add_user(User(new_id("u"), "alice", email="alice@example.org"))
    assert await directory.generation() > start
    with pytest.raises(Exists):
        await directory.add_user(User(new_id("u"), "alice"))
    assert await directory.user_by_name("alice") == alice
    assert await directory.user_by_email("ALICE@example.org") == alice
    assert await directory.user(alice.id) == alice
    assert await directory.user_by_name("nobody") is None
    linked = User(alice.id, "alice", email=alice.email, issuer="https://idp", subject="s-1")
    await directory.update_user(linked)
    assert await directory.user_by_identity("https://idp", "s-1") == linked
    assert await directory.user_by_identity("https://other", "s-1") is None

    await directory.add_workspace(Workspace("museum", "The Museum"))
    with pytest.raises(Exists):
        await directory.add_workspace(Workspace("museum"))
    assert [w.name for w in await directory.workspaces()] == ["museum"]
    assert await directory.set_member(Member("museum", alice.id, "editor")) is None
    before = await directory.generation()
    assert await directory.set_member(Member("museum", alice.id, "viewer")) == "editor"
    assert await directory.generation() > before
    assert (await directory.member("museum", alice.id)).role == "viewer"  # type: ignore[union-attr]
    assert [m.user_id for m in await directory.members("museum")] == [alice.id]
    assert [m.workspace for m in await directory.memberships(alice.id)] == ["museum"]
    assert await directory.remove_member("museum", alice.id) == "viewer"
    assert await directory.member("museum", alice.id) is None
    assert [u.name for u in await directory.users()] == ["alice"]


async def test_tokens_sessions_shares_and_revocation(directory: Directory) -> None:
    token = ApiToken("0123456789abcdef", "u1", "ci", "ab" * 32, workspaces=("museum",))
    await directory.add_token(token)
    assert await directory.token(token.id) == token
    assert await directory.tokens("u1") == [token]
    before = await directory.generation()
    revoked = await directory.revoke_token(token.id)
    assert revoked is not None and revoked.revoked_ms is not None
    assert await directory.generation() > before
    assert await directory.revoke_token(token.id) is None  # once
    assert (await directory.token(token.id)).revoked_ms == revoked.revoked_ms  # type: ignore[union-attr]

    session = Session("x1", "u1", csrf="c", expires_ms=10**13)
    await directory.add_session(session)
    assert await directory.session("x1") == session
    assert (await directory.revoke_session("x1")).revoked_ms  # type: ignore[union-attr]

    link = ShareLink("s1", "museum", "olga", 10**13, subject="museum/canvas/a")
    await directory.add_share(link)
    assert await directory.shares("museum") == [link]
    assert (await directory.revoke_share("s1")).revoked_ms  # type: ignore[union-attr]
    assert await directory.share("nope") is None


async def test_audit_log_pages_newest_first(directory: Directory) -> None:
    for i in range(5):
        await directory.add_event(AuditEvent("member-added", "olga", "museum", f"u{i}"))
    await directory.add_event(AuditEvent("sign-in", "user:olga", None, "olga", {"issuer": "x"}))
    page = await directory.events("museum", limit=3)
    assert [e.target for e in page] == ["u4", "u3", "u2"]
    older = await directory.events("museum", limit=10, before=page[-1].seq)
    assert [e.target for e in older] == ["u1", "u0"]
    [signin] = await directory.events(None)
    assert signin.detail == {"issuer": "x"} and signin.workspace is None


async def test_login_links_are_used_once(directory: Directory) -> None:
    link = LoginLink("ab" * 32, "u1", "cli:ops", expires_ms=10**13)
    await directory.add_login_link(link)
    assert await directory.login_link(link.id) == link
    assert await directory.login_links("u1") == [link]
    first, second = await asyncio.gather(
        directory.use_login_link(link.id), directory.use_login_link(link.id)
    )
    # Exactly one of two uses at once finds it unused.
    assert first is not None and second is not None
    assert sorted([first.used_ms is None, second.used_ms is None]) == [False, True]
    assert (await directory.login_link(link.id)).used_ms is not None  # type: ignore[union-attr]
    assert await directory.use_login_link("cd" * 32) is None
    await directory.remove_login_link(link.id)
    assert await directory.login_link(link.id) is None


async def test_a_workspace_keeps_its_tag_list(directory: Directory) -> None:
    await directory.add_workspace(Workspace("museum", "The Museum"))
    tags = [{"label": "crack", "color": "#aa0000"}, {"label": "flaking", "color": "#00aa00"}]
    changed = await directory.set_workspace_tags("museum", tags)
    assert changed is not None and list(changed.tags) == tags
    stored = await directory.workspace("museum")
    assert stored is not None and list(stored.tags) == tags and stored.title == "The Museum"
    assert await directory.set_workspace_tags("elsewhere", tags) is None
    assert await directory.workspace("elsewhere") is None
