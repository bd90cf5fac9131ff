"""Fault-injection tests: real conditions (full and read-only filesystems, bad input on a
real lab, a killed engine, a stopped host, a partitioned network), never mocks.
``labkit`` lives in tests/integration; put it, and this folder's helpers, on sys.path
(this folder is a package so that its shared lab is torn down when its tests end)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))
sys.path.insert(0, str(HERE))

from labfaults import FaultLab  # noqa: E402

# The host-stopped and partition tests end with the lab rolled back to as-is; the
# kill-and-resume test leaves it merged. They share one lab (bringing a lab up and
# provisioning it is most of the cost), so the kill-and-resume test runs last of this
# folder's tests (not of the session: the lab goes down as soon as they end).
_LAST = "test_kill_resume.py"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    ours = [i for i, item in enumerate(items) if item.path.parent == HERE]
    if not ours:
        return
    first, last = ours[0], ours[-1]

    def rank(indexed: tuple[int, pytest.Item]) -> int:
        i, item = indexed
        if i < first:
            return 0
        if i > last:
            return 3
        return 2 if item.path.name == _LAST else 1

    items[:] = [item for _, item in sorted(enumerate(items), key=rank)]


@pytest.fixture(scope="package")
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


@pytest.fixture(autouse=True)
def _fault_lab_state(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The probes and the accounting run in this process and read the lab's secrets
    from ``$CUTOVER_STATE_DIR``: point it at the shared lab's state for each test that
    uses the lab (and restore it after), whatever other test modules set."""
    if "fault_lab" in request.fixturenames:
        lab: FaultLab = request.getfixturevalue("fault_lab")
        monkeypatch.setenv("CUTOVER_STATE_DIR", lab.kit.env["CUTOVER_STATE_DIR"])
