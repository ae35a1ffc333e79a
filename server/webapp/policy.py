"""The app pages' Content-Security-Policy: scripts, styles and fonts from Sinopia only;
images and connections to Sinopia and to the image services named by the manifests of
the workspaces the signed-in user may read.

The app moves between pages without reloading (History API), and a page keeps the
policy it was loaded with, so the policy covers every workspace the user may read, not
only the one in the path. Someone not signed in gets Sinopia alone: a workspace's image
services are not told to whoever asks.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from starlette.requests import Request

from server.access.caller import auth_of
from server.access.principal import Principal
from server.api import workspace_index
from server.http.origins import origin, subject_origins
from server.http.problems import HTTPProblem

__all__ = ["app_policy", "content_security_policy", "origin", "subject_origins"]

log = logging.getLogger("sinopia.webapp")

# Origins named in a policy, at most: a header stays well under proxies' limits (8 KiB)
# with this many; images from further origins are refused by the browser (and logged).
MAX_ORIGINS = 100


# What every other response says (server.http.security_headers): never framed. Embed
# pages, made to be framed, give their own.
NOT_FRAMED = "frame-ancestors 'none'"


def content_security_policy(origins: Iterable[str] = ()) -> str:
    sources = " ".join(sorted(set(origins)))
    extra = f" {sources}" if sources else ""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data: blob:{extra}",
            # 'self' covers the same-origin websocket (ws: and wss:) in CSP Level 3.
            f"connect-src 'self'{extra}",
            "font-src 'self'",
            "worker-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            NOT_FRAMED,
        ]
    )


async def _principal(request: Request) -> Principal | None:
    try:
        return await auth_of(request).request_principal(request)
    except HTTPProblem:
        # A stale cookie or a bad token: the app shows the sign-in page.
        return None


async def readable_workspaces(request: Request, principal: Principal) -> list[str]:
    auth = auth_of(request)
    found = []
    for workspace in await auth.directory.workspaces():
        if await auth.role(principal, workspace.name) is not None:
            found.append(workspace.name)
    return found


async def app_policy(request: Request) -> str:
    """The policy for an app page requested by whoever `request` comes from."""
    principal = await _principal(request)
    if principal is None or principal.user is None:
        return content_security_policy()
    index = workspace_index.of(request.app)
    origins: set[str] = set()
    for workspace in await readable_workspaces(request, principal):
        for _, subject in await index.subjects(workspace):
            origins |= subject_origins(subject)
    if len(origins) > MAX_ORIGINS:
        log.warning(
            "more image service origins than a policy names (%d > %d): some images are refused",
            len(origins),
            MAX_ORIGINS,
            extra={"event": "csp"},
        )
        origins = set(sorted(origins)[:MAX_ORIGINS])
    return content_security_policy(origins)
