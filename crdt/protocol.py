"""The y-websocket wire protocol: strict parsing of incoming frames, and the messages we send.

Building and applying sync messages is pycrdt's job (`create_sync_message`,
`handle_sync_message`, `create_update_message`, `create_awareness_message`); this module
adds what pycrdt leaves out: bounds-checked parsing, so a truncated varint or a length
that runs past the frame is a `MalformedMessage` instead of a silently short slice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pycrdt import (
    Encoder,
    YMessageType,
    YSyncMessageType,
    create_awareness_message,
    create_update_message,
)

from .errors import MalformedMessage

MESSAGE_AUTH = 2
MESSAGE_QUERY_AWARENESS = 3
AUTH_PERMISSION_DENIED = 0

# Yjs encodes client ids, clocks and lengths as varuints of at most 53 bits (JavaScript's
# safe integers): 8 bytes of 7 bits. A longer run of continuation bytes is garbage.
_MAX_VARUINT_BYTES = 8


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def varuint(self) -> int:
        data, pos = self.data, self.pos
        value = shift = 0
        for _ in range(_MAX_VARUINT_BYTES):
            if pos >= len(data):
                raise MalformedMessage("truncated varint")
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                self.pos = pos
                return value
            shift += 7
        raise MalformedMessage("varint too long")

    def var_bytes(self) -> bytes:
        length = self.varuint()
        end = self.pos + length
        if end > len(self.data):
            raise MalformedMessage("length runs past the end of the message")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def var_string(self) -> str:
        try:
            return self.var_bytes().decode()
        except UnicodeDecodeError:
            raise MalformedMessage("string is not UTF-8") from None

    def end(self) -> None:
        if self.pos != len(self.data):
            raise MalformedMessage("unexpected bytes after the message")


@dataclass(slots=True)
class SyncStep1:
    state: bytes


@dataclass(slots=True)
class SyncStep2:
    update: bytes


@dataclass(slots=True)
class SyncUpdate:
    update: bytes


@dataclass(slots=True)
class AwarenessUpdate:
    payload: bytes
    # (client id, clock, state or None when the client left)
    entries: list[tuple[int, int, dict[str, Any] | None]]


@dataclass(slots=True)
class QueryAwareness:
    pass


Message = SyncStep1 | SyncStep2 | SyncUpdate | AwarenessUpdate | QueryAwareness


def parse(frame: bytes) -> Message:
    """Parse one client frame, or raise `MalformedMessage` saying what is wrong with it."""
    if len(frame) > 2 and frame[0] == YMessageType.SYNC and frame[1] in _UPDATES:
        # Nearly every message: an update. The same checks, without the general reader.
        return _UPDATES[frame[1]](_payload(frame, 2))
    reader = _Reader(frame)
    kind = reader.varuint()
    message: Message
    if kind == YMessageType.SYNC:
        sub = reader.varuint()
        payload = reader.var_bytes()
        if sub == YSyncMessageType.SYNC_STEP1:
            message = SyncStep1(payload)
        elif sub == YSyncMessageType.SYNC_STEP2:
            message = SyncStep2(payload)
        elif sub == YSyncMessageType.SYNC_UPDATE:
            message = SyncUpdate(payload)
        else:
            raise MalformedMessage(f"unknown sync message type {sub}")
    elif kind == YMessageType.AWARENESS:
        payload = reader.var_bytes()
        message = AwarenessUpdate(payload, _parse_awareness(payload))
    elif kind == MESSAGE_QUERY_AWARENESS:
        message = QueryAwareness()
    elif kind == MESSAGE_AUTH:
        # Clients have nothing to say on this channel; y-websocket never sends it.
        raise MalformedMessage("auth messages go from server to client only")
    else:
        raise MalformedMessage(f"unknown message type {kind}")
    reader.end()
    return message


_UPDATES: dict[int, type[SyncUpdate | SyncStep2]] = {
    YSyncMessageType.SYNC_UPDATE: SyncUpdate,
    YSyncMessageType.SYNC_STEP2: SyncStep2,
}


def _payload(frame: bytes, pos: int) -> bytes:
    """The length-prefixed payload at `pos` that must end the frame."""
    length = shift = 0
    end = len(frame)
    for _ in range(_MAX_VARUINT_BYTES):
        if pos >= end:
            raise MalformedMessage("truncated varint")
        byte = frame[pos]
        pos += 1
        length |= (byte & 0x7F) << shift
        if byte < 0x80:
            break
        shift += 7
    else:
        raise MalformedMessage("varint too long")
    if pos + length > end:
        raise MalformedMessage("length runs past the end of the message")
    if pos + length < end:
        raise MalformedMessage("unexpected bytes after the message")
    return frame[pos:]


def _parse_awareness(payload: bytes) -> list[tuple[int, int, dict[str, Any] | None]]:
    reader = _Reader(payload)
    entries = []
    for _ in range(reader.varuint()):
        client_id = reader.varuint()
        clock = reader.varuint()
        text = reader.var_string()
        try:
            state = json.loads(text) if text else None
        except ValueError:
            raise MalformedMessage("awareness state is not JSON") from None
        if state is not None and not isinstance(state, dict):
            raise MalformedMessage("awareness state must be a JSON object or null")
        entries.append((client_id, clock, state))
    reader.end()
    return entries


def update_message(update: bytes) -> bytes:
    return create_update_message(update)


def _varuint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    out.append(value)
    return bytes(out)


def sync_step2_message(update: bytes) -> bytes:
    """A SyncStep2 carrying `update` (pycrdt makes these only from a `Doc`)."""
    return b"".join(
        (
            _varuint(YMessageType.SYNC),
            _varuint(YSyncMessageType.SYNC_STEP2),
            _varuint(len(update)),
            update,
        )
    )


def awareness_message(payload: bytes) -> bytes:
    return create_awareness_message(payload)


def permission_denied_message(reason: str) -> bytes:
    encoder = Encoder()
    encoder.write_var_uint(MESSAGE_AUTH)
    encoder.write_var_uint(AUTH_PERMISSION_DENIED)
    encoder.write_var_string(reason)
    return encoder.to_bytes()


# An awareness update about zero clients: every Yjs client accepts it and changes nothing.
# Sent to idle sockets because npm y-websocket closes a socket that hears nothing for 30 s.
KEEPALIVE_MESSAGE = create_awareness_message(b"\x00")
