"""`/api/mirador/{workspace}/annotations`: the Annotot endpoints that Mirador's stock
annotation plugins call (mirador-annotations' and mirador-annotation-editor's
`AnnototAdapter`), mapped onto the same subject documents as everything else.

Configure the plugin with `new AnnototAdapter(canvasId, "https://HOST/api/mirador/WS/annotations")`
(and a token, e.g. through Mirador's request preprocessors). The adapter calls:

- `GET  {endpoint}/pages?uri={canvas}`: an AnnotationPage of the canvas's annotations;
- `POST {endpoint}` with `{"annotation": {"canvas", "data": "<W3C JSON>", "uuid"}}`;
- `PATCH {endpoint}/{id}` with `{"annotation": {"data", "uuid"}}` (PUT works too);
- `DELETE {endpoint}/{id}`;
- `GET  {endpoint}/{id}`.

A canvas is found by its IIIF id: its document is `workspace/canvas/{subject_id(canvas)}`,
as an import makes it (a canvas never imported gets its document on the first
annotation). Annotations are served with their W3C IRIs as ids, which is what the adapter
sends back to update or delete them; a bare id (as the plugin makes for a new annotation)
is looked up among the workspace's canvases.
"""

from __future__ import annotations

import json
from typing import Any

from pycrdt import Doc
from starlette.requests import Request
from starlette.responses import Response

from annotations import (
    Annotation,
    Invalid,
    Problem,
    delete_annotation,
    new_annotation_id,
    now,
    parse_annotation,
    read_annotation,
    read_annotations,
    to_jsonld,
    write_annotation,
    write_subject,
)
from annotations.models import ID_PATTERN
from annotations.subject_document import annotation_ids
from crdt import DocumentName
from crdt.errors import InvalidName
from iiif import Subject, subject_id
from iiif.export import presentation3_annotation
from iiif.webannotations import targets
from server.access.caller import agent, auth_of, commenter_may
from server.api import workspace_index
from server.api.annotations import _subject, check_on_subject
from server.api.documents import live, write
from server.directory.people import People
from server.http import links
from server.http.problems import HTTPProblem
from server.http.requests import read_json
from server.http.routes import Api, Param

api = Api("mirador")
BASE = "/api/mirador/{workspace}/annotations"
MAX_REQUEST_BYTES = 1024 * 1024


def _workspace(request: Request) -> str:
    workspace = str(request.path_params["workspace"])
    try:
        DocumentName.of(workspace, "canvas", "x")
    except InvalidName:
        raise HTTPProblem(404, f"no such workspace: {workspace[:80]}") from None
    return workspace


def _canvas_name(workspace: str, canvas: str) -> DocumentName:
    if not canvas or not isinstance(canvas, str):
        raise HTTPProblem(400, "uri (the canvas id) is required")
    return DocumentName.of(workspace, "canvas", subject_id(canvas.split("#")[0]))


async def _json(request: Request, data: Any, status: int = 200) -> Response:
    # People's names as they are now (annotations keep pseudonymous ids).
    await People(auth_of(request).directory).name_creators(data)
    return Response(
        json.dumps(data, ensure_ascii=False, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
    )


def _page_json(request: Request, name: DocumentName, annotations: list[Annotation]) -> Any:
    container = links.container(request, name)
    return {
        "id": str(request.url),
        "type": "AnnotationPage",
        "items": [presentation3_annotation(to_jsonld(a, container)) for a in annotations],
    }


@api.get(BASE + "/pages", "read", params=(Param("uri", "query", "the canvas id", required=True),))
async def pages(request: Request) -> Response:
    """Annotot: the AnnotationPage of a canvas."""
    workspace = _workspace(request)
    name = _canvas_name(workspace, request.query_params.get("uri", ""))
    async with live(request, name) as room:
        annotations = read_annotations(room.doc)
    return await _json(request, _page_json(request, name, annotations))


def _data(body: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the Annotot record, the W3C annotation in its `data`)."""
    record = body.get("annotation") if isinstance(body, dict) else None
    if not isinstance(record, dict):
        raise Invalid([Problem(path="annotation", message='send {"annotation": {...}}')])
    data = record.get("data")
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise Invalid([Problem(path="annotation/data", message=f"not JSON: {exc}")]) from None
    if not isinstance(data, dict):
        raise Invalid([Problem(path="annotation/data", message="must be a W3C annotation")])
    return record, data


def _record(request: Request, name: DocumentName, annotation: Annotation) -> dict[str, Any]:
    """What Annotot answers: the record, with the annotation as stored."""
    data = presentation3_annotation(to_jsonld(annotation, links.container(request, name)))
    return {"uuid": data["id"], "canvas": _canvas_of(data), "data": json.dumps(data)}


def _canvas_of(data: dict[str, Any]) -> str | None:
    found = targets(data)
    return found[0].source if found else None


def _ensure_subject(doc: Doc, name: DocumentName, canvas: str) -> None:
    # A canvas never imported: record which canvas this document annotates.
    if _subject(doc) is None:
        write_subject(doc, Subject(kind="canvas", id=name.id, iiif_id=canvas))


@api.post(BASE, "comment", statuses={400: "Not a valid annotation", 413: "Too large"})
async def create(request: Request) -> Response:
    """Annotot: create an annotation on a canvas."""
    workspace = _workspace(request)
    record, data = _data(await read_json(request, MAX_REQUEST_BYTES))
    canvas = record.get("canvas") or _canvas_of(data)
    if not isinstance(canvas, str):
        raise Invalid([Problem(path="annotation/canvas", message="which canvas? (its id)")])
    name = _canvas_name(workspace, canvas)
    container = links.container(request, name)
    wanted = record.get("uuid") or data.get("id")
    async with live(request, name) as room:
        local = _local_id(wanted, container)
        taken = set(annotation_ids(room.doc))
        annotation_id = local if local and local not in taken else new_annotation_id()
        annotation = parse_annotation({**data, "id": None}, container, id=annotation_id)
        extra: dict[str, Any] = {"created": annotation.created or now()}
        creator = agent(request)
        if annotation.creator is None and creator is not None:
            extra["creator"] = creator
        annotation = annotation.model_copy(update=extra)
        annotation = annotation.as_stored()  # names are looked up when read
        commenter_may(request, annotation, new=True)
        check_on_subject(room.doc, annotation, "canvas")

        def change(doc: Doc) -> None:
            _ensure_subject(doc, name, canvas.split("#")[0])
            write_annotation(doc, annotation)

        await write(request, room, change, 8192)
    return await _json(request, _record(request, name, annotation), status=201)


def _local_id(value: Any, container: str) -> str | None:
    if not isinstance(value, str):
        return None
    local = value.removeprefix(container)
    return local if ID_PATTERN.fullmatch(local) else None


async def _find(request: Request, workspace: str, ident: str) -> tuple[DocumentName, str]:
    """The document and local id of an annotation named by its IRI or bare id."""
    api_root = links.base_url(request) + "/api/annotations/"
    if ident.startswith(api_root):
        parts = ident.removeprefix(api_root).split("/")
        if len(parts) == 4 and ID_PATTERN.fullmatch(parts[3]):
            try:
                name = DocumentName.of(*parts[:3])
            except InvalidName:
                name = None
            if name is not None and name.workspace == workspace:
                return name, parts[3]
        raise HTTPProblem(404, f"no such annotation in {workspace}: {ident[:200]}")
    if not ID_PATTERN.fullmatch(ident):
        raise HTTPProblem(404, f"no such annotation: {ident[:200]}")
    for entry in await workspace_index.of(request.app).entries(workspace):
        if entry.name.kind == "canvas" and any(a.id == ident for a in entry.annotations):
            return entry.name, ident
    raise HTTPProblem(404, f"no such annotation in {workspace}: {ident}")


@api.get(BASE + "/{annotation:path}", "read", statuses={404: "No such annotation"})
async def get_one(request: Request) -> Response:
    """Annotot: one annotation."""
    workspace = _workspace(request)
    name, annotation_id = await _find(request, workspace, request.path_params["annotation"])
    async with live(request, name) as room:
        annotation = read_annotation(room.doc, annotation_id)
    if annotation is None:
        raise HTTPProblem(404, f"no such annotation: {annotation_id}")
    return await _json(
        request, presentation3_annotation(to_jsonld(annotation, links.container(request, name)))
    )


@api.route(
    ("PUT", "PATCH"),
    BASE + "/{annotation:path}",
    "comment",
    statuses={400: "Not a valid annotation", 404: "No such annotation"},
)
async def update_one(request: Request) -> Response:
    """Annotot: replace an annotation."""
    workspace = _workspace(request)
    name, annotation_id = await _find(request, workspace, request.path_params["annotation"])
    _, data = _data(await read_json(request, MAX_REQUEST_BYTES))
    container = links.container(request, name)
    async with live(request, name) as room:
        current = read_annotation(room.doc, annotation_id)
        if current is None:
            raise HTTPProblem(404, f"no such annotation: {container}{annotation_id}")
        annotation = parse_annotation({**data, "id": None}, container, id=annotation_id)
        annotation = annotation.model_copy(
            update={
                "created": annotation.created or current.created,
                "creator": annotation.creator or current.creator,
                "canonical": current.canonical,
                "via": current.via,
                "modified": now(),
            }
        )
        commenter_may(request, current, new=False)
        annotation = annotation.as_stored()  # names are looked up when read
        commenter_may(request, annotation, new=True)
        check_on_subject(room.doc, annotation, "canvas")
        await write(request, room, lambda doc: write_annotation(doc, annotation), 8192)
    return await _json(request, _record(request, name, annotation))


@api.delete(BASE + "/{annotation:path}", "comment", statuses={404: "No such annotation"})
async def delete_one(request: Request) -> Response:
    """Annotot: delete an annotation."""
    workspace = _workspace(request)
    name, annotation_id = await _find(request, workspace, request.path_params["annotation"])
    async with live(request, name) as room:
        current = read_annotation(room.doc, annotation_id)
        if current is None:
            raise HTTPProblem(404, f"no such annotation: {annotation_id}")
        commenter_may(request, current, new=False)
        await write(request, room, lambda doc: delete_annotation(doc, annotation_id))
    return Response(status_code=204)
