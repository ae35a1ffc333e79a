"""`/api/annotations/{workspace}/{kind}/{id}/`: the W3C Web Annotation Protocol, one
annotation container per subject (canvas or 3D model), one annotation at that path plus
its id.

Every read is of the live document and every write is one transaction on it (`room.write`),
so connected clients see a REST write at once and a REST reader sees every live edit.

Protocol choices (https://www.w3.org/TR/annotation-protocol/):
- Representations: JSON-LD with the Web Annotation profile (the default), plain
  `application/json` (the same JSON) or Turtle (`text/turtle`, the same graph, a SHOULD of
  the protocol); anything else is 406. Writes take JSON-LD.
- The container is an LDP BasicContainer and an AnnotationCollection paged as the
  protocol says (`first`/`last`/`next`/`prev`/`partOf`/`total`, `startIndex`); `iris=0`
  (descriptions) or `iris=1` (IRIs) in the page IRIs tells the two kinds of pages apart,
  and `Content-Location` names the variant served. `Prefer` selects the minimal
  container, contained IRIs or contained descriptions (the default).
- ETags are strong: a hash of the representation. PUT and DELETE honour `If-Match` (412
  when stale) but do not require it: the protocol makes sending it a client SHOULD, and
  clients that omit it (Mirador's adapters) must keep working. GET and HEAD honour
  `If-None-Match` (304).
- POST always assigns a new random id (a given IRI is kept in `via`; `Slug` is honoured
  when it is a free, valid id); ids are never reused by the server. `canonical` and `via`
  are kept; a PUT that changes them is refused with 409, one that changes `id` with 400.
- `created` is set on creation when missing, `modified` on every PUT; a signed-in
  author is the `creator` when none is given (commenters are always their own creator).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pycrdt import Doc
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from annotations import (
    Annotation,
    Invalid,
    Problem,
    check_annotation,
    delete_annotation,
    new_annotation_id,
    now,
    parse_annotation,
    read_annotation,
    read_annotations,
    read_subject,
    to_jsonld,
    write_annotation,
)
from annotations.jsonld import LDP_CONTEXT, W3C_CONTEXT
from annotations.models import ID_PATTERN, is_iri
from annotations.rdf import to_turtle
from annotations.subject_document import annotation_ids
from crdt import DocumentName
from iiif import Subject
from server.access.caller import agent, auth_of, commenter_may
from server.api.documents import live, subject_name, write
from server.directory.people import People
from server.http import links
from server.http.negotiation import Offer, negotiate
from server.http.problems import HTTPProblem
from server.http.requests import int_param, read_json
from server.http.routes import Api, Param

api = Api("annotations")
CONTAINER = "/api/annotations/{workspace}/{kind}/{id}/"
ANNOTATION = CONTAINER + "{annotation}"

PROFILE = W3C_CONTEXT
JSONLD = f'application/ld+json; profile="{PROFILE}"'
TURTLE = Offer("text/turtle", "text/turtle; charset=utf-8")
OFFERS = [
    Offer("application/ld+json", JSONLD, PROFILE),
    Offer("application/json", "application/json"),
    TURTLE,
]
ANNOTATION_LINKS = (
    '<http://www.w3.org/ns/ldp#Resource>; rel="type", '
    '<http://www.w3.org/ns/oa#Annotation>; rel="type"'
)
ALLOW_CONTAINER = "GET, HEAD, OPTIONS, POST"
ALLOW_PAGE = "GET, HEAD, OPTIONS"
ALLOW_ANNOTATION = "GET, HEAD, OPTIONS, PUT, DELETE"
ACCEPT_POST = f"{JSONLD}, application/ld+json, application/json"

PREFER_MINIMAL = "http://www.w3.org/ns/ldp#PreferMinimalContainer"
PREFER_IRIS = "http://www.w3.org/ns/oa#PreferContainedIRIs"
PREFER_DESCRIPTIONS = "http://www.w3.org/ns/oa#PreferContainedDescriptions"

# One annotation's request: its bodies are capped at 64 KiB each and SVG shapes at 256 KiB;
# anything much larger is not an annotation.
MAX_REQUEST_BYTES = 1024 * 1024

# What writing an annotation may answer besides its own statuses.
WRITING = {
    404: "No such container or annotation",
    406: "Not acceptable",
    413: "Too large",
    415: "Not JSON",
}
REPLACING = {409: "canonical or via changed", 412: "Changed since read (If-Match)"}


class AnnotationJson(BaseModel):
    """A W3C Web Annotation (JSON-LD); see https://www.w3.org/TR/annotation-model/."""

    model_config = {"extra": "allow"}
    context: Any = Field(W3C_CONTEXT, alias="@context")
    id: str | None = None
    type: str = "Annotation"
    motivation: str | None = None
    body: Any = None
    target: Any


# ---------------------------------------------------------------------------- helpers


def etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _dump(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def _tags(header: str) -> list[str]:
    return [t.strip() for t in header.split(",") if t.strip()]


def if_match(request: Request, current: str | None) -> None:
    """412 unless `If-Match` (if any) names the current representation (strong match)."""
    header = request.headers.get("if-match")
    if header is None:
        return
    tags = _tags(header)
    if current is not None and ("*" in tags or current in tags):
        return
    raise HTTPProblem(
        412,
        "the annotation has changed since you read it (If-Match does not match its ETag): "
        "GET it again, then retry",
        headers={"ETag": current} if current else None,
    )


def not_modified(request: Request, tag: str) -> bool:
    header = request.headers.get("if-none-match")
    if header is None:
        return False
    tags = [t.removeprefix("W/") for t in _tags(header)]
    return "*" in tags or tag in tags


def prefer_includes(request: Request) -> set[str]:
    """The IRIs of `Prefer: return=representation; include="..."` (RFC 7240, LDP)."""
    included: set[str] = set()
    for header in request.headers.getlist("prefer"):
        for preference in header.split(","):
            parts = [p.strip() for p in preference.split(";")]
            if not parts or parts[0].replace(" ", "") != "return=representation":
                continue
            for param in parts[1:]:
                key, _, value = param.partition("=")
                if key.strip().lower() == "include":
                    included.update(value.strip().strip('"').split())
    return included


async def _response(
    request: Request,
    data: Any,
    offer: Offer,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    def render() -> bytes:
        return to_turtle(data).encode() if offer == TURTLE else _dump(data)

    # The tag is of the stored annotation, before people's names are looked up: what
    # If-Match compares with on a write.
    body = render()
    tag = etag(body)
    if await People(auth_of(request).directory).name_creators(data):
        body = render()
    out = {"ETag": tag, **(headers or {})}
    if request.method in ("GET", "HEAD") and status == 200 and not_modified(request, tag):
        return Response(status_code=304, headers=out)
    return Response(body, status_code=status, media_type=offer.content_type, headers=out)


def _subject(doc: Doc) -> Subject | None:
    try:
        return read_subject(doc)
    except Invalid:
        return None  # a malformed subject is reported by validation, not here


def check_on_subject(doc: Doc, annotation: Annotation, kind: str) -> None:
    """400 if `annotation` is off this subject, e.g. a region outside the canvas."""
    subject = _subject(doc)
    found = check_annotation(
        annotation,
        source=subject.iiif_id if subject else None,
        width=subject.width if subject else None,
        height=subject.height if subject else None,
        kind=kind,
    )
    if found:
        raise Invalid(found)


# ---------------------------------------------------------------------------- container


def _variant(request: Request) -> tuple[int, bool, set[str]]:
    """(iris 0/1, minimal, preferences applied) from the query, else `Prefer`."""
    includes = prefer_includes(request)
    if PREFER_IRIS in includes and PREFER_DESCRIPTIONS in includes:
        raise HTTPProblem(
            400,
            "Prefer: PreferContainedIRIs and PreferContainedDescriptions exclude each other",
        )
    iris_param = request.query_params.get("iris")
    if iris_param is not None:
        if iris_param not in ("0", "1"):
            raise HTTPProblem(400, "iris must be 0 (descriptions) or 1 (IRIs)")
        iris = int(iris_param)
    else:
        iris = 1 if PREFER_IRIS in includes else 0
    applied = includes & {PREFER_MINIMAL, PREFER_IRIS, PREFER_DESCRIPTIONS}
    return iris, PREFER_MINIMAL in includes, applied


def _page_size(request: Request) -> int:
    return int(request.app.state.settings.annotation_page_size)


def _items(annotations: list[Annotation], container: str, iris: int) -> list[Any]:
    if iris:
        return [container + a.id for a in annotations]
    items = [to_jsonld(a, container) for a in annotations]
    for item in items:
        del item["@context"]  # the page's context covers them
    return items


def _page(
    annotations: list[Annotation], container: str, iris: int, page: int, size: int
) -> dict[str, Any]:
    variant = f"{container}?iris={iris}"
    last = max(0, -(-len(annotations) // size) - 1)
    chosen = annotations[page * size : (page + 1) * size]
    data: dict[str, Any] = {
        "id": f"{variant}&page={page}",
        "type": "AnnotationPage",
        "startIndex": page * size,
    }
    if page > 0:
        data["prev"] = f"{variant}&page={page - 1}"
    if page < last:
        data["next"] = f"{variant}&page={page + 1}"
    data["items"] = _items(chosen, container, iris)
    return data


def container_json(
    annotations: list[Annotation],
    container: str,
    *,
    iris: int,
    minimal: bool,
    size: int,
    label: str,
) -> dict[str, Any]:
    variant = f"{container}?iris={iris}"
    data: dict[str, Any] = {
        "@context": [W3C_CONTEXT, LDP_CONTEXT],
        "id": variant,
        "type": ["BasicContainer", "AnnotationCollection"],
        "label": label,
        "total": len(annotations),
    }
    if annotations:
        last = -(-len(annotations) // size) - 1
        data["first"] = (
            f"{variant}&page=0" if minimal else _page(annotations, container, iris, 0, size)
        )
        data["last"] = f"{variant}&page={last}"
    return data


def _label(doc: Doc, name: DocumentName) -> str:
    subject = _subject(doc)
    return f"Annotations on {subject.label if subject and subject.label else name}"


@api.get_and_head(
    CONTAINER,
    "read",
    params=(
        Param("page", "query", "a page of the container (0, 1, ...)", "integer"),
        Param("iris", "query", "pages of annotation IRIs (1) or descriptions (0, default)"),
        Param("Prefer", "header", 'return=representation;include="…PreferMinimalContainer"'),
        Param("Accept", "header", f"{JSONLD} (default) or application/json"),
    ),
    statuses={
        304: "Not modified",
        400: "Bad parameter",
        404: "No such container or page",
        406: "Not acceptable",
    },
)
async def get_container(request: Request) -> Response:
    """The annotation container of a subject, paged (W3C Web Annotation Protocol).

    The container description (an LDP BasicContainer and AnnotationCollection) with its
    first page embedded, or with `?page=N` one AnnotationPage. `Prefer` asks for the
    minimal container (no annotations), annotation IRIs only, or full descriptions.
    """
    name = subject_name(request)
    offer = negotiate(request, OFFERS)
    iris, minimal, applied = _variant(request)
    page = int_param(request, "page", None, minimum=0)
    container = links.container(request, name)
    size = _page_size(request)
    async with live(request, name) as room:
        annotations = read_annotations(room.doc)
        label = _label(room.doc, name)
    vary = "Accept, Prefer"
    if page is not None:
        last = max(0, -(-len(annotations) // size) - 1)
        if page > last:
            raise HTTPProblem(404, f"the container has pages 0 to {last}")
        data = _page(annotations, container, iris, page, size)
        data = {"@context": W3C_CONTEXT, **data}
        data["partOf"] = {
            "id": f"{container}?iris={iris}",
            "type": ["BasicContainer", "AnnotationCollection"],
            "total": len(annotations),
        }
        return await _response(request, data, offer, headers={"Allow": ALLOW_PAGE, "Vary": vary})
    data = container_json(
        annotations, container, iris=iris, minimal=minimal, size=size, label=label
    )
    headers = {
        "Allow": ALLOW_CONTAINER,
        "Accept-Post": ACCEPT_POST,
        "Vary": vary,
        "Content-Location": data["id"],
    }
    if applied:
        headers["Preference-Applied"] = "return=representation"
    return await _response(request, data, offer, headers=headers)


@api.options(CONTAINER, "read", statuses={404: "No such container"})
async def options_container(request: Request) -> Response:
    """What the container allows (CORS preflights are answered before this)."""
    name = subject_name(request)
    container = links.container(request, name)
    async with live(request, name) as room:
        annotations = read_annotations(room.doc)
        label = _label(room.doc, name)
    # The ETag of the default representation: every container response carries one.
    data = container_json(
        annotations, container, iris=0, minimal=False, size=_page_size(request), label=label
    )
    headers = {
        "Allow": ALLOW_CONTAINER,
        "Accept-Post": ACCEPT_POST,
        "ETag": etag(_dump(data)),
        "Vary": "Accept, Prefer",
    }
    return Response(status_code=204, headers=headers)


async def _annotation_body(request: Request) -> dict[str, Any]:
    data = await read_json(request, MAX_REQUEST_BYTES)
    if not isinstance(data, dict):
        raise Invalid([Problem(path="", message="an annotation must be a JSON object")])
    return data


def _slug(request: Request) -> str | None:
    raw = request.headers.get("slug")
    if not raw:
        return None
    slug = raw.strip().strip('"').strip()
    return slug if ID_PATTERN.fullmatch(slug) else None


@api.post(
    CONTAINER,
    "comment",
    body=AnnotationJson,
    params=(Param("Slug", "header", "a suggested id (used when free and valid)"),),
    statuses={201: "Created", 400: "Not a valid annotation for this subject", **WRITING},
)
async def create_annotation(request: Request) -> Response:
    """Create an annotation (201 with its Location).

    The server assigns the annotation's IRI (the container's plus an id); an `id` sent
    along is kept as `via`. The answer is the annotation as stored.
    """
    name = subject_name(request)
    offer = negotiate(request, OFFERS)
    data = await _annotation_body(request)
    container = links.container(request, name)
    given = data.get("id")
    slug = _slug(request)
    async with live(request, name) as room:
        existing = set(annotation_ids(room.doc))
        annotation_id = slug if slug and slug not in existing else new_annotation_id()
        annotation = parse_annotation(data, container, id=annotation_id)
        extra: dict[str, Any] = {}
        if isinstance(given, str) and is_iri(given) and annotation.via is None:
            extra["via"] = given
        if annotation.created is None:
            extra["created"] = now()
        creator = agent(request)
        if annotation.creator is None and creator is not None:
            extra["creator"] = creator
        annotation = annotation.model_copy(update=extra)
        annotation = annotation.as_stored()  # names are looked up when read
        commenter_may(request, annotation, new=True)
        check_on_subject(room.doc, annotation, name.kind)
        body = to_jsonld(annotation, container)
        await write(request, room, lambda doc: write_annotation(doc, annotation), len(_dump(body)))
    location = container + annotation.id
    headers = {
        "Location": location,
        "Allow": ALLOW_ANNOTATION,
        "Vary": "Accept",
        "Content-Location": location,
    }
    return await _response(request, body, offer, status=201, headers=headers)


# ---------------------------------------------------------------------------- annotation


def _annotation_id(request: Request) -> str:
    annotation_id = request.path_params["annotation"]
    if not ID_PATTERN.fullmatch(annotation_id):
        raise HTTPProblem(404, f"no such annotation: {annotation_id[:80]}")
    return annotation_id


def _current(doc: Doc, annotation_id: str, container: str) -> tuple[Annotation, dict[str, Any]]:
    try:
        annotation = read_annotation(doc, annotation_id)
    except Invalid as exc:
        raise HTTPProblem(
            409,
            f"the stored annotation does not validate: {exc}",
            errors=[{"path": p.path, "message": p.message} for p in exc.problems],
        ) from None
    if annotation is None:
        raise HTTPProblem(404, f"no such annotation: {container}{annotation_id}")
    return annotation, to_jsonld(annotation, container)


def _annotation_headers() -> dict[str, str]:
    return {"Link": ANNOTATION_LINKS, "Allow": ALLOW_ANNOTATION, "Vary": "Accept"}


@api.get_and_head(
    ANNOTATION,
    "read",
    answer=AnnotationJson,
    params=(Param("Accept", "header", f"{JSONLD} (default) or application/json"),),
    statuses={304: "Not modified", 404: "No such annotation", 406: "Not acceptable"},
)
async def get_annotation(request: Request) -> Response:
    """One annotation (W3C JSON-LD)."""
    name = subject_name(request)
    annotation_id = _annotation_id(request)
    offer = negotiate(request, OFFERS)
    container = links.container(request, name)
    async with live(request, name) as room:
        _, data = _current(room.doc, annotation_id, container)
    return await _response(request, data, offer, headers=_annotation_headers())


@api.options(ANNOTATION, "read", statuses={404: "No such annotation"})
async def options_annotation(request: Request) -> Response:
    """What an annotation allows."""
    name = subject_name(request)
    annotation_id = _annotation_id(request)
    container = links.container(request, name)
    async with live(request, name) as room:
        _, data = _current(room.doc, annotation_id, container)
    headers = {**_annotation_headers(), "ETag": etag(_dump(data))}
    return Response(status_code=204, headers=headers)


@api.put(
    ANNOTATION,
    "comment",
    body=AnnotationJson,
    answer=AnnotationJson,
    params=(Param("If-Match", "header", "the ETag read: 412 if the annotation changed since"),),
    statuses={400: "Not a valid annotation, or a changed id", **REPLACING, **WRITING},
)
async def replace_annotation(request: Request) -> Response:
    """Replace an annotation (If-Match: its ETag).

    The body is the annotation's new state. Its textual bodies are edited in place in
    the live document, so people typing in them keep their keystrokes.
    """
    name = subject_name(request)
    annotation_id = _annotation_id(request)
    offer = negotiate(request, OFFERS)
    data = await _annotation_body(request)
    container = links.container(request, name)
    own_iri = container + annotation_id
    async with live(request, name) as room:
        current, current_json = _current(room.doc, annotation_id, container)
        if_match(request, etag(_dump(current_json)))
        given = data.get("id")
        if given is not None and given not in (own_iri, annotation_id):
            raise Invalid(
                [Problem(path="id", message=f"a PUT cannot change the id: this is {own_iri}")]
            )
        annotation = parse_annotation(data, container, id=annotation_id)
        for field in ("canonical", "via"):
            before, after = getattr(current, field), getattr(annotation, field)
            if before is not None and after is not None and after != before:
                raise HTTPProblem(409, f"{field} is {before} and cannot be changed")
        annotation = annotation.model_copy(
            update={
                "canonical": annotation.canonical or current.canonical,
                "via": annotation.via or current.via,
                "created": annotation.created or current.created,
                "creator": annotation.creator or current.creator,
                "modified": now(),
            }
        )
        commenter_may(request, current, new=False)
        annotation = annotation.as_stored()  # names are looked up when read
        commenter_may(request, annotation, new=True)
        check_on_subject(room.doc, annotation, name.kind)
        body = to_jsonld(annotation, container)
        await write(request, room, lambda doc: write_annotation(doc, annotation), len(_dump(body)))
    return await _response(request, body, offer, headers=_annotation_headers())


@api.delete(
    ANNOTATION,
    "comment",
    params=(Param("If-Match", "header", "the ETag read: 412 if the annotation changed since"),),
    statuses={204: "Deleted", 404: "No such annotation", 412: "Changed since read (If-Match)"},
)
async def remove_annotation(request: Request) -> Response:
    """Delete an annotation (If-Match: its ETag).

    Replies to it stay: they are other people's words.
    """
    name = subject_name(request)
    annotation_id = _annotation_id(request)
    container = links.container(request, name)
    async with live(request, name) as room:
        current, current_json = _current(room.doc, annotation_id, container)
        if_match(request, etag(_dump(current_json)))
        commenter_may(request, current, new=False)
        await write(request, room, lambda doc: delete_annotation(doc, annotation_id))
    return Response(status_code=204)
