"""Receiving an uploaded file (`multipart/form-data`) streamed to a temporary file: never
whole in memory, refused with 413 as soon as it is known to be over the limit (from its
declared length, or while it streams; what came in is removed)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from server.http.problems import HTTPProblem

# Form fields beside the file (a caption, a label): small text, this much in all.
MAX_FIELDS_BYTES = 64 * 1024
# What a multipart body adds around the file (boundaries, part headers).
ENVELOPE_BYTES = 16 * 1024


@dataclass
class Received:
    path: Path  # the file's bytes (the caller removes the directory it is in)
    filename: str | None  # as the client named it: a label, never a path
    size: int
    fields: dict[str, str] = field(default_factory=dict)


class _Parts:
    """python-multipart's callbacks: the `file` part's bytes buffered for the next write,
    the other parts' text kept (bounded)."""

    def __init__(self, file_field: str, max_bytes: int) -> None:
        self.file_field = file_field
        self.max_bytes = max_bytes
        self.header_field = b""
        self.header_value = b""
        self.headers: dict[bytes, bytes] = {}
        self.name: str | None = None
        self.filename: str | None = None
        self.is_file = False
        self.skipped = False
        self.seen_file = False
        self.pending = bytearray()
        self.size = 0
        self.fields: dict[str, str] = {}
        self.field_value = bytearray()
        self.fields_size = 0

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": lambda data, start, end: self._add("header_field", data[start:end]),
            "on_header_value": lambda data, start, end: self._add("header_value", data[start:end]),
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
        }

    def _add(self, name: str, data: bytes) -> None:
        setattr(self, name, getattr(self, name) + data)

    def part_begin(self) -> None:
        self.headers = {}
        self.header_field = self.header_value = b""
        self.field_value = bytearray()

    def header_end(self) -> None:
        self.headers[self.header_field.lower()] = self.header_value
        self.header_field = self.header_value = b""

    def headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        self.name = options.get(b"name", b"").decode("utf-8", "replace")
        raw = options.get(b"filename")
        self.is_file = self.name == self.file_field
        # Another file in the form: not ours, its bytes are passed over.
        self.skipped = raw is not None and not self.is_file
        if self.is_file:
            if self.seen_file:
                raise HTTPProblem(400, f"send one file per upload (one {self.file_field!r} field)")
            self.seen_file = True
            self.filename = raw.decode("utf-8", "replace") if raw is not None else None

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self.is_file:
            self.size += end - start
            if self.size > self.max_bytes:
                raise HTTPProblem(413, f"the file is over the limit of {self.max_bytes:,} bytes")
            self.pending += data[start:end]
        elif not self.skipped:
            self.fields_size += end - start
            if self.fields_size > MAX_FIELDS_BYTES:
                raise HTTPProblem(413, f"the form's other fields are over {MAX_FIELDS_BYTES} bytes")
            self.field_value += data[start:end]

    def part_end(self) -> None:
        if not self.is_file and not self.skipped and self.name:
            self.fields[self.name] = self.field_value.decode("utf-8", "replace")
        self.is_file = False


async def receive_file(
    request: Request, directory: Path, *, max_bytes: int, file_field: str = "file"
) -> Received:
    """The multipart body's `file_field` file, streamed into `directory`; 400 when the body
    is not such a form, 413 past `max_bytes` (the partial file is removed)."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or b"boundary" not in options:
        raise HTTPProblem(
            415, f"send the file as multipart/form-data, in a field named {file_field!r}"
        )
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes + ENVELOPE_BYTES:
        raise HTTPProblem(413, f"the file is over the limit of {max_bytes:,} bytes")
    parts = _Parts(file_field, max_bytes)
    parser = MultipartParser(options[b"boundary"], parts.callbacks())
    target = directory / "upload"
    out = await asyncio.to_thread(open, target, "wb")
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            if parts.pending:
                data, parts.pending = bytes(parts.pending), bytearray()
                await asyncio.to_thread(out.write, data)
        parser.finalize()
    except HTTPProblem:
        out.close()
        target.unlink(missing_ok=True)
        raise
    except Exception as exc:  # python-multipart's errors on a malformed body
        out.close()
        target.unlink(missing_ok=True)
        raise HTTPProblem(400, f"the multipart body is malformed: {exc}") from None
    finally:
        with contextlib.suppress(Exception):
            out.close()
    if not parts.seen_file:
        target.unlink(missing_ok=True)
        raise HTTPProblem(400, f"no file: send it in a form field named {file_field!r}")
    return Received(target, parts.filename, parts.size, parts.fields)
