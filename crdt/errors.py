"""Errors a live document raises, each carrying the websocket close code DESIGN.md documents.

The codes live here rather than in `server/` because they are part of the collaboration
protocol: any transport that speaks it reports the same failure the same way.
"""

from __future__ import annotations


class CollabError(Exception):
    """A failure that ends one connection (never the room) with `code` and a short reason."""

    code: int = 1011

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        # Websocket close reasons are limited to 123 bytes of UTF-8.
        self.reason = reason.encode()[:123].decode(errors="ignore")


class MalformedMessage(CollabError):
    code = 4400


class NotAuthenticated(CollabError):
    code = 4401


class NotAllowed(CollabError):
    code = 4403


class UnknownDocument(CollabError):
    code = 4404


class TooLarge(CollabError):
    code = 4413


class RateLimited(CollabError):
    code = 4429


class RoomFull(RateLimited):
    """The document's room is at its limit for this kind of client: a refusal for load,
    which may clear (the server may close a share link's socket with 1013 instead, so
    an embed tries again)."""


class TryLater(CollabError):
    """Refused for load, to a client that should come back: "try again later", which
    y-websocket retries (it stops for good on 4400-4499)."""

    code = 1013


class StoreUnavailable(CollabError):
    code = 1011


class IntegrityError(CollabError):
    """The stored history does not verify; the document is not served until it is fixed."""

    code = 1011


class InvalidName(ValueError):
    """A document name that is not `workspace/kind/id` in the safe character set."""
