"""`/api/vocabularies/{workspace}`: the controlled vocabularies reports use, each term at
its own IRI (what the Linked Art export types condition states with).

`damage` is the curated Getty AAT list with its sources and curator-check flags, plus the
workspace's own terms: leads add or remove one (`POST`, `DELETE`) or import a SKOS
vocabulary (Turtle, RDF/XML, JSON-LD) or a CSV (`POST .../damage/import`, the file as the
body with its Content-Type). The others (severity, activity, lighting, ...) are fixed.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from annotations import Invalid, Problem
from annotations.damage_terms import ATTRIBUTION, DAMAGE_TERMS, provenance, sources
from annotations.vocabularies import (
    ACTIVITY,
    ANALYSIS_KINDS,
    CHECK_METHODS,
    COMPLETENESS,
    CONDITION_GRADES,
    EXTENT_UNITS,
    HANDOVERS,
    IMAGE_ROLES,
    LIGHTING,
    PRIORITIES,
    REPORT_REASONS,
    REPORT_STATUSES,
    REPORT_TYPES,
    SEVERITIES,
    Term,
    Vocabulary,
)
from annotations.vocabulary_import import MAX_BYTES, WorkspaceTerm, parse
from server.directory import Directory
from server.http import links
from server.http.problems import HTTPProblem
from server.http.requests import read_bytes
from server.http.routes import Api, Param, json
from server.live.terms import SOURCE, WorkspaceTerms

api = Api("vocabularies")
BASE = "/api/vocabularies/{workspace}"

# The path segment of each vocabulary.
FIXED: dict[str, Vocabulary] = {
    "severity": SEVERITIES,
    "activity": ACTIVITY,
    "extent-unit": EXTENT_UNITS,
    "lighting": LIGHTING,
    "condition": CONDITION_GRADES,
    "completeness": COMPLETENESS,
    "priority": PRIORITIES,
    "reason": REPORT_REASONS,
    "method": CHECK_METHODS,
    "status": REPORT_STATUSES,
    "type": REPORT_TYPES,
    "handover": HANDOVERS,
    "image-role": IMAGE_ROLES,
    "analysis-kind": ANALYSIS_KINDS,
}
SLUGS = {v.name: k for k, v in FIXED.items()} | {DAMAGE_TERMS.name: "damage"}


def terms_of(request: Request) -> WorkspaceTerms:
    terms: WorkspaceTerms = request.app.state.terms
    return terms


def directory_of(request: Request) -> Directory:
    directory: Directory = request.app.state.auth.directory
    return directory


async def workspace_terms(request: Request, workspace: str) -> Vocabulary:
    """The damage vocabulary of a workspace, read afresh (and the live check's copy with it)."""
    return await terms_of(request).load(workspace)


def term_iri(request: Request, workspace: str, vocabulary: str, value: str) -> str:
    slug = SLUGS.get(vocabulary, vocabulary.replace(" ", "-"))
    return f"{links.base_url(request)}/api/vocabularies/{workspace}/{slug}/{value}"


def _term_json(term: Term, language: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"value": term.value, "label": term.label_in(language)}
    if term.labels:
        out["labels"] = term.labels
    if term.aat:
        out["aat"] = term.aat
    if term.exported_iri:
        out["concept"] = term.exported_iri
    if term.source:
        out["source"] = term.source
    if term.curator_check:
        out["curator_check"] = True
    if term.description:
        out["description"] = term.description
    return out


async def _vocabulary(request: Request, name: str) -> Vocabulary:
    if name == "damage":
        return await workspace_terms(request, request.path_params["workspace"])
    if name not in FIXED:
        raise HTTPProblem(404, f"no vocabulary {name!r}: damage, {', '.join(FIXED)}")
    return FIXED[name]


@api.get(BASE, "read")
async def list_vocabularies(request: Request) -> Response:
    """The vocabularies reports use."""
    base = f"{links.base_url(request)}/api/vocabularies/{request.path_params['workspace']}"
    return json(
        {
            "vocabularies": [{"name": n, "id": f"{base}/{n}"} for n in ("damage", *FIXED)],
            "attribution": ATTRIBUTION,
        }
    )


@api.get(
    BASE + "/{vocabulary}",
    "read",
    params=(Param("lang", "query", "label language: en, fr, de or it"),),
    statuses={404: "No such vocabulary"},
)
async def get_vocabulary(request: Request) -> Response:
    """The terms of one vocabulary (damage: the curated AAT list and the workspace's)."""
    name = request.path_params["vocabulary"]
    vocabulary = await _vocabulary(request, name)
    language = request.query_params.get("lang")
    out: dict[str, Any] = {
        "name": name,
        "terms": [_term_json(t, language) for t in vocabulary],
    }
    if name == "damage":
        out["attribution"] = ATTRIBUTION
        out["sources"] = sources()
    return json(out)


@api.get(BASE + "/{vocabulary}/{value}", "read", statuses={404: "No such term"})
async def get_term(request: Request) -> Response:
    """One term, with where its id and labels come from."""
    name, value = request.path_params["vocabulary"], request.path_params["value"]
    term = (await _vocabulary(request, name)).get(value)
    if term is None:
        raise HTTPProblem(404, f"{name} has no term {value!r}")
    out = _term_json(term, request.query_params.get("lang"))
    if name == "damage" and term.source != SOURCE:
        out["provenance"] = provenance(value)
    return json(out)


async def _save(request: Request, change: Any) -> list[dict[str, Any]]:
    """Read the workspace's own terms, change them, store them, refresh the live copy."""
    workspace = request.path_params["workspace"]
    directory = directory_of(request)
    records = await directory.vocabulary(workspace)
    records = change(records)
    await directory.set_vocabulary(workspace, records)
    await terms_of(request).load(workspace)
    return records


@api.post(BASE + "/damage", "approve", statuses={201: "Added", 409: "The value is taken"})
async def add_term(request: Request, term: WorkspaceTerm) -> Response:
    """Add a term of the workspace's own to the damage vocabulary.

    Leads curate the workspace's terms; `aat` is the AAT id the workspace states.
    """
    if term.value in DAMAGE_TERMS:
        raise HTTPProblem(409, f"{term.value!r} is a term of the curated list")

    def add(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if any(r.get("value") == term.value for r in records):
            raise HTTPProblem(409, f"the workspace has a term {term.value!r}")
        return [*records, term.model_dump(exclude_none=True)]

    await _save(request, add)
    return json(_term_json(term.term(SOURCE), None), status=201)


@api.delete(
    BASE + "/damage/{value}",
    "approve",
    statuses={204: "Removed", 404: "No such workspace term", 409: "A curated term"},
)
async def remove_term(request: Request) -> Response:
    """Remove one of the workspace's own damage terms.

    Reports that use the term keep it in their history; new entries can no longer use it.
    """
    value = request.path_params["value"]
    if value in DAMAGE_TERMS:
        raise HTTPProblem(409, f"{value!r} is a term of the curated list and stays")

    def remove(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        kept = [r for r in records if r.get("value") != value]
        if len(kept) == len(records):
            raise HTTPProblem(404, f"the workspace has no term {value!r}")
        return kept

    await _save(request, remove)
    return Response(status_code=204)


@api.post(
    BASE + "/damage/import",
    "approve",
    statuses={400: "Not a vocabulary (each problem named)", 413: "Too large"},
)
async def import_terms(request: Request) -> Response:
    """Import a SKOS (Turtle, RDF/XML, JSON-LD) or CSV vocabulary into the workspace.

    The file is the body, its Content-Type one of text/turtle, application/rdf+xml,
    application/ld+json or text/csv. Imported terms are added to the workspace's own (a
    value it already has is replaced); values of the curated list are skipped and named.
    """
    body = await read_bytes(request, MAX_BYTES, "the vocabulary")
    imported = parse(body, request.headers.get("content-type", ""))
    skipped = [t.value for t in imported if t.value in DAMAGE_TERMS]
    new = [t for t in imported if t.value not in DAMAGE_TERMS]
    if not new:
        raise Invalid([Problem(path="", message="every term is already in the curated list")])

    def merge(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        values = {t.value for t in new}
        kept = [r for r in records if r.get("value") not in values]
        return [*kept, *(t.model_dump(exclude_none=True) for t in new)]

    await _save(request, merge)
    return json({"imported": [t.value for t in new], "skipped": skipped})
