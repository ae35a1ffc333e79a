"""What the printable report needs from outside the report document: the images of the
object from IIIF image services (fetched within the IIIF fetch limits, several at once on
one client), the damage regions from the annotations the entries link to, and the
signing key's fingerprint; then annotations.report_pdf draws it.

For each canvas that a damage entry links to (or that a photograph is of), the PDF shows
the whole image with every linked region outlined and numbered; then a cropped detail of
each entry: its first photograph's region, or else the region of its first annotation.
An image that cannot be fetched is named in the PDF instead of failing the whole report.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pycrdt import Doc
from starlette.requests import Request

from annotations.report_pdf import Detail, Figure, Mark, Signing, render
from annotations.reports import Photograph, Report
from annotations.signed_record import full_fingerprint, unb64
from annotations.subject_document import read_annotation, read_subject
from annotations.vocabularies import LIGHTING, Vocabulary
from crdt import DocumentName
from iiif import Subject
from server.api.documents import manager_of, store_of
from server.api.iiif import fetch_limits
from server.api.iiif_import import FetchError, FetchLimits, fetch_bytes

# Pixels asked of the image service: enough to print at about 150 dpi across the page.
FIGURE_SIZE = 1200
DETAIL_SIZE = 500
# Images fetched at once for one PDF.
PARALLEL_FETCHES = 6
# Canvases shown whole in one PDF at most (each entry still gets its detail).
MAX_FIGURES = 20
IMAGE_ACCEPT = "image/jpeg, image/png;q=0.9, */*;q=0.1"


@dataclass
class _Canvas:
    subject: Subject
    marks: list[Mark] = field(default_factory=list)


def _region(extent: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = extent
    return x1, y1, x2 - x1, y2 - y1


def _region_of(doc: Doc, annotation_id: str) -> tuple[float, float, float, float] | None:
    annotation = read_annotation(doc, annotation_id)
    if annotation is None:
        return None
    for target in annotation.target:
        for selector in getattr(target, "selector", []):
            extent = selector.extent()
            if extent is not None:
                return _region(extent)
    return None


def _crop(x: float, y: float, w: float, h: float, canvas: Subject) -> str:
    # A point, or a tiny region, is shown with some of its surroundings.
    pad = max(40.0, 0.25 * max(w, h))
    width, height = canvas.width or x + w + pad, canvas.height or y + h + pad
    left, top = max(0.0, x - pad), max(0.0, y - pad)
    right, bottom = min(width, x + w + pad), min(height, y + h + pad)
    return f"{int(left)},{int(top)},{max(1, int(right - left))},{max(1, int(bottom - top))}"


async def photo_urls(
    request: Request, workspace: str, report: Report
) -> Callable[[Photograph], str | None]:
    """A photograph's IIIF region URL (its own service, or its canvas's), for the JSON-LD."""
    subjects = {p.subject for e in report.damage for p in e.photographs if p.subject}
    services: dict[str, str] = {}
    for subject, doc in (await _subject_docs(request, workspace, subjects)).items():
        found = read_subject(doc)
        if found is not None and found.image_service is not None:
            services[subject] = found.image_service.id

    def url(photo: Photograph) -> str | None:
        service = photo.service or services.get(photo.subject or "")
        if service is None:
            return None
        return f"{service}/{photo.region}/max/0/default.jpg"

    return url


async def _subject_docs(request: Request, workspace: str, subjects: set[str]) -> dict[str, Doc]:
    out: dict[str, Doc] = {}
    store = store_of(request)
    for subject in sorted(subjects):
        name = f"{workspace}/{subject}"
        if await store.head(name) == 0:
            continue
        async with manager_of(request).hold(name) as room:
            copy = Doc()
            copy.apply_update(room.doc.get_update())
            out[subject] = copy
    return out


async def _fetch_all(urls: list[str], limits: FetchLimits) -> dict[str, bytes | str]:
    """Each URL's bytes, or why it could not be fetched."""
    gate = asyncio.Semaphore(PARALLEL_FETCHES)
    out: dict[str, bytes | str] = {}
    async with httpx.AsyncClient(timeout=limits.timeout, follow_redirects=False) as client:

        async def one(url: str) -> None:
            async with gate:
                try:
                    out[url] = await fetch_bytes(
                        url, limits, accept=IMAGE_ACCEPT, what="the image", client=client
                    )
                except FetchError as error:
                    out[url] = str(error)

        await asyncio.gather(*(one(u) for u in dict.fromkeys(urls)))
    return out


async def pdf(
    request: Request,
    name: DocumentName,
    report: Report,
    signature: dict[str, Any] | None,
    terms: Vocabulary,
) -> bytes:
    wanted = {link.subject for e in report.damage for link in e.annotations}
    wanted |= {p.subject for e in report.damage for p in e.photographs if p.subject}
    canvas_refs = {s for s in wanted if s.startswith("canvas/")}
    docs = await _subject_docs(request, name.workspace, canvas_refs)
    canvases: dict[str, _Canvas] = {}
    for subject, doc in docs.items():
        found = read_subject(doc)
        if found is not None and found.image_service is not None:
            canvases[subject] = _Canvas(found)
    details: list[tuple[int, str, str]] = []  # (number, url, caption)
    notes: list[str] = []
    for number, entry in enumerate(report.damage, start=1):
        caption = terms.label(entry.term) + (f", {entry.location}" if entry.location else "")
        detail: str | None = None
        for photo in entry.photographs:
            service = photo.service
            if service is None and photo.subject in canvases:
                service = canvases[photo.subject].subject.image_service.id  # type: ignore[union-attr]
            if service is not None:
                detail = f"{service}/{photo.region}/!{DETAIL_SIZE},{DETAIL_SIZE}/0/default.jpg"
                caption += f" ({LIGHTING.label(photo.lighting).lower()})"
                break
        for link in entry.annotations:
            canvas = canvases.get(link.subject)
            if canvas is None:
                continue
            region = _region_of(docs[link.subject], link.annotation)
            if region is None:
                continue
            canvas.marks.append(Mark(number, *region))
            if detail is None:
                service = canvas.subject.image_service.id  # type: ignore[union-attr]
                crop = _crop(*region, canvas.subject)
                detail = f"{service}/{crop}/!{DETAIL_SIZE},{DETAIL_SIZE}/0/default.jpg"
        if detail is not None:
            details.append((number, detail, caption))
    figures_wanted = [c for c in canvases.values() if c.marks][:MAX_FIGURES]
    figure_urls = {
        id(c): f"{c.subject.image_service.id}/full/!{FIGURE_SIZE},{FIGURE_SIZE}/0/default.jpg"  # type: ignore[union-attr]
        for c in figures_wanted
    }
    images = await _fetch_all(
        [*figure_urls.values(), *(url for _, url, _ in details)], fetch_limits(request)
    )
    figures: list[Figure] = []
    for canvas in figures_wanted:
        data = images.get(figure_urls[id(canvas)])
        subject = canvas.subject
        if not isinstance(data, bytes):
            notes.append(f"the image of {subject.label or subject.id}: {data}")
            continue
        figures.append(
            Figure(
                title=subject.label or f"canvas {subject.id}",
                image=data,
                width=float(subject.width or FIGURE_SIZE),
                height=float(subject.height or FIGURE_SIZE),
                marks=canvas.marks,
            )
        )
    cropped: list[Detail] = []
    for number, url, caption in details:
        data = images.get(url)
        if isinstance(data, bytes):
            cropped.append(Detail(number, data, caption))
        else:
            notes.append(f"the detail of damage {number}: {data}")
    signing = None
    if signature is not None:
        key = Ed25519PublicKey.from_public_bytes(unb64(signature["signature"]["public_key"]))
        signing = Signing(
            key_id=signature["signature"]["key_id"],
            fingerprint=full_fingerprint(key),
            seq=signature["history"]["seq"],
            head=signature["history"]["hash"],
            signed_at=signature["signed"]["at"],
        )
    return await asyncio.to_thread(
        render,
        report,
        document=str(name),
        figures=figures,
        details=cropped,
        terms=terms,
        signing=signing,
        generated=datetime.now(UTC),
        notes=notes,
    )
