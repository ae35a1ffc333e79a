"""Content negotiation for the JSON-LD APIs (W3C annotations, IIIF): which of the media
types we can give a request's `Accept` header wants most, or 406."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from server.http.problems import HTTPProblem


@dataclass(frozen=True)
class Offer:
    """A representation we can give: `media_type` with, for JSON-LD, the `profile` it
    follows; `content_type` is the header value we answer with."""

    media_type: str
    content_type: str
    profile: str | None = None


def _split(value: str, sep: str) -> list[str]:
    """Split on `sep` outside double quotes (profiles are quoted lists of IRIs)."""
    parts, current, quoted = [], [], False
    for char in value:
        if char == '"':
            quoted = not quoted
        if char == sep and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _ranges(accept: str) -> list[tuple[str, dict[str, str]]]:
    out = []
    for item in _split(accept, ","):
        media, *params = _split(item, ";")
        fields = {}
        for param in params:
            key, _, val = param.partition("=")
            fields[key.strip().lower()] = val.strip().strip('"')
        out.append((media.lower(), fields))
    return out


def _q(params: dict[str, str]) -> float:
    try:
        return max(0.0, min(1.0, float(params.get("q", "1"))))
    except ValueError:
        return 0.0


def _specificity(media: str, params: dict[str, str], offer: Offer) -> int:
    """How precisely a media range names `offer`: -1 not at all, up to 3 (type and
    profile)."""
    kind = offer.media_type.partition("/")[0]
    if media == "*/*":
        return 0
    if media == f"{kind}/*":
        return 1
    if media != offer.media_type:
        return -1
    profile = params.get("profile")
    if profile is None:
        return 2
    # A profile asked for must be ours (a space-separated list: one of them).
    return 3 if offer.profile and offer.profile in profile.split() else -1


def choose(accept: str | None, offers: list[Offer]) -> Offer | None:
    """The offer the `Accept` header prefers (the first offer on a tie), None if it
    accepts none. No header: the first offer."""
    if not accept or not accept.strip():
        return offers[0]
    ranges = _ranges(accept)
    best = 0.0
    chosen = None
    for offer in offers:
        # The most specific range that names the offer gives its quality (RFC 9110 12.5.1).
        matching = [(s, _q(p)) for m, p in ranges if (s := _specificity(m, p, offer)) >= 0]
        if not matching:
            continue
        quality = max(matching)[1]
        if quality > best:
            best, chosen = quality, offer
    return chosen


def negotiate(request: Request, offers: list[Offer]) -> Offer:
    """The representation to answer `request` with; 406 naming what we can give."""
    offer = choose(request.headers.get("accept"), offers)
    if offer is None:
        available = ", ".join(o.content_type for o in offers)
        raise HTTPProblem(406, f"this resource is available as: {available}")
    return offer
