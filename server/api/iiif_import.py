"""Importing a IIIF manifest into a workspace: fetching it (from a URL, with limits) and
making one subject document per canvas and per 3D model, through the same write path as
every other change (`room.write`: stored, then relayed to whoever has it open).

Used by `POST /api/iiif/{workspace}/import` and `sinopia iiif import`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from annotations import Invalid, read_subject, write_subject
from crdt import DocumentName, RoomManager
from iiif import ManifestError, Subject, parse_manifest, presentation_version, subject_id

MAX_REDIRECTS = 5
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


@dataclass(frozen=True)
class Import:
    manifest: str
    manifest_id: str  # its id in this workspace: /iiif/{workspace}/manifest/{manifest_id}
    label: str
    version: int
    subjects: list[Imported]


def read(data: Any) -> tuple[list[Subject], int]:
    """The subjects of a manifest and its Presentation version; ManifestError if none."""
    subjects = parse_manifest(data)
    return subjects, presentation_version(data)


async def import_manifest(
    manager: RoomManager, workspace: str, data: Any, principal: str
) -> Import:
    """Make (or bring up to date) one document per subject of the manifest `data`."""
    subjects, version = read(data)
    made: list[Imported] = []
    for subject in subjects:
        name = DocumentName.of(workspace, subject.kind, subject.id)
        async with manager.hold(str(name)) as room:
            try:
                before = read_subject(room.doc)
            except Invalid:
                before = None
            _, seq = await room.write(
                principal, lambda doc, s=subject: write_subject(doc, s), size_hint=4096
            )
        status = "unchanged" if seq is None else ("created" if before is None else "updated")
        made.append(Imported(subject, name, status))
    first = subjects[0]
    manifest = first.manifest or ""
    return Import(
        manifest=manifest,
        manifest_id=subject_id(manifest),
        label=first.manifest_label or "",
        version=version,
        subjects=made,
    )


__all__ = [
    "FetchError",
    "FetchLimits",
    "Import",
    "Imported",
    "ManifestError",
    "fetch_json",
    "import_manifest",
]
