"""3D model uploads: the `model` branch of `POST /api/media/{workspace}` (server/api/media.py
dispatches on what the bytes are), and the model files served back, with HTTP range
requests, at `GET /api/media/{workspace}/models/{model}`: the `model` URL the upload
answers with, which the subject's manifest paints into its Scene.

A glTF or GLB is checked whole before anything is stored (iiif/gltf.py: lengths that must
not lie, references that must stay inside the file, the size limits); then the file goes
to the blob store as sent, and a Presentation 4 draft manifest with one Scene is imported
like any other, so the model is a subject annotated, exported and searched as imported
ones are. A refused or failed upload leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import re
import secrets

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from iiif import ManifestError
from iiif.gltf import ModelError, ModelInfo, ModelTooLarge, check_model_file
from iiif.scenes import model_upload_manifest
from server.api.iiif_import import import_manifest
from server.api.media import (
    UPLOADERS,
    Upload,
    UploadedSubject,
    blobs_of,
    manifest_key,
    write_manifest_record,
)
from server.http.problems import HTTPProblem
from server.http.routes import Api, Param

api = Api("models")
MODEL = "/api/media/{workspace}/models/{model}"
MODEL_ID = re.compile(r"model-[0-9a-f]{16}")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def model_key(workspace: str, model_id: str) -> str:
    return f"{workspace}/models/{model_id}"


def model_url(base_url: str, workspace: str, model_id: str) -> str:
    return f"{base_url.rstrip('/')}/api/media/{workspace}/models/{model_id}"


def _check(upload: Upload) -> ModelInfo:
    size = upload.path.stat().st_size
    with open(upload.path, "rb") as stream:
        return check_model_file(stream, size)


async def take_model(upload: Upload) -> list[UploadedSubject]:
    """A glTF / GLB file: checked, stored, and a subject with its draft Scene manifest."""
    try:
        info = await asyncio.to_thread(_check, upload)
    except ModelTooLarge as exc:
        raise HTTPProblem(413, f"this 3D model is not taken: {exc}") from None
    except ModelError as exc:
        raise HTTPProblem(
            400, f"this is not a sound glTF 2.0 / GLB model: {exc}. Export it again as GLB"
        ) from None
    workspace, blobs = upload.workspace, upload.blobs
    model_id = "model-" + secrets.token_hex(8)
    key = model_key(workspace, model_id)
    url = model_url(upload.base_url, workspace, model_id)
    await blobs.put_file(key, upload.path, content_type=info.format)
    try:
        data = model_upload_manifest(upload.manifest_iri, upload.filename, url, info.format)
        await write_manifest_record(blobs, workspace, upload.upload_id, data)
        try:
            done = await import_manifest(upload.manager, workspace, data, upload.principal)
        except ManifestError as exc:  # pragma: no cover - our own manifest
            raise HTTPProblem(500, f"the model's manifest did not import: {exc}") from None
    except BaseException:
        await blobs.delete(key)
        await blobs.delete(manifest_key(workspace, upload.upload_id))
        raise
    return [
        UploadedSubject(
            document=str(item.name),
            kind=item.subject.kind,
            id=item.subject.id,
            label=item.subject.label,
            model=url,
            annotations=upload.urls.annotation_container(item.subject.kind, item.subject.id),
            collab=f"/collab/{item.name}",
        )
        for item in done.subjects
    ]


UPLOADERS["model"] = take_model


def _range(header: str | None, size: int) -> tuple[int, int] | None:
    """[start, stop) of a single `Range: bytes=...` (None: the whole file); 416 when it
    cannot be served. Several ranges at once are answered whole (RFC 9110 allows it)."""
    if not header or "," in header:
        return None
    match = _RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":
        length = int(last)
        if length == 0:
            raise HTTPProblem(
                416, "an empty suffix range", headers={"Content-Range": f"bytes */{size}"}
            )
        return max(0, size - length), size
    start = int(first)
    stop = size if last == "" else min(size, int(last) + 1)
    if start >= size or stop <= start:
        raise HTTPProblem(
            416,
            f"the range starts past the end of the file ({size} bytes)",
            headers={"Content-Range": f"bytes */{size}"},
        )
    return start, stop


@api.get_and_head(
    MODEL,
    "read",
    params=(Param("Range", "header", "bytes=START-END (one range), for partial downloads"),),
    statuses={206: "Part of the file", 304: "Not modified", 404: "No such model", 416: "Bad range"},
)
async def get_model(request: Request) -> Response:
    """A 3D model file an upload stored (glTF or GLB), whole or by byte ranges."""
    workspace, model_id = request.path_params["workspace"], request.path_params["model"]
    if not MODEL_ID.fullmatch(model_id):
        raise HTTPProblem(404, f"no such model: {model_id[:80]}")
    blobs = blobs_of(request)
    info = await blobs.info(model_key(workspace, model_id))
    if info is None:
        raise HTTPProblem(404, f"no such model: {model_id}")
    tag = f'"{info.sha256[:32]}"'
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": tag,
        # Stored once under a fresh id, never changed: cached for good (by the members'
        # browsers only: access is the workspace's).
        "Cache-Control": "private, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'",
    }
    if request.headers.get("if-none-match") in (tag, f"W/{tag}"):
        return Response(status_code=304, headers=headers)
    wanted = None
    if request.headers.get("if-range") in (None, tag):
        wanted = _range(request.headers.get("range"), info.size)
    start, stop = wanted or (0, info.size)
    headers["Content-Length"] = str(stop - start)
    status = 200
    if wanted is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{info.size}"
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=info.content_type)
    return StreamingResponse(
        await blobs.read(model_key(workspace, model_id), start, stop),
        status_code=status,
        media_type=info.content_type,
        headers=headers,
    )


__all__ = ["api", "model_key", "take_model"]
