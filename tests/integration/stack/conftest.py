"""A small Pulumi project with a Python dynamic resource, in a folder of its own."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cutover.paths import project_root

HERE = Path(__file__).parent


@pytest.fixture
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Own state folder: own backend and passphrase; nothing shared with a real lab."""
    monkeypatch.setenv("CUTOVER_STATE_DIR", str(tmp_path / "state"))
    for var in ("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path / "state"


@pytest.fixture
def marker_project(tmp_path: Path, isolated_state: Path) -> Path:
    work = tmp_path / "project"
    work.mkdir()
    shutil.copy(HERE / "project" / "__main__.py", work / "__main__.py")
    (work / "Pulumi.yaml").write_text(
        "name: cutover-marker\nruntime:\n  name: python\n  options:\n    toolchain: pip\n"
        f"    virtualenv: {project_root() / '.venv'}\n"
    )
    return work
