"""Document names: `workspace/kind/id`, validated before any lookup or storage access."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InvalidName

KINDS = frozenset({"canvas", "model", "report"})

# One path segment: letters, digits and `._-`, starting with a letter or digit so that
# `.` and `..` (and hidden-file lookalikes) can never appear. 128 characters is ample for
# UUIDs and IIIF-derived slugs and keeps keys small in every store.
MAX_SEGMENT = 128
_SEGMENT = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{MAX_SEGMENT - 1}}}")


@dataclass(frozen=True, slots=True)
class DocumentName:
    workspace: str
    kind: str
    id: str

    @classmethod
    def parse(cls, name: str) -> DocumentName:
        parts = name.split("/")
        if len(parts) != 3:
            raise InvalidName("a document name is workspace/kind/id")
        return cls.of(*parts)

    @classmethod
    def of(cls, workspace: str, kind: str, id: str) -> DocumentName:
        for label, value in (("workspace", workspace), ("id", id)):
            if not _SEGMENT.fullmatch(value):
                raise InvalidName(
                    f"{label} must be 1-{MAX_SEGMENT} characters of A-Z a-z 0-9 . _ -, "
                    "starting with a letter or digit"
                )
        if kind not in KINDS:
            raise InvalidName(f"kind must be one of {', '.join(sorted(KINDS))}")
        return cls(workspace, kind, id)

    def __str__(self) -> str:
        return f"{self.workspace}/{self.kind}/{self.id}"
