"""Drive the official JavaScript Yjs clients (y-websocket) from Python tests.

``JsClients`` runs ``node tests/js/driver.mjs`` as a subprocess and talks to it over JSON
lines; every command of the driver (documented at the top of ``driver.mjs``) is available as
``await js.call("<cmd>", **args)``::

    async with JsClients() as js:
        await js.call("open", name="a", url=server.ws_base, room="ws1/canvas/c1")
        await js.call("wait_synced", name="a")
        await js.call("set", name="a", key="k", value=1)
        doc = await js.call("get", name="a")          # {"m": {...}, "t": "..."}

Asynchronous notifications of the driver (``status``, ``sync``, ``connection-close``,
``closed``, ``permission-denied``, ...) are collected in ``js.events`` and can be awaited with
``await js.wait_event("connection-close", name="a")``.

``ReferenceServer`` runs the Node reference server ``@y/websocket-server`` (a devDependency of
tests/js) so that the harness itself can be checked against the behaviour Sinopia must match.

The JavaScript dependencies are installed with ``npm ci --prefix tests/js``; see
``js_harness_available`` / ``install_js_deps``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import socket
from collections import deque
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

JS_DIR = Path(__file__).resolve().parent / "js"
DRIVER = JS_DIR / "driver.mjs"
REFERENCE_SERVER = JS_DIR / "node_modules" / "@y" / "websocket-server" / "src" / "server.js"

_LINE_LIMIT = 64 * 1024 * 1024  # a `get` or `encode_state` of a big document is one line


class JsError(RuntimeError):
    """The driver answered a command with ``ok: false`` (or died)."""


def node_executable() -> str | None:
    return shutil.which("node")


def js_harness_available() -> bool:
    """Node is installed and ``npm ci --prefix tests/js`` has been run."""
    return (
        node_executable() is not None
        and (JS_DIR / "node_modules" / "y-websocket").is_dir()
        and (JS_DIR / "node_modules" / "yjs").is_dir()
    )


def install_js_deps(*, force: bool = False) -> None:
    """Install the pinned npm packages of tests/js (``npm ci``) unless already there."""
    import subprocess

    if js_harness_available() and not force:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed")
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--prefix", str(JS_DIR)],
        check=True,
        cwd=JS_DIR,
    )


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


async def _drain(stream: asyncio.StreamReader, sink: deque[str]) -> None:
    while True:
        line = await stream.readline()
        if not line:
            return
        sink.append(line.decode(errors="replace").rstrip("\n"))


class JsClients:
    """A running ``driver.mjs`` process controlling named y-websocket clients."""

    def __init__(
        self,
        *,
        node: str | None = None,
        driver: Path = DRIVER,
        env: dict[str, str] | None = None,
        default_timeout: float = 30.0,
    ) -> None:
        self._node = node or node_executable() or "node"
        self._driver = driver
        self._env = env
        self.default_timeout = default_timeout
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._stderr_task: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self._ready: asyncio.Future[dict[str, Any]] | None = None
        self.events: list[dict[str, Any]] = []
        self.stderr: deque[str] = deque(maxlen=200)
        self.info: dict[str, Any] = {}

    # ------------------------------------------------------------ lifecycle

    async def start(self, timeout: float = 30.0) -> None:
        if self._proc is not None:
            raise RuntimeError("already started")
        env = dict(os.environ)
        if self._env:
            env.update(self._env)
        self._ready = asyncio.get_running_loop().create_future()
        self._proc = await asyncio.create_subprocess_exec(
            self._node,
            str(self._driver),
            cwd=str(self._driver.parent),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            limit=_LINE_LIMIT,
        )
        assert self._proc.stdout is not None and self._proc.stderr is not None
        self._reader = asyncio.create_task(self._read_stdout(self._proc.stdout))
        self._stderr_task = asyncio.create_task(_drain(self._proc.stderr, self.stderr))
        try:
            self.info = await asyncio.wait_for(asyncio.shield(self._ready), timeout)
        except BaseException:
            await self.stop()
            raise

    async def stop(self, timeout: float = 10.0) -> None:
        """Ask the driver to quit (destroying all clients), kill it if it does not."""
        proc = self._proc
        if proc is None:
            return
        if proc.returncode is None:
            with contextlib.suppress(Exception):
                await self.call("quit", timeout=timeout)
            with contextlib.suppress(Exception):
                assert proc.stdin is not None
                proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), timeout)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        for task in (self._reader, self._stderr_task):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(task, timeout)
        self._fail_pending(JsError(f"driver stopped{self._stderr_tail()}"))
        self._proc = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------ commands

    async def call(self, cmd: str, timeout: float | None = None, **args: Any) -> Any:
        """Send one command, return its ``result`` or raise ``JsError``.

        ``timeout`` is the Python-side limit; for the driver's waits pass ``timeout_ms`` too
        (the driver's own timeout gives the better error message, so keep ``timeout`` above it).
        """
        proc = self._proc
        if proc is None or proc.stdin is None or proc.returncode is not None:
            raise JsError(f"driver is not running{self._stderr_tail()}")
        if timeout is None:
            timeout = self.default_timeout
            if isinstance(args.get("timeout_ms"), int | float):
                timeout = max(timeout, args["timeout_ms"] / 1000 + 5)
        ident = next(self._ids)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[ident] = fut
        line = json.dumps({"id": ident, "cmd": cmd, **args}) + "\n"
        try:
            proc.stdin.write(line.encode())
            await proc.stdin.drain()
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            raise JsError(f"no answer to {cmd} within {timeout} s{self._stderr_tail()}") from None
        finally:
            self._pending.pop(ident, None)

    # a few conveniences for the common commands

    async def open(
        self,
        name: str,
        url: str,
        room: str,
        params: dict[str, str] | None = None,
        **opts: Any,
    ) -> int:
        """Create a client; returns its Yjs clientID."""
        res = await self.call("open", name=name, url=url, room=room, params=params or {}, **opts)
        return int(res["client_id"])

    async def wait_synced(self, name: str, timeout_ms: int = 10_000) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("wait_synced", name=name, timeout_ms=timeout_ms)
        return result

    async def get(self, name: str, **what: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("get", name=name, **what)
        return result

    async def wait_for(self, name: str, kind: str, timeout_ms: int = 10_000, **cond: Any) -> Any:
        return await self.call("wait_for", name=name, kind=kind, timeout_ms=timeout_ms, **cond)

    # ------------------------------------------------------------ events

    def events_of(self, event: str | None = None, **match: Any) -> list[dict[str, Any]]:
        return [e for e in self.events if _matches(e, event, match)]

    async def wait_event(
        self,
        event: str | None = None,
        *,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = 10.0,
        since: int = 0,
        **match: Any,
    ) -> dict[str, Any]:
        """First event (at index >= ``since`` in ``self.events``) matching all criteria.

        Use ``since=len(js.events)`` taken before an action to wait for events it causes.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen = since
        while True:
            for e in self.events[seen:]:
                if _matches(e, event, match) and (predicate is None or predicate(e)):
                    return e
            seen = len(self.events)
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise JsError(
                    f"no event {event!r} {match} within {timeout} s; "
                    f"last events: {self.events[-10:]}"
                )
            self._changed.clear()
            if self._proc is None or self._proc.returncode is not None:
                raise JsError(f"driver exited{self._stderr_tail()}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    # ------------------------------------------------------------ internals

    async def _read_stdout(self, stream: asyncio.StreamReader) -> None:
        try:
            while True:
                raw = await stream.readline()
                if not raw:
                    break
                try:
                    msg = json.loads(raw)
                except json.JSONDecodeError:
                    self.stderr.append("driver stdout (not JSON): " + raw.decode(errors="replace"))
                    continue
                if "event" in msg:
                    if msg["event"] == "ready" and self._ready and not self._ready.done():
                        self._ready.set_result(msg)
                    self.events.append(msg)
                    self._changed.set()
                    continue
                fut = self._pending.get(msg.get("id"))
                if fut is None or fut.done():
                    continue
                if msg.get("ok"):
                    fut.set_result(msg.get("result"))
                else:
                    fut.set_exception(JsError(str(msg.get("error"))))
        finally:
            # the driver exited: nobody will answer anymore
            if self._proc is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._proc.wait(), 5)
            self._fail_pending(JsError(f"driver exited{self._stderr_tail()}"))
            if self._ready is not None and not self._ready.done():
                self._ready.set_exception(JsError(f"driver did not start{self._stderr_tail()}"))
            self._changed.set()

    def _fail_pending(self, exc: Exception) -> None:
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(exc)

    def _stderr_tail(self, n: int = 20) -> str:
        if not self.stderr:
            return ""
        return "\n--- driver stderr ---\n" + "\n".join(list(self.stderr)[-n:])


def _matches(e: dict[str, Any], event: str | None, match: dict[str, Any]) -> bool:
    if event is not None and e.get("event") != event:
        return False
    return all(e.get(k) == v for k, v in match.items())


class ReferenceServer:
    """The Node reference server ``@y/websocket-server`` on a free loopback port.

    ``ws_base`` mimics Sinopia's ``ws://host:port/collab``; the reference server takes the
    whole path as the room name, so any room works under it.
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.ws_base = f"ws://{host}:{self.port}/collab"
        self._proc: asyncio.subprocess.Process | None = None
        self._stderr_task: asyncio.Task[None] | None = None
        self.output: deque[str] = deque(maxlen=200)

    async def start(self, timeout: float = 30.0) -> None:
        node = node_executable()
        if node is None or not REFERENCE_SERVER.is_file():
            raise RuntimeError("node or @y/websocket-server missing: npm ci --prefix tests/js")
        env = dict(os.environ, HOST=self.host, PORT=str(self.port))
        env.pop("YPERSISTENCE", None)  # keep it in memory
        self._proc = await asyncio.create_subprocess_exec(
            node,
            str(REFERENCE_SERVER),
            cwd=str(JS_DIR),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
        )
        assert self._proc.stdout is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                await self.stop()
                raise RuntimeError("reference server did not start: " + " | ".join(self.output))
            try:
                line = await asyncio.wait_for(self._proc.stdout.readline(), remaining)
            except TimeoutError:
                continue
            if not line:
                await self.stop()
                raise RuntimeError("reference server exited: " + " | ".join(self.output))
            text = line.decode(errors="replace").rstrip("\n")
            self.output.append(text)
            if text.startswith("running at"):
                break
        self._stderr_task = asyncio.create_task(_drain(self._proc.stdout, self.output))

    async def stop(self) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        if self._stderr_task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._stderr_task, 5)
        self._proc = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
