"""The document-schema check of client updates: the `check` hook the server installs on
its rooms (`RoomManager(check=...)`), run before an update from a websocket is applied.

What is checked: the schema's own roots of each kind of document (`meta` and
`annotations` in canvas and model documents; the report's fields, texts, damage entries
and approvals in reports). An update that brings a problem into
them is refused as a whole and the connection closed (4400) with the first problem as the
reason: the client's document has diverged from what the server will ever accept, and
y-websocket would only re-send the same update on reconnect.

Other top-level shared types are the client's own (viewer state, scratch data, the `m`
and `t` of the interop tests and the load test): accepted, stored and synced like anything
else, never validated, and never exported (REST, IIIF, search and history's summaries read
only the schema's roots).

Cost: checking means applying the update to a copy of the document and validating what it
touched. A fresh copy per update costs the whole document (encode + decode: about 0.2 ms
for an empty canvas, 1.7 ms at 100 annotations, 8 ms at 500, for every keystroke), so
each live document gets one shadow copy that follows it: the update is applied to the
shadow (cost of the update), and changes that reached the live document without passing
here (REST writes, other instances on the bus) are caught up from the live document's
state vector before the next check. A refused update leaves the shadow ahead of the
document, so the shadow is then dropped and rebuilt on the next check.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable

from pycrdt import Doc

from annotations.schema import CheckedCopy
from annotations.vocabularies import Vocabulary
from crdt.errors import InvalidName
from crdt.names import DocumentName
from crdt.peer import Peer
from crdt.room import Refusal, Room

log = logging.getLogger("sinopia.schema")


class SchemaCheck:
    """`UpdateCheck`: refuses client updates that break the document schema."""

    def __init__(self, terms: Callable[[str], Vocabulary | None] | None = None) -> None:
        # live document -> its checked copy; dropped with the room's document.
        self._copies: weakref.WeakKeyDictionary[Doc, CheckedCopy] = weakref.WeakKeyDictionary()
        # live document -> its room's change count once the copy's last update is applied.
        self._step: weakref.WeakKeyDictionary[Doc, int] = weakref.WeakKeyDictionary()
        # document name -> the damage vocabulary of its workspace (server.live.terms).
        self.terms = terms

    def __call__(self, room: Room, peer: Peer, update: bytes) -> Refusal | None:
        doc, name = room.doc, room.name
        copy = self._copies.get(doc)
        # In step when nothing but checked updates changed the document since (the room
        # counts its transactions); otherwise caught up from it.
        if copy is None or (self._step.get(doc) != room.changes and not copy.follow(doc)):
            try:
                kind = DocumentName.parse(name).kind
            except InvalidName:  # rooms are opened by valid names only
                return Refusal("invalid document name", close=True)
            copy = self._copies[doc] = CheckedCopy(doc, kind, other_roots=True)
        if copy.kind == "report" and self.terms is not None:
            copy.terms = self.terms(name)
        try:
            problems = copy.apply(update)
        except ValueError:
            return None  # undecodable: nothing applied here; the room refuses it itself
        if not problems:
            # The room applies it next: one more transaction, which the copy has.
            self._step[doc] = room.changes + 1
            return None
        # The copy now holds an update the document will not: make it anew next time.
        del self._copies[doc]
        self._step.pop(doc, None)
        log.info("update refused in %s: %s", name, problems[0], extra={"doc": name})
        if all(p.denied for p in problems):
            # Well formed but not allowed (a locked report, a field only the workflow
            # writes): y-websocket's permission-denied message, the socket stays open.
            return Refusal(problems[0].message[:120])
        return Refusal(f"schema: {problems[0]}"[:120], close=True)
