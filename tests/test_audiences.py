"""Read-only audiences: watchers have a limit of their own per room, share-link sockets
(the public: embeds on museum websites) take no part in presence either way, their rate
limits count per address, and a refusal for load tells them to come back (1013)."""

from __future__ import annotations

import httpx

from crdt import protocol

from .access import share_token, user_token
from .conftest import Running, ServerFactory
from .yclient import YClient, connected

DOC = "gallery/canvas/nightwatch"


async def test_a_room_takes_more_watchers_than_editors(make_server: ServerFactory) -> None:
    server = await make_server(max_clients_per_room=2, max_watchers_per_room=3)
    editors = await connected(server.ws(DOC), 2)
    third = YClient(server.ws(DOC))
    await third.connect(wait_synced=False)
    assert await third.wait_closed() == (4429, "room is full (2 editing clients)")

    # The staff's room is full; the public still gets in, up to its own limit.
    link = await share_token(server, DOC)
    viewer = await user_token(server, "vera", "gallery", "viewer")
    watchers = [
        *await connected(server.ws(DOC, link), 2),
        *await connected(server.ws(DOC, viewer)),
    ]
    editors[0].map()["finding"] = "craquelure, upper left"
    for watcher in watchers:
        await watcher.wait_for(lambda w=watcher: w.content().get("finding"), what="the edit")

    # Full for watchers too: a share link is told to come back later (y-websocket retries
    # 1013, it gives up on 44xx), a member as before.
    late_public = YClient(server.ws(DOC, link))
    await late_public.connect(wait_synced=False)
    assert await late_public.wait_closed() == (1013, "room is full (3 watchers)")
    late_member = YClient(server.ws(DOC, viewer))
    await late_member.connect(wait_synced=False)
    assert await late_member.wait_closed() == (4429, "room is full (3 watchers)")
    assert all(c.close_code is None for c in editors + watchers)


def _presence_seen(client: YClient) -> set[int]:
    """Every client id whose state reached `client` in an awareness message."""
    seen = set()
    for message in client.received:
        if message[0] == 1:
            parsed = protocol.parse(message)
            assert isinstance(parsed, protocol.AwarenessUpdate)
            seen |= {cid for cid, _, state in parsed.entries if state is not None}
    return seen


async def test_share_link_sockets_neither_see_nor_show_presence(server: Running) -> None:
    link = await share_token(server, DOC)
    viewer_token = await user_token(server, "vic", "gallery", "viewer")
    (curator,) = await connected(server.ws(DOC))
    await curator.set_state({"user": {"name": "Curator", "color": "#a33"}})
    await curator.round_trip()

    # The public joins after the curator announced herself and announces itself too.
    public = YClient(server.ws(DOC, link))
    public.awareness.set_local_state({"user": {"name": "Visitor", "color": "#33a"}})
    await public.connect()
    # Members see each other whatever their role: a viewer and the curator.
    viewer = YClient(server.ws(DOC, viewer_token))
    viewer.awareness.set_local_state({"user": {"name": "Viewer", "color": "#3a3"}})
    await viewer.connect()
    await viewer.wait_for(lambda: curator.doc.client_id in viewer.peers(), what="curator")
    await curator.wait_for(lambda: viewer.doc.client_id in curator.peers(), what="viewer")

    # Presence changing while the public watches, then edits: it gets the edits only.
    await curator.set_state({"user": {"name": "Curator", "color": "#a33"}, "cursor": [4, 2]})
    curator.map()["note"] = "varnish"
    await public.wait_for(lambda: public.content().get("note") == "varnish", what="edit")
    await public.set_state({"user": {"name": "Visitor"}, "cursor": [1, 1]})
    # Whatever the server relays of a message goes out before its answers to requests
    # that come after it: one round trip each bounds what can still be on its way.
    await public.round_trip()
    await curator.round_trip()
    await viewer.round_trip()
    assert _presence_seen(public) == set()
    assert public.doc.client_id not in _presence_seen(curator)
    assert public.doc.client_id not in _presence_seen(viewer)
    assert public.peers() == {}


async def test_share_links_are_limited_per_address_and_told_to_retry(
    make_server: ServerFactory,
) -> None:
    # A burst of one connection and one REST call per key.
    server = await make_server(rate_connections_per_second=0.1, rate_requests_per_second=0.5)
    link = await share_token(server, DOC)
    url = server.ws(DOC, link)
    (first,) = await connected(url)
    (editor,) = await connected(server.ws(DOC))
    editor.map()["state"] = "stored"  # relayed once stored: then it has a history
    await first.wait_for(lambda: first.content().get("state") == "stored", what="the edit")
    again = YClient(url)
    await again.connect(wait_synced=False)
    assert await again.wait_closed() == (1013, "too many connections")
    # Another visitor of the same page, from another address: not refused for the first's.
    elsewhere = await YClient(url, local_addr=("127.0.0.2", 0)).connect()
    assert first.close_code is None and elsewhere.close_code is None

    path = f"/api/history/{DOC}"
    async with httpx.AsyncClient(base_url=server.url, params={"token": link}) as here:
        assert (await here.get(path)).status_code == 200
        assert (await here.get(path)).status_code == 429
    there = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    async with httpx.AsyncClient(
        base_url=server.url, params={"token": link}, transport=there
    ) as other:
        assert (await other.get(path)).status_code == 200

    # Members keep their limits per principal and their codes.
    member = await user_token(server, "mia", "gallery", "editor")
    await connected(server.ws(DOC, member))
    refused = YClient(server.ws(DOC, member), local_addr=("127.0.0.3", 0))
    await refused.connect(wait_synced=False)
    assert await refused.wait_closed() == (4429, "too many connections")
