"""IIIF for a workspace: import a manifest (`POST /api/iiif/{workspace}/import`), and what
IIIF viewers read (`/iiif/{workspace}/...`): a Presentation 3 Manifest per imported
manifest, an AnnotationPage per subject (unpaged, as Mirador fetches it), Content Search
2.0 and 1.0 over the workspace's annotations, and Content State links that open a subject
at one annotation.

Viewers follow the links inside what they load; when the request came with a `token`
parameter (a share link opened in a viewer), the links we generate carry it too, so the
viewer can follow them with the same access.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from annotations import to_jsonld
from annotations.imported import importer_agent
from crdt import DocumentName
from iiif import (
    ContentState,
    ManifestError,
    SearchQueryError,
    annotation_page,
    manifest,
    search_v1,
    search_v2,
    subject_id,
)
from iiif.scenes import PRESENTATION_4, manifest_with_scenes, scene_annotation_page
from iiif.search import SUPPORTED
from iiif.webannotations import targets
from server.access.caller import agent, auth_of
from server.api import media, workspace_index
from server.api.documents import live, subject_name
from server.api.iiif_import import FetchError, FetchLimits, Import, fetch_json, import_manifest
from server.directory.people import People
from server.http import links
from server.http.negotiation import Offer, negotiate
from server.http.problems import HTTPProblem
from server.http.requests import principal, read_json
from server.http.routes import Api, Handler, Param

api = Api("iiif")

PRESENTATION_3 = "http://iiif.io/api/presentation/3/context.json"
P4_OFFERS = [
    # Presentation 4 is a draft (with the 3D Scenes); the profile names it.
    Offer(
        "application/ld+json",
        f'application/ld+json;profile="{PRESENTATION_4}"',
        PRESENTATION_4,
    ),
    Offer("application/json", "application/json"),
]
SEARCH_2 = "http://iiif.io/api/search/2/context.json"
SEARCH_1 = "http://iiif.io/api/search/1/context.json"
P3_OFFERS = [
    Offer(
        "application/ld+json",
        f'application/ld+json;profile="{PRESENTATION_3}"',
        PRESENTATION_3,
    ),
    Offer("application/json", "application/json"),
]
SEARCH2_OFFERS = [
    Offer("application/ld+json", f'application/ld+json;profile="{SEARCH_2}"', SEARCH_2),
    Offer("application/json", "application/json"),
]
SEARCH1_OFFERS = [
    Offer("application/json", "application/json"),
    Offer("application/ld+json", "application/ld+json", SEARCH_1),
]
# A manifest body for import; a fetched one is limited by SINOPIA_IIIF_FETCH_MAX_BYTES.
MAX_MANIFEST_BYTES = 16 * 1024 * 1024


class ImportedSubject(BaseModel):
    kind: str
    id: str
    document: str
    iiif_id: str
    label: str
    width: int | None = None
    height: int | None = None
    status: str = Field(description="created, updated or unchanged")
    annotations_imported: int = Field(
        0, description="annotations the manifest carries that were written onto it now"
    )
    annotations_kept: int = Field(
        0, description="annotations it carries already imported before (left as they are)"
    )
    annotations: str = Field(description="its W3C annotation container")
    annotation_page: str = Field(description="its IIIF AnnotationPage")
    collab: str = Field(description="the websocket path of its live document")


class ImportWarning(BaseModel):
    where: str = Field(description="the place in the manifest (or fetched page), e.g. items[0]")
    message: str = Field(description="what was not imported, and why")


class ImportOut(BaseModel):
    workspace: str
    manifest: str = Field(description="the imported manifest's IRI")
    label: str
    presentation: int
    iiif_manifest: str = Field(description="this workspace's manifest with the annotations")
    subjects: list[ImportedSubject]
    warnings: list[ImportWarning] = Field(
        default_factory=list,
        description="annotations the manifest carries that were not imported (or not whole)",
    )


class ImportIn(BaseModel):
    """A IIIF Presentation 3 or 2 manifest, or `{"url": ...}` to fetch one."""

    model_config = {"extra": "allow"}
    url: str | None = None


def _token_links(request: Request, url: str) -> str:
    token = request.query_params.get("token")
    if not token:
        return url
    return url + ("&" if "?" in url else "?") + urlencode({"token": token})


async def _json(request: Request, data: Any, offer: Offer, status: int = 200) -> Response:
    # People's names as they are now (annotations keep pseudonymous ids).
    await People(auth_of(request).directory).name_creators(data)
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": tag, "Vary": "Accept"}
    if status == 200 and request.headers.get("if-none-match") in (tag, f"W/{tag}"):
        return Response(status_code=304, headers=headers)
    return Response(body, status_code=status, media_type=offer.content_type, headers=headers)


def _workspace(request: Request) -> str:
    workspace = request.path_params["workspace"]
    try:
        DocumentName.of(workspace, "canvas", "x")
    except ValueError:
        raise HTTPProblem(404, f"no such workspace: {workspace[:80]}") from None
    return str(workspace)


# ---------------------------------------------------------------------------- import


def import_answer(request: Request, workspace: str, done: Import) -> ImportOut:
    urls = links.workspace_urls(request, workspace)
    return ImportOut(
        workspace=workspace,
        manifest=done.manifest,
        label=done.label,
        presentation=done.version,
        iiif_manifest=urls.manifest(done.manifest_id),
        subjects=[
            ImportedSubject(
                kind=item.subject.kind,
                id=item.subject.id,
                document=str(item.name),
                iiif_id=item.subject.iiif_id,
                label=item.subject.label,
                width=item.subject.width,
                height=item.subject.height,
                status=item.status,
                annotations_imported=item.annotations_added,
                annotations_kept=item.annotations_kept,
                annotations=urls.annotation_container(item.subject.kind, item.subject.id),
                annotation_page=urls.annotation_page(item.subject.kind, item.subject.id),
                collab=f"/collab/{item.name}",
            )
            for item in done.subjects
        ],
        warnings=[ImportWarning(where=w.where, message=w.message) for w in done.warnings],
    )


def fetch_limits(request: Request) -> FetchLimits:
    settings = request.app.state.settings
    return FetchLimits(
        max_bytes=settings.iiif_fetch_max_bytes,
        timeout=settings.iiif_fetch_timeout_seconds,
        allow_private=settings.iiif_fetch_private,
    )


@api.post(
    "/api/iiif/{workspace}/import",
    "write",
    body=ImportIn,
    answer=ImportOut,
    statuses={400: "Not a manifest we can import", 413: "Too large", 502: "Fetching failed"},
)
async def import_iiif(request: Request) -> Response:
    """Import a IIIF manifest: one subject per canvas and per 3D model.

    The body is a Presentation 3 or 2 manifest, or `{"url": "https://..."}` to fetch
    one. The annotations it carries (Presentation 3 `annotations` pages, Presentation 2
    `otherContent` lists; referenced ones fetched) are imported onto the subjects; what
    cannot be is listed in `warnings`. Importing again brings the subjects up to date,
    keeps their annotations and adds only carried annotations not imported before.
    """
    workspace = _workspace(request)
    data = await read_json(request, MAX_MANIFEST_BYTES)
    if isinstance(data, dict) and set(data) == {"url"}:
        if not isinstance(data["url"], str):
            raise HTTPProblem(400, "url must be a string")
        try:
            data = await fetch_json(data["url"], fetch_limits(request))
        except FetchError as exc:
            raise HTTPProblem(502, str(exc)) from None
    try:
        done = await import_manifest(
            request.app.state.manager,
            workspace,
            data,
            principal(request),
            limits=fetch_limits(request),
            importer=agent(request) or importer_agent(principal(request)),
            urls=links.workspace_urls(request, workspace),
        )
    except ManifestError as exc:
        raise HTTPProblem(400, f"cannot import this manifest: {exc}") from None
    answer = import_answer(request, workspace, done)
    return Response(
        answer.model_dump_json(),
        media_type="application/json",
        headers={"Location": answer.iiif_manifest},
    )


# ---------------------------------------------------------------------------- export


def _wants_scenes(request: Request, subjects: list[Any]) -> bool:
    """Presentation 4 (with 3D Scenes) when asked for, or when there is nothing else: a
    manifest of 3D models only has no Presentation 3 form worth serving."""
    if request.query_params.get("presentation") == "4":
        return True
    if PRESENTATION_4 in request.headers.get("accept", ""):
        return True
    return any(s.kind == "model" for s in subjects) and not any(
        s.kind == "canvas" and s.width and s.height for s in subjects
    )


@api.get(
    "/iiif/{workspace}/manifest/{id}",
    "read",
    params=(
        Param(
            "presentation",
            "query",
            "`4`: the Presentation 4 draft, with a Scene per 3D model (also chosen by "
            "Accept's profile, and the default for a manifest of 3D models only)",
        ),
    ),
    statuses={404: "No such manifest in this workspace", 406: "Not acceptable"},
)
async def get_manifest(request: Request) -> Response:
    """A Presentation 3 Manifest of an imported manifest, with this workspace's annotations and
    search services.

    `id` is the one the import answered with (`iiif_manifest`). The canvases keep their
    original ids and images; each links its AnnotationPage. 3D models are Scenes of the
    Presentation 4 draft: in the `?presentation=4` form, which the Presentation 3 form
    links as `seeAlso`.
    """
    workspace = _workspace(request)
    manifest_id = request.path_params["id"]
    # An upload's manifest is this very URL (on whichever host it was made).
    uploaded = await media.manifest_record(request, workspace, manifest_id)
    own = f"/iiif/{workspace}/manifest/{manifest_id}"
    subjects = [
        s
        for _, s in await workspace_index.of(request.app).subjects(workspace)
        if s.manifest
        and (subject_id(s.manifest) == manifest_id or (uploaded and s.manifest.endswith(own)))
    ]
    if not subjects:
        raise HTTPProblem(404, f"no manifest {manifest_id} in {workspace}")
    urls = links.workspace_urls(request, workspace)
    label = uploaded["label"] if uploaded else None
    if _wants_scenes(request, subjects):
        offer = negotiate(request, P4_OFFERS)
        data = manifest_with_scenes(urls, manifest_id, subjects, label=label)
    else:
        offer = negotiate(request, P3_OFFERS)
        data = manifest(urls, manifest_id, subjects, label=label)
        if any(s.kind == "model" for s in subjects):
            data["seeAlso"] = [
                {
                    "id": _token_links(request, data["id"] + "?presentation=4"),
                    "type": "Dataset",
                    "format": "application/ld+json",
                    "profile": PRESENTATION_4,
                    "label": {"en": ["With the 3D models (IIIF Presentation 4 draft)"]},
                }
            ]
    if uploaded and uploaded.get("metadata"):
        data["metadata"] = uploaded["metadata"]
    for canvas in data["items"]:
        for page in canvas.get("annotations", []):
            page["id"] = _token_links(request, page["id"])
    return await _json(request, data, offer)


# A label or a metadata entry is shown in viewers' panels: these bound what anyone reads.
MAX_LABEL_CHARS = 500
MAX_METADATA = 100


class LabelValue(BaseModel):
    label: str | dict[str, list[str]]
    value: str | dict[str, list[str]]


class ManifestPatch(BaseModel):
    """The label and the metadata of an upload's manifest (strings, or language maps
    such as `{"en": ["..."], "fr": ["..."]}`)."""

    label: str | dict[str, list[str]] | None = None
    metadata: list[LabelValue] | None = Field(None, max_length=MAX_METADATA)


def _language_map(value: str | dict[str, list[str]], where: str) -> dict[str, list[str]]:
    found = {"none": [value]} if isinstance(value, str) else value
    total = sum(len(v) for values in found.values() for v in values)
    if not found or total == 0 or total > MAX_LABEL_CHARS:
        raise HTTPProblem(400, f"{where}: give 1 to {MAX_LABEL_CHARS} characters")
    return found


@api.patch(
    "/iiif/{workspace}/manifest/{id}",
    "write",
    statuses={400: "A bad label or metadata", 404: "No such uploaded manifest"},
)
async def patch_manifest(request: Request, wanted: ManifestPatch) -> Response:
    """Change the label or the metadata of an upload's manifest (editors and above).

    Its subjects follow (their manifest label) as on a re-import; their annotations stay.
    Manifests imported from elsewhere are changed at their source and imported again.
    """
    workspace = _workspace(request)
    manifest_id = request.path_params["id"]
    record = await media.manifest_record(request, workspace, manifest_id)
    if record is None:
        raise HTTPProblem(404, f"{manifest_id} is not an uploaded manifest of {workspace}")
    if wanted.label is not None:
        record["label"] = _language_map(wanted.label, "label")
    if wanted.metadata is not None:
        record["metadata"] = [
            {
                "label": _language_map(e.label, f"metadata[{i}].label"),
                "value": _language_map(e.value, f"metadata[{i}].value"),
            }
            for i, e in enumerate(wanted.metadata)
        ]
    await media.import_upload_manifest(request, workspace, record)
    await media.save_manifest_record(request, workspace, manifest_id, record)
    urls = links.workspace_urls(request, workspace)
    return Response(
        json.dumps(
            {
                "id": urls.manifest(manifest_id),
                "label": record["label"],
                "metadata": record["metadata"],
            },
            ensure_ascii=False,
        ),
        media_type="application/json",
    )


@api.get(
    "/iiif/{workspace}/{kind}/{id}/annotations",
    "read",
    statuses={404: "No such subject", 406: "Not acceptable"},
)
async def get_annotation_page(request: Request) -> Response:
    """A subject's annotations as one Presentation 3 AnnotationPage (for a 3D model, the
    Presentation 4 draft's, with each point's camera view as its `scope`).

    Replies (which target other annotations) are left out: threads are read in the W3C
    container.
    """
    name = subject_name(request)
    offers = P4_OFFERS if name.kind == "model" else P3_OFFERS
    offer = negotiate(request, offers)
    urls = links.workspace_urls(request, name.workspace)
    container = urls.annotation_container(name.kind, name.id)
    entry = await _entry(request, name)
    items = [to_jsonld(a, container) for a in entry.annotations]
    target = entry.subject.iiif_id if entry.subject else None
    page_id = _token_links(request, urls.annotation_page(name.kind, name.id))
    if name.kind == "model" and target is not None:
        # The 3D draft's form: PointSelector on the Scene, the camera as its scope.
        return await _json(request, scene_annotation_page(page_id, items, scene=target), offer)
    return await _json(request, annotation_page(page_id, items, target=target), offer)


async def _entry(request: Request, name: DocumentName) -> workspace_index.Entry:
    async with live(request, name):
        # Held: the live room is read (and an empty one is not left behind for long).
        return await workspace_index.of(request.app).entry(name)


@api.get(
    "/iiif/{workspace}/{kind}/{id}/annotations/{annotation}/content-state",
    "read",
    params=(
        Param(
            "format",
            "query",
            "`json` (default) or `encoded`: the base64url form, for "
            "a viewer's iiif-content parameter",
        ),
    ),
    statuses={404: "No such annotation"},
)
async def get_content_state(request: Request) -> Response:
    """A IIIF Content State that opens the subject at one annotation.

    The canvas (with the annotation's region) in its manifest, and the annotation's
    IRI as `sinopia:annotation`; viewers that know Content State zoom to the region.
    """
    name = subject_name(request)
    annotation_id = request.path_params["annotation"]
    urls = links.workspace_urls(request, name.workspace)
    container = urls.annotation_container(name.kind, name.id)
    entry = await _entry(request, name)
    found = next((a for a in entry.annotations if a.id == annotation_id), None)
    if found is None or entry.subject is None:
        raise HTTPProblem(404, f"no such annotation: {container}{annotation_id}")
    subject = entry.subject
    region = next((t.xywh for t in targets(to_jsonld(found, container)) if t.xywh), None)
    state = ContentState(
        canvas=subject.iiif_id,
        manifest=urls.manifest(subject_id(subject.manifest)) if subject.manifest else None,
        type=subject.iiif_type,
        region=region.removeprefix("pixel:") if region and "percent" not in region else None,
        annotation=container + found.id,
    )
    if request.query_params.get("format") == "encoded":
        return Response(state.encode(), media_type="text/plain")
    data = {
        "@context": PRESENTATION_3,
        "id": str(request.url.remove_query_params("token")),
        "type": "Annotation",
        "motivation": ["contentState"],
        "target": state.to_json(),
    }
    return await _json(request, data, P3_OFFERS[0])


# ---------------------------------------------------------------------------- search


async def _workspace_annotations(request: Request, workspace: str) -> list[dict[str, Any]]:
    urls = links.workspace_urls(request, workspace)
    out: list[dict[str, Any]] = []
    for entry in await workspace_index.of(request.app).entries(workspace):
        container = urls.annotation_container(entry.name.kind, entry.name.id)
        out += [to_jsonld(a, container) for a in entry.annotations]
    return out


def _page_size(request: Request) -> int:
    return int(request.app.state.settings.annotation_page_size)


SEARCH_PARAMS = (
    Param("q", "query", "words (prefixes, any accents and case) or term IRIs, space-separated"),
    Param("motivation", "query", "motivations, space-separated"),
    Param("date", "query", "creation time ranges: YYYY-MM-DDThh:mm:ssZ/YYYY-MM-DDThh:mm:ssZ"),
    Param("user", "query", "creator ids or names, space-separated"),
    Param("page", "query", "page number", "integer"),
)


def _searcher(name: str, summary: str, build: Any, offers: Any, *, v1: bool) -> Handler:
    async def handler(request: Request) -> Response:
        return await _search(request, build, offers, v1=v1)

    handler.__name__ = name
    handler.__doc__ = f"{summary}.\n\nParameters it does not use are listed in `ignored`."
    return handler


# Content Search 2.0 and 1.0 (what Mirador reads): one search, two representations.
SEARCH = {"params": SEARCH_PARAMS, "statuses": {400: "Bad parameter", 406: "Not acceptable"}}
OVER = "over the workspace's annotations"
search = api.get("/iiif/{workspace}/search", "read", **SEARCH)(
    _searcher("search", f"IIIF Content Search 2.0 {OVER}", search_v2, SEARCH2_OFFERS, v1=False)
)
search_1 = api.get("/iiif/{workspace}/search/v1", "read", **SEARCH)(
    _searcher(
        "search_1",
        f"IIIF Content Search 1.0 (Mirador's) {OVER}",
        search_v1,
        SEARCH1_OFFERS,
        v1=True,
    )
)


async def _search(request: Request, build: Any, offers: Any, *, v1: bool) -> Response:
    workspace = _workspace(request)
    offer = negotiate(request, offers)
    urls = links.workspace_urls(request, workspace)
    annotations = await _workspace_annotations(request, workspace)
    if request.query_params.get("user"):
        # People are stored by id: their names, as they are now, for the `user` filter.
        await People(auth_of(request).directory).name_creators(annotations)
    try:
        data = build(
            urls.search_v1() if v1 else urls.search(),
            request.query_params,
            annotations,
            page_size=_page_size(request),
            # A share link's token is kept in the page links, not reported as ignored.
            supported=(*SUPPORTED, "token"),
        )
    except SearchQueryError as exc:
        raise HTTPProblem(400, str(exc)) from None
    return await _json(request, data, offer)
