"""`sinopia admin key ...` (the master key of encryption at rest) and `sinopia admin
workspace delete` (crypto-shredding): the commands that hold or destroy keys."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from pathlib import Path

from crdt import keyfiles
from crdt.keyring import Keyring, open_keyring, rotate
from crdt.keys import file as keyfile
from crdt.keys import open_master_key
from crdt.spool import rewrap_spool
from crdt.stores import open_store
from server.commands.errors import USAGE, Fail
from server.commands.options import command, data_dir, settings_from
from server.directory import open_directory, operations


def configure_keys(objects: argparse._SubParsersAction, group_help: str) -> None:
    """The `key` group of `sinopia admin`."""
    from server.commands.options import add

    parser = add(objects, "key", group_help, "sinopia admin key create /etc/sinopia/master.key")
    keys = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = command(
        keys, "create", _create, "sinopia admin key create /etc/sinopia/master.key", storage=False
    )
    p.add_argument("file", type=Path, help="where to write the new key (never overwritten)")
    p = command(
        keys,
        "rotate",
        _rotate,
        "SINOPIA_KEY_URL=file:///etc/sinopia/old.key sinopia admin key rotate /etc/sinopia/new.key",
    )
    p.add_argument("file", type=Path, help="the new master key (sinopia admin key create)")
    command(
        keys,
        "encrypt",
        _encrypt,
        "SINOPIA_KEY_URL=file:///etc/sinopia/master.key sinopia admin key encrypt",
    )


def configure_workspace_delete(workspaces: argparse._SubParsersAction) -> None:
    p = command(workspaces, "delete", _workspace_delete, "sinopia admin workspace delete old-ws")
    p.add_argument("workspace")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def _interactive() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError, OSError):  # closed or replaced
        return False


def _create(args: argparse.Namespace) -> int:
    """Make a new master key file (mode 0600; an existing file is never overwritten)."""
    path: Path = args.file.absolute()
    try:
        key = keyfile.create(path)
    except FileExistsError:
        raise Fail(
            f"{path} exists: a key file is never overwritten (choose another name)"
        ) from None
    print(key.key_id)
    print(
        f"made master key {key.key_id} in {path}; use it with SINOPIA_KEY_URL=file://{path} "
        "and keep a copy apart from the backups: without it the data cannot be read",
        file=sys.stderr,
    )
    return 0


def _rotate(args: argparse.Namespace) -> int:
    """Rewrap every data key under a new master key (no data is rewritten).

    The current key is SINOPIA_KEY_URL's. Stop the servers first (or restart them with
    the new key right after): a data key a server makes meanwhile under the old key is
    rewrapped by running the command again."""
    settings = settings_from(args)
    if not settings.key_url:
        raise Fail("set SINOPIA_KEY_URL to the current master key: it opens the data keys", USAGE)
    path = data_dir(settings, create=bool(settings.mongo_url))
    old = open_master_key(settings.key_url)
    new = keyfile.load(args.file.absolute())
    if new.key_id == old.key_id:
        raise Fail(f"{args.file} is the current key ({old.key_id}): make a new one first")
    # Opens keys wrapped by either (a rotation run again after an interruption).
    keyring = Keyring(new, retired=[old])

    async def main() -> int:
        done = 0
        store = open_store(settings.store_location, settings.data_dir, keyring)
        await store.open()
        try:
            rewrapped = rotate(keyring, await store.data_keys())
            await store.put_data_keys(rewrapped)
            done += len(rewrapped)
        finally:
            await store.close()
        directory = open_directory(settings.mongo_url, settings.data_dir, keyring)
        await directory.open()
        try:
            rewrapped = rotate(keyring, await directory.data_keys())  # type: ignore[attr-defined]
            await directory.put_data_keys(rewrapped)  # type: ignore[attr-defined]
            done += len(rewrapped)
        finally:
            await directory.close()
        spool = path / "spool.db"
        if spool.exists():
            done += await asyncio.to_thread(rewrap_spool, spool, keyring)
        # The seal and session signing keys are wrapped by the master key too.
        for key_file in (settings.seal_key_file, settings.auth_key_file):
            done += keyfiles.rewrap(key_file, keyring)
        return done

    done = asyncio.run(main())
    print(
        f"rewrapped {done} keys (data keys and signing key files): from {old.key_id} to "
        f"{new.key_id}; now set "
        f"SINOPIA_KEY_URL=file://{args.file.absolute()} and restart; {old.key_id} opens "
        "nothing any more",
        file=sys.stderr,
    )
    return 0


def _encrypt(args: argparse.Namespace) -> int:
    """Encrypt a data directory written without a key, in place, with SINOPIA_KEY_URL's
    key (stop the servers first); from then on it needs that key.

    SQLite files are rewritten without the plaintext. MongoDB may keep old copies in its
    own files until it compacts them: to be sure, restore a backup into a new database
    after."""
    settings = settings_from(args)
    if not settings.key_url:
        raise Fail("set SINOPIA_KEY_URL to the key to encrypt with", USAGE)
    path = data_dir(settings, create=False)
    keyring = Keyring(open_master_key(settings.key_url))

    async def main() -> int:
        if (path / "spool.db").exists():
            import sqlite3

            with sqlite3.connect(path / "spool.db") as db:
                (waiting,) = db.execute("SELECT COUNT(*) FROM spool").fetchone()
            if waiting:
                raise Fail(
                    f"{waiting} updates are still spooled: start the server once so "
                    "they reach the store, then stop it and encrypt"
                )
        store = open_store(settings.store_location, settings.data_dir)
        await store.open()
        try:
            done = await store.encrypt_existing(keyring)
        finally:
            await store.close()
        # Opening the directory with the key seals its users and sessions.
        directory = open_directory(settings.mongo_url, settings.data_dir, keyring)
        await directory.open()
        await directory.close()
        for key_file in (settings.seal_key_file, settings.auth_key_file):
            keyfiles.rewrap(key_file, keyring)  # the signing keys get wrapped too
        return done

    done = asyncio.run(main())
    print(
        f"encrypted {done} records with master key {keyring.master_id}; from now on start "
        f"with SINOPIA_KEY_URL={settings.key_url}",
        file=sys.stderr,
    )
    return 0


def _workspace_delete(args: argparse.Namespace) -> int:
    """Delete a workspace for good: its documents, history, members and share links,
    and its data key (crypto-shredding: no copy of its data can be read again).

    Prefer the API (DELETE /api/workspaces/WS) while a server runs: it closes the
    workspace's sockets and flushes its rooms first."""
    settings = settings_from(args)
    data_dir(settings, create=False)
    name = args.workspace
    if not args.yes:
        if not _interactive():
            raise Fail("give --yes to delete without a terminal to confirm on", USAGE)
        print(
            f"This destroys workspace {name} and its whole history for good; no backup "
            "can bring it back.",
            file=sys.stderr,
        )
        typed = input(f"Type {name} to delete it: ").strip()
        if typed != name:
            raise Fail("not deleted: the name did not match")
    keyring = open_keyring(settings.key_url)
    try:
        actor = f"cli:{getpass.getuser()}"
    except Exception:
        actor = "cli"

    async def main() -> int:
        directory = open_directory(settings.mongo_url, settings.data_dir, keyring)
        await directory.open()
        try:
            await operations.remove_workspace(directory, name, actor)
        finally:
            await directory.close()
        store = open_store(settings.store_location, settings.data_dir, keyring)
        await store.open()
        try:
            return len(await store.delete_workspace(name))
        finally:
            await store.close()

    removed = asyncio.run(main())
    print(f"deleted workspace {name}: {removed} documents and their data key", file=sys.stderr)
    return 0
