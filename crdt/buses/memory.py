"""The in-process bus: the embedded default.

`memory:` gives a bus with no one to talk to (one instance needs none). Buses made with
the same named hub, `memory://name`, see each other's messages: several instances in one
process, as tests run them.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from urllib.parse import urlsplit

from ..bus import Bus, BusMessage, Handler

schemes = ("memory",)


class Hub:
    def __init__(self) -> None:
        self.handlers: defaultdict[str, dict[str, Handler]] = defaultdict(dict)


_named: dict[str, Hub] = {}


def from_url(url: str, instance: str) -> MemoryBus:
    name = urlsplit(url).netloc
    return MemoryBus(instance, _named.setdefault(name, Hub()) if name else None)


class MemoryBus(Bus):
    def __init__(self, instance: str, hub: Hub | None = None) -> None:
        super().__init__(instance)
        # Alone (`memory:`), no other instance writes our documents.
        self.shared = hub is not None
        self.hub = hub or Hub()

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        for handlers in self.hub.handlers.values():
            handlers.pop(self.instance, None)

    async def ping(self) -> None:
        pass

    async def subscribe(self, doc: str, handler: Handler) -> None:
        self.hub.handlers[doc][self.instance] = handler

    async def unsubscribe(self, doc: str) -> None:
        handlers = self.hub.handlers.get(doc)
        if handlers is not None:
            handlers.pop(self.instance, None)
            if not handlers:
                del self.hub.handlers[doc]

    def publish(self, message: BusMessage) -> None:
        loop = asyncio.get_running_loop()
        for instance, handler in self.hub.handlers.get(message.doc, {}).items():
            if instance != self.instance:
                # Delivered on a later loop turn, as a network bus would.
                loop.call_soon(handler, message)
