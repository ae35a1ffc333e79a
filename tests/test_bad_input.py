"""Bad input closes only the offending connection, with a documented close code and
reason; the room, its other clients and the stored history are untouched."""

from __future__ import annotations

import pytest
import websockets
from pycrdt import Doc, Text

from .conftest import Running, ServerFactory
from .test_protocol import _var, _varuint
from .yclient import YClient, connected

DOC = "lab/model/amphora-7"


async def _history(server: Running) -> list[tuple[int, bytes]]:
    assert server.app is not None
    entries = await server.app.state.manager.store.read(DOC)
    return [(e.seq, e.hash) for e in entries]


async def _bystanders(server: Running) -> tuple[YClient, YClient]:
    a, b = await connected(server.ws(DOC), 2)
    a.map()["before"] = "kept"
    await b.wait_for(lambda: b.content() == {"before": "kept"})
    return a, b


async def _assert_unaffected(
    server: Running, a: YClient, b: YClient, history: list[tuple[int, bytes]]
) -> None:
    # The other clients are still connected and still collaborate...
    assert a.close_code is None and b.close_code is None
    token = f"still live {len(history)}"
    b.map()["after"] = token
    await a.wait_for(lambda: a.content().get("after") == token, what="edit after error")
    # ...and what was stored before is still there, unchanged, with only the new edit added.
    now = await _history(server)
    assert now[: len(history)] == history
    assert len(now) == len(history) + 1


def _sync_update(update: bytes) -> bytes:
    return bytes([0, 2]) + _var(update)


BAD_FRAMES = {
    "garbage bytes": (b"GARBAGE!\xde\xad\xbe\xef", "unknown message type"),
    "truncated varint": (b"\x00\x02\x85", "truncated varint"),
    "overlong varint": (b"\x00\x02" + b"\xff" * 12, "varint too long"),
    "length past the end": (b"\x00\x02\x10abc", "length runs past the end"),
    "trailing bytes": (bytes([0, 2, 2, 0, 0, 9]), "unexpected bytes after the message"),
    "undecodable update": (_sync_update(b"this is not a yjs update"), "invalid update"),
    "undecodable state vector": (bytes([0, 0]) + _var(b"\xff\xff\xff"), "invalid state vector"),
    "unknown sync type": (bytes([0, 9]) + _var(b""), "unknown sync message type"),
    "unknown message type": (bytes([7]), "unknown message type"),
    "awareness not json": (
        bytes([1]) + _var(_varuint(1) + _varuint(5) + _varuint(1) + _var(b"{nope")),
        "awareness state is not JSON",
    ),
    "auth from a client": (bytes([2, 0, 0]), "auth messages go from server to client only"),
}


@pytest.mark.parametrize("case", list(BAD_FRAMES))
async def test_malformed_frame_closes_only_its_connection(server: Running, case: str) -> None:
    a, b = await _bystanders(server)
    history = await _history(server)
    frame, reason = BAD_FRAMES[case]
    (bad,) = await connected(server.ws(DOC))
    await bad.send(frame)
    code, got = await bad.wait_closed()
    assert code == 4400
    assert reason in got
    await _assert_unaffected(server, a, b, history)


async def test_text_frame_is_refused(server: Running) -> None:
    a, b = await _bystanders(server)
    history = await _history(server)
    (bad,) = await connected(server.ws(DOC))
    await bad.send("hello")
    assert await bad.wait_closed() == (4400, "text frames are not part of the protocol")
    await _assert_unaffected(server, a, b, history)


async def test_oversized_message_is_refused(make_server: ServerFactory) -> None:
    server = await make_server(max_message_bytes=4096)
    a, b = await _bystanders(server)
    history = await _history(server)

    big: Doc = Doc()
    big.get("t", type=Text).insert(0, "x" * 5000)
    (bad,) = await connected(server.ws(DOC))
    await bad.send(_sync_update(big.get_update()))
    assert await bad.wait_closed() == (4413, "message exceeds 4096 bytes")
    await _assert_unaffected(server, a, b, history)

    # Far beyond the limit, the websocket layer stops reading at twice the limit (1009).
    (huge,) = await connected(server.ws(DOC))
    await huge.send(b"\x00\x02" + b"\x00" * 10_000)
    code, _ = await huge.wait_closed()
    assert code == 1009
    history = await _history(server)
    await _assert_unaffected(server, a, b, history)


async def test_update_that_would_make_the_document_too_large_is_refused(
    make_server: ServerFactory,
) -> None:
    server = await make_server(max_document_bytes=4096)
    a, b = await _bystanders(server)
    history = await _history(server)
    (bad,) = await connected(server.ws(DOC))
    bad.text().insert(0, "y" * 5000)
    assert await bad.wait_closed() == (4413, "document would exceed 4096 bytes")
    await _assert_unaffected(server, a, b, history)
    assert str(a.text()) == ""


async def test_room_full_refuses_one_more_client(make_server: ServerFactory) -> None:
    server = await make_server(max_clients_per_room=2)
    a, b = await _bystanders(server)
    history = await _history(server)
    third = YClient(server.ws(DOC))
    await third.connect(wait_synced=False)
    assert await third.wait_closed() == (4429, "room is full (2 editing clients)")
    await _assert_unaffected(server, a, b, history)
    # A room that is full does not stop other rooms.
    (elsewhere,) = await connected(server.ws("lab/model/other"))
    assert elsewhere.close_code is None


@pytest.mark.parametrize(
    "path",
    [
        "lab/painting/1",  # unknown kind
        "lab/canvas/..",
        "../canvas/1",
        ".hidden/canvas/1",
        "la%20b/canvas/1",
        "lab/canvas/" + "x" * 200,
        "lab/canvas/1/extra",
        "lab/canvas",
        "lab/canvas/%00",
    ],
)
async def test_invalid_document_name_is_refused(server: Running, path: str) -> None:
    a, b = await _bystanders(server)
    history = await _history(server)
    ws = await websockets.connect(f"{server.ws_base}/{path}")
    with pytest.raises(websockets.ConnectionClosed):
        await ws.recv()
    assert ws.close_code == 4400
    assert (ws.close_reason or "").startswith("invalid document name")
    await _assert_unaffected(server, a, b, history)
    assert server.app is not None
    assert sorted(await server.app.state.manager.store.documents()) == [DOC]


async def test_errors_are_counted_by_close_code(server: Running) -> None:
    (bad,) = await connected(server.ws(DOC))
    await bad.send(b"\x07")
    await bad.wait_closed()
    text = (await server.get("/metrics")).text
    assert 'sinopia_connection_errors_total{code="4400"} 1.0' in text
