"""The load generator of loadtest.py and scaleout.py: many Yjs websocket clients in a few
processes, cheap enough not to be what is measured.

What keeps it cheap and honest:

* Its own minimal websocket client (`WsClient`, an asyncio protocol): no per-frame
  library machinery, an all-zero mask on what it sends (the servers unmask it like any
  other key), binary frames handed over as bytes.
* Receivers never apply updates while the load runs. Every edit writes a marker string
  ``~sender.seq.send_us~`` into the shared map; a receiver finds the markers in each
  update frame (a regular expression over the bytes: Yjs keeps a string's UTF-8 as is),
  so a frame that merges several edits counts each of them, with its own latency. The
  frames are kept and applied to a real `pycrdt.Doc` only after the measured window, to
  check that every client converged.
* One schedule per process (a heap of due times), not a sleeping task per client; every
  client has its own phase in the edit period (clients sending in lockstep make bursts
  that flatter a server that batches).
* Two flavours of the protocol: y-websocket's (a message per frame) and Hocuspocus'
  (each message prefixed by the document's name, an auth message first).
"""

from __future__ import annotations

import asyncio
import base64
import heapq
import math
import os
import re
import time
import traceback
from array import array
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any
from urllib.parse import urlsplit

MAP_NAME = "m"
# CLOCK_MONOTONIC is system-wide on Linux, so send times written by one worker process
# can be compared with receive times read in another.
clock = time.monotonic

MARKER = re.compile(rb"~(\d+)\.(\d+)\.(\d+)~")

# y-websocket message types; Hocuspocus adds SyncReply (a sync message that asks for no
# SyncStep1 back) and Ping.
SYNC, AWARENESS, AUTH = 0, 1, 2
HP_SYNC_REPLY, HP_PING, HP_PONG = 4, 9, 10
STEP1, STEP2, UPDATE = 0, 1, 2


def varuint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def varbytes(data: bytes) -> bytes:
    return varuint(len(data)) + data


def read_varuint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def read_varbytes(data: bytes, pos: int) -> tuple[bytes, int]:
    length, pos = read_varuint(data, pos)
    return data[pos : pos + length], pos + length


# --------------------------------------------------------------------------- websocket


class WsClient(asyncio.Protocol):
    """A websocket client connection: handshake, frames in, unfragmented frames out."""

    def __init__(self, host: str, target: str, on_message: Any, on_lost: Any) -> None:
        self.host = host
        self.target = target
        self.on_message = on_message
        self.on_lost = on_lost
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.open = False
        self.buf = b""
        self.fragments: list[bytes] = []
        self.close_code: int | None = None
        self.close_reason = ""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            (
                f"GET {self.target} HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )

    def data_received(self, data: bytes) -> None:
        buf = self.buf + data if self.buf else data
        if not self.open:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.buf = buf
                return
            status = buf[: buf.find(b"\r\n")].decode("latin-1")
            if " 101 " not in status + " ":
                if not self.opened.done():
                    self.opened.set_exception(ConnectionError(f"handshake refused: {status}"))
                assert self.transport is not None
                self.transport.close()
                return
            self.open = True
            if not self.opened.done():
                self.opened.set_result(None)
            buf = buf[end + 4 :]
        pos, n = 0, len(buf)
        while n - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length = b1 & 0x7F
            head = 2
            if length == 126:
                if n - pos < 4:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                head = 4
            elif length == 127:
                if n - pos < 10:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                head = 10
            end = pos + head + length
            if end > n:
                break
            payload = buf[pos + head : end]
            pos = end
            self._frame(b0, payload)
        self.buf = buf[pos:] if pos < n else b""

    def _frame(self, b0: int, payload: bytes) -> None:
        opcode = b0 & 0x0F
        fin = b0 & 0x80
        if opcode == 0x2 or (opcode == 0 and self.fragments):
            if not fin:
                self.fragments.append(payload)
                return
            if self.fragments:
                payload = b"".join([*self.fragments, payload])
                self.fragments = []
            self.on_message(payload)
        elif opcode == 0x9:  # ping
            self._write(0xA, payload)
        elif opcode == 0x8:  # close: answer it and let the server end the connection
            if self.close_code is None:
                self.close_code = int.from_bytes(payload[:2], "big") if payload else 1005
                self.close_reason = payload[2:].decode(errors="replace")
                self._write(0x8, payload[:2])

    def _write(self, opcode: int, payload: bytes) -> None:
        # Clients must mask; an all-zero key leaves the payload as it is.
        n = len(payload)
        if n < 126:
            head = bytes((0x80 | opcode, 0x80 | n))
        elif n < 65536:
            head = bytes((0x80 | opcode, 0xFE)) + n.to_bytes(2, "big")
        else:
            head = bytes((0x80 | opcode, 0xFF)) + n.to_bytes(8, "big")
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(head + b"\x00\x00\x00\x00" + payload)

    def send(self, payload: bytes) -> bool:
        if self.transport is None or self.transport.is_closing() or self.close_code is not None:
            return False
        self._write(0x2, payload)
        return True

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            if self.close_code is None:
                self.close_code = 1000
                self._write(0x8, (1000).to_bytes(2, "big"))
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f"connection lost: {exc!r}"))
        self.on_lost(self)


# --------------------------------------------------------------------------- clients


@dataclass
class ClientSpec:
    room: int
    index: int  # index within the room; an editor's map key and marker sender
    url: str
    phase: float  # seconds into each edit period: spreads sends evenly
    editor: bool = True  # False: a watcher, which only receives
    flavour: str = "y"  # "y": y-websocket's protocol; "hocuspocus": its own
    doc: str = ""  # the document's name in Hocuspocus' messages


@dataclass
class WorkerStats:
    t0: float = math.inf
    t1: float = math.inf
    latencies: array = field(default_factory=lambda: array("d"))
    delivered: int = 0  # deliveries received inside [t0, t1]
    coalesced: int = 0  # of those, edits whose marker a server merged away
    late: int = 0  # deliveries received after t1
    frames: int = 0  # update frames received inside [t0, t1]
    max_send_lag: float = 0.0  # how far behind schedule a send went (generator overload)
    cpu0: float = 0.0
    cpu1: float = 0.0
    errors: list[str] = field(default_factory=list)


class Client:
    def __init__(self, spec: ClientSpec, stats: WorkerStats) -> None:
        self.spec = spec
        self.stats = stats
        self.key = str(spec.index)
        self.prefix = varbytes(spec.doc.encode()) if spec.flavour == "hocuspocus" else b""
        self.doc: Any = None
        self.map: Any = None
        if spec.editor:
            from pycrdt import Doc, Map

            self.doc = Doc()
            self.map = self.doc.get(MAP_NAME, type=Map)
        self.seq = 0
        self.sent_in_window = 0
        self.last_seen: dict[int, int] = {}
        self.last_change = 0.0
        self.received: list[bytes] = []  # sync payloads, applied after the window
        self.ws: WsClient | None = None
        self.synced = asyncio.Event()
        self.target: dict[int, int] | None = None  # sender -> final seq
        self.caught_up = asyncio.Event()
        self.closing = False

    async def connect(self, timeout: float, attempts: int) -> int:
        """Connect and complete the sync handshake; returns how many retries it took."""
        parts = urlsplit(self.spec.url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        loop = asyncio.get_running_loop()
        for attempt in range(attempts):
            self.synced = asyncio.Event()
            try:
                _, ws = await asyncio.wait_for(
                    loop.create_connection(
                        lambda: WsClient(f"{host}:{port}", target, self._on_message, self._lost),
                        host,
                        port,
                    ),
                    timeout,
                )
                self.ws = ws
                await asyncio.wait_for(ws.opened, timeout)
                if self.prefix:
                    # Hocuspocus: authenticate the document first (token, provider version).
                    ws.send(self.prefix + b"\x02\x00" + varbytes(b"") + varbytes(b"bench"))
                ws.send(self.prefix + b"\x00\x00" + varbytes(self._state_vector()))
                await asyncio.wait_for(self.synced.wait(), timeout)
                return attempt
            except Exception as exc:
                self.close()
                if attempt == attempts - 1:
                    raise RuntimeError(f"join failed after {attempts} attempts: {exc!r}") from exc
        raise AssertionError("unreachable")

    def _state_vector(self) -> bytes:
        return self.doc.get_state() if self.doc is not None else b"\x00"

    def _on_message(self, data: bytes) -> None:
        prefix = self.prefix
        if prefix:
            if not data.startswith(prefix):
                return
            data = data[len(prefix) :]
        if len(data) < 2:
            return
        kind = data[0]
        if kind == SYNC or (prefix and kind == HP_SYNC_REPLY):
            sub = data[1]
            if sub == UPDATE:
                self._on_update(data)
            elif sub == STEP2:
                self.received.append(data)
                self.synced.set()
            elif sub == STEP1:
                sv, _ = read_varbytes(data, 2)
                update = self.doc.get_update(sv) if self.doc is not None else b"\x00\x00"
                self.send(b"\x00\x01" + varbytes(update))
        elif prefix and kind == HP_PING:
            self.send(bytes((HP_PONG,)))

    def _on_update(self, data: bytes) -> None:
        now = clock()
        self.received.append(data)
        stats = self.stats
        if stats.t0 <= now <= stats.t1:
            stats.frames += 1
        own = self.spec.index if self.spec.editor else -1
        last_seen = self.last_seen
        changed = False
        for match in MARKER.finditer(data):
            sender = int(match[1])
            if sender == own:
                continue
            seq = int(match[2])
            prev = last_seen.get(sender, 0)
            if seq <= prev:
                continue
            last_seen[sender] = seq
            changed = True
            count = seq - prev
            if now < stats.t0:
                continue
            if now > stats.t1:
                stats.late += count
                continue
            stats.delivered += count
            stats.coalesced += count - 1
            stats.latencies.append(now - int(match[3]) / 1e6)
        if changed:
            self.last_change = now
            if self.target is not None and not self.caught_up.is_set():
                self.check_caught_up()

    def send(self, message: bytes) -> bool:
        return self.ws is not None and self.ws.send(self.prefix + message)

    def _lost(self, ws: WsClient) -> None:
        if ws is self.ws and not self.closing:
            self.stats.errors.append(
                f"room {self.spec.room} client {self.key}: closed "
                f"{ws.close_code} {ws.close_reason!r}"
            )

    def edit(self, in_window: bool) -> None:
        self.seq += 1
        now = clock()
        before = self.doc.get_state()
        self.map[self.key] = f"~{self.spec.index}.{self.seq}.{int(now * 1e6)}~"
        self.send(b"\x00\x02" + varbytes(self.doc.get_update(before)))
        if in_window:
            self.sent_in_window += 1

    def final_seq(self) -> int:
        return self.seq

    def check_caught_up(self) -> None:
        assert self.target is not None
        own = self.spec.index if self.spec.editor else -1
        if all(self.last_seen.get(s, 0) >= q for s, q in self.target.items() if s != own):
            self.caught_up.set()

    def converged(self, finals: dict[int, int]) -> bool:
        """Apply everything received to a fresh document: is each sender's last edit
        what this client's copy holds?"""
        from pycrdt import Doc, Map

        doc: Any = Doc()
        if self.doc is not None:
            doc.apply_update(self.doc.get_update())
        for data in self.received:
            update, _ = read_varbytes(data, 2)
            doc.apply_update(update)
        got = doc.get(MAP_NAME, type=Map).to_py()
        for sender, seq in finals.items():
            value = got.get(str(sender))
            found = MARKER.fullmatch(value.encode()) if isinstance(value, str) else None
            if found is None or int(found[2]) != seq:
                return False
        return True

    def close(self) -> None:
        self.closing = True
        if self.ws is not None:
            self.ws.close()


# --------------------------------------------------------------------------- a worker


async def _edit_schedule(
    clients: list[Client], stats: WorkerStats, start: float, t0: float, t1: float, rate: float
) -> None:
    period = 1.0 / rate
    editors = [c for c in clients if c.spec.editor and c.ws is not None]
    heap = [(start + c.spec.phase, i) for i, c in enumerate(editors)]
    heapq.heapify(heap)
    while heap:
        due, i = heap[0]
        if due >= t1:
            return
        delay = due - clock()
        if delay > 0:
            await asyncio.sleep(delay)
            continue
        stats.max_send_lag = max(stats.max_send_lag, -delay)
        heapq.heapreplace(heap, (due + period, i))
        editors[i].edit(due >= t0)


async def _run(clients: list[Client], stats: WorkerStats, arg: dict[str, float]) -> list[Any]:
    start, t0, t1 = arg["start"], arg["t0"], arg["t1"]
    stats.t0, stats.t1 = t0, t1
    loop = asyncio.get_running_loop()
    window_closed = asyncio.Event()

    def sample(attr: str) -> None:
        setattr(stats, attr, time.process_time())
        if attr == "cpu1":
            window_closed.set()

    loop.call_later(max(0.0, t0 - clock()), sample, "cpu0")
    loop.call_later(max(0.0, t1 - clock()), sample, "cpu1")
    await _edit_schedule(clients, stats, start, t0, t1, arg["rate"])
    await window_closed.wait()
    return [
        (c.spec.room, c.spec.index, c.final_seq(), c.sent_in_window)
        for c in clients
        if c.spec.editor
    ]


async def _converge(clients: list[Client], stats: WorkerStats, arg: dict[str, Any]) -> Any:
    finals: dict[int, dict[int, int]] = arg["finals"]
    live = [c for c in clients if c.ws is not None]
    for c in live:
        c.target = finals.get(c.spec.room, {})
        c.check_caught_up()
    waits = [asyncio.wait_for(c.caught_up.wait(), arg["timeout"]) for c in live]
    await asyncio.gather(*waits, return_exceptions=True)
    rooms: dict[int, bool] = {}
    caught_up_at: dict[int, float] = {}
    for c in live:
        own = c.spec.index if c.spec.editor else -1
        target = {s: q for s, q in (c.target or {}).items() if s != own}
        ok = c.caught_up.is_set() and c.converged(target)
        rooms[c.spec.room] = rooms.get(c.spec.room, True) and ok
        if ok:
            caught_up_at[c.spec.room] = max(caught_up_at.get(c.spec.room, 0.0), c.last_change)
    return {
        "rooms": rooms,
        "conv_at": caught_up_at,
        "latencies": stats.latencies.tobytes(),
        "delivered": stats.delivered,
        "coalesced": stats.coalesced,
        "late": stats.late,
        "frames": stats.frames,
        "max_send_lag": stats.max_send_lag,
        "cpu": stats.cpu1 - stats.cpu0,
        "errors": stats.errors[:20],
        "error_count": len(stats.errors),
    }


async def _handle(cmd: str, arg: Any, clients: list[Client], stats: WorkerStats) -> tuple[str, Any]:
    if cmd == "connect":
        select = SELECTIONS[arg["select"]]
        batch = [c for c in clients if select(c.spec)]
        results: list[Any] = []
        # In slices, so a thousand watchers do not all knock at once.
        step = arg.get("slice", 100)
        for i in range(0, len(batch), step):
            results += await asyncio.gather(
                *(c.connect(arg["timeout"], arg["attempts"]) for c in batch[i : i + step]),
                return_exceptions=True,
            )
        return "connected", {
            "retries": sum(r for r in results if isinstance(r, int)),
            "failed": [repr(r) for r in results if isinstance(r, BaseException)],
        }
    if cmd == "run":
        return "ran", {"finals": await _run(clients, stats, arg)}
    if cmd == "converge":
        return "converged", await _converge(clients, stats, arg)
    if cmd == "close":
        for c in clients:
            c.close()
        return "closed", None
    raise ValueError(f"unknown command {cmd!r}")


async def _worker(conn: Connection, specs: list[ClientSpec]) -> None:
    stats = WorkerStats()
    clients = [Client(s, stats) for s in specs]
    while True:
        cmd, arg = await asyncio.to_thread(conn.recv)
        try:
            reply = await _handle(cmd, arg, clients, stats)
        except Exception:
            conn.send(("error", traceback.format_exc(limit=5)))
            raise
        conn.send(reply)
        if cmd == "close":
            return


def worker_main(conn: Connection, specs: list[ClientSpec]) -> None:
    import resource

    # Thousands of sockets per process.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        import uvloop
    except ImportError:
        asyncio.run(_worker(conn, specs))
    else:
        uvloop.run(_worker(conn, specs))


# --------------------------------------------------------------------------- the processes


def editors_first(spec: ClientSpec) -> bool:
    return spec.editor and spec.index == 0


def other_editors(spec: ClientSpec) -> bool:
    return spec.editor and spec.index != 0


def watchers(spec: ClientSpec) -> bool:
    return not spec.editor


SELECTIONS = {"first": editors_first, "editors": other_editors, "watchers": watchers}


class Workers:
    """Generator processes, each with its share of the clients, driven over pipes."""

    def __init__(self, specs_per_worker: list[list[ClientSpec]]) -> None:
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        self.conns: list[Connection] = []
        self.procs: list[Any] = []
        for specs in specs_per_worker:
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=worker_main, args=(child, specs), daemon=True)
            proc.start()
            child.close()
            self.conns.append(parent)
            self.procs.append(proc)

    @classmethod
    def spread(cls, specs: list[ClientSpec], workers: int) -> Workers:
        per_worker: list[list[ClientSpec]] = [[] for _ in range(workers)]
        for g, s in enumerate(specs):
            per_worker[g % workers].append(s)  # every room is split across workers
        return cls([w for w in per_worker if w])

    def send(self, cmd: str, arg: Any) -> None:
        for c in self.conns:
            c.send((cmd, arg))

    def collect(self, expect: str, timeout: float) -> list[Any]:
        replies = []
        deadline = clock() + timeout
        for c in self.conns:
            if not c.poll(max(0.0, deadline - clock())):
                raise RuntimeError(f"a worker did not send {expect!r} within {timeout:.0f}s")
            tag, payload = c.recv()
            if tag != expect:
                raise RuntimeError(f"a worker sent {tag!r} instead of {expect!r}: {payload}")
            replies.append(payload)
        return replies

    def ask(self, cmd: str, arg: Any, expect: str, timeout: float) -> list[Any]:
        self.send(cmd, arg)
        return self.collect(expect, timeout)

    def join_all(self, timeout: float, attempts: int) -> tuple[int, list[str]]:
        """First editor of each room alone, the other editors together, then watchers."""
        retries, failed = 0, []
        for select in SELECTIONS:
            arg = {"timeout": timeout, "attempts": attempts, "select": select}
            for reply in self.ask("connect", arg, "connected", timeout * attempts * 20 + 60):
                retries += reply["retries"]
                failed += reply["failed"]
        return retries, failed

    def shutdown(self) -> None:
        try:
            self.ask("close", None, "closed", 15)
        except Exception:
            pass
        for p in self.procs:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()
                p.join(timeout=5)
