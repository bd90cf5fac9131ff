"""One lock per merger environment at one fixed place; broken only under its flock, with
the reason journaled in the abandoned run; in production only knowingly."""

from __future__ import annotations

import fcntl
from pathlib import Path

import pytest

from cutover import cli
from cutover.engine.lock import EnvLock, break_lock, lock_path, read_lock
from cutover.errors import EngineError
from cutover.journal import Journal

pytestmark = pytest.mark.security


def crashed_run(runs: Path, run_id: str, name: str) -> None:
    """A run that took the lock and died (its flock gone, its content left)."""
    Journal.create(runs / run_id, {"run_id": run_id, "env": "production"}).close()
    lock = EnvLock(name)
    lock.acquire(run_id, runs / run_id)
    lock.release(finished=False)


def test_two_runs_folders_share_one_lock(tmp_path: Path) -> None:
    crashed_run(tmp_path / "alice" / "runs", "r1", "m.production")
    with pytest.raises(EngineError, match="held by unfinished run r1"):
        EnvLock("m.production").acquire("r2", tmp_path / "bob" / "runs" / "r2")


def test_a_lock_whose_run_is_missing_is_not_taken_over(tmp_path: Path) -> None:
    crashed_run(tmp_path / "runs", "r1", "m.staging")
    (tmp_path / "runs" / "r1" / "journal.sqlite").rename(tmp_path / "moved.sqlite")
    with pytest.raises(EngineError, match="its journal is not in"):
        EnvLock("m.staging").acquire("r2", tmp_path / "runs" / "r2")


def test_breaking_needs_a_reason_and_journals_it(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    crashed_run(runs, "r1", "m.staging")
    with pytest.raises(EngineError, match="needs a reason"):
        break_lock("m.staging", env="staging", reason=None, state=None)
    freed = break_lock("m.staging", env="staging", reason="host replaced", state=None)
    assert freed is not None and freed["run"] == "r1"
    assert read_lock("m.staging") is None
    journal = Journal.open(runs / "r1", read_only=True)
    abandoned = journal.events(kind="run.abandoned")
    journal.close()
    assert [e.data["reason"] for e in abandoned] == ["host replaced"]
    assert abandoned[0].data["state"] == "created" and abandoned[0].data["by"]


def test_breaking_is_refused_while_the_flock_is_held(tmp_path: Path) -> None:
    crashed_run(tmp_path / "runs", "r1", "m.staging")
    with lock_path("m.staging").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a process executing the run
        with pytest.raises(EngineError, match="is in use"):
            break_lock("m.staging", env="staging", reason="x", state=None)
    assert read_lock("m.staging") is not None


def test_production_needs_the_reason_and_the_state_as_it_is(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    crashed_run(runs, "r1", "m.production")
    for reason, state in ((None, None), ("why", None), ("why", "rolled_back")):
        with pytest.raises(EngineError, match="freed only with the reason and that state"):
            break_lock("m.production", env="production", reason=reason, state=state)
    assert read_lock("m.production") is not None
    args = ["unlock", "production", "--merger", "m", "--force"]
    assert cli.main([*args, "--reason", "why", "--state", "created"]) == 0
    assert read_lock("m.production") is None
