"""A wait ``until: ttl-expired`` with no TTL of its own waits out the old TTL that its
``after`` step reports (set_stats), journaled before that step's success."""

from __future__ import annotations

from cutover.journal import Journal

LOWER = """\
- id: lower
  kind: playbook
  playbook: lower.yml
  rollback: count.yml
  {vars}
- id: wait
  kind: wait
  needs: [lower]
  until: ttl-expired
  after: lower
"""


def test_the_wait_takes_the_ttl_its_after_step_reports(lab) -> None:
    plan = lab.plan(LOWER.format(vars="vars: {reported_ttl: 2}"))
    result = lab.cli("--json", "run", str(plan), "--env", "lab", "--run-id", "ttl")
    assert result.returncode == 0, result.stderr
    journal = Journal.open(lab.runs / "ttl")
    try:
        observed = journal.events(step="wait", kind="ttl.observed")
        succeeded = journal.events(step="lower", kind="step.action_succeeded")
    finally:
        journal.close()
    assert [(e.data["ttl"], e.data["source"]) for e in observed] == [(2, "lower")]
    assert observed[0].seq < succeeded[0].seq  # known before the step counts as done


def test_a_step_that_reports_no_ttl_fails_and_is_rolled_back(lab) -> None:
    plan = lab.plan(LOWER.format(vars="vars: {}"))
    result = lab.cli("--json", "run", str(plan), "--env", "lab", "--run-id", "nottl")
    assert result.returncode == 1
    journal = Journal.open(lab.runs / "nottl")
    try:
        failed = journal.events(step="lower", kind="step.failed")
    finally:
        journal.close()
    assert "reported no old TTL (cutover_old_ttl) for wait" in failed[0].data["message"]
    assert failed[0].data["action_done"] is True
    # its action ran (TTLs lowered): its rollback must run too
    assert lab.log() == ["lower action", "lower rollback"]
