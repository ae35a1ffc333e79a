"""How messages reach the clients' sockets: written straight onto the connection (frame
once, send to every peer) without compression, the ordinary path with it. Either way every
client gets every update intact, whatever the frame's length encoding."""

from __future__ import annotations

from .conftest import Running, ServerFactory
from .yclient import YClient, connected

DOC = "museum/canvas/folio-3v"

# Values that put the relayed update into each websocket length encoding: 7-bit, 16-bit
# and 64-bit lengths (the thresholds are 126 and 65,536 bytes).
SIZES = {"short": 10, "medium": 300, "long": 70_000}


def _extensions(client: YClient) -> str | None:
    assert client.ws is not None and client.ws.response is not None
    return client.ws.response.headers.get("Sec-WebSocket-Extensions")


async def _edit_and_converge(clients: list[YClient]) -> None:
    for i, client in enumerate(clients):
        for label, size in SIZES.items():
            client.map()[f"{label}-{i}"] = chr(ord("a") + i) * size
    expected = {
        f"{label}-{i}": chr(ord("a") + i) * size
        for i in range(len(clients))
        for label, size in SIZES.items()
    }
    for client in clients:
        await client.wait_for(lambda c=client: c.content() == expected, what="every value")


async def test_uncompressed_by_default_and_relayed_directly(server: Running) -> None:
    # The clients offer permessage-deflate, as browsers do; by default it is declined.
    clients = await connected(server.ws(DOC), 3)
    assert all(_extensions(c) is None for c in clients)
    assert server.app is not None
    connections = server.app.state.collab.connections
    assert connections and all(c.wire is not None for c in connections)

    await _edit_and_converge(clients)
    # A late joiner gets it all too (its sync reply goes the same way).
    (late,) = await connected(server.ws(DOC))
    await late.wait_for(lambda: late.content() == clients[0].content(), what="late sync")


async def test_compression_when_enabled(make_server: ServerFactory) -> None:
    server = await make_server(ws_compression=True)
    clients = await connected(server.ws(DOC), 3)
    for client in clients:
        assert "permessage-deflate" in (_extensions(client) or "")
    assert server.app is not None
    # Each message is compressed per connection, so none is written directly.
    assert all(c.wire is None for c in server.app.state.collab.connections)

    await _edit_and_converge(clients)
