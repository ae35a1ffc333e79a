"""The browser client's own unit tests (Vitest, in web-client/test/): the Annotorious <->
Yjs binding both ways, the presence model, the role rules. Run here so the README's one
pytest command runs them too; and the client's generated schema must be what annotations/
exports, so the browser never writes a field name the server does not know."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from annotations.document_schema import typescript

CLIENT = Path(__file__).resolve().parent.parent / "web-client"
GENERATED = CLIENT / "src" / "generated" / "schema.ts"


def _installed() -> None:
    npm = shutil.which("npm")
    assert npm, "Node 20+ and npm are needed for the web client's tests"
    lock = CLIENT / "package-lock.json"
    stamp = CLIENT / "node_modules" / ".package-lock.json"
    # npm ci when the installed packages are missing or older than the lock file.
    if not stamp.exists() or stamp.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=CLIENT, check=True, capture_output=True
        )


def test_generated_schema_is_current() -> None:
    assert GENERATED.read_text() == typescript(), (
        "web-client/src/generated/schema.ts is stale: run `npm run schema` in web-client/"
    )


def test_vitest_unit_tests_pass(tmp_path: Path) -> None:
    _installed()
    report = tmp_path / "vitest.json"
    run = subprocess.run(
        [
            str(CLIENT / "node_modules" / ".bin" / "vitest"),
            "run",
            "--reporter=json",
            f"--outputFile={report}",
        ],
        cwd=CLIENT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert report.exists(), run.stdout + run.stderr
    result = json.loads(report.read_text())
    failed = [
        f"{t['fullName']}: {' '.join(t.get('failureMessages') or [])[:500]}"
        for f in result["testResults"]
        for t in f["assertionResults"]
        if t["status"] != "passed"
    ]
    assert not failed, "\n".join(failed)
    assert result["numPassedTests"] >= 40, result["numPassedTests"]
    assert run.returncode == 0, run.stdout + run.stderr
