"""Credentials granted on the directory: personal API tokens and share links, made and
revoked by the REST API and `sinopia admin` alike (each with its audit event)."""

from __future__ import annotations

from typing import Any

from crdt import DocumentName
from crdt.errors import InvalidName
from server.access.tokens import AUDIENCE_SHARE, Signer, new_api_token
from server.directory import ApiToken, Directory, Role, ShareLink, User, new_id, now_ms
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
    await audit(directory, "token-created", actor, target=user.name, detail=detail)
    for workspace in workspaces or ():
        await audit(
            directory, "token-created", actor, workspace=workspace, target=user.name, detail=detail
        )
    return token, record


async def revoke_token(directory: Directory, token: ApiToken, actor: str) -> None:
    revoked = await directory.revoke_token(token.id)
    if revoked is None:
        raise Refused(404, f"token {token.id} is unknown or already revoked")
    owner = await directory.user(token.user_id)
    detail = {"token": token.id, "label": token.label}
    target = owner.name if owner else token.user_id
    await audit(directory, "token-revoked", actor, target=target, detail=detail)
    for workspace in token.workspaces or ():
        await audit(
            directory, "token-revoked", actor, workspace=workspace, target=target, detail=detail
        )


async def create_share(
    directory: Directory,
    signer: Signer,
    workspace: str,
    actor: str,
    *,
    subject: str | None = None,
    manifest: str | None = None,
    label: str = "",
    expires_seconds: float = 30 * 86400,
) -> tuple[str, ShareLink]:
    """A share link granting viewer on one subject (a document name `ws/kind/id`, or
    `kind/id` in `workspace`) or on one manifest's subjects: (its token, its record)."""
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
        now_ms() + int(expires_seconds * 1000),
        subject=subject,
        manifest=manifest,
        label=label,
    )
    await directory.add_share(link)
    token = signer.sign(AUDIENCE_SHARE, link.id, expires_seconds, ws=workspace)
    await audit(
        directory,
        "share-created",
        actor,
        workspace=workspace,
        target=link.id,
        detail={"subject": subject, "manifest": manifest, "expires_ms": link.expires_ms},
    )
    return token, link


async def revoke_share(directory: Directory, link: ShareLink, actor: str) -> None:
    if await directory.revoke_share(link.id) is None:
        raise Refused(404, f"share link {link.id} is unknown or already revoked")
    await audit(directory, "share-revoked", actor, workspace=link.workspace, target=link.id)
