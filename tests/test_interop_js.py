"""Interoperability with the official JavaScript Yjs clients (yjs + y-websocket from npm).

Several ``WebsocketProvider`` clients, driven through ``tests/js/driver.mjs``, run scenarios
against a running server given by the ``server`` fixture (conftest): any object with
``ws_base`` ("ws://127.0.0.1:PORT/collab"), and optionally ``client_params`` (query params,
e.g. an auth token, added to every client's URL) and ``room_prefix`` (default "ws1/canvas/").

Needs node and ``npm ci --prefix tests/js`` (the README's test command runs it).
No sleeps: every step waits on a condition with a timeout.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest

from .jsclients import JsClients, JsError, js_harness_available


@pytest.fixture(scope="module", autouse=True)
def _harness() -> None:
    # Interoperability is a requirement, not an option: fail loudly when it cannot run.
    assert js_harness_available(), (
        "node and tests/js/node_modules are needed: npm ci --prefix tests/js"
    )


TIMEOUT_MS = 15_000


@pytest.fixture
async def js() -> AsyncIterator[JsClients]:
    async with JsClients() as clients:
        yield clients


class Scenario:
    """One fresh room on the server under test, and helpers to open clients on it."""

    def __init__(self, server: Any, js: JsClients) -> None:
        self.js = js
        self.ws_base: str = server.ws_base
        self.params: dict[str, str] = dict(getattr(server, "client_params", None) or {})
        prefix: str = getattr(server, "room_prefix", None) or "ws1/canvas/"
        self.room = f"{prefix}interop-{uuid.uuid4().hex[:12]}"
        self.client_ids: dict[str, int] = {}

    async def open(self, *names: str, synced: bool = True) -> None:
        for name in names:
            self.client_ids[name] = await self.js.open(
                name, self.ws_base, self.room, params=self.params
            )
        if synced:
            await asyncio.gather(*(self.js.wait_synced(n, TIMEOUT_MS) for n in names))

    async def converged(self, *names: str) -> dict[str, Any]:
        """Wait until all clients hold the same state; return the common content."""
        result: dict[str, Any] = await self.js.call(
            "wait_converged", names=list(names), timeout_ms=TIMEOUT_MS
        )
        return result


@pytest.fixture
def scenario(server: Any, js: JsClients) -> Scenario:
    return Scenario(server, js)


async def test_concurrent_edits_converge(scenario: Scenario) -> None:
    js = scenario.js
    names = ["a", "b", "c"]
    await scenario.open(*names)
    rounds = 20
    for r in range(rounds):
        # all three edit in the same tick of the driver: none has seen the others' edits,
        # so every round is a real conflict (same key, same text position)
        commands: list[dict[str, Any]] = []
        for n in names:
            commands += [
                {"cmd": "set", "name": n, "key": f"{n}-{r}", "value": {"by": n, "round": r}},
                {"cmd": "set", "name": n, "key": "contested", "value": f"{n}-{r}"},
                {"cmd": "text_insert", "name": n, "index": 0, "value": n * 3},
            ]
        await js.call("batch", commands=commands)
    # and a burst of interleaved independent commands
    await asyncio.gather(
        *(
            js.call("set_many", name=n, entries={f"{n}-bulk-{i}": i for i in range(50)})
            for n in names
        ),
        *(js.call("text_insert", name=n, index=-1, value=f"<{n}>") for n in names),
    )

    content = await scenario.converged(*names)
    docs = [await js.get(n) for n in names]
    assert docs[0] == docs[1] == docs[2] == content

    m, t = content["m"], content["t"]
    for n in names:
        for r in range(rounds):
            assert m[f"{n}-{r}"] == {"by": n, "round": r}
        for i in range(50):
            assert m[f"{n}-bulk-{i}"] == i
        assert f"<{n}>" in t
    assert m["contested"] in {f"{n}-{rounds - 1}" for n in names}
    assert len(m) == len(names) * (rounds + 50) + 1
    letters = Counter(ch for ch in t if ch.isalpha())
    assert letters == {n: 3 * rounds + 1 for n in names}
    assert len(t) == len(names) * (3 * rounds + 3)


async def test_offline_edits_merge_on_reconnect(scenario: Scenario) -> None:
    js = scenario.js
    await scenario.open("a", "b")
    await js.call("set", name="a", key="base", value="both")
    await js.call("text_insert", name="a", index=0, value="base.")
    await scenario.converged("a", "b")

    await js.call("disconnect", name="a")
    await js.wait_for("a", "status", contains={"connected": False})

    await js.call("set", name="a", key="offline-a", value=1)
    await js.call("text_insert", name="a", index=5, value="[a offline]")
    await js.call("set", name="b", key="online-b", value=2)
    await js.call("text_insert", name="b", index=0, value="[b online]")
    await js.call("set", name="b", key="base", value="changed by b")
    # b's change goes through the server, not to the disconnected a
    await js.wait_for("b", "map", key="online-b", equals=2)
    a_offline = await js.get("a")
    assert "online-b" not in a_offline["m"]
    assert "[b online]" not in a_offline["t"]
    # and a's offline edit is not known to b either
    assert "offline-a" not in (await js.get("b"))["m"]

    await js.call("connect", name="a")
    await js.wait_synced("a", TIMEOUT_MS)
    content = await scenario.converged("a", "b")
    assert content["m"] == {"base": "changed by b", "offline-a": 1, "online-b": 2}
    assert "[a offline]" in content["t"]
    assert "[b online]" in content["t"]
    assert sorted(content["t"]) == sorted("base.[a offline][b online]")

    # a third client sees the merged state from the server alone
    await scenario.open("c")
    assert (await scenario.converged("a", "b", "c")) == content


async def _populate(scenario: Scenario) -> dict[str, Any]:
    js = scenario.js
    await scenario.open("a", "b")
    for i in range(100):
        await js.call("set", name="a" if i % 2 else "b", key=f"k{i}", value={"i": i, "s": "x" * i})
    await js.call("text_insert", name="a", index=0, value="Hello ")
    await js.call("text_insert", name="b", index=-1, value="world")
    # a deletes b's first entry once it has it (a delete of a key not yet seen deletes
    # nothing: on a busy machine the 100 sets can be done before b's first one arrives).
    await js.wait_for("a", "map", key="k0", present=True, timeout_ms=TIMEOUT_MS)
    await js.call("map_delete", name="a", key="k0")
    await js.call("text_insert", name="a", index=-1, value="!")
    return await scenario.converged("a", "b")


async def test_late_joiner_gets_full_state(scenario: Scenario) -> None:
    content = await _populate(scenario)
    assert "k0" not in content["m"] and len(content["m"]) == 99
    await scenario.open("late")
    assert await scenario.js.get("late") == content
    assert await scenario.converged("a", "b", "late") == content


async def test_late_joiner_after_everyone_left(scenario: Scenario) -> None:
    js = scenario.js
    content = await _populate(scenario)
    await js.call("close", name="a")
    await js.call("close", name="b")
    await scenario.open("late")
    assert await js.get("late") == content


async def test_joiners_of_a_room_opened_from_its_checkpoint(
    server: Any, scenario: Scenario
) -> None:
    # The room is evicted (checkpointed) and opened again by the next joiner, which is
    # answered from the stored bytes before the room builds its document: the npm client
    # reports synced with everything, and edits after that go round as before.
    js = scenario.js
    content = await _populate(scenario)
    await js.call("close", name="a")
    await js.call("close", name="b")
    manager = server.app.state.manager
    await manager.evict(scenario.room)
    assert scenario.room not in manager.rooms
    await scenario.open("late", "later")
    assert await js.get("late") == content
    await js.call("set", name="later", key="after", value=1)
    await js.call("text_insert", name="late", index=-1, value="?")
    final = await scenario.converged("late", "later")
    assert final["m"]["after"] == 1 and final["t"] == content["t"] + "?"


async def test_awareness_is_relayed(scenario: Scenario) -> None:
    js = scenario.js
    await scenario.open("a", "b")
    a_id = str(scenario.client_ids["a"])
    b_id = str(scenario.client_ids["b"])

    await js.call("awareness_set", name="a", state={"user": {"name": "alice"}, "cursor": 1})
    await js.wait_for("b", "awareness", key=a_id, equals={"user": {"name": "alice"}, "cursor": 1})
    await js.call("awareness_set_field", name="a", field="cursor", value=7)
    await js.wait_for("b", "awareness", key=a_id, contains={"cursor": 7})
    await js.call("awareness_set", name="b", state={"user": {"name": "bob"}})
    await js.wait_for("a", "awareness", key=b_id, equals={"user": {"name": "bob"}})

    # a late joiner receives the awareness states already present
    await scenario.open("c")
    await js.wait_for("c", "awareness", key=a_id, contains={"cursor": 7})
    await js.wait_for("c", "awareness", key=b_id, equals={"user": {"name": "bob"}})

    # graceful close: the client announces its departure, the server relays it
    await js.call("close", name="c")
    c_id = str(scenario.client_ids["c"])
    await js.wait_for("a", "awareness", key=c_id, absent=True)
    await js.wait_for("b", "awareness", key=c_id, absent=True)

    # abrupt close (no goodbye from the client): the server must remove the state itself,
    # well before the clients' own 30 s awareness timeout
    await js.call("crash", name="a")
    await js.wait_for("b", "awareness", key=a_id, absent=True, timeout_ms=10_000)
    assert set(await js.call("awareness_get", name="b")) == {b_id}


async def test_awareness_null_state_is_relayed(scenario: Scenario) -> None:
    js = scenario.js
    await scenario.open("a", "b")
    a_id = str(scenario.client_ids["a"])
    await js.call("awareness_set", name="a", state={"user": "alice"})
    await js.wait_for("b", "awareness", key=a_id, equals={"user": "alice"})
    await js.call("awareness_set", name="a", state=None)
    await js.wait_for("b", "awareness", key=a_id, absent=True)
    # the connection stays usable
    await js.call("set", name="a", key="still", value="here")
    await js.wait_for("b", "map", key="still", equals="here")


async def test_idle_client_is_not_dropped(scenario: Scenario) -> None:
    """y-websocket closes and reopens a connection on which it received nothing for 30 s.

    A lone client whose awareness state is null sends nothing, so only the server can keep
    its connection alive (the reference server does not: such a client reconnects every 30 s).
    """
    js = scenario.js
    await scenario.open("idle")
    await js.call("awareness_set", name="idle", state=None)
    since = len(js.events)
    with pytest.raises(JsError):
        await js.wait_event("connection-close", name="idle", since=since, timeout=35)
    status = await js.call("status", name="idle")
    assert status["connected"] and status["synced"]
