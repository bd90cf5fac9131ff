"""The engine with real ansible-runner playbooks (localhost, local connection)."""

from __future__ import annotations

import json
import time

from cutover.journal import Journal

# the forward action of count.yml records "<step> action"; its verify "<step> verify";
# its rollback "<step> rollback"
STEP = """\
- id: {id}
  kind: playbook
  playbook: count.yml
  rollback: count.yml
"""


def test_independent_steps_run_in_parallel(lab) -> None:
    # b and c each wait for the other's mark: run one after the other, both would fail
    plan = lab.plan(
        STEP.format(id="a")
        + """\
- id: b
  kind: playbook
  needs: [a]
  playbook: rendezvous.yml
  rollback: count.yml
  vars: {partner: c}
- id: c
  kind: playbook
  needs: [a]
  playbook: rendezvous.yml
  rollback: count.yml
  vars: {partner: b}
"""
    )
    result = lab.cli("run", str(plan), "--env", "lab", "--run-id", "par")
    assert result.returncode == 0, result.stderr
    assert lab.log()[0] == "a action"
    assert sorted(lab.log()[1:]) == ["b action", "c action"]


def test_failure_in_the_middle_rolls_back_completed_steps_in_reverse(lab) -> None:
    plan = lab.plan(
        STEP.format(id="a")
        + STEP.format(id="b")
        + "  needs: [a]\n"
        + STEP.format(id="c")
        + "  needs: [b]\n  vars: {fail_actions: [action]}\n"
        + STEP.format(id="d")
        + "  needs: [c]\n"
    )
    result = lab.cli("--json", "run", str(plan), "--env", "lab", "--run-id", "mid")
    assert result.returncode == 1
    assert "run mid ended rolled_back (failed: c)" in result.stderr
    # c's action failed part way: what it did is undone by its rollback, first
    assert lab.log() == [
        "a action", "b action", "c action", "c rollback", "b rollback", "a rollback"
    ]  # fmt: skip
    journal = Journal.open(lab.runs / "mid")
    states = {sid: rec.state for sid, rec in journal.steps().items()}
    assert journal.state() == "rolled_back"
    journal.close()
    assert states == {"a": "rolled_back", "b": "rolled_back", "c": "rolled_back"}  # no d


def test_verification_failure_triggers_rollback(lab) -> None:
    plan = lab.plan(
        STEP.format(id="a")
        + STEP.format(id="b")
        + "  needs: [a]\n  verify: count.yml\n  vars: {fail_actions: [verify]}\n"
    )
    result = lab.cli("run", str(plan), "--env", "lab", "--run-id", "ver")
    assert result.returncode == 1
    # b's action completed, so b itself is rolled back, then a
    assert lab.log() == ["a action", "b action", "b verify", "b rollback", "a rollback"]


def test_rollback_command_undoes_a_finished_run(lab) -> None:
    plan = lab.plan(STEP.format(id="a") + STEP.format(id="b") + "  needs: [a]\n")
    assert lab.cli("run", str(plan), "--env", "lab", "--run-id", "r1").returncode == 0
    result = lab.cli("rollback", "r1")
    assert result.returncode == 0, result.stderr  # the asked-for rollback completed
    assert lab.log() == ["a action", "b action", "b rollback", "a rollback"]
    history = json.loads(lab.cli("--json", "history").stdout)
    assert [(r["run"], r["state"]) for r in history] == [("r1", "rolled_back")]


def test_check_mode_changes_nothing(lab) -> None:
    plan = lab.plan(STEP.format(id="a"))
    result = lab.cli("run", str(plan), "--env", "lab", "--check")
    assert result.returncode == 0, result.stderr
    assert lab.log() == []  # the shell task is skipped in check mode


def test_window_refuses_a_live_run_outside_it(lab) -> None:
    header = "window: {start: '2020-06-28T22:00', end: '2020-06-29T04:00'}\n"
    plan = lab.plan(STEP.format(id="a") + "  estimate: 1m\n", header=header)
    result = lab.cli("run", str(plan), "--env", "production")
    assert result.returncode == 1
    assert "outside the window: it closed at 2020-06-29 04:00 +07" in result.stderr
    assert lab.log() == []
    assert not lab.runs.exists() or not any(lab.runs.iterdir())  # nothing recorded


def test_window_not_yet_open_needs_at(lab) -> None:
    header = "window: {start: '2099-06-28T22:00', end: '2099-06-29T04:00'}\n"
    plan = lab.plan(STEP.format(id="a") + "  estimate: 1m\n", header=header)
    result = lab.cli("run", str(plan), "--env", "production")
    assert result.returncode == 1
    assert "outside the window: it opens at 2099-06-28 22:00 +07" in result.stderr
    assert "--at" in result.stderr


def test_live_run_refuses_auto_approve(lab) -> None:
    header = "window: {start: '2020-06-28T22:00', end: '2099-06-29T04:00'}\n"
    plan = lab.plan(STEP.format(id="a"), header=header)
    result = lab.cli("run", str(plan), "--env", "production", "--auto-approve")
    assert result.returncode == 2  # bad input: an option combination, nothing recorded
    assert "--auto-approve is for rehearsals only" in result.stderr


def test_gate_is_approved_from_a_second_process(lab) -> None:
    plan = lab.plan(
        "- id: go-no-go\n  kind: gate\n  approver: Pho Giam doc\n"
        + STEP.format(id="after")
        + "  needs: [go-no-go]\n"
    )
    proc = lab.spawn("run", str(plan), "--env", "staging", "--run-id", "g1")
    try:
        deadline = time.monotonic() + 120
        waiting = False
        while time.monotonic() < deadline and not waiting:
            if (lab.runs / "g1" / "journal.sqlite").exists():
                journal = Journal.open(lab.runs / "g1", read_only=True)
                waiting = bool(journal.events(step="go-no-go", kind="gate.waiting"))
                journal.close()
            time.sleep(0.2)
        assert waiting, "the gate never started"
        assert lab.log() == []  # nothing passes the gate before approval
        approved = lab.cli("approve", "g1", "go-no-go", "--by", "Pho Giam doc")
        assert approved.returncode == 0, approved.stderr
        assert proc.wait(timeout=300) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert lab.log() == ["after action"]
    journal = Journal.open(lab.runs / "g1")
    approvals = journal.events(step="go-no-go", kind="gate.approved")
    journal.close()
    assert [e.data["by"] for e in approvals] == ["Pho Giam doc"]


def test_approve_refuses_a_step_that_is_not_a_gate(lab) -> None:
    plan = lab.plan(STEP.format(id="a"))
    assert lab.cli("run", str(plan), "--env", "lab", "--run-id", "n1").returncode == 0
    result = lab.cli("approve", "n1", "a")
    assert result.returncode == 1
    assert "is a playbook step, not a gate" in result.stderr


def test_secrets_never_reach_what_is_written(lab) -> None:
    secret = "tsig-s3cr3t-value"
    plan = lab.plan(
        "- id: a\n  kind: playbook\n  playbook: secret.yml\n  rollback: count.yml\n",
        header="secrets: {tsig_key: {env: TEST_TSIG}}\n",
    )
    result = lab.cli("--json", "run", str(plan), "--env", "lab", "--run-id", "s1", TEST_TSIG=secret)
    assert result.returncode == 0, result.stderr
    assert (lab.root / "seen").read_text().strip() == secret  # the playbook did get it
    assert secret not in result.stdout + result.stderr
    for path in (lab.runs / "s1").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_injected_failure_rolls_back_the_step_and_its_predecessors(lab) -> None:
    plan = lab.plan(STEP.format(id="a") + STEP.format(id="b") + "  needs: [a]\n")
    result = lab.cli("run", str(plan), "--env", "lab", "--run-id", "inj", "--inject-failure", "b")
    assert result.returncode == 1
    assert "injected failure" in lab.cli("show", "inj", "--events").stdout
    # b did its work before "failing", so its rollback runs too, newest first
    assert lab.log() == ["a action", "b action", "b rollback", "a rollback"]


def test_injected_failure_must_name_a_step(lab) -> None:
    plan = lab.plan(STEP.format(id="a"))
    result = lab.cli("run", str(plan), "--env", "lab", "--inject-failure", "nope")
    assert result.returncode == 2
    assert "unknown step 'nope'" in result.stderr
    assert lab.log() == []


def test_failed_rollback_keeps_its_dependencies_and_rolls_back_the_rest(lab) -> None:
    # a is independent; c needs b; d fails, then c's rollback fails: b must stay applied
    # under c, a is still rolled back, and the journal and the CLI name each
    plan = lab.plan(
        STEP.format(id="a")
        + STEP.format(id="b")
        + STEP.format(id="c")
        + "  needs: [b]\n"
        + STEP.format(id="d")
        + "  needs: [a, c]\n  vars: {fail_actions: [action]}\n"
    )
    (lab.root / "fail-c-rollback").touch()
    result = lab.cli("--json", "run", str(plan), "--env", "lab", "--run-id", "rbf")
    assert result.returncode == 1
    assert "ended rollback_failed (failed: d; rollback failed: c; not rolled back: b)" in (
        result.stderr
    )
    assert "b rollback" not in lab.log() and lab.count("a rollback") == 1
    journal = Journal.open(lab.runs / "rbf")
    states = {sid: rec.state for sid, rec in journal.steps().items()}
    [end] = journal.events(kind="run.rollback_failed")
    journal.close()
    assert states == {
        "a": "rolled_back",
        "b": "rollback_blocked",
        "c": "rollback_failed",
        "d": "rolled_back",  # its failed action undone
    }
    assert end.data["rollback_failed"] == ["c"] and end.data["not_rolled_back"] == ["b"]

    # the cause fixed, `cutover rollback` finishes: c, then b, and nothing twice
    (lab.root / "fail-c-rollback").unlink()
    again = lab.cli("rollback", "rbf")
    assert again.returncode == 0, again.stderr
    assert lab.log()[-2:] == ["c rollback", "b rollback"]
    assert lab.count("a rollback") == 1


def test_independent_steps_roll_back_side_by_side_after_what_needs_them(lab) -> None:
    # b and c need a; their rollbacks each wait for the other's mark, so they must run at
    # the same time; a's rollback only after both (it is what they need)
    plan = lab.plan(
        STEP.format(id="a")
        + """\
- id: b
  kind: playbook
  needs: [a]
  playbook: count.yml
  rollback: rendezvous.yml
  vars: {partner: c}
- id: c
  kind: playbook
  needs: [a]
  playbook: count.yml
  rollback: rendezvous.yml
  vars: {partner: b}
"""
        + STEP.format(id="d")
        + "  needs: [b, c]\n  vars: {fail_actions: [action]}\n"
    )
    result = lab.cli("--json", "run", str(plan), "--env", "lab", "--run-id", "side")
    assert result.returncode == 1
    assert "run side ended rolled_back (failed: d)" in result.stderr
    log = lab.log()
    assert log[0] == "a action" and sorted(log[1:3]) == ["b action", "c action"]
    assert log[3:5] == ["d action", "d rollback"]  # the failed action undone first
    assert sorted(log[5:7]) == ["b rollback", "c rollback"]
    assert log[7:] == ["a rollback"]
