"""Fault-injection tests: real conditions (full and read-only filesystems, bad input on a
real lab, a killed engine, a stopped host, a partitioned network), never mocks.
``labkit`` lives in tests/integration; put it on sys.path."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from labfaults import FaultLab

# The host-stopped and partition tests end with the lab rolled back to as-is; the
# kill-and-resume test leaves it merged. They share one lab (bringing a lab up and
# provisioning it is most of the cost), so the kill-and-resume test runs last.
_LAST = "test_kill_resume.py"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    items.sort(key=lambda item: item.path.name == _LAST and item.path.parent == here)


@pytest.fixture(scope="session")
def fault_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultLab]:
    """A generated two-province merger, up, provisioned and verified as-is, shared by the
    fault tests of this folder that ask for it; torn down (containers, bridge) even when
    a test fails."""
    lab = FaultLab(tmp_path_factory.mktemp("faults"))
    try:
        lab.up()
        yield lab
    finally:
        lab.cleanup()
