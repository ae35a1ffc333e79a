"""The IIIF Image API 3.0 (level 2, and mirroring, arbitrary rotation, upscaling) over
uploaded images, read from their stored pyramids:

- `/iiif/{workspace}/image/{image}` redirects to its `info.json`;
- `/iiif/{workspace}/image/{image}/info.json`: size, tiles and scale factors (the
  pyramid's levels), sizes, limits;
- `/iiif/{workspace}/image/{image}/{region}/{size}/{rotation}/{quality}.{format}`.

Access is the workspace's: members, and share links covering the image's subject (or its
manifest). Viewers send the credential as `Authorization: Bearer` (OpenSeadragon:
`loadTilesWithAjax` with `ajaxHeaders`), since a `token` parameter would not ride along
on the tile URLs a viewer builds. Any origin may read with such a header (CORS, no
cookies). An image never changes once stored, so its answers carry an ETag and are
cached for a year.
"""

from __future__ import annotations

import hashlib
import json

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from iiif.image_api import (
    CONTEXT,
    PROFILE_URI,
    ImageRequestError,
    ServiceLimits,
    info_json,
    parse_request,
)
from iiif.subjects import SUBJECT_ID
from server.http import links
from server.http.problems import HTTPProblem
from server.http.routes import Api
from server.media.images import Images, StoredImage
from server.media.tiles import Tiles

api = Api("iiif")
BASE = "/iiif/{workspace}/image/{image}"
# Stored images never change (a new upload is a new image): caches may keep answers this
# long. `private`: they are read with a credential, so no shared cache keeps them.
CACHE_CONTROL = "private, max-age=31536000, immutable"


def service_id(request: Request, workspace: str, image: str) -> str:
    return f"{links.base_url(request)}/iiif/{workspace}/image/{image}"


def limits_of(request: Request) -> ServiceLimits:
    return ServiceLimits(max_area=request.app.state.settings.image_max_area)


async def _image(request: Request) -> StoredImage:
    workspace, image_id = request.path_params["workspace"], request.path_params["image"]
    images: Images = request.app.state.images
    found = None
    if SUBJECT_ID.fullmatch(image_id):
        found = await images.get(workspace, image_id)
    if found is None:
        raise HTTPProblem(404, f"no image {image_id[:80]!r} in {workspace}")
    return found


def _not_modified(request: Request, tag: str, headers: dict[str, str]) -> Response | None:
    sent = request.headers.get("if-none-match", "")
    if tag in [t.strip().removeprefix("W/") for t in sent.split(",")] or sent.strip() == "*":
        return Response(status_code=304, headers=headers)
    return None


@api.get(BASE, "read", statuses={303: "To the image's info.json", 404: "No such image"})
async def image_base(request: Request) -> Response:
    """The image service's base URI: redirects to its info.json."""
    found = await _image(request)
    return RedirectResponse(
        service_id(request, found.workspace, found.id) + "/info.json", status_code=303
    )


@api.get_and_head(BASE + "/info.json", "read", statuses={404: "No such image"})
async def image_info(request: Request) -> Response:
    """The image's IIIF Image API 3 information (info.json).

    Its tiles and scale factors are the stored pyramid's levels. Answered as
    `application/ld+json` (with the Image API profile) when asked for, else
    `application/json`.
    """
    found = await _image(request)
    body = info_json(
        service_id(request, found.workspace, found.id),
        found.width,
        found.height,
        tile=found.tile,
        levels=found.levels,
        limits=limits_of(request),
    )
    data = json.dumps(body, separators=(",", ":")).encode()
    tag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    ld = "application/ld+json" in request.headers.get("accept", "")
    media_type = f'application/ld+json;profile="{CONTEXT}"' if ld else "application/json"
    headers = {
        "ETag": tag,
        "Vary": "Accept",
        "Cache-Control": "private, max-age=3600",
        "Link": f'<{PROFILE_URI}>;rel="profile"',
    }
    if (answer := _not_modified(request, tag, headers)) is not None:
        return answer
    return Response(data, media_type=media_type, headers=headers)


@api.get_and_head(
    BASE + "/{region}/{size}/{rotation}/{file}",
    "read",
    statuses={400: "A bad region, size, rotation, quality or format", 404: "No such image"},
)
async def image_region(request: Request) -> Response:
    """A region of the image, scaled, mirrored or turned, in a quality and format.

    `{region}`: full, square, x,y,w,h or pct:x,y,w,h. `{size}`: max, w,, ,h, pct:n, w,h or
    !w,h, with ^ before any to allow upscaling. `{rotation}`: degrees (0-360), ! first to
    mirror. `{quality}`: default, color, gray or bitonal. `{format}`: jpg, png or webp.
    """
    found = await _image(request)
    p = request.path_params
    try:
        wanted = parse_request(
            p["region"],
            p["size"],
            p["rotation"],
            p["file"],
            found.width,
            found.height,
            limits_of(request),
        )
    except ImageRequestError as exc:
        raise HTTPProblem(400, str(exc)) from None
    canonical = (
        f"{wanted.region}/{wanted.size}/{wanted.mirror}/{wanted.rotation}/"
        f"{wanted.quality}/{wanted.format}"
    )
    tag = '"' + hashlib.sha256(f"{found.sha256}/{canonical}".encode()).hexdigest()[:32] + '"'
    headers = {
        "ETag": tag,
        "Cache-Control": CACHE_CONTROL,
        "Link": f'<{PROFILE_URI}>;rel="profile"',
    }
    if (answer := _not_modified(request, tag, headers)) is not None:
        return answer
    tiles: Tiles = request.app.state.tiles
    data = await tiles.answer(found, wanted)
    return Response(data, media_type=wanted.media_type, headers=headers)
