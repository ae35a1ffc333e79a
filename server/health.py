"""`/healthz` (the process answers) and `/readyz` (the store and the bus answer too)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse

# A check slower than this counts as failing: a load balancer should not wait on us.
CHECK_TIMEOUT = 2.0


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def _check(ping: Callable[[], Awaitable[None]]) -> str:
    try:
        await asyncio.wait_for(ping(), CHECK_TIMEOUT)
    except Exception as exc:
        return f"unavailable: {type(exc).__name__}: {exc}"[:200]
    return "ok"


async def readyz(request: Request) -> JSONResponse:
    manager = request.app.state.manager
    store, bus = await asyncio.gather(_check(manager.store.ping), _check(manager.bus.ping))
    ready = store == "ok" and bus == "ok"
    body = {"status": "ready" if ready else "degraded", "store": store, "bus": bus}
    return JSONResponse(body, status_code=200 if ready else 503)
