"""`/api/workspaces...`: workspaces, their members and roles, share links and audit log."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator
from starlette.requests import Request
from starlette.responses import Response

from server.access import grants
from server.access.auth import Auth
from server.access.caller import auth_of, caller
from server.access.roles import Role
from server.api.account import audit_page
from server.directory import ShareLink, User, operations
from server.directory.operations import Refused
from server.http.problems import HTTPProblem
from server.http.requests import read_body
from server.http.routes import Api, Param, json

api = Api()
TAG = "workspaces"
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
    expires: str = Field("30d", description="e.g. 7d, 12h")


class ShareOut(BaseModel):
    id: str
    subject: str | None = None
    manifest: str | None = None
    label: str = ""
    created_by: str
    created: int
    expires: int
    revoked: int | None = None


class ShareCreated(ShareOut):
    token: str = Field(description="the link's credential (the `token` parameter); shown once")


class Shares(BaseModel):
    shares: list[ShareOut]


def _share_out(link: ShareLink) -> ShareOut:
    return ShareOut(
        id=link.id,
        subject=link.subject,
        manifest=link.manifest,
        label=link.label,
        created_by=link.created_by,
        created=link.created_ms,
        expires=link.expires_ms,
        revoked=link.revoked_ms,
    )


def _member_out(user: User | None, user_id: str, role: str, private: bool) -> MemberOut:
    return MemberOut(
        user=user.name if user else user_id,
        user_id=user_id,
        role=role,
        email=user.email if user and private else None,
        display_name=user.display_name if user else None,
    )


@api.route(
    "GET",
    "/api/workspaces",
    summary="The workspaces you can see, with your role",
    permission="user",
    tag=TAG,
    answer=WorkspaceList,
)
async def list_workspaces(request: Request) -> Response:
    auth = auth_of(request)
    principal = caller(request)
    found = []
    for workspace in await auth.directory.workspaces():
        role = await auth.role(principal, workspace.name)
        if role is not None:
            found.append(WorkspaceOut(name=workspace.name, title=workspace.title, role=role))
    return json(WorkspaceList(workspaces=found))


@api.route(
    "POST",
    "/api/workspaces",
    summary="Create a workspace",
    permission="admin",
    tag=TAG,
    body=WorkspaceIn,
    answer=WorkspaceOut,
    statuses={400: "Bad input", 404: "No such owner", 409: "The name is taken"},
)
async def create_workspace(request: Request) -> Response:
    auth = auth_of(request)
    principal = caller(request)
    wanted = await read_body(request, WorkspaceIn)
    owner = await operations.find_user(auth.directory, wanted.owner) if wanted.owner else None
    workspace = await operations.add_workspace(
        auth.directory, wanted.name, principal.label, wanted.title
    )
    if owner is not None:
        await operations.set_member(auth.directory, workspace.name, owner, "owner", principal.label)
    out = WorkspaceOut(name=workspace.name, title=workspace.title, role="owner")
    return json(out, status=201, headers={"Location": f"/api/workspaces/{workspace.name}"})


@api.route(
    "GET",
    BASE,
    summary="One workspace, with your role",
    permission="read",
    tag=TAG,
    answer=WorkspaceOut,
)
async def get_workspace(request: Request) -> Response:
    auth = auth_of(request)
    name = request.path_params["workspace"]
    workspace = await auth.workspace(name)
    assert workspace is not None  # the guard checked
    role = await auth.role(caller(request), name)
    return json(WorkspaceOut(name=workspace.name, title=workspace.title, role=role))


@api.route(
    "GET",
    BASE + "/members",
    summary="Members and their roles (emails for owners only)",
    permission="read",
    tag=TAG,
    answer=Members,
)
async def list_members(request: Request) -> Response:
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
    base = email.split("@")[0]
    name = "".join(c if c.isalnum() or c in "._-" else "-" for c in base).strip("-._")[:48]
    candidate = name or "user"
    n = 1
    while await auth.directory.user_by_name(candidate) is not None:
        n += 1
        candidate = f"{name}-{n}"
    return await operations.add_user(auth.directory, candidate, actor, email=email)


@api.route(
    "POST",
    BASE + "/members",
    summary="Invite someone (by user or email) with a role, or change their role",
    permission="manage",
    tag=TAG,
    body=MemberIn,
    answer=MemberOut,
    statuses={400: "Bad input", 404: "No such user", 409: "The last owner cannot leave"},
)
async def add_member(request: Request) -> Response:
    auth = auth_of(request)
    principal = caller(request)
    name = request.path_params["workspace"]
    wanted = await read_body(request, MemberIn)
    user = await _invitee(auth, wanted, principal.label)
    await operations.set_member(auth.directory, name, user, wanted.role, principal.label)
    out = _member_out(user, user.id, wanted.role, True)
    return json(out, status=201, headers={"Location": f"{request.url.path}/{user.name}"})


async def _member_user(auth: Auth, request: Request) -> User:
    return await operations.find_user(auth.directory, request.path_params["user"])


@api.route(
    "PUT",
    BASE + "/members/{user}",
    summary="Change a member's role: open sockets follow within a second",
    permission="manage",
    tag=TAG,
    body=RoleIn,
    answer=MemberOut,
    statuses={400: "Bad input", 404: "Not a member", 409: "The last owner cannot leave"},
)
async def change_role(request: Request) -> Response:
    auth = auth_of(request)
    principal = caller(request)
    name = request.path_params["workspace"]
    wanted = await read_body(request, RoleIn)
    user = await _member_user(auth, request)
    if await auth.directory.member(name, user.id) is None:
        raise HTTPProblem(404, f"{user.name} is not a member of {name}")
    await operations.set_member(auth.directory, name, user, wanted.role, principal.label)
    return json(_member_out(user, user.id, wanted.role, True))


@api.route(
    "DELETE",
    BASE + "/members/{user}",
    summary="Remove a member: their open sockets close (4403) within a second",
    permission="manage",
    tag=TAG,
    statuses={404: "Not a member", 409: "The last owner cannot leave"},
)
async def remove_member(request: Request) -> Response:
    auth = auth_of(request)
    user = await _member_user(auth, request)
    await operations.remove_member(
        auth.directory, request.path_params["workspace"], user, caller(request).label
    )
    return json({"removed": user.name})


@api.route(
    "GET",
    BASE + "/shares",
    summary="Share links of this workspace",
    permission="manage",
    tag=TAG,
    answer=Shares,
)
async def list_shares(request: Request) -> Response:
    found = await auth_of(request).directory.shares(request.path_params["workspace"])
    return json(Shares(shares=[_share_out(s) for s in sorted(found, key=lambda s: s.created_ms)]))


@api.route(
    "POST",
    BASE + "/shares",
    summary="Create a share link: viewer on one subject, or on one manifest's subjects",
    permission="manage",
    tag=TAG,
    body=ShareIn,
    answer=ShareCreated,
    statuses={400: "Bad input"},
)
async def create_share(request: Request) -> Response:
    """Embed a live read-only view with the token as the `token` parameter of the
    websocket URL (y-websocket: `params: {token}`)."""
    auth = auth_of(request)
    wanted = await read_body(request, ShareIn)
    seconds = operations.duration_seconds(wanted.expires)
    if seconds is None:
        raise Refused(400, "share links always expire")
    token, link = await grants.create_share(
        auth.directory,
        auth.signer,
        request.path_params["workspace"],
        caller(request).label,
        subject=wanted.subject,
        manifest=wanted.manifest,
        label=wanted.label,
        expires_seconds=seconds,
    )
    created = ShareCreated(**_share_out(link).model_dump(), token=token)
    return json(created, status=201, headers={"Location": f"{request.url.path}/{link.id}"})


@api.route(
    "DELETE",
    BASE + "/shares/{share}",
    summary="Revoke a share link: its viewers are disconnected (4401) within a second",
    permission="manage",
    tag=TAG,
    answer=ShareOut,
    statuses={404: "No such share link"},
)
async def revoke_share(request: Request) -> Response:
    auth = auth_of(request)
    link = await auth.directory.share(request.path_params["share"])
    if link is None or link.workspace != request.path_params["workspace"]:
        raise HTTPProblem(404, "no such share link")
    await grants.revoke_share(auth.directory, link, caller(request).label)
    revoked = await auth.directory.share(link.id)
    assert revoked is not None
    return json(_share_out(revoked))


@api.route(
    "GET",
    BASE + "/audit",
    summary="Security events of this workspace, newest first (owners)",
    permission="manage",
    tag=TAG,
    params=(Events, Param("limit", "query", "at most this many (default 100)", "integer")),
)
async def workspace_audit(request: Request) -> Response:
    return await audit_page(request, request.path_params["workspace"])
