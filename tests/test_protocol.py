"""The Yjs sync and awareness protocol, with real websocket clients."""

from __future__ import annotations

import asyncio

from pycrdt import Doc, Map

from crdt import protocol
from crdt.protocol import KEEPALIVE_MESSAGE

from .conftest import Running, ServerFactory
from .yclient import YClient, connected

DOC = "museum/canvas/folio-12r"


async def test_fresh_client_receives_the_full_document(server: Running) -> None:
    (writer,) = await connected(server.ws(DOC))
    writer.map()["damage"] = "flaking at lower left"
    writer.text().insert(0, "Condition: fair")
    await writer.wait_for(lambda: writer.received, what="anything")
    (reader,) = await connected(server.ws(DOC))
    await reader.wait_for(lambda: reader.content() == {"damage": "flaking at lower left"})
    assert str(reader.text()) == "Condition: fair"


async def test_client_with_offline_edits_merges_on_connect(server: Running) -> None:
    (online,) = await connected(server.ws(DOC))
    online.map()["online"] = 1

    # Edits made before ever connecting, as a conservator working without a network does.
    offline_doc: Doc = Doc()
    offline_doc.get("m", type=Map)["offline"] = 2
    offline = await YClient(server.ws(DOC), offline_doc).connect()

    expected = {"online": 1.0, "offline": 2.0}
    await offline.wait_for(lambda: offline.content() == expected, what="online edit")
    await online.wait_for(lambda: online.content() == expected, what="offline edit")
    # A newcomer gets both from the server (they were stored, not just relayed).
    (late,) = await connected(server.ws(DOC))
    await late.wait_for(lambda: late.content() == expected)


async def test_awareness_is_relayed_and_removed_on_disconnect(server: Running) -> None:
    alice, bob = await connected(server.ws(DOC), 2)
    await alice.set_state({"user": {"name": "Alice"}, "cursor": {"x": 10, "y": 20}})
    await bob.wait_for(lambda: alice.doc.client_id in bob.peers(), what="alice's presence")
    assert bob.peers()[alice.doc.client_id]["user"]["name"] == "Alice"

    # A newcomer hears about everyone present when it joins.
    (carol,) = await connected(server.ws(DOC))
    await carol.wait_for(lambda: alice.doc.client_id in carol.peers(), what="presence on join")

    # Alice's socket goes away without a goodbye: the server removes her presence.
    alice.drop()
    await bob.wait_for(lambda: alice.doc.client_id not in bob.peers(), what="removal")
    await carol.wait_for(lambda: alice.doc.client_id not in carol.peers(), what="removal")


async def test_query_awareness_answers_with_everyone_present(server: Running) -> None:
    alice, bob = await connected(server.ws(DOC), 2)
    await alice.set_state({"user": "Alice"})
    await bob.wait_for(lambda: alice.doc.client_id in bob.peers())
    seen = len(bob.received)
    await bob.send(bytes([3]))  # messageQueryAwareness

    def answered() -> bool:
        for message in bob.received[seen:]:
            parsed = protocol.parse(message)
            if isinstance(parsed, protocol.AwarenessUpdate):
                return {cid: state for cid, _, state in parsed.entries} == {
                    alice.doc.client_id: {"user": "Alice"}
                }
        return False

    await bob.wait_for(answered, what="awareness reply")


async def test_edits_reach_every_other_client_once(server: Running) -> None:
    clients = await connected(server.ws(DOC), 4)
    for i, client in enumerate(clients):
        client.map()[f"k{i}"] = i
    expected = {f"k{i}": float(i) for i in range(4)}
    for client in clients:
        await client.wait_for(lambda c=client: c.content() == expected)
    assert await server.metric("sinopia_updates_total") == 4
    # Each of the 4 updates went to the 3 other clients, never back to its sender.
    assert await server.metric("sinopia_deliveries_total") == 12


async def test_resent_updates_add_nothing_to_document_or_log(server: Running) -> None:
    (a,) = await connected(server.ws(DOC))
    a.map()["x"] = 1
    a.text().insert(0, "abc")
    (b,) = await connected(server.ws(DOC))
    await b.wait_for(lambda: str(b.text()) == "abc")
    stored = await server.metric("sinopia_updates_total")

    # The client reconnects twice and sends its whole state each time, as after a network
    # flap; and re-sends its last update verbatim.
    full = a.doc.get_update()
    for _ in range(2):
        await a.close()
        await a.connect()
        await a.send(bytes([0, 2]) + _var(full))
    await a.send(bytes([0, 2]) + _var(full))
    await a.wait_for(lambda: a.synced.is_set())
    (c,) = await connected(server.ws(DOC))
    await c.wait_for(lambda: str(c.text()) == "abc" and c.content() == {"x": 1.0})
    assert await server.metric("sinopia_updates_total") == stored
    assert await server.metric("sinopia_duplicate_updates_total") >= 3


async def test_lone_idle_client_keeps_hearing_from_the_server(make_server: ServerFactory) -> None:
    # npm y-websocket closes a socket that has heard nothing for 30 s; the server sends a
    # no-op message to sockets it has been silent on.
    server = await make_server(keepalive_seconds=0.2)
    (alone,) = await connected(server.ws(DOC))
    seen = len(alone.received)
    await alone.wait_for(lambda: alone.received[seen:].count(KEEPALIVE_MESSAGE) >= 3, 5)
    assert alone.close_code is None
    # The keep-alive is an awareness update about nobody: it changes nothing.
    assert alone.peers() == {}


async def test_dead_socket_is_found_by_ping_and_its_presence_removed(
    make_server: ServerFactory,
) -> None:
    server = await make_server(ping_interval=0.2, ping_timeout=0.3)
    (watcher,) = await connected(server.ws(DOC))
    # A raw client that completes the handshake, announces itself, then never reads again
    # (never answers pings): a laptop whose lid closed.
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(
        (
            f"GET /collab/{DOC}?token={server.token} HTTP/1.1\r\nHost: x\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    await reader.readuntil(b"\r\n\r\n")
    ghost = Doc()
    payload = _awareness_payload(ghost.client_id, 1, '{"user":"ghost"}')
    writer.write(_masked_frame(bytes([1]) + _var(payload)))
    await writer.drain()
    await watcher.wait_for(lambda: ghost.client_id in watcher.peers(), what="ghost presence")
    assert await server.metric("sinopia_sockets") == 2

    await watcher.wait_for(lambda: ghost.client_id not in watcher.peers(), 5, "ghost removal")
    assert await server.metric("sinopia_sockets") == 1
    writer.close()


def _var(data: bytes) -> bytes:
    return _varuint(len(data)) + data


def _varuint(n: int) -> bytes:
    out = bytearray()
    while n > 127:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    out.append(n)
    return bytes(out)


def _awareness_payload(client_id: int, clock: int, state: str) -> bytes:
    return _varuint(1) + _varuint(client_id) + _varuint(clock) + _var(state.encode())


def _masked_frame(payload: bytes) -> bytes:
    # A client-to-server binary frame (RFC 6455 requires client frames to be masked).
    mask = b"\x01\x02\x03\x04"
    header = bytearray([0x82])
    if len(payload) < 126:
        header.append(0x80 | len(payload))
    else:
        header.append(0x80 | 126)
        header += len(payload).to_bytes(2, "big")
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes(header) + mask + masked
