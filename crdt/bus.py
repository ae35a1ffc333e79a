"""The bus interface: fan-out of stored updates and of awareness between server instances.

A backend is one module under `crdt/buses/`. Updates on the bus are already stored, so a
lost bus message is repaired from the store; duplicates are harmless (CRDT updates are
idempotent).
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass


class Kind(enum.IntEnum):
    UPDATE = 0
    AWARENESS = 1


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
    def __init__(self, instance: str) -> None:
        self.instance = instance

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
        """Deliver other instances' messages about `doc` to `handler` (one per doc)."""

    @abstractmethod
    async def unsubscribe(self, doc: str) -> None: ...

    @abstractmethod
    def publish(self, message: BusMessage) -> None:
        """Queue `message` for the other instances; never blocks (backends batch sends)."""
