"""Every REST endpoint in one table, and the problem answers for what handlers raise."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from server.api import (
    account,
    annotations,
    embed,
    history,
    iiif,
    images,
    login_links,
    media,
    mirador,
    models,
    people,
    reports,
    subjects,
    vocabularies,
    workspace_tags,
    workspaces,
)
from server.directory import DirectoryError
from server.directory.operations import Refused
from server.http import problems
from server.http.routes import Api

RESOURCES = (
    history,
    account,
    login_links,
    workspaces,
    people,
    subjects,
    workspace_tags,
    annotations,
    iiif,
    images,
    media,
    models,
    mirador,
    reports,
    vocabularies,
    embed,
)


def rest_api() -> Api:
    """Every REST endpoint of the product, in one table."""
    table = Api()
    for module in RESOURCES:
        table.endpoints.extend(module.api.endpoints)
    return table


async def _on_refused(request: Request, exc: Exception) -> JSONResponse:
    # A directory operation that cannot be done as asked says which status it is.
    assert isinstance(exc, Refused)
    return problems.problem(exc.status, exc.detail)


async def _on_directory_down(request: Request, exc: Exception) -> JSONResponse:
    return problems.problem(503, "the directory is unavailable, try again", headers=RETRY)


RETRY = {"Retry-After": "1"}

# Handlers turn what a handler raises into a problem+json answer, so no route repeats it.
exception_handlers = {
    **problems.handlers,
    Refused: _on_refused,
    DirectoryError: _on_directory_down,
}
