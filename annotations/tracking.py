"""Condition over time: each damage entry followed across successive reports of an object.

A new check that starts from the previous report carries its damage entries over with
their ids, so the same damage keeps its id from report to report; an entry made anew can
name the one it continues with `tracks`. Between two reports each damage is:

- new: in the later report only;
- changed: in both, with a different term, extent, severity, activity, location or note;
- unchanged: in both, the same;
- resolved: in the earlier report only (treated, or no longer observed).

`follow` runs this along a whole series of reports (oldest first) and keeps one line per
damage, so "crack at the lower edge: minor in 2023, moderate in 2024, resolved in 2025"
reads off one row.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from .reports import DamageEntry, Report

Change = Literal["new", "changed", "unchanged", "resolved"]
# What a comparison looks at: the observation, not where it is drawn or photographed.
COMPARED = ("term", "location", "extent", "severity", "activity", "note")


class EntryComparison(BaseModel):
    """One damage between two reports."""

    model_config = ConfigDict(frozen=True)

    change: Change
    before: str | None  # the entry's id in the earlier report
    after: str | None  # ... in the later one
    term: str
    fields: list[str] = []  # what differs, for `changed`
    was: dict[str, Any] | None = None
    now: dict[str, Any] | None = None


class Comparison(BaseModel):
    """Two reports of one object, entry by entry, and the overall condition."""

    model_config = ConfigDict(frozen=True)

    earlier: str | None
    later: str | None
    condition: tuple[str | None, str | None]
    entries: list[EntryComparison]

    def count(self, change: Change) -> int:
        return sum(1 for e in self.entries if e.change == change)


def _observed(entry: DamageEntry) -> dict[str, Any]:
    data = entry.to_json()
    return {k: data.get(k) for k in COMPARED}


def compare(
    earlier: Report, later: Report, *, earlier_id: str | None = None, later_id: str | None = None
) -> Comparison:
    """Each damage of two reports: new, changed, unchanged or resolved."""
    by_id = {e.id: e for e in earlier.damage}
    matched: set[str] = set()
    entries: list[EntryComparison] = []
    for entry in later.damage:
        previous = by_id.get(entry.tracks or entry.id)
        if previous is None or previous.id in matched:
            entries.append(
                EntryComparison(
                    change="new",
                    before=None,
                    after=entry.id,
                    term=entry.term,
                    now=_observed(entry),
                )
            )
            continue
        matched.add(previous.id)
        was, now = _observed(previous), _observed(entry)
        fields = [k for k in COMPARED if was[k] != now[k]]
        entries.append(
            EntryComparison(
                change="changed" if fields else "unchanged",
                before=previous.id,
                after=entry.id,
                term=entry.term,
                fields=fields,
                was=was,
                now=now,
            )
        )
    for entry in earlier.damage:
        if entry.id not in matched:
            entries.append(
                EntryComparison(
                    change="resolved",
                    before=entry.id,
                    after=None,
                    term=entry.term,
                    was=_observed(entry),
                )
            )
    return Comparison(
        earlier=earlier_id,
        later=later_id,
        condition=(earlier.condition, later.condition),
        entries=entries,
    )


class Track(BaseModel):
    """One damage through a series of reports: its state in each (None: not present)."""

    model_config = ConfigDict(frozen=True)

    term: str
    states: list[dict[str, Any] | None]
    changes: list[Change | None]  # from the report before (None for the first report)


def follow(reports: list[tuple[str, Report]]) -> list[Track]:
    """Follow every damage along `reports` (id and report, oldest first)."""
    # line index -> (term, states, changes); current: entry id in the latest report -> line
    lines: list[tuple[str, list[dict[str, Any] | None], list[Change | None]]] = []
    current: dict[str, int] = {}
    for position, (_, report) in enumerate(reports):
        seen: dict[str, int] = {}
        for entry in report.damage:
            line = current.get(entry.tracks or entry.id)
            if line is None or line in seen.values():
                lines.append((entry.term, [None] * position, [None] * position))
                line = len(lines) - 1
                change: Change | None = "new" if position else None
            else:
                before = lines[line][1][-1]
                change = "unchanged" if before == _observed(entry) else "changed"
            lines[line][1].append(_observed(entry))
            lines[line][2].append(change)
            seen[entry.id] = line
        for _, states, changes in lines:
            if len(states) <= position:
                states.append(None)
                changes.append("resolved" if states[-2] is not None else None)
        current = seen
    return [Track(term=t, states=s, changes=c) for t, s, c in lines]


def carry_over(previous: Report) -> list[DamageEntry]:
    """The damage entries a new check starts with: the previous report's, same ids."""
    return [entry.model_copy(update={"tracks": None}) for entry in previous.damage]
