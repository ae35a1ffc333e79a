"""Who the pseudonymous ids are: history and annotations name people by a stable id that
only the directory maps to a person, so that a person's name can leave (erasure) while
the hash-chained history, which covers the ids, still verifies.

- the log's author label: `user:<user id>` (`token:<user id>/<token id>` for a personal
  API token); entries written before ids were used carry `user:<name>` and keep it;
- an annotation's `creator.id`: `urn:sinopia:user:<user id>` (before: `...:<name>`).

The API shows names by looking the ids up here, at the time of reading: a renamed user
shows the new name, an erased one "erased user N".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from annotations.models import USER_AGENT_PREFIX
from server.directory import Directory, User

AGENT_PREFIX = USER_AGENT_PREFIX


def shown_name(user: User) -> str:
    return user.display_name or user.name


class People:
    """Lookups for one answer: each id or name is asked of the directory once."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self._known: dict[str, User | None] = {}

    async def user(self, ref: str) -> User | None:
        """A user by id (what ids in history and annotations hold), or by name (what
        entries from before ids hold)."""
        if ref not in self._known:
            self._known[ref] = await self.directory.user(ref) or (
                await self.directory.user_by_name(ref)
            )
        return self._known[ref]

    async def of_label(self, label: str | None) -> str | None:
        """The name to show for an author label, None for one that is not a person's (a
        share link, the system) or a person no longer known."""
        if not label:
            return None
        kind, _, rest = label.partition(":")
        if kind not in ("user", "token"):
            return None
        user = await self.user(rest.split("/")[0])
        return shown_name(user) if user else None

    async def of_agent(self, iri: str | None) -> str | None:
        if not iri or not iri.startswith(AGENT_PREFIX):
            return None
        user = await self.user(iri[len(AGENT_PREFIX) :])
        return shown_name(user) if user else None

    async def labels(self, labels: Iterable[str | None]) -> dict[str, str]:
        out = {}
        for label in set(labels):
            if label and (name := await self.of_label(label)) is not None:
                out[label] = name
        return out

    async def name_creators(self, data: Any) -> bool:
        """Every agent with a Sinopia user id in `data` (a `creator`, a report's
        `checker`, nested anywhere) gets the person's current name as `name`, in place;
        whether any name changed."""
        changed = False
        for agent in _agents(data):
            name = await self.of_agent(agent.get("id"))
            if name is not None and agent.get("name") != name:
                agent["name"] = name
                changed = True
        return changed


def _agents(data: Any) -> Iterable[dict[str, Any]]:
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("id"), str) and item["id"].startswith(AGENT_PREFIX):
                yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
