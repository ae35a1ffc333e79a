"""Signing in without an identity provider: one-time sign-in links
(`GET /api/auth/link?token=...`, made by `sinopia admin login-link USER` and by the first
start of an empty data directory), and `GET /api/auth/providers`, which tells the app's
sign-in page what this server offers."""

from __future__ import annotations

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.access import grants
from server.access.caller import auth_of
from server.api.account import begin_session, next_path_of
from server.http.problems import HTTPProblem
from server.http.routes import Api, Param, json

api = Api("access")


class Providers(BaseModel):
    oidc: bool = Field(description="an OpenID Connect provider is configured")
    login_url: str = Field(description="where its sign-in starts (add ?next=PATH)")


@api.get(
    grants.LOGIN_LINK_PATH,
    "public",
    params=(
        Param("token", "query", "the link's secret", required=True),
        Param("next", "query", "a path on this server to go to (default /)"),
    ),
    statuses={
        303: "Signed in: to `next`; or to /?signin=used|expired|invalid",
        429: "Too many sign-in attempts",
    },
)
async def sign_in_with_link(request: Request) -> Response:
    """Sign in with a one-time link (from `sinopia admin login-link`).

    Sets the session cookie (as the OpenID Connect sign-in does) and redirects to
    `next`. A link works once, for `SINOPIA_LOGIN_LINK_SECONDS`; a used, expired or unknown
    one redirects to the app, which says what happened and what to do.
    """
    auth = auth_of(request)
    address = request.client.host if request.client else "unknown"
    if auth.failure_limit.exhausted(address) or not auth.signin_limit.allow(address):
        raise HTTPProblem(429, "too many sign-in attempts, try again later")
    state, user = await grants.redeem_login_link(
        auth.directory, request.query_params.get("token", "")
    )
    if user is None:
        auth.failure_limit.allow(address)
        await auth.audit(
            "sign-in-failed",
            "anonymous",
            detail={"method": "link", "reason": state},
            address=address,
        )
        return RedirectResponse(f"/?signin={state}", status_code=303)
    return await begin_session(
        request, user, next_path_of(request.query_params.get("next")), {"method": "link"}
    )


@api.get("/api/auth/providers", "public", answer=Providers)
async def providers(request: Request) -> Response:
    """How one signs in here: an identity provider, or links from an administrator."""
    settings = auth_of(request).settings
    return json(Providers(oidc=settings.oidc_enabled, login_url="/api/auth/login"))
