"""The REST route table. Each endpoint says, next to its handler, what it needs
(`permission`), what it reads and what it answers; the app's routes, the OpenAPI
description and the authorization checks are all derived from this one table, so an
endpoint cannot exist without a rule."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

# What a caller must be allowed to do on the workspace named in the path:
# public: anyone; user: any signed-in user or token (no workspace: their own account);
# read: any member or share link; comment: add comments and replies;
# write: edit annotations and records; approve: sign off records; manage: members and
# settings; admin: the instance's operators. Enforced by server.auth.Auth.guard.
Permission = Literal["public", "user", "read", "comment", "write", "approve", "manage", "admin"]
Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Param:
    name: str
    where: Literal["query", "header"]
    description: str
    type: str = "string"
    required: bool = False


@dataclass
class Endpoint:
    path: str
    method: str
    handler: Handler
    summary: str
    permission: Permission
    tag: str
    body: type[BaseModel] | None = None
    answer: type[BaseModel] | None = None
    params: tuple[Param, ...] = ()
    # Extra statuses this endpoint answers with, beyond 200 and the auth ones.
    statuses: dict[int, str] = field(default_factory=dict)


class Api:
    def __init__(self) -> None:
        self.endpoints: list[Endpoint] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        permission: Permission,
        tag: str,
        body: type[BaseModel] | None = None,
        answer: type[BaseModel] | None = None,
        params: tuple[Param, ...] = (),
        statuses: dict[int, str] | None = None,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.endpoints.append(
                Endpoint(
                    path,
                    method,
                    handler,
                    summary,
                    permission,
                    tag,
                    body,
                    answer,
                    params,
                    statuses or {},
                )
            )
            return handler

        return register

    def routes(self, guard: Callable[[Endpoint], Handler]) -> list[Route]:
        """Starlette routes; `guard` wraps each handler with its endpoint's checks."""
        by_path: dict[str, list[Endpoint]] = {}
        for endpoint in self.endpoints:
            by_path.setdefault(endpoint.path, []).append(endpoint)
        routes = []
        for path, endpoints in by_path.items():
            table = {e.method: guard(e) for e in endpoints}

            async def dispatch(request: Request, table: dict[str, Handler] = table) -> Response:
                # Starlette answers HEAD on every GET route: the GET handler, body dropped.
                method = request.method if request.method in table else "GET"
                return await table[method](request)

            routes.append(Route(path, dispatch, methods=list(table)))
        return routes

    def openapi(self, title: str, version: str) -> dict[str, Any]:
        schemas: dict[str, Any] = {}

        def ref(model: type[BaseModel]) -> dict[str, str]:
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(schema.pop("$defs", {}))
            schemas[model.__name__] = schema
            return {"$ref": f"#/components/schemas/{model.__name__}"}

        paths: dict[str, Any] = {}
        for e in self.endpoints:
            operation: dict[str, Any] = {
                "summary": e.summary,
                "description": inspect.getdoc(e.handler) or "",
                "operationId": e.handler.__name__,
                "tags": [e.tag],
                "x-permission": e.permission,
                "parameters": [
                    {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                    for name in _path_params(e.path)
                ]
                + [
                    {
                        "name": p.name,
                        "in": p.where,
                        "required": p.required,
                        "description": p.description,
                        "schema": {"type": p.type},
                    }
                    for p in e.params
                ],
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {"application/json": {"schema": ref(e.answer)}}
                        if e.answer
                        else {"application/json": {}},
                    },
                    **{
                        str(status): {
                            "description": text,
                            "content": {"application/problem+json": {}},
                        }
                        for status, text in e.statuses.items()
                    },
                },
            }
            if e.permission != "public":
                operation["responses"]["401"] = {"description": "No valid credential"}
                operation["responses"]["403"] = {"description": "Not allowed"}
            if e.body:
                operation["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": ref(e.body)}},
                }
            paths.setdefault(e.path, {})[e.method.lower()] = operation
        return {
            "openapi": "3.1.0",
            "info": {"title": title, "version": version},
            "paths": paths,
            "components": {
                "schemas": schemas,
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer"},
                    "token": {"type": "apiKey", "in": "query", "name": "token"},
                },
            },
            "security": [{"bearer": []}, {"token": []}],
        }


def _path_params(path: str) -> list[str]:
    return [part[1:-1].split(":")[0] for part in path.split("/") if part.startswith("{")]


def json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json", by_alias=True, exclude_none=True)
    return JSONResponse(data, status_code=status, headers=headers)
