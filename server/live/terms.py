"""Each workspace's damage vocabulary (the curated list plus the workspace's own terms),
kept in memory for the live schema check, which runs inside a room and cannot wait on the
directory.

The REST API reads and writes the directory and refreshes this cache on its instance; a
socket opening a report warms it (`warm`), and an entry older than MAX_AGE_SECONDS is read
again on the next warm, so terms added on another instance reach this one's live checks
at the next report opened after that.
"""

from __future__ import annotations

import time
from typing import Any

from annotations.damage_terms import DAMAGE_TERMS
from annotations.vocabularies import Term, Vocabulary
from annotations.vocabulary_import import WorkspaceTerm
from crdt import DocumentName
from crdt.errors import InvalidName
from server.directory import Directory

MAX_AGE_SECONDS = 30.0
SOURCE = "workspace"


def vocabulary_of(records: list[dict[str, Any]]) -> Vocabulary:
    """The curated list extended by a workspace's own term records."""
    terms: list[Term] = []
    for record in records:
        try:
            terms.append(WorkspaceTerm.model_validate(record).term(SOURCE))
        except ValueError:
            continue  # a record stored by an older version: skipped, not fatal
    return DAMAGE_TERMS.extended(terms)


class WorkspaceTerms:
    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self._cache: dict[str, tuple[float, Vocabulary]] = {}

    def get(self, workspace: str) -> Vocabulary:
        """What is known now (the curated list alone before the first load)."""
        found = self._cache.get(workspace)
        return found[1] if found else DAMAGE_TERMS

    async def load(self, workspace: str) -> Vocabulary:
        vocabulary = vocabulary_of(await self.directory.vocabulary(workspace))
        self._cache[workspace] = (time.monotonic(), vocabulary)
        return vocabulary

    async def warm(self, document: str) -> None:
        """Before a socket joins a report: make sure its workspace's terms are fresh."""
        try:
            name = DocumentName.parse(document)
        except InvalidName:
            return
        if name.kind != "report":
            return
        found = self._cache.get(name.workspace)
        if found is None or time.monotonic() - found[0] > MAX_AGE_SECONDS:
            await self.load(name.workspace)

    def for_document(self, document: str) -> Vocabulary | None:
        try:
            return self.get(DocumentName.parse(document).workspace)
        except InvalidName:
            return None
