"""kill -9 of the engine at every step boundary, then `cutover resume`: every step's
forward action runs exactly once (counted in the side-effect log).

The engine kills itself through its test hook CUTOVER_TEST_KILL_AT=<step>:<phase>, right
after journaling that point (see cutover/engine/testhook.py).
"""

from __future__ import annotations

import signal

import pytest

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
