"""The controller-side commands the playbooks run share one boundary (cutovers/_cli.py):
a failure is one JSON object on stdout, the same line on stderr, exit 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

COMMANDS = {
    "dns": ["snapshot", "--run-dir", "{tmp}", "--secret-vars", "{tmp}/none.json"],
    "mail": ["sync-plan", "--run-dir", "{tmp}", "--secret-vars", "{tmp}/none.json"],
    "portal": ["verify"],
    "video": ["verify"],
}


@pytest.mark.parametrize("module", sorted(COMMANDS))
def test_a_failure_has_one_shape_in_every_command(module: str, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-merger"
    args = [a.replace("{tmp}", str(tmp_path)) for a in COMMANDS[module]]
    result = subprocess.run(
        [sys.executable, "-m", f"cutover.cutovers.{module}", args[0],
         "--merger-dir", str(missing), "--env", "lab", *args[1:]],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1, (result.stdout, result.stderr)
    out = json.loads(result.stdout)
    assert out["ok"] is False
    assert str(missing) in out["error"]
    assert result.stderr.strip().splitlines()[-1] == f"error: {out['error']}"
    assert "Traceback" not in result.stderr
