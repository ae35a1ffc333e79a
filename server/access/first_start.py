"""The first start of an empty data directory: with no identity provider and no users,
nobody could sign in, so the server makes an administrator and prints a one-time link
that signs them in (as Jupyter prints its token URL), and how to make tokens."""

from __future__ import annotations

from server.access import grants
from server.directory import Directory, operations
from server.directory.operations import Refused
from server.settings import Settings

ADMIN = "admin"
DEFAULT_URL = "http://127.0.0.1:8080"

MESSAGE = """\

Sinopia: this data directory had no users, so an administrator, "{user}", was made.
Open this link in your browser to sign in (it works once, within {minutes}):

    {url}

A new link at any time (with the server running or not):

    sinopia admin login-link {user}{dir}{server}

Tokens for scripts and other Yjs clients:

    sinopia admin workspace add my-museum{dir}
    sinopia admin token create {user} --workspace my-museum{dir}

then e.g. ws://{host}:{port}/collab/my-museum/canvas/folio-12r?token=...
"""


async def welcome(settings: Settings, directory: Directory) -> str | None:
    """On an empty directory: the administrator made and the message to print; None if
    there are users already (or another instance starting at once made them)."""
    if await directory.users():
        return None
    try:
        user = await operations.add_user(directory, ADMIN, "system", admin=True)
    except Refused:
        return None
    seconds = settings.login_link_seconds
    secret = await grants.create_login_link(directory, user, "system", expires_seconds=seconds)
    default_dir = str(settings.data_dir) in ("data", "./data")
    minutes = seconds / 60
    return MESSAGE.format(
        user=user.name,
        url=grants.login_link_url(settings.own_url, secret),
        minutes=f"{minutes:g} minutes" if minutes < 120 else f"{minutes / 60:g} hours",
        dir="" if default_dir else f" --data-dir {settings.data_dir}",
        server="" if settings.own_url == DEFAULT_URL else f" --server {settings.own_url}",
        host=settings.host,
        port=settings.port,
    )
