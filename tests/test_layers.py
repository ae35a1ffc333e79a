"""The layers of DESIGN.md hold: imports point down only, between the packages and inside
server/ (the contracts are in pyproject.toml, checked by import-linter)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).parent / "lint-imports"


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_layer_contract_is_kept() -> None:
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def copy_tree(tmp_path: Path) -> Path:
    for package in ("server", "crdt", "annotations", "iiif"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def test_an_import_up_a_layer_fails_and_is_named(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    # The directory reaching up into the REST API, and crdt into the domain above it.
    with (tree / "server/directory/operations.py").open("a") as f:
        f.write("\nfrom server.api import documents  # noqa\n")
    with (tree / "crdt/names.py").open("a") as f:
        f.write("\nimport annotations.schema  # noqa\n")
    result = lint(tree)
    assert result.returncode != 0
    assert "0 kept, 2 broken" in result.stdout
    assert "server.directory.operations -> server.api.documents" in result.stdout
    assert "crdt.names -> annotations.schema" in result.stdout
