"""kill -9 of the engine at every step boundary, then `cutover resume`: every step's
forward action runs exactly once (counted in the side-effect log).

The engine kills itself through its test hook CUTOVER_TEST_KILL_AT=<step>:<phase>, right
after journaling that point (see cutover/engine/testhook.py).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from cutover.engine import orphans
from cutover.journal import Journal

# `first` is idempotent; `second` is not, so a crash inside it needs the operator
PLAN = """\
- id: first
  kind: playbook
  idempotent: true
  playbook: count.yml
  verify: count.yml
  rollback: count.yml
- id: second
  kind: playbook
  needs: [first]
  playbook: count.yml
  verify: count.yml
  rollback: count.yml
- id: probe
  kind: check
  needs: [second]
  probes:
    - command: ["true"]
"""
BOUNDARIES = [
    f"{step}:{phase}"
    for step in ("first", "second", "probe")
    for phase in ("started", "action-done", "succeeded")
    if not (step == "probe" and phase == "action-done")  # checks have no separate action
]


@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_kill_at_boundary_then_resume_runs_each_action_once(lab, boundary: str) -> None:
    plan = lab.plan(PLAN)
    killed = lab.cli(
        "run", str(plan), "--env", "lab", "--run-id", "k", CUTOVER_TEST_KILL_AT=boundary
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    # the crashed run still owns the environment: a new run is refused, diagnosably
    other = lab.cli("run", str(plan), "--env", "lab", "--run-id", "other")
    assert other.returncode == 1
    assert "environment lab is held by unfinished run k" in other.stderr
    assert "cutover resume k" in other.stderr

    resumed = lab.cli("resume", "k")
    if boundary == "second:started":
        # in doubt and not idempotent: the engine refuses to guess
        assert resumed.returncode == 1
        assert "second" in resumed.stderr and "--assume second=done" in resumed.stderr
        assert lab.count("second action") == 0  # the operator checks: it never ran
        resumed = lab.cli("resume", "k", "--assume", "second=redo")
    assert resumed.returncode == 0, resumed.stderr

    assert lab.count("first action") == 1
    assert lab.count("second action") == 1
    assert "first rollback" not in lab.log() and "second rollback" not in lab.log()
    journal = Journal.open(lab.runs / "k")
    assert journal.state() == "succeeded"
    assert {s: r.state for s, r in journal.steps().items()} == dict.fromkeys(
        ("first", "second", "probe"), "succeeded"
    )
    journal.close()
    assert lab.cli("unlock", "lab").stdout.strip() == "environment lab is free"


def test_kill_during_rollback_then_resume_finishes_the_rollback(lab) -> None:
    plan = lab.plan(PLAN.replace('    - command: ["true"]', '    - command: ["false"]'))
    killed = lab.cli(
        "run",
        str(plan),
        "--env",
        "lab",
        "--run-id",
        "rb",
        CUTOVER_TEST_KILL_AT="second:rolled-back",
    )
    assert killed.returncode == -signal.SIGKILL
    resumed = lab.cli("resume", "rb")
    assert resumed.returncode == 1  # it ends rolled back
    assert "ended rolled_back" in resumed.stderr
    assert lab.count("second rollback") == 1
    assert lab.count("first rollback") == 1
    assert lab.log().index("second rollback") < lab.log().index("first rollback")


def _killed_twice(lab, plan_text: str, run: str, first: str, then: str) -> None:
    """Run the plan killed at ``first``, then resume it killed at ``then``."""
    plan = lab.plan(plan_text)
    killed = lab.cli("run", str(plan), "--env", "lab", "--run-id", run, CUTOVER_TEST_KILL_AT=first)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    again = lab.cli("resume", run, CUTOVER_TEST_KILL_AT=then)
    assert again.returncode == -signal.SIGKILL, again.stderr


@pytest.mark.exactly_once
def test_kill_during_the_re_verification_keeps_the_action_done(lab) -> None:
    # the sequence a clean-clone CI found: the action completed, a kill before its
    # verification, a kill again during the resume's verification; the second resume
    # must still know the action completed (it never asks, and refuses a redo)
    _killed_twice(lab, PLAN, "rv", "second:action-done", "second:verify-started")
    redo = lab.cli("resume", "rv", "--assume", "second=redo")
    assert redo.returncode == 1
    assert "second completed their action before the run stopped" in redo.stderr
    resumed = lab.cli("resume", "rv")
    assert resumed.returncode == 0, resumed.stderr
    assert lab.count("second action") == 1
    assert lab.count("second verify") == 1  # both kills came before the playbook ran
    journal = Journal.open(lab.runs / "rv")
    try:
        assert len(journal.events(step="second", kind="step.action_succeeded")) == 1
        assert journal.events(kind="step.reset") == []
        assert journal.state() == "succeeded"
    finally:
        journal.close()


@pytest.mark.exactly_once
def test_kill_during_the_rollback_verification_keeps_the_rollback_done(lab) -> None:
    failing = PLAN.replace('    - command: ["true"]', '    - command: ["false"]')
    _killed_twice(
        lab, failing, "rbv", "second:rollback-action-done", "second:rollback-verify-started"
    )
    resumed = lab.cli("resume", "rbv")
    assert resumed.returncode == 1  # it ends rolled back
    assert "ended rolled_back" in resumed.stderr
    assert lab.count("second rollback") == 1
    assert lab.count("first rollback") == 1


def test_read_only_step_in_flight_is_re_run_without_asking(lab) -> None:
    # a read-only playbook changes nothing, so re-running it cannot apply anything twice
    plan = lab.plan(
        """\
        - id: look
          kind: playbook
          read_only: true
          playbook: count.yml
        """
    )
    killed = lab.cli(
        "run", str(plan), "--env", "lab", "--run-id", "ro", CUTOVER_TEST_KILL_AT="look:started"
    )
    assert killed.returncode == -signal.SIGKILL
    resumed = lab.cli("resume", "ro")
    assert resumed.returncode == 0, resumed.stderr
    assert lab.count("look action") == 1


def test_playbook_left_running_by_a_killed_engine_is_stopped_before_the_resume(lab) -> None:
    # ansible-runner runs ansible-playbook in a session of its own: a SIGKILL of the
    # engine does not reach it (in the lab such orphans ran on for minutes). A stand-in
    # orphan: a process of its own session whose command line names the step's folder.
    plan = lab.plan(
        """\
        - id: slow
          kind: playbook
          idempotent: true
          playbook: count.yml
          rollback: count.yml
        """
    )
    killed = lab.cli(
        "run", str(plan), "--env", "lab", "--run-id", "orphan", CUTOVER_TEST_KILL_AT="slow:started"
    )
    assert killed.returncode == -signal.SIGKILL
    folder = lab.runs / "orphan" / "steps" / "slow" / "action-1-0"
    orphan = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(600)", f"@{folder}/extravars.yml"],
        start_new_session=True,
    )
    try:
        # until the child has exec'd, /proc shows it with this process's command line
        deadline = time.monotonic() + 10
        while not orphans.find(lab.runs / "orphan") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [p["pid"] for p in orphans.find(lab.runs / "orphan")] == [orphan.pid]
        resumed = lab.cli("resume", "orphan")
        assert resumed.returncode == 0, resumed.stderr
        assert orphan.wait(timeout=10) == -signal.SIGKILL  # stopped before the step re-ran
    finally:
        orphan.kill()
    assert lab.count("slow action") == 1
    journal = Journal.open(lab.runs / "orphan")
    kinds = [e.kind for e in journal.events()]
    [stopped] = journal.events(kind="run.orphans_stopped")
    journal.close()
    assert stopped.data["playbooks"][0]["step"] == "slow"
    assert kinds.index("run.orphans_stopped") < kinds.index("step.reset")
