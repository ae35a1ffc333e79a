"""`sinopia admin ...`: users, workspaces, members, tokens, share links and backups, on the data
directory (`--data-dir` / `SINOPIA_DATA_DIR`) or MongoDB (`SINOPIA_MONGO_URL`), with the
server running or not: a running server sees each change within a second."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from crdt.keyring import open_keyring
from server.access import grants, roles
from server.commands import backup, keys, person
from server.commands.options import add, command, opening
from server.directory import Directory, open_directory, operations
from server.directory.operations import Refused
from server.directory.people import People
from server.settings import Settings

Command = Callable[[argparse.Namespace, Settings, Directory], Awaitable[int]]


def configure(admin: argparse.ArgumentParser) -> None:
    objects = admin.add_subparsers(dest="object", required=True, metavar="OBJECT")

    def group(name: str, help: str, example: str) -> argparse._SubParsersAction:
        parser = add(objects, name, help, example)
        return parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    def action(
        parent: argparse._SubParsersAction, name: str, run: Command, example: str
    ) -> argparse.ArgumentParser:
        return command(parent, name, _sync(run), example)

    user = group("user", "users", "sinopia admin user add alice --email alice@example.org")
    p = action(user, "add", _user_add, "sinopia admin user add alice --admin")
    p.add_argument("name")
    p.add_argument("--email", help="links the user's first OpenID Connect sign-in")
    p.add_argument("--admin", action="store_true", help="an operator of this instance")
    action(user, "list", _user_list, "sinopia admin user list")
    p = action(user, "disable", _user_disable, "sinopia admin user disable alice")
    p.add_argument("name")
    p = action(user, "enable", _user_enable, "sinopia admin user enable alice")
    p.add_argument("name")
    person.configure(user)

    ws = group("workspace", "workspaces", "sinopia admin workspace add my-museum")
    p = action(
        ws, "add", _workspace_add, 'sinopia admin workspace add my-museum --title "My Museum"'
    )
    p.add_argument("workspace")
    p.add_argument("--title", default="")
    action(ws, "list", _workspace_list, "sinopia admin workspace list")
    keys.configure_workspace_delete(ws)
    keys.configure_keys(objects, "the master key that encrypts data at rest")

    member = group("member", "workspace members", "sinopia admin member add my-museum alice lead")
    p = action(member, "add", _member_add, "sinopia admin member add my-museum alice editor")
    p.add_argument("workspace")
    p.add_argument("name", help="user name, id or email")
    p.add_argument("role", choices=roles.ROLES)
    p = action(member, "remove", _member_remove, "sinopia admin member remove my-museum alice")
    p.add_argument("workspace")
    p.add_argument("name")
    p = action(member, "list", _member_list, "sinopia admin member list my-museum")
    p.add_argument("workspace")

    token = group(
        "token", "personal API tokens", "sinopia admin token create alice --workspace my-museum"
    )
    p = action(
        token,
        "create",
        _token_create,
        "TOKEN=$(sinopia admin token create alice --workspace my-museum --expires 30d)",
    )
    p.add_argument("name", help="the user the token acts for")
    p.add_argument(
        "--workspace", action="append", help="only this workspace (repeatable; default: all)"
    )
    p.add_argument("--role", choices=roles.ROLES, help="at most this role")
    p.add_argument("--expires", default="90d", help="e.g. 30d, 12h, never (default 90d)")
    p.add_argument("--label", default="", help="what the token is for")
    p = action(token, "list", _token_list, "sinopia admin token list alice")
    p.add_argument("name")
    p = action(token, "revoke", _token_revoke, "sinopia admin token revoke 3f2a9c0d1e4b5a67")
    p.add_argument("id", help="the token's id, or the token itself")

    share = group(
        "share", "share links", "sinopia admin share create my-museum --subject canvas/folio-12r"
    )
    p = action(
        share,
        "create",
        _share_create,
        "sinopia admin share create my-museum --subject canvas/folio-12r --expires 7d",
    )
    p.add_argument("workspace")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--subject", help="kind/id of one subject")
    target.add_argument("--manifest", help="a manifest's IRI: all its subjects")
    p.add_argument("--expires", default="30d", help="30d, 12h... or never (until revoked)")
    p.add_argument("--label", default="")
    p.add_argument(
        "--origin",
        action="append",
        default=[],
        help="a web origin whose pages may embed it (repeat for more; none: any)",
    )
    p = action(share, "list", _share_list, "sinopia admin share list my-museum")
    p.add_argument("workspace")
    p = action(share, "revoke", _share_revoke, "sinopia admin share revoke s1f2e3")
    p.add_argument("id")

    p = action(
        objects, "login-link", _login_link, "sinopia admin login-link alice --next /w/my-museum"
    )
    p.add_argument("name", help="user name, id or email")
    p.add_argument("--next", default="/", help="the app path to open once signed in (/w/WS...)")
    p.add_argument(
        "--expires",
        help="how long it works if unused, e.g. 15m, 2h (default SINOPIA_LOGIN_LINK_SECONDS)",
    )
    p.add_argument(
        "--server",
        help="the server's URL as people open it (default SINOPIA_PUBLIC_URL, or "
        "http://SINOPIA_HOST:SINOPIA_PORT)",
    )

    backup.configure(objects)

    p = action(objects, "audit", _audit, "sinopia admin audit my-museum --limit 20")
    p.add_argument("workspace", nargs="?", help="default: instance-wide events")
    p.add_argument("--limit", type=int, default=50)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli"


# The directory lives in the data directory (or MongoDB): made on first use, as the
# README's first steps run these commands before the server has ever started.
_sync = opening(
    lambda s: open_directory(s.mongo_url, s.data_dir, open_keyring(s.key_url)), create=True
)


def _when(ms: int | None) -> str:
    if ms is None:
        return "never"
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")


def _done(message: str) -> None:
    # Confirmations go to stderr: stdout carries only what scripts read (a token).
    print(message, file=sys.stderr)


async def _user_add(args: argparse.Namespace, settings: Settings, d: Directory) -> int:
    """Add a local user."""
    user = await operations.add_user(d, args.name, _actor(), email=args.email, admin=args.admin)
    _done(f"added user {user.name}" + (" (administrator)" if user.admin else ""))
    return 0


async def _user_list(args: argparse.Namespace, settings: Settings, d: Directory) -> int:
    """List users."""
    for user in await d.users():
        flags = " ".join(f for f, on in (("admin", user.admin), ("disabled", user.disabled)) if on)
        print(f"{user.name:<24} {user.email or '-':<32} {flags}")
    return 0


async def _user_disable(args: argparse.Namespace, settings: Settings, d: Directory) -> int:
    """Disable a user (closes their sockets)."""
    await operations.set_disabled(d, await operations.find_user(d, args.name), True, _actor())
    _done(f"disabled {args.name}")
    return 0


async def _user_enable(args: argparse.Namespace, settings: Settings, d: Directory) -> int:
    """Enable a disabled user."""
    await operations.set_disabled(d, await operations.find_user(d, args.name), False, _actor())
    _done(f"enabled {args.name}")
    return 0


async def _workspace_add(args: argparse.Namespace, settings: Settings, d: Directory) -> int:
    """Add a workspace."""
    await operations.add_workspace(d, args.workspace, _actor(), args.title)
    _done(f"added workspace {args.workspace}")
    return 0


async def _workspace_list(args: argparse.Namespace, settings: Settings, d: Directory) -> int:
    """List workspaces."""
    for workspace in await d.workspaces():
        print(f"{workspace.name:<32} {workspace.title}")
    return 0


async def _member_add(args: argparse.Namespace, settings: Settings, d: Directory) -> int:
    """Add a member, or change their role."""
    user = await operations.find_user(d, args.name)
    previous = await operations.set_member(d, args.workspace, user, args.role, _actor())
    change = f" (was {previous})" if previous and previous != args.role else ""
    _done(f"{user.name} is {args.role} in {args.workspace}{change}")
    return 0


async def _member_remove(args: argparse.Namespace, settings: Settings, d: Directory) -> int:
    """Remove a member."""
    await operations.remove_member(
        d, args.workspace, await operations.find_user(d, args.name), _actor()
    )
    _done(f"removed {args.name} from {args.workspace}")
    return 0


async def _member_list(args: argparse.Namespace, settings: Settings, d: Directory) -> int:
    """List a workspace's members."""
    await operations.existing_workspace(d, args.workspace)
    for member in await d.members(args.workspace):
        user = await d.user(member.user_id)
        print(f"{user.name if user else member.user_id:<24} {member.role}")
    return 0


async def _token_create(args: argparse.Namespace, settings: Settings, d: Directory) -> int:
    """Create a token; prints it alone on stdout."""
    user = await operations.find_user(d, args.name)
    token, record = await grants.create_token(
        d,
        user,
        _actor(),
        label=args.label,
        workspaces=tuple(args.workspace) if args.workspace else None,
        max_role=args.role,
        expires_seconds=operations.duration_seconds(args.expires),
    )
    # The token alone on stdout (scripts capture it); it is not stored and not shown again.
    print(token)
    _done(f"token {record.id} for {user.name}, expires {_when(record.expires_ms)}")
    return 0


async def _token_list(args: argparse.Namespace, settings: Settings, d: Directory) -> int:
    """List a user's tokens."""
    user = await operations.find_user(d, args.name)
    for t in await d.tokens(user.id):
        state = "revoked" if t.revoked_ms else f"expires {_when(t.expires_ms)}"
        scope = ",".join(t.workspaces) if t.workspaces is not None else "all workspaces"
        print(f"{t.id}  {t.label:<20} {scope:<24} {t.max_role or '-':<9} {state}")
    return 0


async def _token_revoke(args: argparse.Namespace, settings: Settings, d: Directory) -> int:
    """Revoke a token (closes its sockets)."""
    from server.access.tokens import split_api_token

    parts = split_api_token(args.id)
    token_id = parts[0] if parts else args.id
    token = operations.found(await d.token(token_id), f"no token {token_id}")
    await grants.revoke_token(d, token, _actor())
    _done(f"revoked token {token_id}")
    return 0


async def _share_create(args: argparse.Namespace, settings: Settings, d: Directory) -> int:
    """Create a share link; prints its token."""
    from server.access.auth import create_signer

    signer = create_signer(settings)
    seconds = operations.duration_seconds(args.expires)
    token, link = await grants.create_share(
        d,
        signer,
        args.workspace,
        _actor(),
        subject=args.subject,
        manifest=args.manifest,
        label=args.label,
        expires_seconds=seconds,
        origins=args.origin,
    )
    print(token)
    _done(f"share link {link.id}, expires {_when(link.expires_ms)}")
    return 0


async def _share_list(args: argparse.Namespace, settings: Settings, d: Directory) -> int:
    """List a workspace's share links."""
    await operations.existing_workspace(d, args.workspace)
    for link in await d.shares(args.workspace):
        state = "revoked" if link.revoked_ms else f"expires {_when(link.expires_ms)}"
        sites = f"  on {', '.join(link.origins)}" if link.origins else ""
        print(f"{link.id}  {link.subject or link.manifest}  {state}{sites}")
    return 0


async def _share_revoke(args: argparse.Namespace, settings: Settings, d: Directory) -> int:
    """Revoke a share link."""
    link = operations.found(await d.share(args.id), f"no share link {args.id}")
    await grants.revoke_share(d, link, _actor())
    _done(f"revoked share link {args.id}")
    return 0


async def _audit(args: argparse.Namespace, settings: Settings, d: Directory) -> int:
    """Security events, newest first."""
    if args.workspace:
        await operations.existing_workspace(d, args.workspace)
    found = await d.events(args.workspace, limit=args.limit)
    # Actors are pseudonymous labels (user:<id>): shown with the person's name now.
    names = await People(d).labels(label for e in found for label in (e.actor, e.target))
    for e in found:
        detail = json.dumps(e.detail) if e.detail else ""
        actor = f"{names[e.actor]} ({e.actor})" if e.actor in names else e.actor
        target = f"{names[e.target]} ({e.target})" if e.target in names else e.target
        print(f"{_when(e.time_ms)}  {e.action:<20} {actor:<24} {target}  {detail}")
    return 0


async def _login_link(args: argparse.Namespace, settings: Settings, d: Directory) -> int:
    from server.api.account import next_path_of

    user = await operations.find_user(d, args.name)
    seconds = (
        operations.duration_seconds(args.expires) if args.expires else settings.login_link_seconds
    )
    if seconds is None:
        raise Refused(400, "sign-in links always expire")
    next_path = next_path_of(args.next)
    if next_path != args.next:
        raise Refused(
            400, f"--next must be a path on this server such as /w/my-museum, not {args.next!r}"
        )
    secret = await grants.create_login_link(d, user, _actor(), expires_seconds=seconds)
    # The link alone on stdout (scripts capture it); it works once.
    print(grants.login_link_url(args.server or settings.own_url, secret, next_path))
    minutes = seconds / 60
    _done(
        f"a sign-in link for {user.name}: it works once, within "
        + (f"{minutes:g} minutes" if minutes < 120 else f"{minutes / 60:g} hours")
        + (
            " (--server URL, or SINOPIA_PUBLIC_URL, if people reach the server elsewhere)"
            if not (settings.public_url or args.server)
            else ""
        )
    )
    return 0
