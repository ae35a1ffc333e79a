"""Fixtures: real servers (in this process, or as `sinopia serve` subprocesses) on free
ports, each with its own data directory."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from server.app import Server, create_app, server_config
from server.settings import Settings

from . import access
from .mongo import mongo_database, mongo_server  # noqa: F401 (fixtures for every test)

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Running:
    """A server under test: where to reach it and, in-process, its app.

    Every access needs a credential: `token` is an instance administrator's (see
    tests/access.py); `ws(doc)` makes the document's workspace if needed and carries the
    token, `headers` and `get` carry it on REST calls."""

    port: int
    data_dir: Path
    app: Starlette | None = None
    stop: Callable[[], Any] | None = field(default=None, repr=False)
    token: str = field(default="", repr=False)
    settings: Settings | None = field(default=None, repr=False)
    workspaces: set[str] = field(default_factory=set, repr=False)
    # What tests/test_interop_js.py's clients use.
    room_prefix: str = "ws1/canvas/"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.port}/collab"

    def ws(self, doc: str, token: str | None = None) -> str:
        """The websocket URL of `doc`, with the operator's token (or `token`)."""
        self.workspace(doc.split("/")[0])
        return f"{self.ws_base}/{doc}?token={token or self.token}"

    def workspace(self, name: str) -> None:
        if name not in self.workspaces and self.settings is not None:
            access.add_workspace(self.settings, name)
            self.workspaces.add(name)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def client_params(self) -> dict[str, str]:
        self.workspace(self.room_prefix.split("/")[0])
        return {"token": self.token}

    def http(self, **options: Any) -> httpx.AsyncClient:
        """A REST client acting as the operator."""
        return httpx.AsyncClient(base_url=self.url, timeout=10, headers=self.headers, **options)

    async def get(self, path: str) -> httpx.Response:
        async with self.http() as client:
            return await client.get(path)

    async def metric(self, name: str) -> float:
        text = (await self.get("/metrics")).text
        for line in text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
        raise KeyError(name)


ServerFactory = Callable[..., Any]


async def eventually(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "") -> None:
    """Wait for server-side state that sends no event: re-check briefly until true.

    `predicate` may be a coroutine function (for state read from a store)."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.01)


@pytest.fixture
async def make_server(tmp_path: Path) -> AsyncIterator[ServerFactory]:
    """Start in-process servers: `await make_server(max_clients_per_room=3, ...)`."""
    started: list[tuple[Server, asyncio.Task[None]]] = []

    async def start(data_dir: Path | None = None, **settings: Any) -> Running:
        data_dir = data_dir or tmp_path / f"data{len(started)}"
        config = Settings(data_dir=data_dir, port=free_port(), **settings)
        token = access.provision(config)
        app = create_app(config)
        server = Server(server_config(app, config), app)
        # The test runner owns signals; the server must not take SIGINT away from it.
        server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        task = asyncio.get_running_loop().create_task(server.serve())
        deadline = time.monotonic() + 10
        while not server.started:
            if task.done():
                task.result()
            if time.monotonic() > deadline:
                raise TimeoutError("server did not start")
            await asyncio.sleep(0.01)
        started.append((server, task))

        async def stop() -> None:
            server.should_exit = True
            await task

        return Running(config.port, data_dir, app, stop, token, config)

    yield start
    for server, _ in started:
        server.should_exit = True
    await asyncio.gather(*(task for _, task in started), return_exceptions=True)


@pytest.fixture
async def server(make_server: ServerFactory) -> Running:
    """One in-process server with default settings."""
    return await make_server()


class Process:
    """`sinopia serve` as a real subprocess, restartable on the same data directory."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.env = {**os.environ, "SINOPIA_LOG_FORMAT": "json", **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data_dir.parent / f"{data_dir.name}-server.log"
        self.settings = Settings(data_dir=data_dir)
        self.token = ""
        self._running: Running | None = None

    @property
    def running(self) -> Running:
        if self._running is None:
            self._running = Running(self.port, self.data_dir, None, None, "", self.settings)
        self._running.token = self.token
        return self._running

    async def start(self, timeout: float = 20.0) -> Running:
        if not self.token:
            # As an operator would, before or after the first start: `sinopia admin ...`.
            self.token = access.provision(self.settings)
        command = [
            sys.executable,
            "-m",
            "server.cli",
            "serve",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
        ]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=1) as client:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
                try:
                    if (await client.get(f"{self.running.url}/healthz")).status_code == 200:
                        return self.running
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError("server did not start")
                await asyncio.sleep(0.05)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def terminate(self, timeout: float = 15.0) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)


@pytest.fixture
async def process_factory(tmp_path: Path) -> AsyncIterator[Callable[..., Process]]:
    made: list[Process] = []

    def make(name: str = "proc", env: dict[str, str] | None = None) -> Process:
        process = Process(tmp_path / name, env)
        made.append(process)
        return process

    yield make
    for process in made:
        if process.proc is not None and process.proc.poll() is None:
            process.kill()
