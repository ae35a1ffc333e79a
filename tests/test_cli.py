"""One command line: options after the subcommand (and before it), an example in every
--help, and every error one line `sinopia: error: ...` with a non-zero exit, never a
traceback."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.cli import main, parser

from .conftest import ROOT


def sinopia(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


def one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> str:
    """The command failed, said so in one line, and the line says each of `words`."""
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sinopia: error: "), result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A data directory with a workspace, a user and one stored document."""
    d = tmp_path / "data"
    assert sinopia("admin", "workspace", "add", "museum", "--data-dir", str(d)).returncode == 0
    assert sinopia("admin", "user", "add", "alice", "--data-dir", str(d)).returncode == 0
    manifest = ROOT / "tests/fixtures/iiif/p3_book_of_hours.json"
    imported = sinopia("iiif", "import", "museum", str(manifest), "--data-dir", str(d))
    assert imported.returncode == 0, imported.stderr
    return d


# ------------------------------------------------------------------ options and --help


def test_storage_options_go_after_the_subcommand_and_before_it(data: Path) -> None:
    d = str(data)
    for argv in (
        ["history", "verify", "--data-dir", d],
        ["history", "--data-dir", d, "verify"],
        ["--data-dir", d, "history", "verify"],
        ["admin", "user", "list", "--data-dir", d],
        ["admin", "--data-dir", d, "user", "list"],
        ["--data-dir", d, "admin", "user", "list"],
    ):
        result = sinopia(*argv)
        assert result.returncode == 0, (argv, result.stderr)
        assert ("verified" in result.stdout) or ("alice" in result.stdout), argv
    # The store URL goes after the subcommand too, and wins over the data directory's.
    elsewhere = sinopia("history", "verify", "--data-dir", d, "--store-url", "sqlite:///nowhere.db")
    one_line_error(elsewhere, "nothing stored")


def _subcommands(p: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple]:
    yield path
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _subcommands(sub, (*path, name))


def test_every_help_shows_an_example() -> None:
    commands = list(_subcommands(parser()))
    assert ("admin", "token", "create") in commands and ("history", "verify") in commands
    for path in commands:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exited:
            main([*path, "--help"])
        assert exited.value.code == 0
        text = out.getvalue()
        assert "sinopia " in text.partition("\nexamples:\n  ")[2], (path, text)


def test_usage_errors_are_one_line_naming_the_help() -> None:
    line = one_line_error(sinopia("admin", "user", "add"), "name", "sinopia admin user add --help")
    assert line.endswith("--help)")
    one_line_error(sinopia("history", "frobnicate"), "invalid choice")
    assert sinopia("admin", "token", "create", "x", "--role", "boss").returncode == 2


# ------------------------------------------------------------------ the data directory


def test_a_data_directory_that_is_a_file(tmp_path: Path) -> None:
    file = tmp_path / "data"
    file.write_text("not a directory")
    for argv in (
        ["admin", "user", "add", "alice"],
        ["history", "verify"],
        ["iiif", "import", "museum", "manifest.json"],
        ["serve"],
    ):
        one_line_error(sinopia(*argv, "--data-dir", str(file)), "is a file, not a directory")


def test_a_missing_data_directory_for_history(tmp_path: Path) -> None:
    missing = tmp_path / "typo"
    one_line_error(sinopia("history", "verify", "--data-dir", str(missing)), "no data directory")
    assert not missing.exists()  # reading history makes nothing


def test_an_unreadable_data_directory(tmp_path: Path) -> None:
    # Root reads everything, so the command runs as `nobody` in a forked copy of this
    # process (its modules already loaded: wherever the checkout is, nobody need read it).
    parent = Path(tempfile.mkdtemp(prefix="sinopia-cli-"))
    try:
        parent.chmod(0o755)
        locked = parent / "data"
        locked.mkdir(mode=0o700)
        code, said = _as_nobody(["admin", "user", "list", "--data-dir", str(locked)])
        assert code == 1, said
        assert said.strip().splitlines() == [
            f"sinopia: error: cannot read and write the data directory {locked}: permission denied"
        ]
    finally:
        for path in sorted(parent.rglob("*"), reverse=True):
            path.rmdir()
        parent.rmdir()


def _as_nobody(argv: list[str]) -> tuple[int, str]:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read)
            os.dup2(write, 2)
            sys.stderr = os.fdopen(2, "w", closefd=False)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            code = main(argv)
            sys.stderr.flush()
        finally:
            os._exit(locals().get("code", 99))
    os.close(write)
    with os.fdopen(read) as f:
        said = f.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), said


# ------------------------------------------------------------------ databases


def test_a_locked_database(data: Path) -> None:
    for file, argv in (
        ("directory.db", ["admin", "user", "add", "bob"]),
        ("sinopia.db", ["history", "name", "museum/canvas/x", "v1"]),
    ):
        holder = sqlite3.connect(data / file, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            result = sinopia(*argv, "--data-dir", str(data), SINOPIA_SQLITE_BUSY_SECONDS="0.5")
            one_line_error(result, file, "locked", "another process")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    # Once the lock is gone, the same command works: nothing was left half done.
    assert sinopia("admin", "user", "add", "bob", "--data-dir", str(data)).returncode == 0


def test_a_corrupt_database(data: Path) -> None:
    (data / "directory.db").write_bytes(b"this is not SQLite" * 100)
    for name in ("directory.db-wal", "directory.db-shm"):
        (data / name).unlink(missing_ok=True)
    one_line_error(
        sinopia("admin", "user", "list", "--data-dir", str(data)),
        "directory.db",
        "damaged or not a Sinopia database",
        "backup",
    )


# ------------------------------------------------------------------ unknown things


def test_unknown_workspace_user_and_document(data: Path) -> None:
    d = ("--data-dir", str(data))
    one_line_error(sinopia("admin", "member", "list", "nowhere", *d), "no such workspace: nowhere")
    one_line_error(sinopia("admin", "share", "list", "nowhere", *d), "no such workspace")
    one_line_error(sinopia("admin", "member", "add", "museum", "zoe", "editor", *d), "no user")
    one_line_error(sinopia("admin", "token", "create", "zoe", *d), "no user 'zoe'")
    one_line_error(sinopia("iiif", "import", "nowhere", "m.json", *d), "no workspace 'nowhere'")
    one_line_error(sinopia("history", "list", "museum/canvas/nothing", *d), "has no history")
    one_line_error(sinopia("history", "show", "museum/canvas/nothing", *d), "has no history")
    one_line_error(sinopia("history", "list", "not-a-document", *d), "not-a-document")
    one_line_error(sinopia("history", "verify", "elsewhere", *d), "nothing stored")


# ------------------------------------------------------------------ bad URLs


def test_bad_urls(data: Path) -> None:
    d = ("--data-dir", str(data))
    one_line_error(
        sinopia("history", "verify", "--store-url", "postgres://db/x", *d),
        "no store for 'postgres://db/x'",
        "sqlite:",
    )
    # A malformed MongoDB URL is named without its password.
    line = one_line_error(
        sinopia("admin", "user", "list", "--mongo-url", "mongodb://u:secret@db:99999/x"),
        "MongoDB URL",
        "Port must be",
    )
    assert "secret" not in line
    one_line_error(
        sinopia(
            "history",
            "restore",
            "museum/canvas/x",
            "v1",
            "--server",
            "http://127.0.0.1:9",
            "--token",
            "snp_x_y",
        ),
        "cannot reach http://127.0.0.1:9",
    )
    one_line_error(sinopia("admin", "user", "list", *d, SINOPIA_PORT="eighty"), "port")
