"""The build hook: `pip install .` and `pip install -e .` build the browser app.

Metadata is in pyproject.toml; this file only adds one step to setuptools' `build_py`:
`npm ci` and `npm run build` in web-client/, which writes the built app into
server/webapp/dist/ (package data, served by `sinopia serve`). It runs at install, never
at request time, the way JupyterLab extensions build their front end.

SINOPIA_SKIP_WEB_BUILD=1 skips it (Python-only work; `sinopia serve` then answers the
app's pages with a page saying how to build it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
CLIENT = ROOT / "web-client"
DIST = ROOT / "server" / "webapp" / "dist"
# Vite 8 needs Node 20.19 or later; package.json's `engines` may raise this.
MINIMUM_NODE = (20, 19)


class WebBuildError(SystemExit):
    """Stops the install with a message saying what to do (pip shows it)."""

    def __init__(self, message: str) -> None:
        super().__init__(f"\nsinopia: cannot build the browser app (web-client/).\n{message}\n")


def _minimum_node() -> tuple[int, int]:
    try:
        engines = json.loads((CLIENT / "package.json").read_text())["engines"]["node"]
    except (OSError, ValueError, KeyError, TypeError):
        return MINIMUM_NODE
    found = re.fullmatch(r"\s*>=\s*(\d+)(?:\.(\d+))?.*", str(engines))
    if not found:
        return MINIMUM_NODE
    return max(MINIMUM_NODE, (int(found.group(1)), int(found.group(2) or 0)))


def _check_node() -> str:
    """The npm to run, after checking Node is there and new enough."""
    skip = "Or set SINOPIA_SKIP_WEB_BUILD=1 to install the Python package alone."
    need = ".".join(map(str, _minimum_node()))
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing = "Node.js" if node is None else "npm"
        raise WebBuildError(
            f"{missing} was not found on PATH. Install Node.js {need} or later (with npm), "
            f"e.g. from https://nodejs.org or your system's packages, then install again.\n" + skip
        )
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    found = re.fullmatch(r"v?(\d+)\.(\d+)\.\d+.*", version)
    if found is None or (int(found.group(1)), int(found.group(2))) < _minimum_node():
        raise WebBuildError(
            f"Node.js {need} or later is needed; {node} is {version or 'of unknown version'}. "
            "Install a newer Node.js, then install again.\n" + skip
        )
    return npm


def _installed_packages_current() -> bool:
    # npm ci removes and reinstalls node_modules each time: skip it when what is installed
    # is newer than the lock file (npm writes node_modules/.package-lock.json last).
    stamp = CLIENT / "node_modules" / ".package-lock.json"
    lock = CLIENT / "package-lock.json"
    return stamp.exists() and stamp.stat().st_mtime >= lock.stat().st_mtime


def _run(command: list[str]) -> None:
    print(f"sinopia: {' '.join(command[1:])} (in web-client/)", file=sys.stderr, flush=True)
    # The client's schema step runs `python -m annotations.document_schema`; the Python
    # installing us may not have our dependencies yet, and then the committed copy is used.
    env = {**os.environ, "PYTHON": os.environ.get("PYTHON", sys.executable)}
    done = subprocess.run(command, cwd=CLIENT, env=env)
    if done.returncode != 0:
        raise WebBuildError(
            f"`{' '.join(command[1:])}` failed (exit {done.returncode}); its output is above."
        )


def build_web_client() -> None:
    if os.environ.get("SINOPIA_SKIP_WEB_BUILD", "").strip().lower() in ("1", "true", "yes"):
        print("sinopia: SINOPIA_SKIP_WEB_BUILD is set: the browser app is not built", flush=True)
        return
    if not (CLIENT / "package.json").exists():
        raise WebBuildError(f"{CLIENT / 'package.json'} is missing.")
    npm = _check_node()
    if not _installed_packages_current():
        _run([npm, "ci", "--no-audit", "--no-fund"])
    _run([npm, "run", "build"])
    if not (DIST / "index.html").exists():
        raise WebBuildError(f"the build finished but wrote no {DIST / 'index.html'}.")


class BuildPy(build_py):
    """setuptools' build_py, with the browser app built first (so that its files are
    there when the package data is collected; editable installs serve them in place)."""

    def run(self) -> None:
        build_web_client()
        super().run()


if __name__ == "__main__":  # setuptools runs this file as __main__; tests import it
    setup(cmdclass={"build_py": BuildPy})
