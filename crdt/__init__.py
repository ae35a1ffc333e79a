"""Live documents: rooms, the Yjs sync protocol, the update store and the fan-out bus.

Knows nothing of HTTP: a transport hands frames to a `Room` through the `Peer` protocol.
"""

from .bus import Bus, BusMessage
from .errors import CollabError
from .manager import RoomManager
from .names import DocumentName
from .peer import Peer
from .room import Room, Stats
from .store import Store, StoreError
from .types import Checkpoint, Entry, Limits, Loaded, NewEntry

__all__ = [
    "Bus",
    "BusMessage",
    "Checkpoint",
    "CollabError",
    "DocumentName",
    "Entry",
    "Limits",
    "Loaded",
    "NewEntry",
    "Peer",
    "Room",
    "RoomManager",
    "Stats",
    "Store",
    "StoreError",
]
