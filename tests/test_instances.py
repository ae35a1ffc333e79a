"""Several server instances on one store and one bus (here: one SQLite file and an
in-process bus shared by two apps in this process)."""

from __future__ import annotations

from .conftest import ServerFactory
from .yclient import connected

DOC = "network/canvas/shared"


async def test_two_instances_share_one_document(make_server: ServerFactory, tmp_path) -> None:
    store = f"sqlite://{tmp_path}/shared.db"
    one = await make_server(store_url=store, bus_url="memory://pair")
    two = await make_server(store_url=store, bus_url="memory://pair")
    a1, b1 = await connected(one.ws(DOC), 2)
    (a2,) = await connected(two.ws(DOC))

    await a1.set_state({"user": "on instance one"})
    for i in range(30):
        (a1, b1, a2)[i % 3].map()[f"k{i}"] = i
    expected = {f"k{i}": float(i) for i in range(30)}
    for client in (a1, b1, a2):
        await client.wait_for(lambda c=client: c.content() == expected, what="convergence")
    # Presence crosses instances too.
    await a2.wait_for(lambda: a1.doc.client_id in a2.peers(), what="awareness across")

    # One log, each update stored once, numbered by the store across both instances.
    assert one.app is not None
    entries = await one.app.state.manager.store.read(DOC)
    assert [e.seq for e in entries] == list(range(1, 31))
    # A late joiner on either instance gets everything.
    (late_two,) = await connected(two.ws(DOC))
    await late_two.wait_for(lambda: late_two.content() == expected)
