"""Every test gets environment locks of its own: the lock location is one fixed place
per installation (the state dir), which tests must neither share nor leave locked."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _own_locks(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    locks = tmp_path_factory.mktemp("locks")
    monkeypatch.setenv("CUTOVER_LOCK_DIR", str(locks))
    return locks
