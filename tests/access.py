"""Credentials for tests: every access to a server needs one, so the fixtures make an
operator (an instance administrator) with a token, and the workspaces tests use, through
the same directory and operations as `sinopia admin` (no bypass of the checks).

The directory is opened on a thread of its own (its own event loop) so that `Running.ws`
can stay a plain function; SQLite allows the server and this to write at once, and a
running server sees each change at once (no negative caching)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from crdt.keyring import open_keyring
from server.access import grants
from server.directory import Directory, open_directory, operations
from server.directory.operations import Refused
from server.settings import Settings

T = TypeVar("T")

OPERATOR = "tester"


def run_in_thread(work: Callable[[Directory], Awaitable[T]], settings: Settings) -> T:
    result: dict[str, Any] = {}

    async def main() -> None:
        directory = open_directory(
            settings.mongo_url, settings.data_dir, open_keyring(settings.key_url)
        )
        await directory.open()
        try:
            result["value"] = await work(directory)
        finally:
            await directory.close()

    def target() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=target, name="test-directory")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]  # type: ignore[no-any-return]


async def operator_token(directory: Directory, name: str = OPERATOR) -> str:
    """A token of an instance administrator (every workspace, as owner)."""
    user = await directory.user_by_name(name)
    if user is None:
        user = await operations.add_user(directory, name, "test", admin=True)
    token, _ = await grants.create_token(directory, user, "test", label="tests")
    return token


async def ensure_workspace(directory: Directory, workspace: str) -> None:
    try:
        await operations.add_workspace(directory, workspace, "test")
    except Refused as exc:
        if exc.status != 409:
            raise


def provision(settings: Settings, workspaces: tuple[str, ...] = ()) -> str:
    async def work(directory: Directory) -> str:
        for workspace in workspaces:
            await ensure_workspace(directory, workspace)
        return await operator_token(directory)

    return run_in_thread(work, settings)


def add_workspace(settings: Settings, workspace: str) -> None:
    async def work(directory: Directory) -> None:
        await ensure_workspace(directory, workspace)

    run_in_thread(work, settings)


async def user_token(
    server: Any,
    name: str,
    workspace: str | None = None,
    role: str | None = None,
    **token_options: Any,
) -> str:
    """In-process server: a user `name` (made if needed), `role` in `workspace` (if
    given), and a new token of theirs."""
    directory: Directory = server.app.state.auth.directory
    user = await directory.user_by_name(name)
    if user is None:
        user = await operations.add_user(directory, name, "test")
    if workspace is not None:
        server.workspace(workspace)
        if role is not None:
            await operations.set_member(directory, workspace, user, role, "test")  # type: ignore[arg-type]
    token, _ = await grants.create_token(directory, user, "test", **token_options)
    return token


async def share_token(server: Any, doc: str) -> str:
    """In-process server: a new share link to `doc` (`workspace/kind/id`), as an owner
    makes one; returns its token."""
    workspace, subject = doc.split("/", 1)
    server.workspace(workspace)
    auth = server.app.state.auth
    token, _ = await grants.create_share(
        auth.directory, auth.signer, workspace, "test", subject=subject
    )
    return token


async def user_id(server: Any, name: str) -> str:
    """In-process server: the pseudonymous id of user `name`, as history and annotations
    carry it (`user:<id>`, `urn:sinopia:user:<id>`)."""
    directory: Directory = server.app.state.auth.directory
    user = await directory.user_by_name(name)
    assert user is not None, f"no user {name}"
    return user.id
