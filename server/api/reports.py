"""`/api/reports/{workspace}`: condition reports, loan condition reports and treatment
records, each a live `report` document (`/collab/{workspace}/report/{id}`).

- `POST /api/reports/{ws}` creates one (`type`, `title`, any field; `from`: the previous
  report of the object, whose damage entries it starts from); 201 with `id`, `document`.
- `GET /api/reports/{ws}` lists them (status, type, next check; `?due=YYYY-MM-DD` the
  checks due by then), or as CollectionSpace CSV (`Accept: text/csv`).
- `GET /api/reports/{ws}/{id}`: JSON (the report, its lock, the workflow actions open
  now), `application/ld+json` (Linked Art / CIDOC-CRM), `application/pdf` (the printable
  report) or `text/csv` (CollectionSpace's condition check import).
- `PATCH /api/reports/{ws}/{id}`: a JSON merge patch (RFC 7396) of the report's fields,
  texts included. A locked report answers 409 with the reason; status, approvals and the
  signature change only through the workflow (409 naming the route).
- `POST /api/reports/{ws}/{id}/workflow` `{"action", "note"}`: the workflow table of
  annotations/workflow.py, with the caller's role (403 when it is not enough).
- `GET /api/reports/{ws}/{id}/signed`: the signed record, verified offline by
  `sinopia report verify FILE`.
- `POST /api/reports/{ws}/{id}/comments` `{"text", "reply_to"}`: a comment in the
  report's review discussion, attributed to the caller and dated by the server.
- `GET /api/reports/{ws}/{id}/comparison?with=ID`: each damage entry against another
  report (by default the previous one): new, changed, unchanged, resolved; and the whole
  series of previous reports, damage by damage.

Bad input is a 400 naming the field: unknown vocabulary terms, values outside their
vocabulary, links to annotations that do not exist.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from typing import Any

from pycrdt import Doc
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.requests import Request
from starlette.responses import Response

from annotations import Agent, Invalid, Problem, now
from annotations.collectionspace import to_csv
from annotations.linked_art import to_linked_art
from annotations.models import ID_PATTERN
from annotations.report_document import (
    APPROVALS,
    COMMENTS,
    LISTS,
    REPORT_KEYS,
    TEXTS,
    WORKFLOW_KEYS,
    add_approval,
    add_comment,
    lock_reason,
    migrate,
    parse_report,
    report_json,
    set_fields,
    write_report,
)
from annotations.reports import MAX_COMMENTS, NOTE, Attachment, Report, ReviewComment
from annotations.signed_record import b64, record_of, sign
from annotations.subject_document import read_annotation
from annotations.tracking import carry_over, compare, follow
from annotations.vocabularies import Vocabulary
from annotations.workflow import WorkflowError, allowed_actions, decide
from crdt import DocumentName
from crdt.errors import InvalidName
from crdt.history import state_at
from server.access import roles
from server.access.caller import access_of, agent
from server.api import media, report_output
from server.api.documents import live, manager_of, store_of, write
from server.api.vocabularies import term_iri, workspace_terms
from server.http import links
from server.http.negotiation import Offer, negotiate
from server.http.problems import HTTPProblem
from server.http.requests import read_body, read_json
from server.http.routes import Api, Param, json

api = Api("reports")
BASE = "/api/reports/{workspace}"
ONE = BASE + "/{id}"
# Reports listed or followed along a series at most (a small museum has a few hundred).
MAX_LISTED = 1000
MAX_SERIES = 50

JSON = Offer("application/json", "application/json")
JSONLD = Offer("application/ld+json", "application/ld+json")
PDF = Offer("application/pdf", "application/pdf")
CSV = Offer("text/csv", "text/csv; charset=utf-8")


class NewReport(BaseModel):
    """A new report: its type and title, any of its fields, and optionally the report it
    follows (`from`), whose object and damage entries it starts from."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    type: str = "condition"
    title: str = ""
    id: str | None = Field(None, description="the id to use (a new random one by default)")
    from_: str | None = Field(None, alias="from")


class WorkflowAction(BaseModel):
    """One step of the workflow: submit, return (with a note), approve, sign, supersede."""

    action: str
    note: str = Field("", max_length=2000)


class NewComment(BaseModel):
    """A comment in a report's review discussion (who and when are the server's)."""

    text: str = Field(min_length=1, max_length=NOTE)
    reply_to: str | None = Field(None, description="the id of the comment this answers")

    @field_validator("text")
    @classmethod
    def _said_something(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a comment says something")
        return value


class Created(BaseModel):
    id: str
    document: str
    report: dict[str, Any]


# ---------------------------------------------------------------------------- helpers


def report_name(workspace: str, report_id: str) -> DocumentName:
    try:
        return DocumentName.of(workspace, "report", report_id)
    except InvalidName as exc:
        raise HTTPProblem(404, f"no such report: {exc}") from None


def _name(request: Request) -> DocumentName:
    return report_name(request.path_params["workspace"], request.path_params["id"])


def _view(doc: Doc) -> dict[str, Any]:
    return migrate(report_json(doc))


def _fields_of(view: dict[str, Any]) -> dict[str, Any]:
    """The report's own fields as PATCH and GET show them (no signature: see /signed)."""
    return {k: v for k, v in view.items() if k != "signature"}


def _read(view: dict[str, Any], terms: Vocabulary) -> Report:
    if not view:
        raise HTTPProblem(404, "no report in this document yet")
    return parse_report(view, terms=terms)


def answer(name: DocumentName, view: dict[str, Any], terms: Vocabulary) -> dict[str, Any]:
    """The JSON of a report: its fields, whether it is locked, what the workflow offers."""
    out: dict[str, Any] = {
        "id": name.id,
        "document": str(name),
        "live": f"/collab/{name}",
        "locked": lock_reason(view),
        "signed": view.get("signature") is not None,
        "report": _fields_of(view),
    }
    try:
        report = parse_report(view, terms=terms)
    except Invalid as error:
        out["problems"] = [{"path": p.path, "message": p.message} for p in error.problems]
        out["actions"] = []
    else:
        out["actions"] = [{"action": a, "role": r} for a, r in allowed_actions(report)]
    return out


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: objects merge member by member, `null` removes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def _actor(request: Request) -> Agent:
    me = agent(request)
    if me is None:
        raise HTTPProblem(403, "only a member signed in as a user (or with their token) may")
    return me


async def check_links(request: Request, workspace: str, report: Report) -> None:
    """400 naming each damage entry's link to an annotation (or photograph's canvas) that
    does not exist in the workspace."""
    store = store_of(request)
    problems: list[Problem] = []
    docs: dict[str, Doc | None] = {}

    async def subject_doc(subject: str) -> Doc | None:
        if subject not in docs:
            name = f"{workspace}/{subject}"
            head = await store.head(name)
            if head == 0:
                docs[subject] = None
            else:
                async with manager_of(request).hold(name) as room:
                    copy = Doc()
                    copy.apply_update(room.doc.get_update())
                    docs[subject] = copy
        return docs[subject]

    for index, entry in enumerate(report.damage):
        for n, link in enumerate(entry.annotations):
            where = f"damage/{index}/annotations/{n}"
            doc = await subject_doc(link.subject)
            if doc is None:
                problems.append(Problem(path=where, message=f"there is no {link.subject} here"))
            elif read_annotation(doc, link.annotation) is None:
                problems.append(
                    Problem(
                        path=where,
                        message=f"{link.subject} has no annotation {link.annotation!r}",
                    )
                )
        for n, photo in enumerate(entry.photographs):
            if photo.subject is not None and await subject_doc(photo.subject) is None:
                problems.append(
                    Problem(
                        path=f"damage/{index}/photographs/{n}/subject",
                        message=f"there is no {photo.subject} here",
                    )
                )
    if problems:
        raise Invalid(problems)


FIELDS = REPORT_KEYS | set(TEXTS) | set(LISTS)


def _known_fields(data: dict[str, Any]) -> None:
    """400 for a field a report does not have (a typo would otherwise vanish silently)."""
    unknown = sorted(k for k in data if k not in FIELDS)
    if unknown:
        raise Invalid([Problem(path=k, message="is not a report field") for k in unknown])


def _stamp(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "modified": now().isoformat().replace("+00:00", "Z")}


# ---------------------------------------------------------------------------- routes


@api.post(
    BASE,
    "write",
    body=NewReport,
    answer=Created,
    statuses={201: "Created", 400: "Invalid report", 409: "A report with that id exists"},
)
async def create_report(request: Request) -> Response:
    """Create a report (condition check, loan handover, treatment record).

    Makes a new draft. `from` names the previous report of the object: the new one
    starts from its object, requirements and damage entries (same ids, so each damage is
    followed from report to report) and links back to it (`previous`).
    """
    workspace = request.path_params["workspace"]
    data = await read_json(request)
    if not isinstance(data, dict):
        raise HTTPProblem(400, "send a JSON object with the report's fields")
    body = NewReport.model_validate(data)
    report_id = body.id or secrets.token_hex(6)
    if not ID_PATTERN.fullmatch(report_id):
        raise Invalid([Problem(path="id", message="letters, digits, '.', '_' or '-' only")])
    name = report_name(workspace, report_id)
    fields = {k: v for k, v in data.items() if k not in ("id", "from")}
    _known_fields(fields)
    forbidden = sorted((WORKFLOW_KEYS | {APPROVALS}) & fields.keys())
    if forbidden:
        raise HTTPProblem(409, f"{', '.join(forbidden)}: set only by the workflow")
    terms = await workspace_terms(request, workspace)
    if body.from_ is not None:
        previous = await _load(request, report_name(workspace, body.from_), terms)
        start = previous.to_json()
        fields = {
            "object": start.get("object"),
            "requirements": start.get("requirements"),
            "damage": [e.to_json() for e in carry_over(previous)],
            "type": previous.type,
            "previous": body.from_,
            **fields,
        }
    me = agent(request)
    if me is not None and "recorder" not in fields:
        fields["recorder"] = me.to_json()
    fields = {k: v for k, v in fields.items() if v is not None}
    report = parse_report(_stamp(fields), terms=terms)
    await check_links(request, workspace, report)
    if await store_of(request).head(str(name)) > 0:
        raise HTTPProblem(409, f"report {report_id} exists")
    async with live(request, name) as room:
        await write(request, room, lambda doc: write_report(doc, report))
        view = _view(room.doc)
    return json(
        answer(name, view, terms),
        status=201,
        headers={"Location": f"{links.base_url(request)}/api/reports/{name.workspace}/{name.id}"},
    )


async def _load(request: Request, name: DocumentName, terms: Vocabulary) -> Report:
    """A report from the store (not held live): for previous reports and series."""
    store = store_of(request)
    head = await store.head(str(name))
    if head == 0:
        raise HTTPProblem(404, f"no such report: {name.id}")
    doc = Doc()
    doc.apply_update(await state_at(store, str(name), head))
    try:
        return _read(_view(doc), terms)
    except Invalid as error:
        raise HTTPProblem(409, f"report {name.id} is incomplete: {error}") from None


@api.get(
    BASE,
    "read",
    params=(
        Param("status", "query", "only reports with this status"),
        Param("due", "query", "only checks due by this date (YYYY-MM-DD)"),
        Param(
            "subject",
            "query",
            "only reports with damage entries linked to this subject (canvas/<id>), "
            "each with those entries",
        ),
    ),
)
async def list_reports(request: Request) -> Response:
    """The workspace's reports (or their CollectionSpace CSV).

    Each report's id, type, title, status, date, object and next check, newest first.
    With `subject`, only the reports whose damage entries link to that subject's
    annotations, each with those entries (`damage`: id, term, annotation ids): what the
    canvas page shows beside an annotation.
    """
    workspace = request.path_params["workspace"]
    offer = negotiate(request, [JSON, CSV])
    status = request.query_params.get("status")
    due_text = request.query_params.get("due")
    subject = request.query_params.get("subject")
    try:
        due = date.fromisoformat(due_text) if due_text else None
    except ValueError:
        raise HTTPProblem(400, f"due must be a date (YYYY-MM-DD), not {due_text!r}") from None
    store = store_of(request)
    terms = await workspace_terms(request, workspace)
    found: list[tuple[DocumentName, Report]] = []
    for doc_name in (await store.documents(f"{workspace}/report/"))[:MAX_LISTED]:
        name = DocumentName.parse(doc_name)
        try:
            report = await _load(request, name, terms)
        except HTTPProblem:
            continue  # an empty or incomplete draft: not listed until it reads
        if status and report.status != status:
            continue
        if due and (report.next_check is None or report.next_check > due):
            continue
        if subject and not _linked(report, subject):
            continue
        found.append((name, report))
    found.sort(key=lambda item: item[1].date or date.min, reverse=True)
    if offer is CSV:
        return Response(to_csv([r for _, r in found], terms=terms), media_type=CSV.content_type)
    return json(
        {
            "reports": [
                {
                    "id": name.id,
                    "document": str(name),
                    "type": report.type,
                    "title": report.title,
                    "status": report.status,
                    "date": report.date.isoformat() if report.date else None,
                    "object": report.object_info.identifier if report.object_info else None,
                    "condition": report.condition,
                    "next_check": report.next_check.isoformat() if report.next_check else None,
                    "previous": report.previous,
                    **({"damage": _linked(report, subject)} if subject else {}),
                }
                for name, report in found
            ]
        }
    )


def _linked(report: Report, subject: str) -> list[dict[str, Any]]:
    """The report's damage entries linked to annotations of `subject`."""
    return [
        {
            "id": entry.id,
            "term": entry.term,
            "severity": entry.severity,
            "annotations": [a.annotation for a in entry.annotations if a.subject == subject],
        }
        for entry in report.damage
        if any(a.subject == subject for a in entry.annotations)
    ]


@api.get(ONE, "read", statuses={404: "No such report", 406: "Not available in that format"})
async def get_report(request: Request) -> Response:
    """A report: JSON, Linked Art JSON-LD, the printable PDF, or CollectionSpace CSV.

    `Accept: application/ld+json` gives Linked Art / CIDOC-CRM (an E14 Condition
    Assessment), `application/pdf` the report a registrar files, `text/csv` the
    CollectionSpace condition check import row; JSON otherwise.
    """
    name = _name(request)
    offer = negotiate(request, [JSON, JSONLD, PDF, CSV])
    terms = await workspace_terms(request, name.workspace)
    if await store_of(request).head(str(name)) == 0:
        raise HTTPProblem(404, f"no such report: {name.id}")
    async with live(request, name) as room:
        view = _view(room.doc)
    if offer is JSON:
        if not view:
            raise HTTPProblem(404, "no report in this document yet")
        return json(answer(name, view, terms))
    report = _read(view, terms)
    if offer is CSV:
        return Response(to_csv([report], terms=terms), media_type=CSV.content_type)
    if offer is JSONLD:
        base = links.base_url(request)
        iri = f"{base}/api/reports/{name.workspace}/{name.id}"
        doc = to_linked_art(
            report,
            iri,
            term_iri=lambda vocabulary, value: term_iri(request, name.workspace, vocabulary, value),
            annotation_iri=lambda subject, annotation: (
                f"{base}/api/annotations/{name.workspace}/{subject}/{annotation}"
            ),
            photo_url=await report_output.photo_urls(request, name.workspace, report),
            damage_terms=terms,
        )
        return json(doc, headers={"Content-Type": JSONLD.content_type})
    pdf = await report_output.pdf(request, name, report, view.get("signature"), terms)
    filename = f"{name.workspace}-{name.id}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@api.patch(
    ONE,
    "write",
    statuses={400: "Invalid change", 404: "No such report", 409: "Locked, or a workflow field"},
)
async def patch_report(request: Request) -> Response:
    """Change a report: a JSON merge patch (RFC 7396) of its fields and texts.

    The body is merged into the report's fields (`null` removes one; lists such as
    `damage` are replaced whole, entries matched by id so a co-editor's work on another
    entry survives). Status, approvals and the signature change only through
    `POST .../workflow`; a locked report (approved, superseded, or a handover signed by
    one party) refuses every change with 409 and the reason.
    """
    name = _name(request)
    patch = await read_json(request)
    if not isinstance(patch, dict):
        raise HTTPProblem(400, "a merge patch of a report is a JSON object")
    terms = await workspace_terms(request, name.workspace)
    if await store_of(request).head(str(name)) == 0:
        raise HTTPProblem(404, f"no such report: {name.id}")
    async with live(request, name) as room:
        before = _view(room.doc)
        if not before:
            raise HTTPProblem(404, "no report in this document yet")
        reason = lock_reason(before)
        if reason:
            raise HTTPProblem(409, reason)
        forbidden = sorted((WORKFLOW_KEYS | {APPROVALS}) & patch.keys())
        if forbidden:
            raise HTTPProblem(
                409,
                f"{', '.join(forbidden)}: change only through "
                f"POST /api/reports/{name.workspace}/{name.id}/workflow",
            )
        if COMMENTS in patch:
            raise HTTPProblem(
                409,
                f"comments: added only through POST /api/reports/{name.workspace}/{name.id}"
                "/comments",
            )
        _known_fields(patch)
        after = merge_patch(_fields_of(before), patch)
        report = parse_report(_stamp({**after, "signature": before.get("signature")}), terms=terms)
        await check_links(request, name.workspace, report)
        # Checked and written on the live document with no wait between: a socket's edit
        # cannot slip in between the lock check and this write.
        if lock_reason(_view(room.doc)):
            raise HTTPProblem(409, str(lock_reason(_view(room.doc))))
        await write(request, room, lambda doc: write_report(doc, report))
        view = _view(room.doc)
    return json(answer(name, view, terms))


def _has_role(request: Request) -> tuple[str | None, Any]:
    access = access_of(request)
    role = access.role if access is not None else None
    return role, lambda needed: roles.rank(role) >= roles.rank(needed)


@api.post(
    ONE + "/workflow",
    "write",
    body=WorkflowAction,
    statuses={
        400: "The report is not ready for this step",
        403: "Your role may not take this step",
        409: "Not possible in the report's state",
    },
)
async def workflow(request: Request) -> Response:
    """Take a workflow step: submit, return, approve, sign, supersede.

    The workflow table (see the README): an editor submits; a lead returns (with a
    note) or approves; a loan handover is approved once two different members have each
    signed it; an editor supersedes an approved report with a new draft version. Approval
    signs the record (Ed25519 over its canonical JSON and the document's sealed history
    head) and locks it.
    """
    name = _name(request)
    data = await read_json(request)
    step_request = WorkflowAction.model_validate(data)
    terms = await workspace_terms(request, name.workspace)
    role, has_role = _has_role(request)
    actor = _actor(request)
    if await store_of(request).head(str(name)) == 0:
        raise HTTPProblem(404, f"no such report: {name.id}")
    new_version: DocumentName | None = None
    successor: Report | None = None
    async with live(request, name) as room:
        report = _read(_view(room.doc), terms)
        try:
            step = decide(
                report,
                step_request.action,
                actor,
                has_role,
                role=role,
                note=step_request.note,
                at=datetime.now(UTC),
            )
        except WorkflowError as error:
            raise HTTPProblem(error.status, error.message) from None
        await write(request, room, lambda doc: add_approval(doc, step.approval, status=step.status))
        if step.signed:
            signed = await sign_report(request, name, room)
            await write(request, room, lambda doc: set_fields(doc, signature=signed))
        if step.new_version:
            new_version = report_name(name.workspace, _next_version_id(name.id))
            successor = _successor(report, name.id)
            new_id = new_version.id
            await write(request, room, lambda doc: set_fields(doc, superseded_by=new_id))
        view = _view(room.doc)
    out = answer(name, view, terms)
    if new_version is not None and successor is not None:
        following = successor
        async with live(request, new_version) as room:
            await write(request, room, lambda doc: write_report(doc, following))
        out["new_version"] = {"id": new_version.id, "document": str(new_version)}
    return json(out)


def _next_version_id(report_id: str) -> str:
    # A readable id that sorts next to the one it replaces.
    stem = report_id[:100]
    return f"{stem}-v{secrets.token_hex(3)}"


def _successor(report: Report, report_id: str) -> Report:
    data = report.to_json()
    # A new version starts with no workflow steps and no discussion of its own.
    for key in (*WORKFLOW_KEYS, APPROVALS, COMMENTS, "status", "modified"):
        data.pop(key, None)
    data["supersedes"] = report_id
    return parse_report(_stamp(data))


async def sign_report(request: Request, name: DocumentName, room: Any) -> dict[str, Any]:
    """The signed record of the report as it is now: its log flushed and sealed, the head
    entry's hash and seal, and the Ed25519 signature of the seal key over both."""
    manager = manager_of(request)
    store = manager.store
    await room.flush()
    doc_name = str(name)
    if manager.sealer is not None:
        await manager.sealer.seal(doc_name)
    [head] = await store.read_newest(doc_name, limit=1)
    seal = next((s for s in await store.seals(doc_name) if s.last_seq == head.seq), None)
    if seal is None:
        raise HTTPProblem(503, "the history could not be sealed; try again")
    view = _view(room.doc)
    signers = []
    for approval in view.get(APPROVALS, []):
        if approval.get("action") in ("submitted", "returned"):
            signers = []
        elif approval.get("action") in ("approved", "signed", "approved-proposal"):
            signers.append(approval)
    return sign(
        document=doc_name,
        record=record_of(view),
        history={
            "seq": head.seq,
            "hash": head.hash.hex(),
            "seal": {
                "first_seq": seal.first_seq,
                "last_seq": seal.last_seq,
                "hash": seal.last_hash.hex(),
                "time_ms": seal.time_ms,
                "key_id": seal.key_id,
                "signature": b64(seal.signature),
            },
        },
        signers=signers,
        signed_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        key=request.app.state.seal_key,
    )


@api.get(ONE + "/signed", "read", statuses={404: "Not signed"})
async def signed_record(request: Request) -> Response:
    """The signed record of an approved report (verify it with sinopia report verify).

    The record as approved, its signature, the public key and the history head it is
    tied to, as one readable JSON file that `sinopia report verify FILE` checks offline.
    """
    name = _name(request)
    if await store_of(request).head(str(name)) == 0:
        raise HTTPProblem(404, f"no such report: {name.id}")
    async with live(request, name) as room:
        view = _view(room.doc)
    signature = view.get("signature")
    if not isinstance(signature, dict):
        raise HTTPProblem(404, "this report is not signed: a lead approves it first")
    filename = f"{name.workspace}-{name.id}.signed.json"
    return json(signature, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@api.get(
    ONE + "/comparison",
    "read",
    params=(Param("with", "query", "the other report's id (default: the previous report)"),),
    statuses={404: "No such report, or no report to compare with"},
)
async def comparison(request: Request) -> Response:
    """Damage entries against another report (default: the previous one).

    Each damage entry: new, changed (which fields), unchanged or resolved, and the
    overall condition of both; `series` follows every damage along the chain of previous
    reports, oldest first.
    """
    name = _name(request)
    terms = await workspace_terms(request, name.workspace)
    later = await _load(request, name, terms)
    other = request.query_params.get("with") or later.previous
    if other is None:
        raise HTTPProblem(404, "this report has no previous report: give ?with=ID")
    earlier = await _load(request, report_name(name.workspace, other), terms)
    result = compare(earlier, later, earlier_id=other, later_id=name.id)
    series: list[tuple[str, Report]] = [(name.id, later)]
    seen = {name.id}
    while series[0][1].previous and len(series) < MAX_SERIES:
        previous = series[0][1].previous
        if previous in seen:
            break  # a loop of previous links: stop rather than follow it for ever
        seen.add(previous)
        try:
            earlier_one = await _load(request, report_name(name.workspace, previous), terms)
        except HTTPProblem:
            break
        series.insert(0, (previous, earlier_one))
    return json(
        {
            **result.model_dump(mode="json"),
            "counts": {c: result.count(c) for c in ("new", "changed", "unchanged", "resolved")},
            "series": {
                "reports": [rid for rid, _ in series],
                "damage": [t.model_dump(mode="json") for t in follow(series)],
            },
        }
    )


# -- legacy reports: scanned PDFs and photographs of handwritten reports ------------------
# Kept in the workspace's blob store (server/api/media.py), served back only as downloads;
# the report lists each as an `Attachment` (blob id, filename, media type, caption).


@api.post(
    ONE + "/attachments",
    "write",
    statuses={
        201: "Attached: the report's attachment, with where to download it",
        404: "No such report",
        409: "The report is locked",
        413: "Over the upload size limit",
        415: "Not a PDF or an image",
    },
)
async def attach(request: Request) -> Response:
    """Attach a legacy report (a scanned PDF, a photograph) to a report.

    Send `multipart/form-data` with the file in the field `file` and an optional
    `caption`. PDFs and images (JPEG, PNG, TIFF, WebP) are taken, as sent; they are served
    back only as downloads (`Content-Disposition: attachment`), never shown inline.
    """
    name = _name(request)
    if await store_of(request).head(str(name)) == 0:
        raise HTTPProblem(404, f"no such report: {name.id}")
    async with live(request, name) as room:
        before = _view(room.doc)
        if not before:
            raise HTTPProblem(404, "no report in this document yet")
        if reason := lock_reason(before):
            raise HTTPProblem(409, reason)
    stored, fields = await media.store_file(request, name.workspace)
    terms = await workspace_terms(request, name.workspace)
    try:
        async with live(request, name) as room:
            before = _view(room.doc)
            if reason := lock_reason(before):
                raise HTTPProblem(409, reason)
            attachment = Attachment(
                blob=stored.id,
                filename=stored.filename,
                media_type=stored.media_type,
                caption=fields.get("caption", "")[:200],
            )
            after = _fields_of(before)
            after["attachments"] = [
                *after.get("attachments", []),
                attachment.model_dump(mode="json"),
            ]
            report = parse_report(
                _stamp({**after, "signature": before.get("signature")}), terms=terms
            )
            await write(request, room, lambda doc: write_report(doc, report))
    except BaseException:
        await media.delete_file(request, name.workspace, stored.id)
        raise
    return json(
        {**attachment.model_dump(mode="json"), "size": stored.size, "download": stored.download},
        status=201,
    )


# -- the review discussion --------------------------------------------------------------


@api.post(
    ONE + "/comments",
    "comment",
    body=NewComment,
    statuses={
        201: "Added: the comment, attributed and dated",
        400: "An empty comment, or an answer to a comment that is not there",
        404: "No such report",
        409: "The report is locked",
    },
)
async def comment(request: Request) -> Response:
    """Add a comment to a report's review discussion.

    Leads reviewing a report and its authors discuss it here; the comment is attributed to
    the caller and dated by the server, appended, and never changed (the workflow's notes
    stay with its steps). A locked report takes no more comments.
    """
    name = _name(request)
    wanted = await read_body(request, NewComment)
    actor = _actor(request)
    role, _ = _has_role(request)
    if await store_of(request).head(str(name)) == 0:
        raise HTTPProblem(404, f"no such report: {name.id}")
    async with live(request, name) as room:
        before = _view(room.doc)
        if not before:
            raise HTTPProblem(404, "no report in this document yet")
        if reason := lock_reason(before):
            raise HTTPProblem(409, reason)
        made = ReviewComment(
            author=actor, role=role, at=now(), text=wanted.text, reply_to=wanted.reply_to
        )
        earlier = [c.get("id") for c in before.get(COMMENTS, []) if isinstance(c, dict)]
        if len(earlier) >= MAX_COMMENTS:
            raise Invalid(
                [Problem(path=COMMENTS, message=f"a report takes at most {MAX_COMMENTS} comments")]
            )
        if made.reply_to is not None and made.reply_to not in earlier:
            raise Invalid(
                [Problem(path="reply_to", message=f"no comment {made.reply_to!r} to answer")]
            )
        await write(request, room, lambda doc: add_comment(doc, made))
    return json(made.to_json(), status=201)
