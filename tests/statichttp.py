"""A small static HTTP server on loopback for tests: IIIF manifests to import from a URL,
and the page that runs Mirador. No network beyond 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class _Quiet(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".json": "application/json"}

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def end_headers(self) -> None:
        # As IIIF image servers do: viewers on other origins read info.json with fetch.
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def do_GET(self) -> None:
        # /redirect/N/name -> N redirects, then name (redirect-following tests).
        parts = self.path.strip("/").split("/")
        if parts[0] == "redirect" and len(parts) >= 3:
            hops = int(parts[1])
            target = (
                "/" + "/".join(parts[2:])
                if hops <= 1
                else f"/redirect/{hops - 1}/" + "/".join(parts[2:])
            )
            self.send_response(302)
            self.send_header("Location", target)
            self.end_headers()
            return
        super().do_GET()


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve `directory` at the returned base URL (no trailing slash) until the block ends."""
    with serving(partial(_Quiet, directory=str(directory))) as base:
        yield base


@contextmanager
def serving(handler: Any) -> Iterator[str]:
    """Run an http.server request handler on loopback; yields its base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, name="static-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
