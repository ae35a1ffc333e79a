"""Uploads: `POST /api/media/{workspace}` (multipart, field `file`) takes an image (one
subject per image or page) and makes a IIIF Presentation 3 manifest for it, imported like
any other (server/api/iiif_import.py), so its subjects are exported, searched and shared
as imported ones are. Files that are not subjects (a scanned legacy report, a photograph
attached to a report) are kept in the same blob store and served only as downloads.

The uploaded file itself, byte for byte (a museum's master), is kept too and downloaded at
`GET /api/media/{workspace}/{upload}/original`; `DELETE /api/media/{workspace}/{upload}`
removes an upload's files (see `delete_upload` for what happens to its subjects).

What an upload becomes is chosen by what its bytes are (server/media/sniff.py), in
`UPLOADERS`: one entry per kind (`image` here; 3D models plug in as `model`).
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from crdt import DocumentName, RoomManager
from iiif import ManifestError, WorkspaceUrls
from iiif.subjects import SUBJECT_ID
from iiif.uploads import UploadedImage, canvas_subject_id, upload_manifest
from server.api import workspace_index
from server.api.iiif_import import Import, import_manifest
from server.api.workspace_index import Entry
from server.http import links
from server.http.problems import HTTPProblem
from server.http.requests import principal
from server.http.routes import Api
from server.http.routes import json as json_answer
from server.http.uploads import Received, receive_file
from server.media.blobs import BlobError, BlobInfo, Blobs
from server.media.convert import Refused
from server.media.images import Images, safe_filename
from server.media.sniff import HEAD_BYTES, Sniffed, sniff

api = Api("media")
MEDIA = "/api/media/{workspace}"
FILES = MEDIA + "/files/{file}"
UPLOAD = MEDIA + "/{upload}"
ORIGINAL = UPLOAD + "/original"
UPLOAD_ID = re.compile(r"upload-[0-9a-f]{12}")
# What may be attached to a report (served back only as downloads).
ATTACHABLE = {"image", "document"}


class UploadedSubject(BaseModel):
    document: str = Field(description="workspace/kind/id: the live document")
    kind: str
    id: str
    label: str
    image_service: str | None = Field(None, description="its IIIF Image API 3 service (images)")
    model: str | None = Field(None, description="the model file's URL (3D models)")
    width: int | None = None
    height: int | None = None
    page: int | None = Field(None, description="its page in the uploaded file, from 1")
    annotations: str = Field(description="its W3C annotation container")
    collab: str = Field(description="the websocket path of its live document")


class UploadOut(BaseModel):
    workspace: str
    upload: str = Field(description="this upload's id")
    filename: str
    format: str = Field(description="what the bytes are (jpeg, png, tiff, ...)")
    manifest: str = Field(description="the upload's IIIF Presentation 3 manifest")
    original: str = Field(description="the uploaded file as sent, to download (members)")
    subjects: list[UploadedSubject]


@dataclass(frozen=True)
class Upload:
    """One received upload, for the uploader of its kind: the file, what it is, and what
    to make subjects with (the same over HTTP and from `sinopia media add`)."""

    base_url: str  # the server's public root: the ids in the manifest
    workspace: str
    path: Path
    sniffed: Sniffed
    filename: str
    upload_id: str
    principal: str  # who it is recorded as made by
    images: Images
    blobs: Blobs
    manager: RoomManager

    @property
    def urls(self) -> WorkspaceUrls:
        return WorkspaceUrls(base_url=self.base_url, workspace=self.workspace)

    @property
    def manifest_iri(self) -> str:
        return self.urls.manifest(self.upload_id)

    def image_service(self, image: str) -> str:
        return f"{self.base_url.rstrip('/')}/iiif/{self.workspace}/image/{image}"


Uploader = Callable[[Upload], Awaitable[list[UploadedSubject]]]


def images_of(request: Request) -> Images:
    found: Images = request.app.state.images
    return found


def blobs_of(request: Request) -> Blobs:
    found: Blobs = request.app.state.blobs
    return found


# ---------------------------------------------------------------------------- manifests


def manifest_key(workspace: str, manifest_id: str) -> str:
    return f"{workspace}/manifests/{manifest_id}.json"


async def manifest_record(
    request: Request, workspace: str, manifest_id: str
) -> dict[str, Any] | None:
    """The manifest an upload made (as imported, with any later label and metadata), or
    None for manifests imported from elsewhere."""
    return await read_manifest_record(blobs_of(request), workspace, manifest_id)


async def read_manifest_record(
    blobs: Blobs, workspace: str, manifest_id: str
) -> dict[str, Any] | None:
    if not SUBJECT_ID.fullmatch(manifest_id):
        return None
    key = manifest_key(workspace, manifest_id)
    if await blobs.info(key) is None:
        return None
    record: dict[str, Any] = json.loads(await blobs.read_all(key))
    return record


async def write_manifest_record(
    blobs: Blobs, workspace: str, manifest_id: str, data: dict[str, Any]
) -> None:
    body = json.dumps(data, ensure_ascii=False).encode()

    async def one() -> Any:
        yield body

    await blobs.put(manifest_key(workspace, manifest_id), one(), content_type="application/json")


async def save_manifest_record(
    request: Request, workspace: str, manifest_id: str, data: dict[str, Any]
) -> None:
    await write_manifest_record(blobs_of(request), workspace, manifest_id, data)


async def import_upload_manifest(request: Request, workspace: str, data: dict[str, Any]) -> Import:
    return await _import(request.app.state.manager, workspace, data, principal(request))


async def _import(manager: RoomManager, workspace: str, data: dict[str, Any], who: str) -> Import:
    try:
        return await import_manifest(manager, workspace, data, who)
    except ManifestError as exc:  # pragma: no cover - our own manifest
        raise HTTPProblem(500, f"the upload's manifest did not import: {exc}") from None


# ---------------------------------------------------------------------------- images


async def take_images(upload: Upload) -> list[UploadedSubject]:
    """An image file: a pyramid and a subject per image (page), and the manifest."""
    manifest_iri = upload.manifest_iri
    stored = await upload.images.take(
        upload.workspace,
        upload.path,
        upload.sniffed,
        upload.filename,
        lambda page: canvas_subject_id(manifest_iri, upload.filename, page),
    )
    services = {i.id: upload.image_service(i.id) for i in stored}
    try:
        data = upload_manifest(
            manifest_iri,
            upload.filename,
            [UploadedImage(services[i.id], i.width, i.height, i.page) for i in stored],
        )
        await write_manifest_record(upload.blobs, upload.workspace, upload.upload_id, data)
        done = await _import(upload.manager, upload.workspace, data, upload.principal)
    except BaseException:
        for image in stored:
            await upload.images.delete(upload.workspace, image.id)
        await upload.blobs.delete(manifest_key(upload.workspace, upload.upload_id))
        raise
    pages = {i.id: i for i in stored}
    return [
        UploadedSubject(
            document=str(item.name),
            kind=item.subject.kind,
            id=item.subject.id,
            label=item.subject.label,
            image_service=services.get(item.subject.id),
            width=item.subject.width,
            height=item.subject.height,
            page=pages[item.subject.id].page + 1 if item.subject.id in pages else None,
            annotations=upload.urls.annotation_container(item.subject.kind, item.subject.id),
            collab=f"/collab/{item.name}",
        )
        for item in done.subjects
    ]


def original_key(workspace: str, upload_id: str, name: str = "original") -> str:
    """Where an upload's own file (`original`) and its record (`original.json`) are."""
    return f"{workspace}/uploads/{upload_id}/{name}"


def original_url(base_url: str, workspace: str, upload_id: str) -> str:
    return f"{base_url.rstrip('/')}/api/media/{workspace}/{upload_id}/original"


async def keep_original(upload: Upload) -> None:
    """The uploaded file as sent, streamed into the blob store (encrypted there when the
    instance has a key), with its name and type."""
    key = original_key(upload.workspace, upload.upload_id)
    await upload.blobs.put_file(key, upload.path, content_type=upload.sniffed.media_type)
    meta = json.dumps(
        {"filename": upload.filename, "format": upload.sniffed.format}, ensure_ascii=False
    ).encode()

    async def one() -> Any:
        yield meta

    await upload.blobs.put(key + ".json", one(), content_type="application/json")


async def forget_original(blobs: Blobs, workspace: str, upload_id: str) -> None:
    key = original_key(workspace, upload_id)
    await blobs.delete(key + ".json")
    await blobs.delete(key)


async def take(upload: Upload) -> list[UploadedSubject]:
    """What the upload becomes, by its kind, its original kept; HTTPProblem when it is not
    taken (and then nothing of it is stored)."""
    uploader = UPLOADERS.get(upload.sniffed.kind)
    if uploader is None:
        raise refuse_kind(upload.sniffed)
    try:
        try:
            await keep_original(upload)
            return await uploader(upload)
        except BaseException:
            await forget_original(upload.blobs, upload.workspace, upload.upload_id)
            raise
    except Refused as exc:
        raise HTTPProblem(exc.status, exc.detail) from None
    except BlobError as exc:
        raise HTTPProblem(503, str(exc), headers={"Retry-After": "5"}) from None


def new_upload_id() -> str:
    return "upload-" + secrets.token_hex(6)


# What each kind of upload becomes. 3D models ("model": glTF, GLB) plug in here.
UPLOADERS: dict[str, Uploader] = {"image": take_images}


def refuse_kind(sniffed: Sniffed) -> HTTPProblem:
    """Why a file of this kind is not taken, and what to send instead."""
    if sniffed.format == "empty":
        return HTTPProblem(400, "the file is empty: nothing was sent in the field 'file'")
    if sniffed.kind == "active":
        return HTTPProblem(
            415,
            f"this file is {sniffed.label}, which can carry scripts: it is not taken. "
            "Send the image as JPEG, PNG, TIFF or WebP",
        )
    if sniffed.kind == "document":
        return HTTPProblem(
            415,
            f"{sniffed.label} files are not subjects: attach them to a report "
            "(POST /api/reports/{workspace}/{id}/attachments)",
        )
    if sniffed.kind == "model":
        return HTTPProblem(415, f"{sniffed.label} uploads are not taken by this server yet")
    return HTTPProblem(
        415,
        f"the file is {sniffed.label}, not an image we read: send JPEG, PNG, TIFF, WebP or "
        "JPEG 2000 "
        "(the file's contents decide, not its name)",
    )


async def receive(request: Request, work: Path) -> tuple[Received, Sniffed]:
    received = await receive_file(
        request, work, max_bytes=request.app.state.settings.media_max_upload_bytes
    )
    with open(received.path, "rb") as f:  # noqa: ASYNC230 - a few hundred bytes
        head = f.read(HEAD_BYTES)
    return received, sniff(head)


def _workspace(request: Request) -> str:
    workspace = str(request.path_params["workspace"])
    try:
        DocumentName.of(workspace, "canvas", "x")
    except ValueError:
        raise HTTPProblem(404, f"no such workspace: {workspace[:80]}") from None
    return workspace


@api.post(
    MEDIA,
    "write",
    answer=UploadOut,
    statuses={
        201: "Taken: the subjects made, and the manifest",
        400: "Not a form with a file, or a damaged or truncated image",
        413: "Over the size, pixel or page limit",
        415: "Not an image or 3D model we read (SVG, HTML, PDF, text, ...)",
    },
)
async def upload(request: Request) -> Response:
    """Upload an image (one subject per image, per page of a multi-page TIFF) or a 3D model.

    Send `multipart/form-data` with the file in the field `file`. The bytes decide what
    it is (JPEG, PNG, TIFF including BigTIFF, 16-bit and multi-page, WebP, JPEG 2000 up to
    100 million pixels), not its name.
    Each image is converted once into a tiled pyramid and served by the IIIF Image API
    (`image_service`); the upload gets a IIIF Presentation 3 manifest (`manifest`) whose
    label and metadata can be changed with `PATCH`. Refused with nothing stored: over
    SINOPIA_MEDIA_MAX_UPLOAD_BYTES while it streams (413), an image whose header claims
    more than SINOPIA_MEDIA_MAX_PIXELS (413, before decoding), SVG and other active
    content, or anything else we do not read (415), damaged, truncated or empty (400).
    A glTF 2.0 / GLB model (structure checked, size limited: server/api/models.py) makes
    one `model` subject whose file is served at its `model` URL.
    """
    workspace = _workspace(request)
    images = images_of(request)
    work = images.temp_dir()
    try:
        received, sniffed = await receive(request, work)
        job = Upload(
            base_url=links.base_url(request),
            workspace=workspace,
            path=received.path,
            sniffed=sniffed,
            filename=safe_filename(received.filename),
            upload_id=new_upload_id(),
            principal=principal(request),
            images=images,
            blobs=blobs_of(request),
            manager=request.app.state.manager,
        )
        subjects = await take(job)
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)
    manifest_url = job.manifest_iri
    answer = UploadOut(
        workspace=workspace,
        upload=job.upload_id,
        filename=job.filename,
        format=sniffed.format,
        manifest=manifest_url,
        original=original_url(job.base_url, workspace, job.upload_id),
        subjects=subjects,
    )
    return json_answer(answer, status=201, headers={"Location": manifest_url})


# ---------------------------------------------------------------------------- files


class StoredFile(BaseModel):
    id: str
    filename: str
    media_type: str
    size: int
    sha256: str
    download: str = Field(description="where to download it (always as an attachment)")


def file_key(workspace: str, file_id: str) -> str:
    return f"{workspace}/files/{file_id}"


async def store_file(request: Request, workspace: str) -> tuple[StoredFile, dict[str, str]]:
    """A file attached to something (not a subject): a PDF or an image, kept as sent and
    served back only as a download. Returns it and the form's other fields."""
    images = images_of(request)
    work = images.temp_dir()
    try:
        received, sniffed = await receive(request, work)
        if sniffed.kind not in ATTACHABLE:
            if sniffed.kind == "active":
                raise refuse_kind(sniffed)
            raise HTTPProblem(
                415,
                f"the file is {sniffed.label}: attach a PDF or an image (JPEG, PNG, TIFF, WebP)",
            )
        file_id = "file-" + secrets.token_hex(8)
        filename = safe_filename(received.filename)
        try:
            info = await blobs_of(request).put_file(
                file_key(workspace, file_id), received.path, content_type=sniffed.media_type
            )
            meta = json.dumps({"filename": filename}).encode()

            async def one() -> Any:
                yield meta

            await blobs_of(request).put(
                file_key(workspace, file_id) + ".json", one(), content_type="application/json"
            )
        except BlobError as exc:
            await blobs_of(request).delete(file_key(workspace, file_id))
            raise HTTPProblem(503, str(exc), headers={"Retry-After": "5"}) from None
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)
    download = f"{links.base_url(request)}/api/media/{workspace}/files/{file_id}"
    stored = StoredFile(
        id=file_id,
        filename=filename,
        media_type=sniffed.media_type,
        size=info.size,
        sha256=info.sha256,
        download=download,
    )
    return stored, received.fields


async def delete_file(request: Request, workspace: str, file_id: str) -> None:
    blobs = blobs_of(request)
    await blobs.delete(file_key(workspace, file_id) + ".json")
    await blobs.delete(file_key(workspace, file_id))


@api.get_and_head(FILES, "read", statuses={404: "No such file"})
async def download(request: Request) -> Response:
    """Download an attached file (always as an attachment, never shown inline)."""
    workspace, file_id = request.path_params["workspace"], request.path_params["file"]
    blobs = blobs_of(request)
    if not SUBJECT_ID.fullmatch(file_id) or not file_id.startswith("file-"):
        raise HTTPProblem(404, f"no such file: {file_id[:80]}")
    info = await blobs.info(file_key(workspace, file_id))
    if info is None:
        raise HTTPProblem(404, f"no such file: {file_id}")
    try:
        meta = json.loads(await blobs.read_all(file_key(workspace, file_id) + ".json"))
    except (BlobError, ValueError):
        meta = {}
    name = meta.get("filename") or file_id
    return await _attachment(request, file_key(workspace, file_id), info, name)


async def _attachment(request: Request, key: str, info: BlobInfo, name: str) -> Response:
    """A stored file as a download (never shown inline), with its name."""
    ascii_name = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name
    )
    headers = {
        "Content-Disposition": (
            f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
        ),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "Content-Length": str(info.size),
        "ETag": f'"{info.sha256[:32]}"',
        "Cache-Control": "private, max-age=31536000, immutable",
    }
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers={"ETag": headers["ETag"]})
    if request.method == "HEAD":
        return Response(status_code=200, headers=headers, media_type=info.content_type)
    return StreamingResponse(
        await blobs_of(request).read(key), media_type=info.content_type, headers=headers
    )


# ---------------------------------------------------------------------------- uploads


def _upload_id(request: Request) -> str:
    upload_id = str(request.path_params["upload"])
    if not UPLOAD_ID.fullmatch(upload_id):
        raise HTTPProblem(404, f"no such upload: {upload_id[:80]}")
    return upload_id


@api.get_and_head(
    ORIGINAL, "read", statuses={404: "No such upload, or one made before originals were kept"}
)
async def download_original(request: Request) -> Response:
    """Download the uploaded file as it was sent (the master), as an attachment.

    For the workspace's members (share links load the images, not the masters).
    """
    workspace, upload_id = _workspace(request), _upload_id(request)
    blobs = blobs_of(request)
    key = original_key(workspace, upload_id)
    info = await blobs.info(key)
    if info is None:
        raise HTTPProblem(404, f"no original of {upload_id} in {workspace}")
    try:
        meta = json.loads(await blobs.read_all(key + ".json"))
    except (BlobError, ValueError):
        meta = {}
    return await _attachment(request, key, info, meta.get("filename") or upload_id)


async def _subjects_of(request: Request, workspace: str, upload_id: str) -> list[Entry]:
    own = f"/iiif/{workspace}/manifest/{upload_id}"
    return [
        entry
        for entry in await workspace_index.of(request.app).entries(workspace)
        if entry.subject and entry.subject.manifest and entry.subject.manifest.endswith(own)
    ]


@api.delete(
    UPLOAD,
    "write",
    statuses={
        204: "Deleted: its images, model, original and manifest record",
        404: "No such upload",
        409: "Its subjects have annotations (named in `subjects`): send ?force=true",
    },
)
async def delete_upload(request: Request) -> Response:
    """Delete an upload's files: its images' pyramids, its 3D model, its original.

    Annotations are never lost: the subjects' live documents stay, with every annotation
    and their whole history (still exported, searched and listed, but without their
    picture). While any of its subjects has annotations, the deletion is refused (409,
    naming them in `subjects` with their counts) unless `?force=true` says that the
    pictures may go from under them.
    """
    workspace, upload_id = _workspace(request), _upload_id(request)
    blobs = blobs_of(request)
    # An upload is its manifest record (every upload has one) or its original: once they
    # are gone, so is the upload, whatever its subjects' documents still say.
    if (
        await blobs.info(manifest_key(workspace, upload_id)) is None
        and await blobs.info(original_key(workspace, upload_id)) is None
    ):
        raise HTTPProblem(404, f"no upload {upload_id} in {workspace}")
    entries = await _subjects_of(request, workspace, upload_id)
    annotated = [e for e in entries if e.annotations]
    if annotated and request.query_params.get("force") != "true":
        raise HTTPProblem(
            409,
            f"{len(annotated)} of this upload's subjects have annotations: "
            + ", ".join(f"{e.name} ({len(e.annotations)})" for e in annotated[:20])
            + ". They would stay, without their picture: send ?force=true to delete anyway",
            subjects=[
                {"document": str(e.name), "annotations": len(e.annotations)} for e in annotated
            ],
        )
    from server.api.models import model_key  # here: models.py imports this module

    images = images_of(request)
    for entry in entries:
        subject = entry.subject
        assert subject is not None
        if subject.kind == "canvas":
            request.app.state.tiles.forget(await images.delete(workspace, subject.id))
        elif subject.asset and "/models/" in subject.asset.url:
            await blobs.delete(model_key(workspace, subject.asset.url.rsplit("/", 1)[-1]))
    await forget_original(blobs, workspace, upload_id)
    await blobs.delete(manifest_key(workspace, upload_id))
    return Response(status_code=204)


__all__ = ["UPLOADERS", "Upload", "UploadedSubject", "Uploader", "api"]
