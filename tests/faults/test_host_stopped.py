"""A lab host stopped mid-step: the step fails, the run rolls back what it can, reports
what it could not, and the journal says exactly which.

The DNS and mail plan runs until mail.accept-old-domains has completed (the merged mail
server accepts the old domain) and a later step that touches the merged host
(dns.move-zones, mail.prepare-final or mail.final-sync) is running; then the merged host's
container is stopped (``lxc-stop -k``). That step fails part way; its rollback and
that of every completed step that needs the merged host fail too, the steps they need
stay applied (rollback_blocked), the others are rolled back. After the container is
started again, ``cutover rollback`` finishes exactly the steps left, and the lab verifies
as-is.
"""

from __future__ import annotations

import pytest
from labfaults import FaultLab, step_events

from cutover.journal import Journal

# the plan, a failed rollback and a second one on a shared 2-core machine:
# above the suite's default timeout
pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]

RUN = "host-stopped"
LOG = "host-stopped.log"
TOUCHING_MERGED = ("dns.move-zones", "mail.prepare-final", "mail.final-sync")
LEFT = ("rollback_failed", "rollback_blocked")


def _ready_to_stop(journal: Journal) -> bool:
    steps = journal.steps()
    accepted = steps.get("mail.accept-old-domains")
    return (
        accepted is not None
        and accepted.state == "succeeded"
        and any(steps.get(s) and steps[s].state == "running" for s in TOUCHING_MERGED)
    )


def test_stopped_host_fails_the_step_and_the_rollback_reports_what_is_left(
    fault_lab: FaultLab,
) -> None:
    lab = fault_lab
    try:
        proc = lab.spawn(
            "--json", "run", str(lab.plan("dns-mail.yml")), "--env", "lab", "--auto-approve",
            "--run-id", RUN, log=LOG,
        )  # fmt: skip
        assert lab.watch(RUN, proc, _ready_to_stop, timeout=1200), lab.output(LOG)[-3000:]
        lab.stop_host("merged")
        assert proc.wait(timeout=1800) == 1
        output = lab.output(LOG)

        journal = lab.journal(RUN)
        assert journal is not None
        try:
            state = journal.state()
            steps = journal.steps()
            [end] = journal.events(kind="run.rollback_failed")
            started = step_events(journal, "step.rollback_started")
            failed = sorted(step_events(journal, "step.failed"))
        finally:
            journal.close()
        assert state == "rollback_failed", output[-4000:]
        # the steps running when the host went away failed, part way: each one's rollback
        # ran too, and failed, the host being down
        assert failed and set(failed) <= set(TOUCHING_MERGED), failed
        for sid in failed:
            assert steps[sid].state == "rollback_failed", (sid, steps[sid])
        # the merged server's routing could not be put back (its rollback failed, or it
        # waits under a failed step that needs it), so the pre-sync it needs stays
        # applied; the journal and the run's last event say exactly that
        assert steps["mail.accept-old-domains"].state in LEFT
        assert steps["mail.presync"].state == "rollback_blocked"
        left = {s for s, r in steps.items() if r.state in LEFT}
        assert set(end.data["rollback_failed"]) | set(end.data["not_rolled_back"]) == left
        assert set(end.data["rollback_failed"]) == {
            s for s, r in steps.items() if r.state == "rollback_failed"
        }
        # every step's rollback result is in the journal: each completed step ended
        # rolled back, failed to roll back, blocked, or changed nothing to undo
        done = {s for s, r in steps.items() if r.state == "rolled_back"}
        assert set(end.data["rolled_back"]) == done
        # the CLI's last word names each step it could not roll back
        [verdict] = [line for line in output.splitlines() if "ended rollback_failed" in line]
        for sid in left:
            assert sid in verdict, (sid, verdict)

        # the host back, `cutover rollback` finishes exactly what was left
        lab.start_hosts()
        back = lab.kit.json("rollback", RUN, check=False)
        assert back["state"] == "rolled_back", back
        journal = lab.journal(RUN)
        assert journal is not None
        try:
            again = step_events(journal, "step.rollback_started")
            final = journal.steps()
        finally:
            journal.close()
        for sid in done:
            assert again.get(sid) == started.get(sid), sid  # not rolled back twice
        for sid in left:
            assert final[sid].state == "rolled_back", (sid, final[sid])

        report = lab.verify("as-is")
        assert report["ok"], [c for c in report["checks"] if not c["ok"]]
    finally:
        lab.finish(RUN)  # never leave the shared lab with a host down or held
