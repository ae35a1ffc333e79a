"""`sinopia admin user export NAME` and `sinopia admin user erase NAME`: a person's data,
for a GDPR request (access, art. 15; erasure, art. 17).

History names people by a pseudonymous id (server.directory.people), so erasing a
person is removing what ties the id to them: their name, email and external identity
in the directory. The hash-chained log is not touched, so it still verifies; it reads
"erased user N" where it read their name. What erasure cannot remove, and why:

- entries written before ids were used carry `user:<name>` as their author label, which
  their hash covers (rewriting them would break every later hash and seal);
- what people wrote into documents stays as history recorded it: a name typed into a
  comment, the agents of reports, and the `creator.name` that the app and the REST API
  stored with annotations before names were looked up at reading time;
- signed approvals of reports: the signature covers the approver's name, and the record
  must keep verifying offline (`sinopia report verify`);
- the audit log of security events keeps its past events (who changed access when);
  events name people by id (`user:<id>`), shown with the current name, so they read
  "erased user N" after erasure; events written before that named the user by name.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from annotations import schema
from crdt.names import DocumentName
from crdt.store import Store
from crdt.stores import open_store
from server.api.past import past
from server.commands.errors import Fail
from server.commands.options import command, data_dir, settings_from
from server.directory import Directory, User, now_ms, open_directory, operations, to_data
from server.directory.people import AGENT_PREFIX

# A user's display name once erased: what history and annotations show for them.
ERASED = "erased user {n}"


def _mine(user: User) -> tuple[set[str], set[str]]:
    """The author refs (in `user:REF`, `token:REF/...`) and creator ids that are the
    user's: their id, and their name for what was written before ids were used."""
    refs = {user.id, user.name}
    return refs, {AGENT_PREFIX + ref for ref in refs}


def _by(principal: str, refs: set[str]) -> bool:
    kind, _, rest = principal.partition(":")
    return kind in ("user", "token") and rest.split("/")[0] in refs


def _time(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")


async def _history(store: Store, user: User) -> tuple[list[Any], list[Any], list[Any]]:
    """Their changes, the named versions they made, and their annotations now."""
    refs, agents = _mine(user)
    changes: list[dict[str, Any]] = []
    versions: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for doc in await store.documents():
        entries = await store.read(doc)
        for e in entries:
            if _by(e.principal, refs):
                changes.append(
                    {
                        "document": doc,
                        "seq": e.seq,
                        "time": _time(e.time_ms),
                        "author": e.principal,
                        "client_id": e.client_id,
                        "bytes": len(e.update),
                    }
                )
        for v in await store.versions(doc):
            if _by(v.principal, refs) or v.principal in (user.name, user.id):
                versions.append(
                    {"document": doc, "name": v.name, "seq": v.seq, "time": _time(v.time_ms)}
                )
        name = DocumentName.parse(doc)
        if name.kind == "report" or not entries:
            continue
        now = schema.snapshot(await past(store, name, entries[-1].seq), name.kind)
        for key, annotation in now.get("annotations", {}).items():
            creator = annotation.get("creator") if isinstance(annotation, dict) else None
            if isinstance(creator, dict) and creator.get("id") in agents:
                annotations.append({"document": doc, "id": key, "annotation": annotation})
    return changes, versions, annotations


async def _records(d: Directory, kind: str, user: User) -> list[dict[str, Any]]:
    return await d._find(kind, "user_id", user.id)


async def _audit(d: Directory, user: User) -> list[dict[str, Any]]:
    """Security events by them or about them, from every workspace and the instance."""
    refs, _ = _mine(user)
    out = []
    for workspace in [None, *(w.name for w in await d.workspaces())]:
        before = None
        while True:
            page = await d.events(workspace, limit=500, before=before)
            if not page:
                break
            for e in page:
                # Targets name users by label (`user:<id>`), or by name before ids.
                if _by(e.actor, refs) or _by(e.target, refs) or e.target in refs:
                    out.append({**e.__dict__, "time": _time(e.time_ms)})
            before = page[-1].seq
    return out


async def export_user(d: Directory, store: Store, user: User) -> dict[str, Any]:
    tokens = [
        {k: v for k, v in record.items() if k != "secret_hash"}  # the hash is a credential
        for record in await _records(d, "token", user)
    ]
    sessions = [
        {k: v for k, v in record.items() if k != "csrf"}
        for record in await _records(d, "session", user)
    ]
    login_links = [
        {k: v for k, v in record.items() if k != "id"}  # the id is the secret's hash
        for record in await _records(d, "login_link", user)
    ]
    changes, versions, annotations = await _history(store, user)
    return {
        "exported": _time(now_ms()),
        "account": to_data(user),
        "history_ids": {
            "author": user.label,
            "creator": user.agent_iri,
            "before_ids": {"author": f"user:{user.name}", "creator": user.legacy_agent_iri},
        },
        "memberships": [to_data(m) for m in await d.memberships(user.id)],
        "tokens": tokens,
        "sessions": sessions,
        "login_links": login_links,
        "audit": await _audit(d, user),
        "changes": changes,
        "versions": versions,
        "annotations": annotations,
    }


async def _with_both(settings: Any, work: Any) -> int:
    directory = open_directory(settings.mongo_url, settings.data_dir)
    store = open_store(settings.store_location, settings.data_dir)
    await directory.open()
    try:
        await store.open()
        try:
            result: int = await work(directory, store)
            return result
        finally:
            await store.close()
    finally:
        await directory.close()


def _export(args: argparse.Namespace) -> int:
    """Everything kept about a user, as JSON on stdout: account, memberships, tokens and
    sessions (without secrets), security events, their changes, versions and annotations."""
    settings = settings_from(args)
    data_dir(settings, create=bool(settings.mongo_url))

    async def work(d: Directory, store: Store) -> int:
        user = await operations.find_user(d, args.name)
        print(json.dumps(await export_user(d, store, user), indent=1, ensure_ascii=False))
        return 0

    return asyncio.run(_with_both(settings, work))


async def erase_user(d: Directory, user: User, actor: str) -> User:
    """Remove what ties the user's id to the person; their credentials end at once."""
    erased = [u for u in await d.users() if u.erased_ms is not None]
    n = len(erased) + 1
    name = f"erased-{n}"
    while await d.user_by_name(name) is not None:
        n += 1
        name = f"erased-{n}"
    for member in await d.memberships(user.id):
        await d.remove_member(member.workspace, user.id)
    for token in await d.tokens(user.id):
        await d.revoke_token(token.id)
    for record in await _records(d, "session", user):
        await d.revoke_session(record["id"])
    for link in await d.login_links(user.id):
        await d.remove_login_link(link.id)
    tombstone = replace(
        user,
        name=name,
        display_name=ERASED.format(n=n),
        email=None,
        issuer=None,
        subject=None,
        admin=False,
        disabled=True,
        erased_ms=now_ms(),
    )
    await d.update_user(tombstone)
    # The event names the pseudonymous id, never the person.
    await operations.audit(d, "user-erased", actor, target=tombstone.label)
    return tombstone


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli"


def _confirmed(args: argparse.Namespace) -> bool:
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise Fail("erasing cannot be undone: give --yes, or run it at a terminal to confirm")
    print(
        f"This erases {args.name}'s name, email and sign-in identity for good; history will "
        "say 'erased user N'. Type the user's name to confirm: ",
        end="",
        file=sys.stderr,
        flush=True,
    )
    return sys.stdin.readline().strip() == args.name


def _erase(args: argparse.Namespace) -> int:
    """Erase a user: their name, email and identity leave the directory, their access ends;
    history keeps verifying, attributed to "erased user N" (asks to confirm)."""
    settings = settings_from(args)
    data_dir(settings, create=bool(settings.mongo_url))

    async def work(d: Directory, store: Store) -> int:
        user = await operations.find_user(d, args.name)
        if user.erased_ms is not None:
            raise Fail(f"{user.name} is already erased")
        if not _confirmed(args):
            raise Fail("not confirmed: nothing was erased")
        tombstone = await erase_user(d, user, _actor())
        print(
            f"erased {args.name}: history now says '{tombstone.display_name}' "
            f"(id {user.id}); entries from before ids were used keep the name",
            file=sys.stderr,
        )
        return 0

    return asyncio.run(_with_both(settings, work))


def configure(user: argparse._SubParsersAction) -> None:
    """Adds `export` and `erase` to `sinopia admin user`."""
    p = command(user, "export", _export, "sinopia admin user export alice > alice.json")
    p.add_argument("name", help="user name, id or email")
    p = command(user, "erase", _erase, "sinopia admin user erase alice")
    p.add_argument("name", help="user name, id or email")
    p.add_argument("--yes", action="store_true", help="do not ask to confirm")
