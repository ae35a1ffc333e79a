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
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.requests import Request

from iiif import Subject
from server.access.caller import auth_of
from server.access.principal import Principal
from server.api import workspace_index
from server.http.problems import HTTPProblem

log = logging.getLogger("sinopia.webapp")

# Origins named in a policy, at most: a header stays well under proxies' limits (8 KiB)
# with this many; images from further origins are refused by the browser (and logged).
MAX_ORIGINS = 100
# A host as it may appear in a source expression: a DNS name, IPv4, or bracketed IPv6.
# Anything else in a manifest (spaces, `;`, quotes) could add directives, so is dropped.
_HOST = re.compile(
    r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)*"
)
_IPV6 = re.compile(r"\[[0-9a-f:.]+\]")


def origin(url: str | None) -> str | None:
    """`scheme://host[:port]` of an http(s) URL, or None if it is not one we can name."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or parts.username or parts.password:
        return None
    host = (parts.hostname or "").lower()
    if not (_HOST.fullmatch(host) or _IPV6.fullmatch(f"[{host}]")):
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def subject_origins(subject: Subject) -> set[str]:
    """Where the app loads a subject's pictures from: its image service (info.json and
    tiles), its image, its thumbnail, a 3D model's file."""
    urls = [
        subject.image_service.id if subject.image_service else None,
        subject.image.id if subject.image else None,
        subject.thumbnail,
        subject.asset.url if subject.asset else None,
    ]
    return {o for o in map(origin, urls) if o}


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
