"""The app's routes: `/`, `/w/{workspace}`, `/w/{workspace}/{kind}/{id}` (and any deeper
app path under `/w/`) answer the built `index.html` (the client routes on the path);
`/assets/...` the hashed files Vite wrote, cached for a year as immutable (a new build
has new names). Without a build, the pages say how to make one."""

from __future__ import annotations

import asyncio
import gzip
import html
import mimetypes
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from .policy import app_policy

DIST = Path(__file__).resolve().parent / "dist"

IMMUTABLE = "public, max-age=31536000, immutable"
# The embed's entry keeps its name across builds (museum pages name it): browsers may
# keep it this long (seconds) before asking again, so a new build reaches every page
# within minutes; its chunks have hashed names and are immutable.
EMBED_ENTRY_MAX_AGE = 300
# Other origins load the embed as a module script: CORS for any origin, no credentials
# (it is public code; the share link travels in the element's attribute).
EMBED_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Cross-Origin-Resource-Policy": "cross-origin",
    "X-Content-Type-Options": "nosniff",
}
# The iframe page's own stylesheet: the viewer fills the frame.
FRAME_CSS = (
    "html,body{margin:0;height:100%;background:#1c1b1a}"
    "sinopia-viewer{height:100%;border-radius:0}\n"
)
# Compressed on first request and kept: the files never change under one name.
COMPRESSIBLE = frozenset(
    {"application/javascript", "text/javascript", "text/css", "application/json",
     "image/svg+xml", "application/wasm", "text/plain"}
)  # fmt: skip
# The most compressed bytes kept in memory (the app's assets are a few MB at most).
MAX_COMPRESSED_BYTES = 32 * 1024 * 1024

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sinopia: the browser app is not built</title>
</head><body>
<h1>The browser app is not built</h1>
<p>Sinopia's server is running, but the browser app was not built when it was installed
(Node.js 20 or later is needed, or <code>SINOPIA_SKIP_WEB_BUILD</code> was set).</p>
<p>Install Node.js 20 or later, then reinstall, which builds it:</p>
<pre>.venv/bin/pip install -e .</pre>
<p>or build it by hand: <code>cd web-client &amp;&amp; npm ci &amp;&amp; npm run build</code>.
Then reload this page (no restart needed).</p>
<p>The REST API (<a href="/api/openapi.json">/api/openapi.json</a>) and the live websocket
work without it.</p>
<p><small>Looked for: {where}</small></p>
</body></html>
"""


class WebApp:
    def __init__(self, dist: Path) -> None:
        self.dist = dist
        self.assets = (dist / "assets").resolve()
        self.embed = (dist / "embed").resolve()
        self._index: tuple[int, bytes] | None = None
        self._compressed: dict[tuple[Path, int], bytes] = {}
        self._compressed_bytes = 0

    def _index_html(self) -> bytes | None:
        path = self.dist / "index.html"
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            return None
        if self._index is None or self._index[0] != mtime:
            self._index = (mtime, path.read_bytes())
        return self._index[1]

    async def page(self, request: Request) -> Response:
        """The app: the client reads the path and shows that page (or says it is unknown)."""
        body = self._index_html()
        if body is None:
            where = html.escape(str(self.dist / "index.html"))
            return HTMLResponse(
                NOT_BUILT.replace("{where}", where),
                status_code=503,
                headers={
                    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
                    "Cache-Control": "no-store",
                    "Retry-After": "60",
                },
            )
        return Response(
            body,
            media_type="text/html; charset=utf-8",
            headers={
                "Content-Security-Policy": await app_policy(request),
                # Always asked again: a new build must be picked up by the next load.
                "Cache-Control": "no-cache",
                "Vary": "Cookie",
            },
        )

    async def asset(self, request: Request) -> Response:
        path = self._asset_path(request.path_params["path"])
        if path is None:
            return PlainTextResponse("no such file", status_code=404)
        return await self._file(request, path, {"Cache-Control": IMMUTABLE})

    async def embed_entry(self, request: Request) -> Response:
        """`/embed/sinopia-viewer.js`, the embed's entry, for any origin."""
        path = self._asset_path("sinopia-viewer.js", self.embed)
        if path is None:
            return PlainTextResponse(
                "the embed is not built: npm run build --prefix web-client",
                status_code=503,
                headers=EMBED_HEADERS,
            )
        cache = f"public, max-age={EMBED_ENTRY_MAX_AGE}"
        return await self._file(request, path, {"Cache-Control": cache, **EMBED_HEADERS})

    async def embed_chunk(self, request: Request) -> Response:
        """The chunks the embed's entry loads on demand, for any origin."""
        path = self._asset_path("chunks/" + request.path_params["path"], self.embed)
        if path is None:
            return PlainTextResponse("no such file", status_code=404, headers=EMBED_HEADERS)
        return await self._file(request, path, {"Cache-Control": IMMUTABLE, **EMBED_HEADERS})

    async def frame_css(self, request: Request) -> Response:
        return Response(
            FRAME_CSS,
            media_type="text/css",
            headers={"Cache-Control": f"public, max-age={EMBED_ENTRY_MAX_AGE}"},
        )

    async def _file(self, request: Request, path: Path, headers: dict[str, str]) -> Response:
        media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        headers = {**headers, "Vary": "Accept-Encoding"}
        if media in COMPRESSIBLE and "gzip" in request.headers.get("accept-encoding", ""):
            body = await asyncio.to_thread(self._gzipped, path)
            if body is not None:
                headers["Content-Encoding"] = "gzip"
                return Response(body, media_type=media, headers=headers)
        return FileResponse(path, media_type=media, headers=headers)

    def _asset_path(self, relative: str, folder: Path | None = None) -> Path | None:
        # Only files inside the folder (dist/assets): no `..`, no hidden files, no
        # directories.
        folder = folder or self.assets
        if not relative or any(
            p in ("", ".", "..") or p.startswith(".") for p in relative.split("/")
        ):
            return None
        path = (folder / relative).resolve()
        if not path.is_relative_to(folder) or not path.is_file():
            return None
        return path

    def _gzipped(self, path: Path) -> bytes | None:
        key = (path, path.stat().st_mtime_ns)
        found = self._compressed.get(key)
        if found is None:
            found = gzip.compress(path.read_bytes(), compresslevel=9, mtime=0)
            if self._compressed_bytes + len(found) > MAX_COMPRESSED_BYTES:
                return None
            self._compressed[key] = found
            self._compressed_bytes += len(found)
        return found


def routes(dist: Path | None = None) -> list[BaseRoute]:
    """The app's pages and assets: outside the API's route table (they carry no data; the
    app reads everything through the guarded API)."""
    app = WebApp(dist or DIST)
    return [
        Route("/", app.page, methods=["GET", "HEAD"]),
        Route("/w/{path:path}", app.page, methods=["GET", "HEAD"]),
        Route("/assets/{path:path}", app.asset, methods=["GET", "HEAD"]),
        # The embeddable viewer (web-client/vite.embed.config.ts); its iframe page and
        # oEmbed are in the API's table (server/api/embed.py).
        Route("/embed/sinopia-viewer.js", app.embed_entry, methods=["GET", "HEAD"]),
        Route("/embed/frame.css", app.frame_css, methods=["GET", "HEAD"]),
        Route("/embed/chunks/{path:path}", app.embed_chunk, methods=["GET", "HEAD"]),
    ]


# The paths above, for checks that every other route comes from the API's table.
PATHS = frozenset(
    {
        "/",
        "/w/{path:path}",
        "/assets/{path:path}",
        "/embed/sinopia-viewer.js",
        "/embed/frame.css",
        "/embed/chunks/{path:path}",
    }
)
