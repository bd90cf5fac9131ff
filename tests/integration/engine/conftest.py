"""Helpers for engine tests: plans over tiny real playbooks, and a side-effect log.

Every forward, verify and rollback action appends "<step> <action>" to ``log`` in the
test's tmp dir, so tests count exactly what ran, in which order.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PLAYBOOKS = Path(__file__).parent / "playbooks"


class Lab:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.runs = root / "runs"

    def plan(self, steps: str, *, header: str = "", name: str = "plan.yml") -> Path:
        text = (
            f"name: test-plan\nplaybook_dir: {PLAYBOOKS}\n"
            "defaults: {owner: Tester, approver: Lead}\n"
            f"vars: {{counter_dir: '{self.root}'}}\n"
            + textwrap.dedent(header)
            + "steps:\n"
            + textwrap.indent(textwrap.dedent(steps), "  ")
        )
        path = self.root / name
        path.write_text(text, encoding="utf-8")
        return path

    def log(self) -> list[str]:
        path = self.root / "log"
        return path.read_text().split("\n")[:-1] if path.exists() else []

    def count(self, line: str) -> int:
        return self.log().count(line)

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        env["CUTOVER_RUNS_DIR"] = str(self.runs)
        env.update(extra)
        return env

    def cli(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cutover.cli", *args],
            capture_output=True,
            text=True,
            env=self.env(**env),
            cwd=self.root,
            check=False,
            timeout=600,
        )

    def spawn(self, *args: str, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "cutover.cli", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env(**env),
            cwd=self.root,
        )


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return Lab(tmp_path)
