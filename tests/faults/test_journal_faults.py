"""A full or read-only journal: the engine refuses to act rather than act unrecorded.

Real conditions only: a small tmpfs filled to ENOSPC, and a bind mount remounted
read-only (the tests run as root, for whom chmod changes nothing). Every step's action
appends "<step> <action>" to a log *outside* those filesystems, so the tests see exactly
which actions ran. Then space comes back (or the mount turns writable) and
`cutover resume` finishes the run, each action exactly once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from mounts import bind, fill, read_only, tmpfs

from cutover.journal import MIN_FREE_BYTES, Journal, JournalError

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = ROOT / "tests/integration/engine/playbooks"
# room for the guard (MIN_FREE_BYTES) plus a few small runs
SIZE_MIB = MIN_FREE_BYTES // (1 << 20) + 8

# `first` logs like the playbook does, without Ansible's seconds per run on a busy
# machine; `second` is a real playbook step (its log line is the marker that it ran).
# `runaway` stands for anything that fills the disk mid-run (a log, a dump): the first
# time it runs it writes until ENOSPC; its flag file (outside the tmpfs) makes it one-shot.
PLAN = """\
name: fault-plan
playbook_dir: {playbooks}
defaults: {{owner: Tester, approver: Lead}}
vars: {{counter_dir: '{log_dir}'}}
steps:
  - id: first
    kind: check
    probes:
      - command: [sh, -c, "echo first action >> {log_dir}/log"]
  - id: runaway
    kind: check
    needs: [first]
    probes:
      - command: [sh, -c, "if [ -e {flag} ]; then rm {flag}; cat /dev/zero > {ballast}; fi; true"]
  - id: second
    kind: playbook
    needs: [runaway]
    playbook: count.yml
    rollback: count.yml
"""


class Bench:
    """One test's plan, log and runs folder (on whatever filesystem the test mounts)."""

    def __init__(self, tmp: Path, runs: Path) -> None:
        self.tmp = tmp
        self.runs = runs
        self.flag = tmp / "runaway.flag"
        self.plan = tmp / "plan.yml"
        self.plan.write_text(
            PLAN.format(playbooks=PLAYBOOKS, log_dir=tmp, flag=self.flag, ballast=runs / "ballast"),
            encoding="utf-8",
        )

    def log(self) -> list[str]:
        path = self.tmp / "log"
        return path.read_text().splitlines() if path.exists() else []

    def cli(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        environ = dict(os.environ, CUTOVER_RUNS_DIR=str(self.runs), **env)
        environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environ['PATH']}"
        return subprocess.run(
            [sys.executable, "-m", "cutover.cli", *args],
            capture_output=True,
            text=True,
            env=environ,
            cwd=self.tmp,
            check=False,
            timeout=300,
        )

    def run(self, **env: str) -> subprocess.CompletedProcess[str]:
        return self.cli("run", str(self.plan), "--env", "lab", "--run-id", "r", **env)

    def states(self) -> tuple[str, dict[str, str]]:
        journal = Journal.open(self.runs / "r")
        try:
            return journal.state(), {s: r.state for s, r in journal.steps().items()}
        finally:
            journal.close()


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The run failed (exit 1, the project's code for a failed operation) with exactly one
    line on stderr and no traceback; returns that line."""
    assert result.returncode == 1, (result.returncode, result.stderr, result.stdout[-2000:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.fixture
def full_runs(tmp_path: Path) -> Iterator[Bench]:
    with tmpfs(tmp_path / "runs", SIZE_MIB) as runs:
        yield Bench(tmp_path, runs)


@pytest.fixture
def ro_runs(tmp_path: Path) -> Iterator[Bench]:
    with bind(tmp_path / "runs-backing", tmp_path / "runs") as runs:
        yield Bench(tmp_path, runs)


def test_full_filesystem_before_the_start_runs_nothing(full_runs: Bench) -> None:
    ballast = fill(full_runs.runs)
    line = one_line_error(full_runs.run())
    assert str(full_runs.runs / "r" / "journal.sqlite") in line
    assert "free space" in line and "start the run again" in line
    assert full_runs.log() == []  # no action ran
    assert not (full_runs.runs / "r").exists()  # no half-made run left for `history`
    ballast.unlink()  # (that a run then works is the next test's resume)


def test_filesystem_filling_mid_run_stops_before_the_next_step_then_resumes(
    full_runs: Bench,
) -> None:
    full_runs.flag.touch()
    line = one_line_error(full_runs.run())
    journal = full_runs.runs / "r" / "journal.sqlite"
    assert f"cannot write journal {journal}" in line
    assert "free space" in line and "`cutover resume r`" in line
    # the step after the one that could not be journaled never started
    assert full_runs.log() == ["first action"]
    state, steps = full_runs.states()
    assert state == "running" and steps == {"first": "succeeded", "runaway": "running"}

    # while the disk is still full, resume refuses too, before doing anything
    refused = one_line_error(full_runs.cli("resume", "r"))
    assert str(journal) in refused and "free space" in refused
    assert full_runs.log() == ["first action"]

    (full_runs.runs / "ballast").unlink()
    resumed = full_runs.cli("resume", "r")
    assert resumed.returncode == 0, resumed.stderr
    assert full_runs.log() == ["first action", "second action"]  # each exactly once
    assert full_runs.states() == (
        "succeeded",
        dict.fromkeys(("first", "runaway", "second"), "succeeded"),
    )


def test_read_only_runs_folder_before_the_start_runs_nothing(ro_runs: Bench) -> None:
    read_only(ro_runs.runs)
    line = one_line_error(ro_runs.run())
    assert str(ro_runs.runs / "r" / "journal.sqlite") in line
    assert "not writable" in line and "make" in line and "writable" in line
    assert ro_runs.log() == []


def test_journal_turning_read_only_after_a_crash_blocks_resume_until_writable(
    ro_runs: Bench,
) -> None:
    crashed = ro_runs.run(CUTOVER_TEST_KILL_AT="first:succeeded")
    assert crashed.returncode == -9, crashed.stderr
    assert ro_runs.log() == ["first action"]

    read_only(ro_runs.runs)
    line = one_line_error(ro_runs.cli("resume", "r"))
    assert str(ro_runs.runs / "r" / "journal.sqlite") in line
    assert "writable" in line and "`cutover resume r`" in line
    assert ro_runs.log() == ["first action"]  # nothing acted while it could not record

    read_only(ro_runs.runs, on=False)
    resumed = ro_runs.cli("resume", "r")
    assert resumed.returncode == 0, resumed.stderr
    assert ro_runs.log() == ["first action", "second action"]


def test_journal_append_on_a_full_filesystem_is_a_journal_error(tmp_path: Path) -> None:
    """The journal layer itself, below the engine's free-space guard: SQLite's own
    "disk is full" becomes one JournalError naming the file, and the journal stays
    usable once there is room."""
    with tmpfs(tmp_path / "runs", 4) as runs:
        # not Journal.create: its guard would refuse a 4 MiB filesystem up front
        (runs / "j").mkdir()
        journal = Journal(runs / "j")
        try:
            journal.append("run.created", run_id="j")
            ballast = fill(runs)
            for _ in range(3):  # not once: a failed COMMIT must not wedge the connection
                with pytest.raises(JournalError) as caught:
                    journal.append("note", None, text="x" * 10_000)
                assert str(runs / "j" / "journal.sqlite") in caught.value.one_line()
                assert "free space" in caught.value.one_line()
                assert isinstance(caught.value.__cause__, Exception)
            ballast.unlink()
            journal.append("note", None, text="room again")
            assert [e.kind for e in journal.events()] == ["run.created", "note"]
        finally:
            journal.close()
