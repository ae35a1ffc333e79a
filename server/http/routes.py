"""The REST route table. Each endpoint says, next to its handler, what it needs
(`permission`), what it reads and what it answers; the app's routes, the OpenAPI
description and the authorization checks are all derived from this one table, so an
endpoint cannot exist without a rule."""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partialmethod
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from pydantic.json_schema import JsonSchemaMode
from pydantic_core import PydanticUndefined
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server.http.requests import read_body

# What a caller must be allowed to do on the workspace named in the path:
# public: anyone; user: any signed-in user or token (no workspace: their own account);
# read: any member or share link; comment: add comments and replies;
# write: edit annotations and records; approve: sign off records; manage: members and
# settings; admin: the instance's operators. Enforced by server.auth.Auth.guard.
Permission = Literal["public", "user", "read", "comment", "write", "approve", "manage", "admin"]
Handler = Callable[[Request], Awaitable[Response]]
AnyHandler = Callable[..., Awaitable[Response]]
Decorator = Callable[[AnyHandler], AnyHandler]


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
    """One resource's endpoints (each module of server/api has one), or all of them.

    `@api.get(path, summary, permission, answer=..., ...)` (and `post`, `put`, `patch`,
    `delete`, `head`, `options`) registers a handler; the module's `tag` groups its
    endpoints in the OpenAPI description."""

    def __init__(self, tag: str = "") -> None:
        self.tag = tag
        self.endpoints: list[Endpoint] = []

    def route(
        self,
        methods: str | tuple[str, ...],
        path: str,
        permission: Permission,
        *,
        summary: str | None = None,
        body: type[BaseModel] | None = None,
        answer: type[BaseModel] | None = None,
        params: tuple[Param, ...] = (),
        statuses: dict[int, str] | None = None,
    ) -> Decorator:
        """Register a handler for one method or several (e.g. PUT and PATCH alike). Its
        docstring describes it: the first paragraph is the summary, the rest the
        description (unless `summary` is given)."""

        def register(handler: AnyHandler) -> AnyHandler:
            said = summary or _summary(handler)
            model = _body_model(handler)
            serve = _reading(handler, model) if model else handler
            for method in (methods,) if isinstance(methods, str) else methods:
                self.endpoints.append(
                    Endpoint(
                        path,
                        method,
                        serve,
                        said,
                        permission,
                        self.tag,
                        model or body,
                        answer,
                        params,
                        statuses or {},
                    )
                )
            return handler

        return register

    get = partialmethod(route, "GET")
    # GET and HEAD by one handler: uvicorn leaves the body out of the HEAD answer, so the
    # headers (ETag, Link, Allow...) are exactly the GET's.
    get_and_head = partialmethod(route, ("GET", "HEAD"))
    post = partialmethod(route, "POST")
    put = partialmethod(route, "PUT")
    patch = partialmethod(route, "PATCH")
    delete = partialmethod(route, "DELETE")
    options = partialmethod(route, "OPTIONS")

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

        def ref(model: type[BaseModel], mode: JsonSchemaMode = "validation") -> dict[str, str]:
            # Answers as they are sent (a Record's fields by their own names, not the
            # record attributes they are read from).
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode=mode)
            schemas.update(schema.pop("$defs", {}))
            schemas[model.__name__] = schema
            return {"$ref": f"#/components/schemas/{model.__name__}"}

        # A handler serving several methods (GET and HEAD) names its first; the others get
        # the method added, so that every operation has its own id.
        ids: dict[int, str] = {}
        named: set[Handler] = set()
        for e in self.endpoints:
            name = e.handler.__name__
            ids[id(e)] = name if e.handler not in named else f"{name}_{e.method.lower()}"
            named.add(e.handler)
        paths: dict[str, Any] = {}
        for e in self.endpoints:
            operation: dict[str, Any] = {
                "summary": e.summary,
                "description": _description(e.handler),
                "operationId": ids[id(e)],
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
                        "content": {"application/json": {"schema": ref(e.answer, "serialization")}}
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


def _body_model(handler: Callable[..., Any]) -> type[BaseModel] | None:
    """The JSON body a handler takes as its second parameter (`wanted: MemberIn`)."""
    names = list(inspect.signature(handler).parameters)
    if len(names) < 2:
        return None
    model = typing.get_type_hints(handler)[names[1]]
    assert inspect.isclass(model) and issubclass(model, BaseModel), handler.__name__
    return model


def _reading(handler: Callable[..., Awaitable[Response]], model: type[BaseModel]) -> Handler:
    # The body is read and checked before the handler runs: a 400 (or 413, 415)
    # problem naming each bad field, and the handler gets the model.
    @functools.wraps(handler)
    async def read(request: Request) -> Response:
        return await handler(request, await read_body(request, model))

    return read


def _summary(handler: Callable[..., Any]) -> str:
    doc = inspect.getdoc(handler)
    if not doc:
        raise ValueError(f"{handler.__name__}: an endpoint says what it does in its docstring")
    return " ".join(doc.split("\n\n", 1)[0].split()).rstrip(".")


def _description(handler: Handler) -> str:
    parts = (inspect.getdoc(handler) or "").split("\n\n", 1)
    return parts[1] if len(parts) > 1 else ""


def _path_params(path: str) -> list[str]:
    return [part[1:-1].split(":")[0] for part in path.split("/") if part.startswith("{")]


class Record(BaseModel):
    """An answer read off a stored record by attribute name (`Model.model_validate(rec)`);
    a field may also take the record's own name for it (`created` from `created_ms`)."""

    model_config = ConfigDict(from_attributes=True)


def also(name: str, default: Any = PydanticUndefined) -> Any:
    """A field that also reads the record attribute `name` (e.g. `created_ms`)."""
    return Field(default, validation_alias=AliasChoices(name, name.removesuffix("_ms")))


def json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json", by_alias=True, exclude_none=True)
    return JSONResponse(data, status_code=status, headers=headers)
