"""Embeds for sites whose CMS strips scripts: the iframe page
`/embed/{workspace}/{kind}/{id}?token={share link}` (the `<sinopia-viewer>` element alone
on a page of Sinopia's), and oEmbed (`/oembed?url=...`), so that an editor who pastes the
iframe page's link into WordPress or Drupal gets the viewer.

The page is framed only by the origins the share link names (`frame-ancestors`; any,
when it names none), loads nothing but Sinopia and the subject's image service (or its
3D model, and the blob: URLs three.js makes of what the model embeds), and
sends no referrer: its URL carries the link's token. A link that was revoked or has
expired still gets the page, whose viewer says the view is no longer available (in the
visitor's language).
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from crdt import DocumentName
from crdt.errors import InvalidName
from server.access.caller import auth_of
from server.access.principal import Principal
from server.access.tokens import BadCredential
from server.api import workspace_index
from server.http import links
from server.http.origins import subject_origins
from server.http.problems import HTTPProblem
from server.http.routes import Api, Param, json

api = Api("embed")

FRAME = "/embed/{workspace}/{kind}/{id}"
FRAME_PATH = re.compile(r"^/embed/([^/]+)/([^/]+)/([^/]+)$")
# An iframe's size when the consumer asks for none (oEmbed maxwidth/maxheight cap it):
# a 4:3 box that fits a CMS's content column.
DEFAULT_WIDTH, DEFAULT_HEIGHT = 800, 600
# The smallest box the viewer is usable in (its buttons and the list toggle), in CSS px.
MIN_SIZE = 200
# A content state longer than this is not a view of one region or annotation (the
# encoded form of one is a few hundred characters): refused rather than put in a page.
MAX_CONTENT_STATE_CHARS = 4096
# How long an oEmbed consumer may keep our answer (seconds): the snippet never changes
# for a link, and revocation is told by the viewer itself.
OEMBED_CACHE_SECONDS = 3600

Token = Param("token", "query", "the share link's token", required=True)
ContentStateParam = Param(
    "iiif-content", "query", "a IIIF Content State to open (a region or an annotation)"
)
Lang = Param("lang", "query", "the viewer's language (en, fr, de, it); else the visitor's")
LANGUAGES = ("en", "fr", "de", "it")

PAGE = """<!doctype html>
<html{lang}><head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>{title}</title>
<link rel="alternate" type="application/json+oembed" href="{oembed}" title="{title}">
<link rel="stylesheet" href="/embed/frame.css">
<link rel="icon" href="data:,">
<script type="module" src="/embed/sinopia-viewer.js"></script>
</head><body>
<sinopia-viewer server="{server}" document="{document}" share="{token}"{state}></sinopia-viewer>
</body></html>
"""

REFUSED = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<title>Sinopia: not a share link</title></head><body>
<p>This page shows a live view with a <strong>share link</strong>. Make one in Sinopia
(a subject's Embed action) and use the iframe code it gives.</p>
</body></html>
"""


def _policy(image_origins: set[str], ancestors: tuple[str, ...], model: bool = False) -> str:
    images = "".join(f" {o}" for o in sorted(image_origins))
    # A 3D model's loader (three.js) fetches the textures and buffers a GLB embeds from
    # the blob: and data: URLs it makes of them.
    made = " blob: data:" if model else ""
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data: blob:{images}",
            # 'self' covers the same-origin websocket (ws: and wss:) in CSP Level 3.
            f"connect-src 'self'{made}{images}",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
            # The link's sites, and Sinopia's own pages (the Embed dialog's preview).
            "frame-ancestors " + (" ".join(("'self'", *ancestors)) if ancestors else "*"),
        ]
    )


async def _share_of(request: Request, token: str) -> Principal | None:
    """The share link behind `token`, or None when it does not check out (revoked,
    expired, malformed): the viewer then says the view is no longer available."""
    try:
        return await auth_of(request).authenticate(token)
    except BadCredential:
        return None


def _name(workspace: str, kind: str, id: str) -> DocumentName:
    try:
        return DocumentName.of(workspace, kind, id)
    except InvalidName as exc:
        raise HTTPProblem(404, f"no such subject: {exc}") from None


def _label(entry: Any, name: DocumentName) -> str:
    subject = entry.subject if entry is not None else None
    return (subject.label if subject is not None and subject.label else "") or name.id


@api.get(
    FRAME,
    "public",
    params=(Token, ContentStateParam, Lang),
    statuses={403: "Not a share link", 404: "No such subject", 410: "Link withdrawn"},
)
async def embed_page(request: Request) -> Response:
    """The iframe page: a live, read-only viewer of one subject with a share link.

    Framed only by the share link's origins (any when it names none); linked to its
    oEmbed answer. Paste `<iframe src="this URL">` (or the URL, for oEmbed).
    """
    params = request.path_params
    name = _name(params["workspace"], params["kind"], params["id"])
    token = request.query_params.get("token", "").strip()
    state = request.query_params.get("iiif-content")
    if state is not None and len(state) > MAX_CONTENT_STATE_CHARS:
        raise HTTPProblem(400, f"iiif-content is longer than {MAX_CONTENT_STATE_CHARS} characters")
    lang = request.query_params.get("lang")
    if lang is not None and lang not in LANGUAGES:
        raise HTTPProblem(400, f"lang must be one of {', '.join(LANGUAGES)}")
    principal = await _share_of(request, token) if token else None
    headers = {
        "Referrer-Policy": "no-referrer",
        "X-Robots-Tag": "noindex",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    if principal is not None and principal.share is None:
        # A member's own credential must never end up in a page others frame.
        headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
        return HTMLResponse(REFUSED, status_code=403, headers=headers)
    link = principal.share if principal is not None else None
    auth = auth_of(request)
    entry = None
    status = 200
    if link is None or not await auth.share_covers(link, name):
        status = 410
    else:
        entry = await workspace_index.of(request.app).entry(name)
    base = links.base_url(request)
    title = _label(entry, name)
    page_url = f"{base}{request.url.path}?{urlencode({'token': token})}"
    oembed = f"{base}/oembed?{urlencode({'url': page_url, 'format': 'json'})}"
    body = PAGE.format(
        lang=f' lang="{lang}"' if lang else "",
        title=html.escape(f"{title} · Sinopia"),
        oembed=html.escape(oembed),
        server=html.escape(base),
        document=html.escape(str(name)),
        token=html.escape(token),
        state=f' iiif-content="{html.escape(state)}"' if state else "",
    )
    images = subject_origins(entry.subject) if entry is not None and entry.subject else set()
    model = entry is not None and entry.subject is not None and entry.subject.asset is not None
    headers["Content-Security-Policy"] = _policy(images, link.origins if link else (), model)
    return HTMLResponse(body, status_code=status, headers=headers)


class ImageServiceOut(BaseModel):
    id: str
    version: int


class ImageOut(BaseModel):
    id: str
    format: str | None = None


class EmbedSubject(BaseModel):
    """What a viewer needs to show one subject before (or without) its live document."""

    document: str = Field(description="workspace/kind/id")
    kind: str
    label: str
    canvas: str = Field(description="the canvas (or scene) IRI annotations target")
    manifest: str | None = None
    width: int | None = None
    height: int | None = None
    image_service: ImageServiceOut | None = None
    image: ImageOut | None = None
    model: str | None = Field(None, description="a 3D model's file")
    annotations: str = Field(
        description="its Presentation 3 AnnotationPage (ETag'd: poll it with If-None-Match)"
    )


@api.get(
    "/api/embed/{workspace}/{kind}/{id}",
    "read",
    answer=EmbedSubject,
    statuses={404: "No such subject"},
)
async def embed_subject(request: Request) -> Response:
    """One subject as the embed shows it: its image (or model) and where its
    annotations are, for a share link, with nothing about who works on it.

    The viewer opens the image at once, while its live document connects; and polls the
    AnnotationPage when websockets are blocked.
    """
    params = request.path_params
    name = _name(params["workspace"], params["kind"], params["id"])
    entry = await workspace_index.of(request.app).entry(name)
    subject = entry.subject
    if subject is None:
        raise HTTPProblem(404, f"no such subject: {name}")
    urls = links.workspace_urls(request, name.workspace)
    answer = EmbedSubject(
        document=str(name),
        kind=name.kind,
        label=subject.label or name.id,
        canvas=subject.iiif_id,
        manifest=subject.manifest,
        width=subject.width,
        height=subject.height,
        image_service=ImageServiceOut(
            id=subject.image_service.id, version=subject.image_service.version
        )
        if subject.image_service
        else None,
        image=ImageOut(id=subject.image.id, format=subject.image.format) if subject.image else None,
        model=subject.asset.url if subject.asset else None,
        annotations=urls.annotation_page(name.kind, name.id),
    )
    return json(answer)


def _size(request: Request, key: str, default: int) -> int:
    raw = request.query_params.get(key)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HTTPProblem(400, f"{key} must be a whole number of pixels") from None
    if value < MIN_SIZE:
        raise HTTPProblem(400, f"{key} must be at least {MIN_SIZE} pixels")
    return min(value, default)


@api.get(
    "/oembed",
    "public",
    params=(
        Param("url", "query", "an iframe page's URL (/embed/...?token=...)", required=True),
        Param("format", "query", "json (the only one)"),
        Param("maxwidth", "query", "the most width the consumer has", "integer"),
        Param("maxheight", "query", "the most height the consumer has", "integer"),
    ),
    statuses={400: "Bad input", 404: "Not an embed of this server", 501: "Not JSON"},
)
async def oembed(request: Request) -> Response:
    """oEmbed (rich): the iframe code for an embed page's URL, for a CMS that is given
    the link."""
    fmt = request.query_params.get("format", "json")
    if fmt != "json":
        raise HTTPProblem(501, "only format=json is offered")
    url = request.query_params.get("url", "").strip()
    if not url:
        raise HTTPProblem(400, "give url: the embed page's link (/embed/...?token=...)")
    base = links.base_url(request)
    parts = urlsplit(url)
    found = FRAME_PATH.match(parts.path)
    ours = {urlsplit(base).netloc, request.headers.get("host", "")}
    if parts.netloc not in ours or found is None:
        raise HTTPProblem(404, "not an embed page of this server (/embed/{ws}/{kind}/{id})")
    name = _name(*found.groups())
    token = (parse_qs(parts.query).get("token") or [""])[0]
    principal = await _share_of(request, token) if token else None
    link = principal.share if principal is not None else None
    if link is None or not await auth_of(request).share_covers(link, name):
        raise HTTPProblem(404, "this embed's share link is not valid (revoked or expired?)")
    entry = await workspace_index.of(request.app).entry(name)
    width = _size(request, "maxwidth", DEFAULT_WIDTH)
    height = _size(request, "maxheight", DEFAULT_HEIGHT)
    title = _label(entry, name)
    src = f"{base}/embed/{name}?{urlencode({'token': token})}"
    snippet = (
        f'<iframe src="{html.escape(src)}" width="{width}" height="{height}" '
        f'title="{html.escape(title)}" loading="lazy" allow="fullscreen; clipboard-write" '
        f'referrerpolicy="no-referrer" style="border:0;max-width:100%"></iframe>'
    )
    answer = {
        "version": "1.0",
        "type": "rich",
        "provider_name": "Sinopia",
        "provider_url": base + "/",
        "title": title,
        "width": width,
        "height": height,
        "html": snippet,
        "cache_age": OEMBED_CACHE_SECONDS,
    }
    return JSONResponse(answer, headers={"Access-Control-Allow-Origin": "*"})
