"""The browser app (web-client/, built at install into `dist/`), served by `sinopia serve`:
its pages under a strict Content-Security-Policy, its hashed assets with long-lived
caching, and a page saying how to build it when the build is missing."""

from .pages import routes

__all__ = ["routes"]
