"""Importing a IIIF manifest into a workspace: fetching it (from a URL, with limits) and
making one subject document per canvas and per 3D model, through the same write path as
every other change (`room.write`: stored, then relayed to whoever has it open), with the
annotations the manifest carries (its `annotations` pages and `otherContent` lists, inline
or fetched within the same limits) written onto those subjects' documents.

Used by `POST /api/iiif/{workspace}/import` and `sinopia iiif import`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from annotations import (
    Agent,
    Annotation,
    Invalid,
    now,
    read_subject,
    write_annotation,
    write_subject,
)
from annotations.imported import map_imported
from annotations.subject_document import annotation_ids
from crdt import DocumentName, RoomManager
from crdt.errors import TooLarge
from iiif import (
    ManifestError,
    Subject,
    WorkspaceUrls,
    parse_manifest,
    presentation_version,
    subject_id,
)
from iiif.carried import Carried, PageContent, PageRef, Skipped, annotation_pages, read_page
from iiif.webannotations import targets

MAX_REDIRECTS = 5
# Annotation pages a manifest may make us fetch (its referenced pages and their `next`
# pages together): a book lists one or two per canvas; past this a manifest is making the
# server crawl on its behalf.
MAX_REFERENCED_PAGES = 200
# Fetched a few at a time: quick for a book of pages, polite to the publisher's server.
PAGE_FETCHES_AT_ONCE = 4
# Annotations one import may carry: every one goes to every collaborator who opens the
# subject, and a subject holds hundreds, not tens of thousands.
MAX_CARRIED_ANNOTATIONS = 10_000
ACCEPT = (
    'application/ld+json;profile="http://iiif.io/api/presentation/3/context.json", '
    'application/ld+json;profile="http://iiif.io/api/presentation/2/context.json", '
    "application/ld+json;q=0.9, application/json;q=0.9, */*;q=0.1"
)


class FetchError(ValueError):
    """The manifest could not be fetched; the message says why, for the person importing."""


@dataclass(frozen=True)
class FetchLimits:
    max_bytes: int
    timeout: float
    allow_private: bool = False


async def _check_host(url: str, allow_private: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"only http and https URLs can be imported, not {url[:200]!r}")
    if allow_private:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
        )
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve {parts.hostname}: {exc.strerror}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            # The server's own network is not for importers to read.
            raise FetchError(
                f"{parts.hostname} is on a private or local network ({address}); "
                "set SINOPIA_IIIF_FETCH_PRIVATE=true to allow such imports"
            )


async def fetch_json(url: str, limits: FetchLimits) -> Any:
    """GET `url` as JSON within the limits, following a few redirects (each checked)."""
    body = await fetch_bytes(url, limits, accept=ACCEPT, what="the manifest")
    try:
        return json.loads(body)
    except ValueError as exc:
        raise FetchError(f"{url} is not JSON: {exc}") from None


async def fetch_bytes(
    url: str,
    limits: FetchLimits,
    *,
    accept: str = "*/*",
    what: str = "the file",
    client: httpx.AsyncClient | None = None,
) -> bytes:
    """GET `url` within the limits (size, time, no private addresses unless allowed),
    following a few redirects, each checked. `client`: one to reuse for many fetches."""
    try:
        async with asyncio.timeout(limits.timeout), contextlib.AsyncExitStack() as stack:
            if client is None:
                client = await stack.enter_async_context(
                    httpx.AsyncClient(timeout=limits.timeout, follow_redirects=False)
                )
            for _ in range(MAX_REDIRECTS + 1):
                await _check_host(url, limits.allow_private)
                async with client.stream("GET", url, headers={"Accept": accept}) as response:
                    if response.is_redirect and "location" in response.headers:
                        url = urljoin(url, response.headers["location"])
                        continue
                    if response.status_code != 200:
                        raise FetchError(f"{url} answered {response.status_code}")
                    declared = response.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) > limits.max_bytes:
                        raise FetchError(f"{what} is over {limits.max_bytes} bytes")
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > limits.max_bytes:
                            raise FetchError(f"{what} is over {limits.max_bytes} bytes")
                    return bytes(body)
            raise FetchError(f"more than {MAX_REDIRECTS} redirects from {url}")
    except TimeoutError:
        raise FetchError(f"fetching {url} took more than {limits.timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"cannot fetch {url}: {exc}") from None


@dataclass(frozen=True)
class Imported:
    subject: Subject
    name: DocumentName
    status: str  # "created", "updated" or "unchanged"
    annotations_added: int = 0  # carried annotations written for the first time
    annotations_kept: int = 0  # carried annotations already there from an earlier import


@dataclass(frozen=True)
class Import:
    manifest: str
    manifest_id: str  # its id in this workspace: /iiif/{workspace}/manifest/{manifest_id}
    label: str
    version: int
    subjects: list[Imported]
    warnings: list[Skipped] = field(default_factory=list)


def read(data: Any) -> tuple[list[Subject], int]:
    """The subjects of a manifest and its Presentation version; ManifestError if none."""
    subjects = parse_manifest(data)
    return subjects, presentation_version(data)


# ---------------------------------------------------------------------------- carried annotations


async def _read_ref(
    ref: PageRef,
    limits: FetchLimits | None,
    budget: list[int],
    gate: asyncio.Semaphore,
    client: httpx.AsyncClient | None,
) -> PageContent:
    """One listed page's annotations, following its `next` pages, each fetch within the
    limits; what cannot be fetched or read is a Skipped naming the page."""
    if ref.page is not None:
        content = read_page(ref, ref.page)
        url, content.next = content.next, None
    else:
        content, url = PageContent(), ref.url
    seen: set[str] = set()
    while url and url not in seen:
        seen.add(url)
        if limits is None or client is None:
            content.skipped.append(
                Skipped(ref.where, f"refers to {url[:200]}, which this import does not fetch")
            )
            break
        if budget[0] <= 0:
            content.skipped.append(
                Skipped(
                    ref.where,
                    f"more than {MAX_REFERENCED_PAGES} annotation pages to fetch: "
                    f"{url[:200]} and any after it were not imported",
                )
            )
            break
        budget[0] -= 1
        try:
            async with gate:
                body = await fetch_bytes(
                    url,
                    limits,
                    accept=ACCEPT,
                    what=f"the annotation page {url[:200]}",
                    client=client,
                )
            page = json.loads(body)
        except FetchError as exc:
            content.skipped.append(Skipped(ref.where, f"not imported: {exc}"))
            break
        except ValueError as exc:
            content.skipped.append(Skipped(ref.where, f"{url[:200]} is not JSON: {exc}"))
            break
        got = read_page(ref, page, f"{ref.where} ({url[:200]})")
        content.annotations += got.annotations
        content.skipped += got.skipped
        url = got.next
    return content


async def carried_annotations(
    data: Any, version: int, limits: FetchLimits | None
) -> tuple[list[Carried], list[Skipped]]:
    """Every annotation the manifest carries, inline or fetched (`limits`; None: none are
    fetched), in manifest order, and what could not be read."""
    refs = annotation_pages(data, version)
    if not refs:
        return [], []
    budget = [MAX_REFERENCED_PAGES]
    gate = asyncio.Semaphore(PAGE_FETCHES_AT_ONCE)
    async with contextlib.AsyncExitStack() as stack:
        client = None
        if limits is not None and any(r.url or r.page for r in refs):
            client = await stack.enter_async_context(
                httpx.AsyncClient(timeout=limits.timeout, follow_redirects=False)
            )
        pages = await asyncio.gather(*(_read_ref(r, limits, budget, gate, client) for r in refs))
    carried: list[Carried] = []
    skipped: list[Skipped] = []
    for page in pages:
        carried += page.annotations
        skipped += page.skipped
    if len(carried) > MAX_CARRIED_ANNOTATIONS:
        skipped.append(
            Skipped(
                carried[MAX_CARRIED_ANNOTATIONS].where,
                f"the manifest carries {len(carried)} annotations; the first "
                f"{MAX_CARRIED_ANNOTATIONS} were imported, this one and those after it were not",
            )
        )
        carried = carried[:MAX_CARRIED_ANNOTATIONS]
    return carried, skipped


def _is_3d(annotation: dict[str, Any]) -> bool:
    for target in annotation.get("target") or []:
        selectors = target.get("selector") if isinstance(target, dict) else None
        for selector in selectors if isinstance(selectors, list) else [selectors]:
            if isinstance(selector, dict) and "z" in selector:
                return True
    return False


def _route(
    carried: list[Carried], subjects: list[Subject]
) -> tuple[dict[tuple[str, str], list[Carried]], list[Skipped]]:
    """Which subject each carried annotation goes on: the canvas or scene it targets."""
    by_iiif: dict[str, list[Subject]] = {}
    for subject in subjects:
        by_iiif.setdefault(subject.iiif_id, []).append(subject)
    routed: dict[tuple[str, str], list[Carried]] = {}
    skipped: list[Skipped] = []
    for item in carried:
        annotation = item.annotation
        if not isinstance(annotation.get("target"), list):
            annotation["target"] = (
                [] if annotation.get("target") is None else [annotation["target"]]
            )
        sources = list(dict.fromkeys(t.source for t in targets(annotation)))
        if not sources:
            skipped.append(Skipped(item.where, "has no target"))
            continue
        if len(sources) > 1:
            skipped.append(
                Skipped(
                    item.where, f"targets {len(sources)} canvases; Sinopia keeps one per annotation"
                )
            )
            continue
        candidates = by_iiif.get(sources[0], [])
        if not candidates:
            skipped.append(
                Skipped(
                    item.where,
                    f"targets {sources[0][:200]}, which is not a canvas of this manifest",
                )
            )
            continue
        kind = "model" if _is_3d(annotation) else "canvas"
        subject = next((s for s in candidates if s.kind == kind), candidates[0])
        routed.setdefault((subject.kind, subject.id), []).append(item)
    return routed, skipped


def _write_subject(
    subject: Subject, annotations: list[Annotation]
) -> Callable[[Any], tuple[int, int]]:
    def change(doc: Any) -> tuple[int, int]:
        write_subject(doc, subject)
        existing = set(annotation_ids(doc))
        added = kept = 0
        for annotation in annotations:
            if annotation.id in existing:
                # Imported before: colleagues may have edited it since; theirs is kept.
                kept += 1
                continue
            if annotation.created is None:
                annotation = annotation.model_copy(update={"created": now()})
            write_annotation(doc, annotation)
            existing.add(annotation.id)
            added += 1
        return added, kept

    return change


async def import_manifest(
    manager: RoomManager,
    workspace: str,
    data: Any,
    principal: str,
    *,
    limits: FetchLimits | None = None,
    importer: Agent | None = None,
    urls: WorkspaceUrls | None = None,
) -> Import:
    """Make (or bring up to date) one document per subject of the manifest `data`, with the
    annotations it carries (referenced pages fetched within `limits`; None: not fetched),
    attributed to `importer` where they name no creator. Importing again adds only the
    annotations not imported before."""
    subjects, version = read(data)
    carried, warnings = await carried_annotations(data, version, limits)
    routed, unrouted = _route(carried, subjects)
    warnings += unrouted
    made: list[Imported] = []
    for subject in subjects:
        name = DocumentName.of(workspace, subject.kind, subject.id)
        container = (
            urls.annotation_container(subject.kind, subject.id) if urls else f"urn:sinopia:{name}/"
        )
        mapped: list[Annotation] = []
        for item in routed.get((subject.kind, subject.id), []):
            try:
                result = map_imported(
                    item.annotation,
                    source=item.source,
                    container=container,
                    subject=subject,
                    importer=importer,
                )
            except Invalid as error:
                warnings.append(Skipped(item.where, f"not imported: {error}"))
                continue
            warnings += [Skipped(item.where, note) for note in result.notes]
            mapped.append(result.annotation)
        size = 4096 + sum(len(a.model_dump_json()) for a in mapped)
        async with manager.hold(str(name)) as room:
            try:
                before = read_subject(room.doc)
            except Invalid:
                before = None
            try:
                (added, kept), seq = await room.write(
                    principal, _write_subject(subject, mapped), size_hint=size
                )
            except TooLarge as exc:
                warnings.append(
                    Skipped(
                        f"{subject.iiif_id[:200]}",
                        f"its {len(mapped)} annotations were not imported: {exc.reason}",
                    )
                )
                (added, kept), seq = await room.write(
                    principal, _write_subject(subject, []), size_hint=4096
                )
        status = "unchanged" if seq is None else ("created" if before is None else "updated")
        made.append(Imported(subject, name, status, added, kept))
    first = subjects[0]
    manifest = first.manifest or ""
    return Import(
        manifest=manifest,
        manifest_id=subject_id(manifest),
        label=first.manifest_label or "",
        version=version,
        subjects=made,
        warnings=warnings,
    )


__all__ = [
    "FetchError",
    "FetchLimits",
    "Import",
    "Imported",
    "ManifestError",
    "Skipped",
    "carried_annotations",
    "fetch_json",
    "import_manifest",
]
