"""Credentials granted on the directory: personal API tokens, share links and one-time
sign-in links, made and revoked by the REST API and `sinopia admin` alike (each with its
audit event)."""

from __future__ import annotations

import re
import secrets
from dataclasses import replace
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

from crdt import DocumentName
from crdt.errors import InvalidName
from server.access.tokens import AUDIENCE_SHARE, Signer, new_api_token, secret_hash
from server.directory import (
    ApiToken,
    Directory,
    LoginLink,
    Role,
    ShareLink,
    User,
    new_id,
    now_ms,
)
from server.directory.operations import Refused, audit, existing_workspace


async def create_token(
    directory: Directory,
    user: User,
    actor: str,
    *,
    label: str = "",
    workspaces: tuple[str, ...] | None = None,
    max_role: Role | None = None,
    expires_seconds: float | None = 90 * 86400,
) -> tuple[str, ApiToken]:
    """A new personal API token: (the token, shown once; its stored record)."""
    for workspace in workspaces or ():
        await existing_workspace(directory, workspace)
    token_id = new_id("")
    token, hashed = new_api_token(token_id)
    record = ApiToken(
        token_id,
        user.id,
        label or "api token",
        hashed,
        workspaces=workspaces,
        max_role=max_role,
        expires_ms=now_ms() + int(expires_seconds * 1000) if expires_seconds else None,
    )
    await directory.add_token(record)
    detail: dict[str, Any] = {"token": token_id, "label": record.label}
    if workspaces is not None:
        detail["workspaces"] = list(workspaces)
    if max_role:
        detail["role"] = max_role
    await audit(directory, "token-created", actor, target=user.label, detail=detail)
    for workspace in workspaces or ():
        await audit(
            directory, "token-created", actor, workspace=workspace, target=user.label, detail=detail
        )
    return token, record


async def revoke_token(directory: Directory, token: ApiToken, actor: str) -> None:
    revoked = await directory.revoke_token(token.id)
    if revoked is None:
        raise Refused(404, f"token {token.id} is unknown or already revoked")
    owner = await directory.user(token.user_id)
    detail = {"token": token.id, "label": token.label}
    target = owner.label if owner else f"user:{token.user_id}"
    await audit(directory, "token-revoked", actor, target=target, detail=detail)
    for workspace in token.workspaces or ():
        await audit(
            directory, "token-revoked", actor, workspace=workspace, target=target, detail=detail
        )


# A share link's JWT carries no expiry of its own that matters: the record's `expires_ms`
# decides (checked on every use and on open sockets), so that an owner can renew a link,
# or make one that never expires, without changing the snippet on the museum's page. The
# JWT's `exp` is required by the format; this is far beyond any exhibition.
SHARE_TOKEN_SECONDS = 100 * 365 * 86400
# Origins one share link may name: a museum embeds on a few sites (its own, a project's,
# a staging copy); each goes into the iframe page's `frame-ancestors`, kept well under
# proxies' header limits.
MAX_SHARE_ORIGINS = 20
_ORIGIN_HOST = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)*"
    r"|\[[0-9a-f:.]+\])"
)


def share_origin(text: str) -> str:
    """A web origin as browsers send it (`https://museum.example`, `http://host:8080`),
    from what an owner typed; `Refused` (400) for anything else."""
    raw = text.strip()
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise Refused(
            400, f"origins: {raw!r} is not a web origin such as https://museum.example"
        ) from None
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    if (
        parts.scheme not in ("http", "https")
        or parts.username
        or parts.password
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or not _ORIGIN_HOST.fullmatch(host)
    ):
        raise Refused(
            400,
            f"origins: {raw!r} is not a web origin: give scheme and host only, "
            "such as https://museum.example",
        )
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def share_origins(values: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    found: list[str] = []
    for value in values:
        origin = share_origin(value)
        if origin not in found:
            found.append(origin)
    if len(found) > MAX_SHARE_ORIGINS:
        raise Refused(400, f"origins: at most {MAX_SHARE_ORIGINS} per share link")
    return tuple(found)


def _expiry_ms(seconds: float | None) -> int | None:
    return None if seconds is None else now_ms() + int(seconds * 1000)


async def create_share(
    directory: Directory,
    signer: Signer,
    workspace: str,
    actor: str,
    *,
    subject: str | None = None,
    manifest: str | None = None,
    label: str = "",
    expires_seconds: float | None = 30 * 86400,
    origins: list[str] | tuple[str, ...] = (),
) -> tuple[str, ShareLink]:
    """A share link granting viewer on one subject (a document name `ws/kind/id`, or
    `kind/id` in `workspace`) or on one manifest's subjects: (its token, its record).
    `expires_seconds` None: it never expires; `origins`: the only web origins whose pages
    may use it (none: any)."""
    await existing_workspace(directory, workspace)
    if (subject is None) == (manifest is None):
        raise Refused(400, "give either subject (kind/id) or manifest (its IRI)")
    if subject is not None:
        full = subject if subject.count("/") == 2 else f"{workspace}/{subject}"
        try:
            name = DocumentName.parse(full)
        except InvalidName as exc:
            raise Refused(400, f"subject: {exc}") from None
        if name.workspace != workspace:
            raise Refused(400, f"subject must be in {workspace}")
        subject = str(name)
    if manifest is not None and not manifest.startswith(("http://", "https://")):
        raise Refused(400, "manifest must be the manifest's IRI (http or https)")
    link = ShareLink(
        new_id("s"),
        workspace,
        actor,
        _expiry_ms(expires_seconds),
        subject=subject,
        manifest=manifest,
        label=label,
        origins=share_origins(origins),
    )
    await directory.add_share(link)
    token = signer.sign(AUDIENCE_SHARE, link.id, SHARE_TOKEN_SECONDS, ws=workspace)
    await audit(
        directory,
        "share-created",
        actor,
        workspace=workspace,
        target=link.id,
        detail={
            "subject": subject,
            "manifest": manifest,
            "expires_ms": link.expires_ms,
            "origins": list(link.origins),
        },
    )
    return token, link


_KEEP: Any = object()


async def change_share(
    directory: Directory,
    link: ShareLink,
    actor: str,
    *,
    expires_seconds: float | None = _KEEP,
    origins: list[str] | tuple[str, ...] | None = None,
    label: str | None = None,
) -> ShareLink:
    """Renew a share link (a new expiry from now, or None: never), or change the origins
    that may embed it or its label; its token, and so every snippet, stays the same."""
    if link.revoked_ms is not None:
        raise Refused(409, "this share link was revoked: make a new one")
    changed = link
    detail: dict[str, Any] = {}
    if expires_seconds is not _KEEP:
        changed = replace(changed, expires_ms=_expiry_ms(expires_seconds))
        detail["expires_ms"] = changed.expires_ms
    if origins is not None:
        changed = replace(changed, origins=share_origins(origins))
        detail["origins"] = list(changed.origins)
    if label is not None:
        changed = replace(changed, label=label)
        detail["label"] = label
    await directory.update_share(changed)
    await audit(
        directory, "share-changed", actor, workspace=link.workspace, target=link.id, detail=detail
    )
    return changed


async def revoke_share(directory: Directory, link: ShareLink, actor: str) -> None:
    if await directory.revoke_share(link.id) is None:
        raise Refused(404, f"share link {link.id} is unknown or already revoked")
    await audit(directory, "share-revoked", actor, workspace=link.workspace, target=link.id)


# A used or expired sign-in link is kept this long (to tell "used" from "unknown" when
# someone clicks it again), then removed when the next link is made for that user.
LOGIN_LINK_KEPT_MS = 7 * 86400 * 1000
LinkState = Literal["ok", "used", "expired", "invalid"]
LOGIN_LINK_PATH = "/api/auth/link"


def login_link_url(base_url: str, secret: str, next_path: str | None = None) -> str:
    """The URL that signs in with `secret` on the server at `base_url`, then opens
    `next_path` there."""
    query = {"token": secret}
    if next_path and next_path != "/":
        query["next"] = next_path
    return f"{base_url.rstrip('/')}{LOGIN_LINK_PATH}?{urlencode(query)}"


async def create_login_link(
    directory: Directory, user: User, actor: str, *, expires_seconds: float
) -> str:
    """A one-time sign-in link's secret (the `token` of /api/auth/link): 256 random bits,
    of which only the SHA-256 is kept."""
    if user.disabled:
        raise Refused(409, f"{user.name} is disabled: enable them first")
    now = now_ms()
    for old in await directory.login_links(user.id):
        if old.expires_ms + LOGIN_LINK_KEPT_MS < now:
            await directory.remove_login_link(old.id)
    secret = secrets.token_urlsafe(32)
    link = LoginLink(secret_hash(secret), user.id, actor, now + int(expires_seconds * 1000))
    await directory.add_login_link(link)
    await audit(
        directory,
        "login-link-created",
        actor,
        target=user.label,
        detail={"expires_ms": link.expires_ms},
    )
    return secret


async def redeem_login_link(directory: Directory, secret: str) -> tuple[LinkState, User | None]:
    """Use a sign-in link, once: ("ok", its user), or why not."""
    if not secret or len(secret) > 100:
        return "invalid", None
    link_id = secret_hash(secret)
    link = await directory.login_link(link_id)
    if link is None:
        return "invalid", None
    if link.used_ms is None and link.expires_ms <= now_ms():
        return "expired", None
    if link.used_ms is None:
        # Of two uses at once, one finds it unused here.
        link = await directory.use_login_link(link_id)
        if link is None:
            return "invalid", None
    if link.used_ms is not None:
        return "used", None
    user = await directory.user(link.user_id)
    if user is None or user.disabled:
        return "invalid", None
    return "ok", user
