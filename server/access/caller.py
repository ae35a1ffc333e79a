"""Who is asking, for REST handlers: what the guard (server.access.auth) established before
the handler ran, and the rules that depend on it inside a handler (commenters change only
their own comments)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request

from annotations import Agent, Annotation
from server.http.problems import HTTPProblem

if TYPE_CHECKING:
    from server.access.auth import Auth
    from server.access.principal import Access, Principal

COMMENT_MOTIVATIONS = frozenset({"commenting", "replying"})


def auth_of(request: Request) -> Auth:
    """The app's authority: the directory, the signer, the settings of access."""
    auth: Auth = request.app.state.auth
    return auth


def caller(request: Request) -> Principal:
    """The authenticated principal (routes with a permission other than `public`)."""
    principal: Principal = request.state.auth
    return principal


def access_of(request: Request) -> Access | None:
    """The caller's role on the workspace in the path (routes with a workspace)."""
    access: Access | None = getattr(request.state, "access", None)
    return access


def agent(request: Request) -> Agent | None:
    """The signed-in user as a W3C creator, if the request has one."""
    auth = getattr(request.state, "auth", None)
    user = getattr(auth, "user", None)
    if user is None:
        return None
    return Agent(id=user.agent_iri, type="Person", name=user.display_name or user.name)


def is_commenter(request: Request) -> bool:
    access = access_of(request)
    return access is not None and access.role == "commenter"


def commenter_may(request: Request, annotation: Annotation | None, new: bool) -> None:
    """403 unless a commenter's change is to their own comment or reply (others: no-op)."""
    if not is_commenter(request):
        return
    me = agent(request)
    user = getattr(getattr(request.state, "auth", None), "user", None)
    own = {me.id, user.legacy_agent_iri} if me is not None and user is not None else set()
    # Their id, or for a comment made before ids were used the name it was made with.
    mine = annotation is not None and (
        annotation.creator is not None and annotation.creator.id in own
    )
    if not mine:
        raise HTTPProblem(403, "commenters may change only their own comments and replies")
    if new and annotation is not None and annotation.motivation not in COMMENT_MOTIVATIONS:
        raise HTTPProblem(403, "commenters may only add comments and replies (motivation)")
