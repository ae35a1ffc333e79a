"""`/api/workspaces...`: workspaces, their members and roles, share links and audit log."""

from __future__ import annotations

import asyncio
import shutil
from typing import Any

from pydantic import BaseModel, Field, model_validator
from starlette.requests import Request
from starlette.responses import Response

from server.access import grants
from server.access.auth import Auth
from server.access.caller import auth_of, caller
from server.access.roles import Role
from server.api.account import audit_page
from server.directory import ShareLink, User, operations
from server.http.problems import HTTPProblem
from server.http.routes import Api, Param, Record, also, json

api = Api("workspaces")
BASE = "/api/workspaces/{workspace}"
Events = Param("before", "query", "only events before this sequence number", "integer")


class WorkspaceOut(BaseModel):
    name: str
    title: str
    role: str | None = Field(None, description="yours")


class WorkspaceList(BaseModel):
    workspaces: list[WorkspaceOut]


class WorkspaceIn(BaseModel):
    name: str
    title: str = ""
    owner: str | None = Field(None, description="a user (name, id or email) to make owner")


class MemberOut(BaseModel):
    user: str
    user_id: str
    role: str
    email: str | None = None
    display_name: str | None = None


class Members(BaseModel):
    workspace: str
    members: list[MemberOut]


class MemberIn(BaseModel):
    """Invite by user (name or id) or by email: an email no user has yet makes a user
    that is linked to whoever first signs in with that (verified) address."""

    user: str | None = None
    email: str | None = None
    role: Role

    @model_validator(mode="after")
    def _one_of(self) -> MemberIn:
        if (self.user is None) == (self.email is None):
            raise ValueError("give either user or email")
        return self


class RoleIn(BaseModel):
    role: Role


class ShareIn(BaseModel):
    subject: str | None = Field(None, description="kind/id of one subject in this workspace")
    manifest: str | None = Field(None, description="a manifest's IRI: all its subjects")
    label: str = Field("", max_length=200)
    expires: str = Field("30d", description="e.g. 7d, 12h; `never` for no expiry")
    origins: list[str] = Field(
        [], description="web origins whose pages may embed it (https://museum.example); none: any"
    )


class ShareChange(BaseModel):
    """What to change on a share link; its token (and every snippet) stays the same."""

    expires: str | None = Field(None, description="a new expiry from now (30d, 12h) or `never`")
    origins: list[str] | None = Field(None, description="the web origins that may embed it")
    label: str | None = Field(None, max_length=200)


class ShareOut(Record):
    id: str
    subject: str | None = None
    manifest: str | None = None
    label: str = ""
    created_by: str
    created: int = also("created_ms")
    expires: int | None = also("expires_ms", None)
    never_expires: bool = Field(False, description="made without expiry: lasts until revoked")
    revoked: int | None = also("revoked_ms", None)
    origins: list[str] = []


class ShareCreated(ShareOut):
    token: str = Field(description="the link's credential (the `token` parameter); shown once")


class Shares(BaseModel):
    shares: list[ShareOut]


def _share_out(link: ShareLink) -> ShareOut:
    out = ShareOut.model_validate(link)
    out.never_expires = link.expires_ms is None
    return out


def _member_out(user: User | None, user_id: str, role: str, private: bool) -> MemberOut:
    return MemberOut(
        user=user.name if user else user_id,
        user_id=user_id,
        role=role,
        email=user.email if user and private else None,
        display_name=user.display_name if user else None,
    )


@api.get("/api/workspaces", "user", answer=WorkspaceList)
async def list_workspaces(request: Request) -> Response:
    """The workspaces you can see, with your role."""
    auth = auth_of(request)
    principal = caller(request)
    found = []
    for workspace in await auth.directory.workspaces():
        role = await auth.role(principal, workspace.name)
        if role is not None:
            found.append(WorkspaceOut(name=workspace.name, title=workspace.title, role=role))
    return json(WorkspaceList(workspaces=found))


@api.post(
    "/api/workspaces",
    "admin",
    answer=WorkspaceOut,
    statuses={400: "Bad input", 404: "No such owner", 409: "The name is taken"},
)
async def create_workspace(request: Request, wanted: WorkspaceIn) -> Response:
    """Create a workspace."""
    auth = auth_of(request)
    principal = caller(request)
    owner = await operations.find_user(auth.directory, wanted.owner) if wanted.owner else None
    workspace = await operations.add_workspace(
        auth.directory, wanted.name, principal.label, wanted.title
    )
    if owner is not None:
        await operations.set_member(auth.directory, workspace.name, owner, "owner", principal.label)
    out = WorkspaceOut(name=workspace.name, title=workspace.title, role="owner")
    return json(out, status=201, headers={"Location": f"/api/workspaces/{workspace.name}"})


@api.get(BASE, "read", answer=WorkspaceOut)
async def get_workspace(request: Request) -> Response:
    """One workspace, with your role."""
    auth = auth_of(request)
    name = request.path_params["workspace"]
    workspace = await auth.workspace(name)
    assert workspace is not None  # the guard checked
    role = await auth.role(caller(request), name)
    return json(WorkspaceOut(name=workspace.name, title=workspace.title, role=role))


class Deleted(BaseModel):
    deleted: str
    documents: int = Field(description="documents destroyed with the workspace's data key")


Confirm = Param(
    "confirm", "query", "the workspace's name again: its data is destroyed for good", "string", True
)


@api.delete(
    BASE,
    "manage",
    answer=Deleted,
    params=(Confirm,),
    statuses={400: "Not confirmed", 404: "No such workspace"},
)
async def delete_workspace(request: Request) -> Response:
    """Delete a workspace for good (owners), destroying its data key.

    Its documents, history, members and share links go, and with its data key whatever
    copy of its data is left can no longer be decrypted (backups taken before: see the
    README). Its open sockets close (4404). `confirm` must repeat the workspace's name.
    """
    auth = auth_of(request)
    name = request.path_params["workspace"]
    operations.check_deletion(name, request.query_params.get("confirm"))
    await operations.remove_workspace(auth.directory, name, caller(request).label)
    state = request.app.state
    prefix = name + "/"
    for conn in list(state.collab.connections):
        if conn.doc.startswith(prefix):
            conn.close(4404, f"workspace {name} was deleted")
    # Rooms flush what they hold before the store forgets the workspace: nothing is
    # written for it afterwards (which would make it a new data key).
    for doc in [d for d in state.manager.rooms if d.startswith(prefix)]:
        await state.manager.evict(doc)
    removed = await state.store.delete_workspace(name)
    if state.keyring is not None:
        # Decrypted working copies of images are named by content, not by workspace: all
        # go (the others are copied again when next read).
        await asyncio.to_thread(shutil.rmtree, state.images.work_dir / "pyramids", True)
    # This instance knows now (other instances within their access poll).
    await auth.watch_once()
    return json(Deleted(deleted=name, documents=len(removed)))


@api.get(BASE + "/members", "read", answer=Members)
async def list_members(request: Request) -> Response:
    """Members and their roles (emails for owners only)."""
    auth = auth_of(request)
    name = request.path_params["workspace"]
    private = await auth.role(caller(request), name) == "owner"
    out = []
    for member in await auth.directory.members(name):
        user = await auth.directory.user(member.user_id)
        out.append(_member_out(user, member.user_id, member.role, private))
    return json(Members(workspace=name, members=sorted(out, key=lambda m: m.user)))


async def _invitee(auth: Auth, wanted: MemberIn, actor: str) -> User:
    if wanted.user is not None:
        return await operations.find_user(auth.directory, wanted.user)
    assert wanted.email is not None
    email = wanted.email.strip().lower()
    found = await auth.directory.user_by_email(email)
    if found is not None:
        return found
    name = await operations.free_name(auth.directory, email)
    return await operations.add_user(auth.directory, name, actor, email=email)


@api.post(
    BASE + "/members",
    "manage",
    answer=MemberOut,
    statuses={400: "Bad input", 404: "No such user", 409: "The last owner cannot leave"},
)
async def add_member(request: Request, wanted: MemberIn) -> Response:
    """Invite someone (by user or email) with a role, or change their role."""
    user = await _invitee(auth_of(request), wanted, caller(request).label)
    out = await _set_role(request, user, wanted.role)
    return json(out, status=201, headers={"Location": f"{request.url.path}/{user.name}"})


async def _set_role(request: Request, user: User, role: Role) -> MemberOut:
    """Make `user` a member of the workspace in the path with `role` (or change theirs)."""
    auth = auth_of(request)
    workspace = request.path_params["workspace"]
    await operations.set_member(auth.directory, workspace, user, role, caller(request).label)
    # This instance knows at once (others within their access poll).
    await auth.watch_once()
    return _member_out(user, user.id, role, True)


async def _member_user(auth: Auth, request: Request) -> User:
    return await operations.find_user(auth.directory, request.path_params["user"])


@api.put(
    BASE + "/members/{user}",
    "manage",
    answer=MemberOut,
    statuses={400: "Bad input", 404: "Not a member", 409: "The last owner cannot leave"},
)
async def change_role(request: Request, wanted: RoleIn) -> Response:
    """Change a member's role: open sockets follow within a second."""
    directory = auth_of(request).directory
    user = await _member_user(auth_of(request), request)
    workspace = request.path_params["workspace"]
    if await directory.member(workspace, user.id) is None:
        raise HTTPProblem(404, f"{user.name} is not a member of {workspace}")
    return json(await _set_role(request, user, wanted.role))


@api.delete(
    BASE + "/members/{user}",
    "manage",
    statuses={404: "Not a member", 409: "The last owner cannot leave"},
)
async def remove_member(request: Request) -> Response:
    """Remove a member: their open sockets close (4403) within a second."""
    auth = auth_of(request)
    user = await _member_user(auth, request)
    await operations.remove_member(
        auth.directory, request.path_params["workspace"], user, caller(request).label
    )
    # This instance knows at once (others within their access poll).
    await auth.watch_once()
    return json({"removed": user.name})


@api.get(BASE + "/shares", "manage", answer=Shares)
async def list_shares(request: Request) -> Response:
    """Share links of this workspace."""
    found = await auth_of(request).directory.shares(request.path_params["workspace"])
    return json(Shares(shares=[_share_out(s) for s in sorted(found, key=lambda s: s.created_ms)]))


@api.post(BASE + "/shares", "manage", answer=ShareCreated, statuses={400: "Bad input"})
async def create_share(request: Request, wanted: ShareIn) -> Response:
    """Create a share link: viewer on one subject, or on one manifest's subjects.

    Embed a live read-only view with the token as the `token` parameter of the
    websocket URL (y-websocket: `params: {token}`), or with `<sinopia-viewer>`. `expires`
    `never` makes a link that lasts until revoked; `origins` limits the web pages that
    may embed it.
    """
    auth = auth_of(request)
    seconds = operations.duration_seconds(wanted.expires)
    token, link = await grants.create_share(
        auth.directory,
        auth.signer,
        request.path_params["workspace"],
        caller(request).label,
        subject=wanted.subject,
        manifest=wanted.manifest,
        label=wanted.label,
        expires_seconds=seconds,
        origins=wanted.origins,
    )
    created = ShareCreated(**_share_out(link).model_dump(), token=token)
    return json(created, status=201, headers={"Location": f"{request.url.path}/{link.id}"})


async def _link(request: Request) -> ShareLink:
    link = await auth_of(request).directory.share(request.path_params["share"])
    if link is None or link.workspace != request.path_params["workspace"]:
        raise HTTPProblem(404, "no such share link")
    return link


@api.patch(
    BASE + "/shares/{share}",
    "manage",
    answer=ShareOut,
    statuses={400: "Bad input", 404: "No such share link", 409: "Revoked"},
)
async def change_share(request: Request, wanted: ShareChange) -> Response:
    """Renew a share link (`expires`: a new expiry from now, or `never`), or change its
    origins or label, keeping its token: embeds already on pages go on working."""
    link = await _link(request)
    options: dict[str, Any] = {"origins": wanted.origins, "label": wanted.label}
    if wanted.expires is not None:
        options["expires_seconds"] = operations.duration_seconds(wanted.expires)
    auth = auth_of(request)
    changed = await grants.change_share(auth.directory, link, caller(request).label, **options)
    # This instance knows at once (others within their access poll).
    await auth.watch_once()
    return json(_share_out(changed))


@api.delete(
    BASE + "/shares/{share}", "manage", answer=ShareOut, statuses={404: "No such share link"}
)
async def revoke_share(request: Request) -> Response:
    """Revoke a share link: its viewers are disconnected (4401) within a second."""
    auth = auth_of(request)
    link = await _link(request)
    await grants.revoke_share(auth.directory, link, caller(request).label)
    # This instance knows at once (others within their access poll).
    await auth.watch_once()
    revoked = await auth.directory.share(link.id)
    assert revoked is not None
    return json(_share_out(revoked))


@api.get(
    BASE + "/audit",
    "manage",
    params=(Events, Param("limit", "query", "at most this many (default 100)", "integer")),
)
async def workspace_audit(request: Request) -> Response:
    """Security events of this workspace, newest first (owners)."""
    return await audit_page(request, request.path_params["workspace"])
