"""What a commenter may change: add annotations whose motivation is `commenting` or
`replying` with themselves as creator, and change or remove only those. Used to check a
commenter's update as a whole before it is applied (on a copy: the live document is left
as it was)."""

from __future__ import annotations

import json
from typing import Any

from pycrdt import Array, Doc, Map, Text

from .subject_document import ANNOTATIONS, CREATOR, MOTIVATION

COMMENT_MOTIVATIONS = frozenset({"commenting", "replying"})


def comment_refusal(
    doc: Doc, update: bytes, kind: str, agent: str, also: tuple[str, ...] = ()
) -> str | None:
    """Why `update` is more than a commenter whose `creator.id` is `agent` may do, or
    None if it is only their own comments and replies. `also`: other ids the commenter's
    existing annotations may carry (what their creator id was before), which they may
    still change; what they add carries `agent`."""
    mine = {agent, *also}
    if kind not in ("canvas", "model"):
        return "commenters may only add comments and replies to annotations"
    state = doc.get_update()
    after = Doc()
    after.apply_update(state)
    touched: set[str] = set()

    def on_annotations(events: list[Any]) -> None:
        for event in events:
            path = list(getattr(event, "path", []))
            if path:
                touched.add(str(path[0]))
            else:
                touched.update(str(k) for k in (getattr(event, "keys", None) or {}))

    # pycrdt drops an observer once its subscription is garbage: hold it until done.
    subscription = after.get(ANNOTATIONS, type=Map).observe_deep(on_annotations)
    try:
        after.apply_update(update)
    except ValueError:
        return None  # undecodable: the room refuses it as malformed
    del subscription
    after_state = after.get_update()

    roots_before = set(doc.keys()) | {ANNOTATIONS}
    for name in set(after.keys()) - {ANNOTATIONS}:
        if name not in roots_before or _fingerprint(state, name) != _fingerprint(after_state, name):
            return "commenters may only add comments and replies to annotations"

    before_map = doc.get(ANNOTATIONS, type=Map) if ANNOTATIONS in doc.keys() else None
    after_map = after.get(ANNOTATIONS, type=Map)
    for key in touched:
        old = _plain(before_map.get(key)) if before_map is not None else None
        new = _plain(after_map.get(key))
        if old is not None and _creator(old) not in mine:
            return "commenters may change only their own comments"
        if new is None:
            continue
        if not isinstance(new, dict) or new.get(MOTIVATION) not in COMMENT_MOTIVATIONS:
            return "commenters may only add annotations with motivation commenting or replying"
        if _creator(new) != agent:
            return f"a commenter's annotations must have creator.id {agent}"
    return None


def _plain(value: Any) -> Any:
    if isinstance(value, Map | Array):
        return value.to_py()
    if isinstance(value, Text):
        return str(value)
    return value


def _creator(annotation: Any) -> str | None:
    creator = annotation.get(CREATOR) if isinstance(annotation, dict) else None
    return creator.get("id") if isinstance(creator, dict) else None


def _fingerprint(state: bytes, name: str) -> tuple[Any, ...]:
    """A root's content, whatever its type: read as Map, as Array and as Text, each on its
    own copy (reading a root as a type fixes that type in the copy)."""
    views: list[Any] = []
    for read in (
        lambda d: d.get(name, type=Map).to_py(),
        lambda d: d.get(name, type=Array).to_py(),
        lambda d: [(repr(_plain(c)), a) for c, a in d.get(name, type=Text).diff()],
    ):
        copy = Doc()
        copy.apply_update(state)
        try:
            views.append(read(copy))
        except Exception:  # a view that does not apply to this root's content
            views.append(None)
    # Sorted keys: the same content reads back in another key order from another copy.
    return tuple(json.dumps(v, sort_keys=True, default=repr) for v in views)
