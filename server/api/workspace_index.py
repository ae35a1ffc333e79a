"""A workspace's subjects and annotations, for what spans documents: the IIIF manifest,
Content Search, the Mirador facade's lookups.

A live document is read from its room (so a search sees edits made a moment ago); any
other from the store (its latest checkpoint and the entries after it), without opening a
room. What was read is kept per document until the document changes: the key is the
room's head and state vector while it is live, the store's head otherwise. Only a
workspace's own documents are ever read: that is what keeps workspaces apart.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from pycrdt import Doc

from annotations import Annotation, Invalid, read_annotations, read_subject
from crdt import DocumentName, RoomManager
from crdt.errors import InvalidName
from iiif import Subject

SUBJECT_KINDS = ("canvas", "model")
# Documents whose reading is kept; the least recently used is dropped beyond this.
MAX_CACHED = 5000


@dataclass(frozen=True)
class Entry:
    name: DocumentName
    subject: Subject | None
    annotations: list[Annotation]
    # The last stored change: when (ms since the epoch) and by whom (a principal label).
    changed_ms: int | None = None
    changed_by: str | None = None


class WorkspaceIndex:
    def __init__(self, manager: RoomManager) -> None:
        self.manager = manager
        self._cache: OrderedDict[str, tuple[Any, Entry]] = OrderedDict()

    async def names(self, workspace: str) -> list[DocumentName]:
        """The workspace's canvas and model documents, stored or live."""
        prefix = f"{workspace}/"
        found = set(await self.manager.store.documents(prefix))
        found.update(n for n in self.manager.rooms if n.startswith(prefix))
        out = []
        for raw in sorted(found):
            try:
                name = DocumentName.parse(raw)
            except InvalidName:
                continue
            if name.kind in SUBJECT_KINDS and name.workspace == workspace:
                out.append(name)
        return out

    async def entry(self, name: DocumentName) -> Entry:
        key_name = str(name)
        room = self.manager.rooms.get(key_name)
        if room is not None and not room.broken:
            key: Any = ("live", room.head, room.doc.get_state())
            doc: Doc | None = room.doc
        else:
            key = ("stored", await self.manager.store.head(key_name))
            doc = None
        cached = self._cache.get(key_name)
        if cached is not None and cached[0] == key:
            self._cache.move_to_end(key_name)
            return cached[1]
        last = None
        if doc is None:
            loaded = await self.manager.store.load(key_name)
            doc = await asyncio.to_thread(_replay, loaded)
            last = loaded.entries[-1] if loaded.entries else None
        if last is None:
            newest = await self.manager.store.read_newest(key_name, limit=1)
            last = newest[0] if newest else None
        entry = Entry(
            name,
            _subject(doc),
            read_annotations(doc),
            last.time_ms if last else None,
            last.principal if last else None,
        )
        self._cache[key_name] = (key, entry)
        self._cache.move_to_end(key_name)
        while len(self._cache) > MAX_CACHED:
            self._cache.popitem(last=False)
        return entry

    async def entries(self, workspace: str) -> list[Entry]:
        return [await self.entry(name) for name in await self.names(workspace)]

    async def subjects(self, workspace: str) -> list[tuple[DocumentName, Subject]]:
        return [(e.name, e.subject) for e in await self.entries(workspace) if e.subject]


def _replay(loaded: Any) -> Doc:
    doc: Doc = Doc()
    if loaded.checkpoint:
        doc.apply_update(loaded.checkpoint.state)
    for entry in loaded.entries:
        doc.apply_update(entry.update)
    return doc


def _subject(doc: Doc) -> Subject | None:
    try:
        return read_subject(doc)
    except Invalid:
        return None


def of(app: Any) -> WorkspaceIndex:
    """The app's index (made on first use: it only needs the room manager)."""
    index: WorkspaceIndex | None = getattr(app.state, "workspace_index", None)
    if index is None:
        index = app.state.workspace_index = WorkspaceIndex(app.state.manager)
    return index
