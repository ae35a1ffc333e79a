"""`GET /api/workspaces/{workspace}/subjects`: a workspace's subjects for the app's grid,
in manifest order, paged, searched by label and filtered by kind, manifest and who last
changed them; each with its image service (for thumbnails), its number of annotations
and its last change."""

from __future__ import annotations

import base64
import binascii
import json as jsonlib
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from iiif import Subject, subject_id
from server.access.caller import auth_of
from server.api import workspace_index
from server.api.workspace_index import SUBJECT_KINDS, Entry
from server.directory.people import People
from server.http.problems import HTTPProblem
from server.http.requests import int_param
from server.http.routes import Api, Param

api = Api("workspaces")

DEFAULT_LIMIT = 50
# A page is rendered as a grid of thumbnails: more than this at once is never shown.
MAX_LIMIT = 200
# Search terms and names longer than this match nothing anyone typed.
MAX_QUERY = 200


class ImageRef(BaseModel):
    service: str = Field(description="a IIIF Image API service id (append /info.json)")
    width: int | None = None
    height: int | None = None


class SubjectItem(BaseModel):
    document: str = Field(description="workspace/kind/id")
    kind: str
    id: str
    label: str
    manifest: str | None = None
    manifest_label: str | None = None
    thumbnail: ImageRef | None = None
    image: ImageRef | None = None
    annotations: int
    changed: str | None = Field(None, description="ISO 8601 time of the last change")
    changed_by: str | None = Field(None, description="who made it (principal label)")
    changed_by_name: str | None = Field(
        None, description="who made it, to show: the user's display name or name"
    )


class SubjectsPage(BaseModel):
    subjects: list[SubjectItem]
    next: str | None = Field(None, description="the cursor of the next page")
    total: int = Field(description="subjects matching the filters, on every page")


def _order(entry: Entry) -> tuple[Any, ...]:
    s = entry.subject
    assert s is not None
    # Manifest by manifest, canvases in their manifest's order; subjects of no manifest last.
    return (s.manifest is None, s.manifest or "", s.index, s.label.casefold(), str(entry.name))


def _cursor(key: tuple[Any, ...]) -> str:
    return base64.urlsafe_b64encode(jsonlib.dumps(list(key)).encode()).decode().rstrip("=")


def _after(cursor: str) -> tuple[Any, ...]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = tuple(jsonlib.loads(raw))
        if len(key) != 5:
            raise ValueError
        return key
    except (ValueError, binascii.Error, TypeError):
        raise HTTPProblem(
            400, "cursor: not one this server gave (start again without it)"
        ) from None


def _changed_by_matches(principal: str | None, wanted: str, ids: set[str]) -> bool:
    """A principal label (`user:u3f2a...`, `token:u3f2a.../ID`), or a user's name
    (`alice`) whose ids are `ids` (labels from before ids were used carry the name)."""
    if principal is None:
        return False
    if principal.casefold() == wanted:
        return True
    kind, _, rest = principal.partition(":")
    ref = rest.split("/")[0]
    return kind in ("user", "token") and (ref.casefold() == wanted or ref in ids)


def _image(subject: Subject) -> ImageRef | None:
    if subject.image_service is None:
        return None
    return ImageRef(service=subject.image_service.id, width=subject.width, height=subject.height)


async def _names(request: Request, entries: list[Entry]) -> dict[str, str]:
    """Author labels as people read them: `user:u3f2a...` is Alice Rossi."""
    people = People(auth_of(request).directory)
    return await people.labels(e.changed_by for e in entries)


def _item(entry: Entry, names: dict[str, str]) -> SubjectItem:
    s = entry.subject
    assert s is not None
    image = _image(s)
    changed = (
        datetime.fromtimestamp(entry.changed_ms / 1000, UTC).isoformat(timespec="seconds")
        if entry.changed_ms is not None
        else None
    )
    return SubjectItem(
        document=str(entry.name),
        kind=s.kind,
        id=s.id,
        label=s.label,
        manifest=s.manifest,
        manifest_label=s.manifest_label,
        thumbnail=image,
        image=image,
        annotations=len(entry.annotations),
        changed=changed.replace("+00:00", "Z") if changed else None,
        changed_by=entry.changed_by,
        changed_by_name=names.get(entry.changed_by or ""),
    )


def _text(request: Request, key: str) -> str | None:
    value = request.query_params.get(key, "").strip()
    if len(value) > MAX_QUERY:
        raise HTTPProblem(400, f"{key} is longer than {MAX_QUERY} characters")
    return value.casefold() or None


@api.get(
    "/api/workspaces/{workspace}/subjects",
    "read",
    answer=SubjectsPage,
    params=(
        Param("q", "query", "words in the label (case-insensitive)"),
        Param("kind", "query", "canvas or model"),
        Param("manifest", "query", "a manifest's IRI (or its id in this workspace)"),
        Param("changed_by", "query", "who last changed it: a principal label or a user name"),
        Param(
            "limit",
            "query",
            f"at most this many (default {DEFAULT_LIMIT}, up to {MAX_LIMIT})",
            "integer",
        ),
        Param("cursor", "query", "from `next` of the previous page"),
    ),
    statuses={400: "Bad parameter"},
)
async def list_subjects(request: Request) -> Response:
    """The workspace's subjects (paged): label, manifest, image service, last change.

    Members only (a share link opens its subject, and lists nothing).
    """
    workspace = request.path_params["workspace"]
    q, manifest, changed_by = (_text(request, k) for k in ("q", "manifest", "changed_by"))
    kind = request.query_params.get("kind") or None
    if kind is not None and kind not in SUBJECT_KINDS:
        raise HTTPProblem(400, f"kind must be one of {', '.join(SUBJECT_KINDS)}")
    limit = min(int_param(request, "limit", DEFAULT_LIMIT, minimum=1) or DEFAULT_LIMIT, MAX_LIMIT)
    cursor = request.query_params.get("cursor")
    after = _after(cursor) if cursor else None

    entries = await workspace_index.of(request.app).entries(workspace)
    ids: set[str] = set()
    if changed_by:
        user = await auth_of(request).directory.user_by_name(changed_by)
        ids = {user.id} if user else set()
    found = []
    for entry in entries:
        s = entry.subject
        if s is None:
            continue
        if kind and s.kind != kind:
            continue
        if q and not all(word in s.label.casefold() for word in q.split()):
            continue
        if manifest and (
            s.manifest is None
            or manifest not in (s.manifest.casefold(), subject_id(s.manifest).casefold())
        ):
            continue
        if changed_by and not _changed_by_matches(entry.changed_by, changed_by, ids):
            continue
        found.append(entry)
    found.sort(key=_order)
    total = len(found)
    if after is not None:
        found = [e for e in found if list(_order(e)) > list(after)]
    page = found[:limit]
    more = len(found) > limit
    names = await _names(request, page)
    answer = SubjectsPage(
        subjects=[_item(e, names) for e in page],
        next=_cursor(_order(page[-1])) if more and page else None,
        total=total,
    )
    # Every field, nulls too: the app reads `next: null` as the last page.
    return JSONResponse(answer.model_dump(mode="json"))
