"""The template every lab host is cloned from (built by scripts/lab-template.sh)."""

from __future__ import annotations

from cutover.lab import lxc
from cutover.lab.paths import PROJECT_ROOT
from cutover.lab.proc import run

SCRIPT = PROJECT_ROOT / "scripts" / "lab-template.sh"


def name() -> str:
    return run([str(SCRIPT), "--print-name"]).stdout.strip()


def is_ready(template: str) -> bool:
    return (lxc.lxcpath() / template / ".cutover-ready").exists()


def ensure() -> str:
    """The template's name, building it first if needed (minutes cold, ~0.1 s warm)."""
    return run([str(SCRIPT)], timeout=1800).stdout.strip().splitlines()[-1]
