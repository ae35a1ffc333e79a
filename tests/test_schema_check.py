"""The schema check the server installs on its rooms (server/schema_check.py): what it
refuses, what it lets through, and that its per-document copy follows the live document
through writes that bypass it and through refusals."""

from __future__ import annotations

from pycrdt import Doc, Map, Text, UndoManager

from annotations import parse_annotation, write_annotation, write_subject
from annotations.models import MAX_BODY_BYTES
from crdt.room import Refusal
from server.live.schema_check import SchemaCheck

from .test_annotations_document import SUBJECT
from .test_annotations_jsonld import CANVAS, CONTAINER, comment

NAME = f"museum/canvas/{SUBJECT.id}"


def _update(live: Doc, change: object) -> bytes:
    """What a client holding `live`'s state sends for `change`."""
    client = Doc()
    client.apply_update(live.get_update())
    before = client.get_state()
    change(client)  # type: ignore[operator]
    return client.get_update(before)


class _Room:
    """What the check sees of a room: its name, its document, and the count of the
    document's transactions, kept as the room keeps it."""

    def __init__(self, doc: Doc) -> None:
        self.name, self.doc, self.changes = NAME, doc, 0
        doc.observe(self._count)

    def _count(self, _event: object) -> None:
        self.changes += 1


_rooms: dict[Doc, _Room] = {}


def _room(live: Doc) -> _Room:
    if live not in _rooms:
        _rooms[live] = _Room(live)
    return _rooms[live]


def _check(check: SchemaCheck, live: Doc, update: bytes) -> Refusal | None:
    return check(_room(live), None, update)


def _accepts(check: SchemaCheck, live: Doc, update: bytes) -> bool:
    refusal = _check(check, live, update)
    if refusal is None:
        live.apply_update(update)  # as the room does once the check passes
        return True
    assert refusal.close
    return False


def _live() -> Doc:
    doc = Doc()
    write_subject(doc, SUBJECT)
    write_annotation(doc, parse_annotation(comment(), CONTAINER))
    return doc


def test_other_roots_pass_and_schema_problems_are_refused() -> None:
    live, check = _live(), SchemaCheck()
    assert _accepts(check, live, _update(live, lambda d: d.get("m", type=Map).update({"k": 1})))
    assert _accepts(check, live, _update(live, lambda d: d.get("t", type=Text).insert(0, "hi")))

    def outside(doc: Doc) -> None:
        data = comment(id=CONTAINER + "c2")
        data["target"]["selector"]["value"] = "xywh=0,0,99999,10"
        write_annotation(doc, parse_annotation(data, CONTAINER))

    refusal = _check(check, live, _update(live, outside))
    assert refusal is not None and "outside the canvas" in refusal.reason
    assert "c2" not in live.get("annotations", type=Map)

    # Typing in a comment is checked on that body alone: fine until it is too long.
    def typing(doc: Doc) -> None:
        text = doc.get("annotations", type=Map)["c1"]["body"][0]["value"]
        text.insert(0, "Note: ")

    assert _accepts(check, live, _update(live, typing))

    def flood(doc: Doc) -> None:
        text = doc.get("annotations", type=Map)["c1"]["body"][0]["value"]
        text.insert(0, "x" * (MAX_BODY_BYTES + 1))

    refusal = _check(check, live, _update(live, flood))
    assert refusal is not None and "limit" in refusal.reason
    # The refused update left the check's copy ahead of the document: it starts anew, and
    # judges the next update on what the document really holds.
    assert _accepts(check, live, _update(live, typing))
    text = live.get("annotations", type=Map)["c1"]["body"][0]["value"]
    assert str(text).startswith("Note: Note: Flaking")


def test_the_copy_follows_writes_that_bypass_the_check() -> None:
    live, check = _live(), SchemaCheck()
    assert _accepts(check, live, _update(live, lambda d: d.get("m", type=Map).update({"k": 1})))
    # A server-side write (REST) changes the live document directly.
    write_annotation(live, parse_annotation(comment(id=CONTAINER + "c3"), CONTAINER))

    def edit_c3(doc: Doc) -> None:
        doc.get("annotations", type=Map)["c3"]["body"][0]["value"].insert(0, "REST made me. ")

    assert _accepts(check, live, _update(live, edit_c3))
    # A delete on the server side, then a client re-creating the id validly.
    del live.get("annotations", type=Map)["c3"]
    assert _accepts(
        check,
        live,
        _update(
            live,
            lambda d: write_annotation(
                d, parse_annotation(comment(id=CONTAINER + "c3"), CONTAINER)
            ),
        ),
    )
    # An update another check refused after this one passed it: the copy is remade.
    skipped = _update(live, lambda d: d.get("m", type=Map).update({"other": 2}))
    assert _check(check, live, skipped) is None
    # (not applied to `live`)

    def retarget(doc: Doc) -> None:
        entry = doc.get("annotations", type=Map)["c1"]
        entry["target"] = f"{CANVAS}#xywh=1,2,3,4"

    assert _accepts(check, live, _update(live, retarget))
    assert "other" not in live.get("m", type=Map)


OLD = {"id": "urn:sinopia:user:u00000000000000aa", "type": "Person", "name": "Ada Old"}


def test_names_of_sinopia_users_are_refused_but_old_ones_come_back_with_undo() -> None:
    live = _live()
    # An annotation from before names were looked up: its creator carries the name.
    live.get("annotations", type=Map)["c1"]["creator"] = dict(OLD)
    check = SchemaCheck()

    def rename(doc: Doc) -> None:
        doc.get("annotations", type=Map)["c1"]["creator"] = {**OLD, "name": "Ada Other"}

    refusal = _check(check, live, _update(live, rename))
    assert refusal is not None and refusal.close
    assert "annotations/c1/creator/name" in refusal.reason and "by id alone" in refusal.reason

    # Editing the old annotation's text is fine (its creator is not written anew) ...
    def typing(doc: Doc) -> None:
        doc.get("annotations", type=Map)["c1"]["body"][0]["value"].insert(0, "Old: ")

    assert _accepts(check, live, _update(live, typing))
    # ... and so are deleting it and undoing the deletion, which writes the same creator.
    client = Doc()
    client.apply_update(live.get_update())
    undo = UndoManager(scopes=[client.get("annotations", type=Map)], capture_timeout_millis=0)
    before = client.get_state()
    del client.get("annotations", type=Map)["c1"]
    assert _accepts(check, live, client.get_update(before))
    before = client.get_state()
    assert undo.undo()
    assert _accepts(check, live, client.get_update(before))
    assert live.get("annotations", type=Map)["c1"]["creator"] == OLD

    # A new annotation: by id alone is taken, with a name refused.
    def new(creator: dict) -> object:
        def change(doc: Doc) -> None:
            data = {**comment(id=CONTAINER + "c3"), "creator": creator}
            annotations = doc.get("annotations", type=Map)
            write_annotation(doc, parse_annotation(data, CONTAINER))
            annotations["c3"]["creator"] = creator  # as a client writes it, name and all

        return change

    refusal = _check(check, live, _update(live, new({**OLD, "name": "Ada Now"})))
    assert refusal is not None and "by id alone" in refusal.reason
    assert _accepts(check, live, _update(live, new({"id": OLD["id"], "type": "Person"})))
