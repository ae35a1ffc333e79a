"""Reading REST requests: who is asking, query parameters, and JSON bodies with a size
limit. Every reading error is a 400 (or 413, 415) problem naming what is wrong."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from annotations.problems import Invalid, from_validation_error
from server.http.problems import HTTPProblem

M = TypeVar("M", bound=BaseModel)

# Largest JSON body read by the API (an annotation is capped far below this).
MAX_BODY_BYTES = 1024 * 1024


def principal(request: Request) -> str:
    """Who the request acts for, as recorded in history ("anonymous" until sign-in)."""
    return str(getattr(request.state, "principal", None) or "anonymous")


async def read_bytes(request: Request, max_bytes: int, what: str = "the body") -> bytes:
    """The whole body, refused with 413 as soon as it is known to exceed `max_bytes`: from
    its declared length, or while it streams in (nothing past the limit is kept)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise HTTPProblem(413, f"{what} exceeds {max_bytes} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise HTTPProblem(413, f"{what} exceeds {max_bytes} bytes")
    return bytes(body)


async def read_json(request: Request, max_bytes: int = MAX_BODY_BYTES) -> object:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in ("application/json", "application/ld+json") and not media.endswith("+json"):
        raise HTTPProblem(415, "send JSON (Content-Type: application/json)")
    body = await read_bytes(request, max_bytes)
    try:
        return json.loads(body)
    except ValueError as exc:
        raise HTTPProblem(400, f"the body is not JSON: {exc}") from None


async def read_body(request: Request, model: type[M]) -> M:
    data = await read_json(request)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Invalid(from_validation_error(exc)) from None


def int_param(
    request: Request, key: str, default: int | None = None, minimum: int = 0
) -> int | None:
    raw = request.query_params.get(key)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HTTPProblem(400, f"{key} must be an integer, not {raw!r}") from None
    if value < minimum:
        raise HTTPProblem(400, f"{key} must be at least {minimum}")
    return value


def time_param(raw: str, key: str) -> int:
    """An ISO 8601 time (with a zone, or UTC) as milliseconds since the epoch."""
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise HTTPProblem(400, f"{key} must be an ISO 8601 time, not {raw!r}") from None
    if when.tzinfo is None:
        raise HTTPProblem(400, f"{key} needs a time zone, e.g. {raw}Z")
    return int(when.timestamp() * 1000)
