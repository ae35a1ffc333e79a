"""Headers every response of the public annotation and IIIF interfaces carries, whatever
produced it (a handler, the auth guard's 401, a 405, a redirect):

- CORS for any origin, without credentials: IIIF viewers and annotation clients run on
  other sites and send tokens in `Authorization` or the `token` parameter; cookies are
  never sent cross-site (no `Access-Control-Allow-Credentials`), so a page elsewhere can
  do no more than its own tokens allow. Origins in `SINOPIA_CORS_ORIGINS` are answered
  with credentials, as the rest of the API does. The protocol's response headers are
  exposed to scripts (ETag, Link, Location, Allow, Content-Location, Vary, ...).
- The same CORS on the 3D model files uploads stored (`/api/media/{ws}/models/{model}`),
  which an embed on another site loads with its share link as a bearer header, by byte
  ranges if it likes (`Range`, `If-Range` allowed; `Content-Range`, `Accept-Ranges`,
  `Content-Length` exposed). The rest of `/api/media/` (uploads) is the app's alone.
- On an annotation container, the Web Annotation Protocol's `Link` headers (its LDP type
  and `constrainedBy`), which it requires on all responses.

Preflight requests are answered here, before authentication: browsers send them without
credentials.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PREFIXES = ("/api/annotations/", "/iiif/", "/api/iiif/", "/api/mirador/", "/api/embed/")
MODEL_FILE_PATH = re.compile(r"^/api/media/[^/]+/models/[^/]+$")
CONTAINER_PATH = re.compile(r"^/api/annotations/[^/]+/[^/]+/[^/]+/$")

CONTAINER_LINKS = (
    '<http://www.w3.org/ns/ldp#BasicContainer>; rel="type", '
    '<http://www.w3.org/TR/annotation-protocol/>; rel="http://www.w3.org/ns/ldp#constrainedBy"'
)
EXPOSED = (
    "ETag, Link, Location, Allow, Content-Location, Vary, Accept-Post, "
    "Preference-Applied, WWW-Authenticate, Content-Range, Accept-Ranges, Content-Length"
)
METHODS = "GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE"
REQUEST_HEADERS = (
    "Accept, Authorization, Content-Type, If-Match, If-None-Match, Prefer, Slug, X-CSRF-Token, "
    "Range, If-Range"
)
MAX_AGE = "600"


class ProtocolHeaders:
    def __init__(self, app: ASGIApp, credentialed_origins: list[str] | None = None) -> None:
        self.app = app
        self.credentialed = {o.rstrip("/") for o in credentialed_origins or []}

    def _cors(self, headers: MutableHeaders, origin: str | None) -> None:
        for name in ("access-control-allow-origin", "access-control-allow-credentials"):
            if name in headers:
                del headers[name]
        if origin and origin.rstrip("/") in self.credentialed:
            headers["Access-Control-Allow-Origin"] = origin
            headers["Access-Control-Allow-Credentials"] = "true"
        else:
            headers["Access-Control-Allow-Origin"] = "*"
        if self.credentialed:
            # The answer depends on the Origin only when some origins get credentials.
            vary = [v.strip() for v in headers.get("vary", "").split(",") if v.strip()]
            if "origin" not in {v.lower() for v in vary}:
                headers["Vary"] = ", ".join([*vary, "Origin"])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not (
            scope["path"].startswith(PREFIXES) or MODEL_FILE_PATH.match(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        origin = request_headers.get("origin")
        if (
            scope["method"] == "OPTIONS"
            and origin
            and "access-control-request-method" in request_headers
        ):
            headers = MutableHeaders()
            self._cors(headers, origin)
            headers["Access-Control-Allow-Methods"] = METHODS
            headers["Access-Control-Allow-Headers"] = REQUEST_HEADERS
            headers["Access-Control-Max-Age"] = MAX_AGE
            headers["Content-Length"] = "0"
            if CONTAINER_PATH.match(scope["path"]):
                headers["Link"] = CONTAINER_LINKS
            await send({"type": "http.response.start", "status": 204, "headers": headers.raw})
            await send({"type": "http.response.body", "body": b""})
            return
        container = CONTAINER_PATH.match(scope["path"]) and b"page=" not in scope.get(
            "query_string", b""
        )

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                self._cors(headers, origin)
                headers["Access-Control-Expose-Headers"] = EXPOSED
                if container and "link" not in headers:
                    headers["Link"] = CONTAINER_LINKS
            await send(message)

        await self.app(scope, receive, send_with_headers)
