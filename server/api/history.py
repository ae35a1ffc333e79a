"""`/api/history/{workspace}/{kind}/{id}`: changes, the state at a point, named versions,
differences, restore, verification and export."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from annotations import changes
from annotations.restore import restore as restore_past
from annotations.subject_document import annotations_jsonld
from crdt import DocumentName, Store
from crdt.bundle import export
from crdt.seals import key_id
from crdt.seals import verify as verify_log
from crdt.store import VersionExists
from crdt.types import Version as StoredVersion
from server.access.caller import auth_of
from server.api import past as history
from server.api.documents import stored
from server.api.past import past_doc, seq_at, snapshot_at
from server.directory.people import People
from server.http.problems import HTTPProblem
from server.http.requests import int_param, principal
from server.http.routes import Api, Param, json

api = Api("history")
BASE = "/api/history/{workspace}/{kind}/{id}"
# Changes per page; each needs the state before and after it, so pages stay modest.
MAX_PAGE = 100


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


class ChangeWhat(BaseModel):
    """One thing a change did, for programs (the summary says it in English)."""

    kind: str = Field(description="e.g. annotation-added, body-edited, target-moved")
    path: str = Field(description="where in the document, e.g. annotations/{id}/body/0/value")
    annotation: str | None = Field(None, description="the annotation's id, if it is about one")
    field: str | None = None


class ChangeItem(BaseModel):
    seq: int
    time: str
    principal: str = Field(
        description="who: an author label, `user:<user id>` (or before ids, `user:<name>`)"
    )
    principal_name: str | None = Field(
        None, description="who, to show: the person's name now (none for a share link)"
    )
    client_id: str
    summary: list[str]
    what: list[ChangeWhat] = Field(
        default_factory=list, description="the same changes as data, in the summary's order"
    )


class ChangesPage(BaseModel):
    doc: str
    head: int
    changes: list[ChangeItem]
    next: str | None = Field(None, description="the next (older) page, if any")


class State(BaseModel):
    doc: str
    seq: int
    time: str
    content: dict[str, Any]


class VersionIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    seq: int | None = Field(None, ge=1, description="default: the current head")
    note: str = Field("", max_length=2000)


class VersionOut(BaseModel):
    name: str
    seq: int
    time: str
    principal: str
    principal_name: str | None = None
    note: str


class VersionWithContent(VersionOut):
    content: dict[str, Any]


class Versions(BaseModel):
    doc: str
    versions: list[VersionOut]


class DiffOut(BaseModel):
    doc: str
    from_seq: int
    to_seq: int
    summary: list[str]
    changes: list[changes.Change]


class RestoreIn(BaseModel):
    version: str | None = None
    seq: int | None = Field(None, ge=1)


class RestoreOut(BaseModel):
    doc: str
    restored_from: int
    seq: int | None = Field(None, description="the new change; none if nothing differed")


class VerifyOut(BaseModel):
    doc: str
    ok: bool
    entries: int
    sealed_upto: int
    problem: str | None = None
    first_bad_seq: int | None = None


def _version_out(v: StoredVersion, names: dict[str, str]) -> VersionOut:
    return VersionOut(
        name=v.name,
        seq=v.seq,
        time=_iso(v.time_ms),
        principal=v.principal,
        principal_name=names.get(v.principal),
        note=v.note,
    )


async def _names(request: Request, labels: Iterable[str]) -> dict[str, str]:
    return await People(auth_of(request).directory).labels(labels)


async def _version(store: Store, name: DocumentName, version: str) -> StoredVersion:
    for v in await store.versions(str(name)):
        if v.name == version:
            return v
    raise HTTPProblem(404, f"{name} has no version named {version!r}")


@api.get(
    BASE,
    "read",
    answer=ChangesPage,
    params=(
        Param("before", "query", "only changes before this sequence number", "integer"),
        Param("limit", "query", f"changes per page (at most {MAX_PAGE}, default 20)", "integer"),
    ),
    statuses={404: "No such document"},
)
async def list_changes(request: Request) -> Response:
    """Changes, newest first, with who, when and what.

    Each change lists its sequence number, its author (user, token or share link), the
    server time, and short summaries such as "annotation added" or "summary edited".
    """
    store, name, head = await stored(request)
    before = int_param(request, "before", minimum=1)
    limit = min(int_param(request, "limit", 20, minimum=1) or 20, MAX_PAGE)
    entries = await store.read_newest(str(name), before=before, limit=limit)
    found = await history.described(store, name, entries)
    names = await _names(request, (e.principal for e in entries))
    more = bool(entries) and entries[-1].seq > 1
    page = ChangesPage(
        doc=str(name),
        head=head,
        changes=[
            ChangeItem(
                seq=e.seq,
                time=_iso(e.time_ms),
                principal=e.principal,
                principal_name=names.get(e.principal),
                client_id=e.client_id,
                summary=history.in_words(found[e.seq]),
                what=[
                    ChangeWhat(kind=c.kind, path=c.path, annotation=c.annotation, field=c.field)
                    for c in found[e.seq]
                ],
            )
            for e in entries
        ],
        next=str(request.url.include_query_params(before=entries[-1].seq)) if more else None,
    )
    return json(page)


@api.get(
    BASE + "/state",
    "read",
    answer=State,
    params=(
        Param("seq", "query", "a sequence number of the log", "integer"),
        Param("at", "query", "an ISO 8601 time: the state after the last change before it"),
        Param("format", "query", "`json` (default) or `jsonld`: W3C annotations"),
    ),
    statuses={400: "Bad parameter", 404: "No such document, or a point outside the log"},
)
async def state(request: Request) -> Response:
    """The document as it was at a sequence number or a point in time."""
    store, name, head = await stored(request)
    at = request.query_params.get("at")
    seq = int_param(request, "seq", minimum=1)
    if seq is None:
        seq = await seq_at(store, name, at) if at else head
    if seq > head:
        raise HTTPProblem(404, f"{name} has entries 1 to {head}; there is no {seq}")
    time_ms = (await store.read(str(name), after=seq - 1, limit=1))[0].time_ms
    if request.query_params.get("format") == "jsonld":
        if name.kind == "report":
            raise HTTPProblem(400, "reports have no W3C annotation form; use format=json")
        doc = await past_doc(store, name, seq)
        container = f"{request.base_url}api/annotations/{name}/"
        content: dict[str, Any] = {"annotations": annotations_jsonld(doc, container)}
    else:
        content = await snapshot_at(store, name, seq)
    # Creators as people read them now (the document keeps pseudonymous ids).
    await People(auth_of(request).directory).name_creators(content)
    return json(State(doc=str(name), seq=seq, time=_iso(time_ms), content=content))


@api.get(BASE + "/versions", "read", answer=Versions, statuses={404: "No such document"})
async def list_versions(request: Request) -> Response:
    """Named versions."""
    store, name, _ = await stored(request)
    versions = await store.versions(str(name))
    names = await _names(request, (v.principal for v in versions))
    return json(Versions(doc=str(name), versions=[_version_out(v, names) for v in versions]))


@api.post(
    BASE + "/versions",
    "write",
    answer=VersionOut,
    statuses={400: "Bad input", 404: "No such document", 409: "The name is taken"},
)
async def create_version(request: Request, wanted: VersionIn) -> Response:
    """Name a point of history ("report v2 as sent to the lender")."""
    store, name, head = await stored(request)
    seq = wanted.seq or head
    if seq > head:
        raise HTTPProblem(400, f"{name} has entries 1 to {head}; there is no {seq}")
    entry = (await store.read(str(name), after=seq - 1, limit=1))[0]
    version = StoredVersion(
        str(name), wanted.name, seq, entry.time_ms, principal(request), wanted.note
    )
    try:
        await store.add_version(version)
    except VersionExists:
        raise HTTPProblem(409, f"{name} already has a version named {wanted.name!r}") from None
    location = f"{request.url.path}/{wanted.name}"
    return json(
        _version_out(version, await _names(request, [version.principal])),
        status=201,
        headers={"Location": location},
    )


@api.get(
    BASE + "/versions/{version}",
    "read",
    answer=VersionWithContent,
    statuses={404: "No such document or version"},
)
async def open_version(request: Request) -> Response:
    """One named version, with its content."""
    store, name, _ = await stored(request)
    v = await _version(store, name, request.path_params["version"])
    content = await snapshot_at(store, name, v.seq)
    return json(
        VersionWithContent(
            **_version_out(v, await _names(request, [v.principal])).model_dump(), content=content
        )
    )


async def _point(request: Request, store: Store, name: DocumentName, side: str, head: int) -> int:
    version = request.query_params.get(side)
    seq = int_param(request, f"{side}_seq", minimum=1)
    if version is not None and seq is not None:
        raise HTTPProblem(400, f"give {side} (a version name) or {side}_seq, not both")
    if version is not None:
        return (await _version(store, name, version)).seq
    if seq is None:
        if side == "from":
            raise HTTPProblem(400, "from (a version name) or from_seq is required")
        return head
    if seq > head:
        raise HTTPProblem(404, f"{name} has entries 1 to {head}; there is no {seq}")
    return seq


@api.get(
    BASE + "/diff",
    "read",
    answer=DiffOut,
    params=(
        Param("from", "query", "a version name"),
        Param("from_seq", "query", "or a sequence number", "integer"),
        Param("to", "query", "a version name (default: now)"),
        Param("to_seq", "query", "or a sequence number", "integer"),
    ),
    statuses={400: "Bad parameter", 404: "No such document or version"},
)
async def diff(request: Request) -> Response:
    """The difference between two versions or points.

    Annotations and fields added, removed and changed, with the changed text of bodies
    and report texts as inserted and deleted runs.
    """
    store, name, head = await stored(request)
    a = await _point(request, store, name, "from", head)
    b = await _point(request, store, name, "to", head)
    before, after = await snapshot_at(store, name, a), await snapshot_at(store, name, b)
    found = changes.diff_documents(before, after)
    return json(
        DiffOut(
            doc=str(name),
            from_seq=a,
            to_seq=b,
            summary=[c.summary for c in found],
            changes=found,
        )
    )


@api.post(
    BASE + "/restore",
    "write",
    answer=RestoreOut,
    statuses={400: "Bad input", 404: "No such document or version", 409: "Refused"},
)
async def restore(request: Request, wanted: RestoreIn) -> Response:
    """Make the document equal to a version again, by a new change.

    Nothing is removed from the history: the restore is a new change, attributed to
    whoever asked for it, and everyone connected sees it at once.
    """
    store, name, head = await stored(request)
    if (wanted.version is None) == (wanted.seq is None):
        raise HTTPProblem(400, "give either version (a name) or seq")
    seq = (await _version(store, name, wanted.version)).seq if wanted.version else wanted.seq
    assert seq is not None
    if seq > head:
        raise HTTPProblem(404, f"{name} has entries 1 to {head}; there is no {seq}")
    past = await past_doc(store, name, seq)
    async with request.app.state.manager.hold(str(name)) as room:
        _, new_seq = await room.write(
            principal(request), lambda doc: restore_past(doc, past, name.kind), size_hint=4096
        )
    return json(RestoreOut(doc=str(name), restored_from=seq, seq=new_seq))


@api.get(BASE + "/verify", "read", answer=VerifyOut, statuses={404: "No such document"})
async def verify(request: Request) -> Response:
    """Check every entry's hash and every seal."""
    store, name, _ = await stored(request)
    key = request.app.state.seal_key.public_key()
    report = verify_log(
        str(name), await store.read(str(name)), await store.seals(str(name)), {key_id(key): key}
    )
    return json(
        VerifyOut(
            doc=str(name),
            ok=report.ok,
            entries=report.entries,
            sealed_upto=report.sealed_upto,
            problem=str(report.problem) if report.problem else None,
            first_bad_seq=report.problem.seq if report.problem else None,
        )
    )


@api.get(BASE + "/bundle", "read", statuses={404: "No such document"})
async def bundle(request: Request) -> Response:
    """The whole history as a self-contained bundle that verifies offline.

    Verify it with `sinopia history verify-bundle FILE`, no server or database needed.
    """
    store, name, _ = await stored(request)
    manager = request.app.state.manager
    if manager.sealer:
        await manager.sealer.seal(str(name))
    key = request.app.state.seal_key.public_key()
    data = await export(store, str(name), {key_id(key): key})
    filename = str(name).replace("/", "_") + ".sinopia-history.json"
    return json(data, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
