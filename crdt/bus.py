"""The bus interface: fan-out of stored updates and of awareness between server instances.

A backend is one module under `crdt/buses/`. Updates on the bus are already stored, so a
lost bus message is repaired from the store; duplicates are harmless (CRDT updates are
idempotent). Every update carries its store sequence number, so a receiver can tell what
it has missed; a backend that may have lost messages of a document (a dropped connection,
a restarted server) says so with a `RESET` message, and the room re-reads the store.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass


class BusUnavailable(Exception):
    """The bus cannot carry messages now (its server is away, or rooms are re-syncing)."""


class Kind(enum.IntEnum):
    UPDATE = 0
    AWARENESS = 1
    # No payload: messages of this document may have been lost; re-sync from the store.
    RESET = 2
    # No payload: a room just opened; others answer with their clients' awareness.
    AWARENESS_QUERY = 3


@dataclass(frozen=True, slots=True)
class BusMessage:
    doc: str
    kind: Kind
    payload: bytes
    # For updates, the sequence number the store gave them (0 for awareness).
    seq: int
    # The instance that published it; a bus never hands an instance its own messages.
    origin: str


Handler = Callable[[BusMessage], None]


class Bus(ABC):
    # Whether other instances may write the same documents: rooms then re-check the store
    # when a client joins, since the bus may still be carrying what others stored.
    shared = True

    def __init__(self, instance: str) -> None:
        self.instance = instance
        # Called with the seconds between another instance's publish and our receipt of
        # an update (metrics); backends that cannot tell never call it.
        self.on_delay: Callable[[float], None] | None = None

    def describe(self) -> str:
        """Where messages travel, for the log (never with credentials)."""
        return type(self).__name__

    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def ping(self) -> None:
        """Raise unless the bus can carry messages now."""

    @abstractmethod
    async def subscribe(self, doc: str, handler: Handler) -> None:
        """Deliver other instances' messages about `doc` to `handler` (one per doc).

        Every update stored after this returns is delivered (or a `RESET` is). Subscribing
        again to the same doc replaces the handler before the first await, so nothing
        falls between the old handler and the new one.
        """

    @abstractmethod
    async def unsubscribe(self, doc: str) -> None: ...

    @abstractmethod
    def publish(self, message: BusMessage) -> None:
        """Queue `message` for the other instances; never blocks (backends batch sends)."""

    def shared_documents(self) -> int:
        """Open documents another instance has open too, as far as this bus can tell."""
        return 0
