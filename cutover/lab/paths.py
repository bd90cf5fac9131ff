"""Where the lab keeps its state: ``.state/`` in the project root (git-ignored)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def state_dir() -> Path:
    """``$CUTOVER_STATE_DIR`` or ``<project>/.state``; made private on first use."""
    path = Path(os.environ.get("CUTOVER_STATE_DIR") or PROJECT_ROOT / ".state")
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def lab_dir(lab: str) -> Path:
    """One lab's key pair, known_hosts and exported Ansible inventory."""
    return state_dir() / "labs" / lab
