"""Reading REST requests: who is asking, and JSON bodies with a size limit."""

from __future__ import annotations

import json
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


async def read_json(request: Request, max_bytes: int = MAX_BODY_BYTES) -> object:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in ("application/json", "application/ld+json") and not media.endswith("+json"):
        raise HTTPProblem(415, "send JSON (Content-Type: application/json)")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise HTTPProblem(413, f"the body exceeds {max_bytes} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise HTTPProblem(413, f"the body exceeds {max_bytes} bytes")
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
