"""Security headers on every HTTP response, whatever produced it (a handler, a problem,
the auth guard's 401, a 404, a static file):

- `X-Content-Type-Options: nosniff`: a browser never runs an upload or a JSON answer as
  a script or a page because it looks like one.
- `Referrer-Policy` (`same-origin` by default): URLs here can carry a token (`?token=` of
  share links and embeds), which must not travel to image servers in `Referer`.
- Not framed: a response without a policy of its own gets the one given here
  (`frame-ancestors 'none'`, from server/webapp/policy.py) and `X-Frame-Options: DENY`
  for browsers that know only that. Embed pages (`/embed/...`) are made to be framed and
  say where in their own policy, so they are left alone; so is any response that set a
  `Content-Security-Policy` itself (the app pages' names `frame-ancestors 'none'` too).
- `Strict-Transport-Security` when the request came over https (directly, or through a
  proxy uvicorn trusts, see FORWARDED_ALLOW_IPS) or the public URL is https; never on
  plain http, where browsers ignore it anyway.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

EMBED_PREFIX = "/embed/"


class SecurityHeaders:
    def __init__(
        self,
        app: ASGIApp,
        *,
        not_framed: str,
        referrer_policy: str = "same-origin",
        hsts_seconds: int = 0,
        public_https: bool = False,
    ) -> None:
        self.app = app
        self.not_framed = not_framed
        self.referrer_policy = referrer_policy
        self.hsts = f"max-age={hsts_seconds}" if hsts_seconds > 0 else None
        self.public_https = public_https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        embed = scope.get("path", "").startswith(EMBED_PREFIX)
        https = self.public_https or scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", self.referrer_policy)
                if not embed and "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = self.not_framed
                if not embed:
                    headers.setdefault("X-Frame-Options", "DENY")
                if https and self.hsts:
                    headers.setdefault("Strict-Transport-Security", self.hsts)
            await send(message)

        await self.app(scope, receive, send_with_headers)
