"""Where the lab keeps its state: under the project's state folder (git-ignored)."""

from __future__ import annotations

from pathlib import Path

from cutover.paths import project_root, state_dir

PROJECT_ROOT = project_root()

__all__ = ["PROJECT_ROOT", "lab_dir", "state_dir"]


def lab_dir(lab: str) -> Path:
    """One lab's key pair, known_hosts and exported Ansible inventory."""
    return state_dir() / "labs" / lab
