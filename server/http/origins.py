"""Web origins (`scheme://host[:port]`) as Content-Security-Policy source expressions may
name them: of a URL, and of where a subject's pictures come from. Shared by the app's
pages (server/webapp) and the embed's iframe page (server/api/embed.py)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from iiif import Subject

# A host as it may appear in a source expression: a DNS name, IPv4, or bracketed IPv6.
# Anything else in a manifest (spaces, `;`, quotes) could add directives, so is dropped.
_HOST = re.compile(
    r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)*"
)
_IPV6 = re.compile(r"\[[0-9a-f:.]+\]")


def origin(url: str | None) -> str | None:
    """`scheme://host[:port]` of an http(s) URL, or None if it is not one we can name."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or parts.username or parts.password:
        return None
    host = (parts.hostname or "").lower()
    if not (_HOST.fullmatch(host) or _IPV6.fullmatch(f"[{host}]")):
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def subject_origins(subject: Subject) -> set[str]:
    """Where the app loads a subject's pictures from: its image service (info.json and
    tiles), its image, its thumbnail, a 3D model's file."""
    urls = [
        subject.image_service.id if subject.image_service else None,
        subject.image.id if subject.image else None,
        subject.thumbnail,
        subject.asset.url if subject.asset else None,
    ]
    return {o for o in map(origin, urls) if o}
