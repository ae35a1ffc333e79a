"""What a room needs of a connected client; the server implements it over a websocket."""

from __future__ import annotations

from typing import Protocol


class Peer(Protocol):
    # Unique per connection: recorded with every update it sends (`Entry.client_id`).
    id: str
    # Who is behind the connection: recorded with every update it sends.
    principal: str
    # False for read-only roles: their updates are refused and change nothing; read-only
    # peers count against the room's watcher limit instead of the editors'.
    can_write: bool
    # False for peers outside presence (share links: the public): they receive nobody's
    # awareness, and what they send of theirs is dropped.
    presence: bool

    def send(self, message: bytes) -> None:
        """Queue a message; never blocks (a peer too slow to keep up is disconnected)."""

    def close(self, code: int, reason: str) -> None:
        """Close the connection with a websocket close code; never blocks."""
