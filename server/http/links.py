"""The public URLs the REST APIs put into what they serve (annotation IRIs, IIIF ids).

With `SINOPIA_PUBLIC_URL` set they are built from it, so an annotation's IRI is the same
however the server was reached (and a forged `Host` header cannot put another host into
them); otherwise from the request (uvicorn honours `X-Forwarded-Proto` from the
proxies in `FORWARDED_ALLOW_IPS`, so a TLS proxy in front gives https IRIs)."""

from __future__ import annotations

from starlette.requests import Request

from crdt import DocumentName
from iiif import WorkspaceUrls


def base_url(request: Request) -> str:
    """The server's public root, without a trailing slash."""
    configured = getattr(request.app.state.settings, "public_url", None)
    return (configured or str(request.base_url)).rstrip("/")


def workspace_urls(request: Request, workspace: str) -> WorkspaceUrls:
    return WorkspaceUrls(base_url=base_url(request), workspace=workspace)


def container(request: Request, name: DocumentName) -> str:
    """The W3C annotation container IRI of a subject (ends with a slash)."""
    return workspace_urls(request, name.workspace).annotation_container(name.kind, name.id)
