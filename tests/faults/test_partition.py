"""A network partition between a former province's mail server and the merged one
during the mail sync: detected, rolled back, nothing lost.

While mail.presync runs (watched in the journal), every packet between the Kon Tum host
and the merged host is dropped silently (nftables in the Kon Tum host's network
namespace), as a failed link would. Kon Tum's SSH forward to the merged endpoint then
cannot come up (or, up already, its dsync hangs and cutover-dsync-run kills it after
mail_dsync_timeout); either is reported, the endpoint is closed all the same, the step
fails in its action and the run rolls back. After the partition heals,
the lab verifies as-is and every probe message sent meanwhile is in its home mailbox on
the province's own server. The partition is healed in teardown whatever happens.
"""

from __future__ import annotations

import time

import pytest
from labfaults import FaultLab, action_dirs

from cutover.rehearse.accounting import account

# the plan to the mail sync and its rollback on a shared 2-core machine:
# above the suite's default timeout
pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]

RUN = "partition"
LOG = "partition.log"
DSYNC_TIMEOUT_S = 20


def _run_with_partition(lab: FaultLab, merged: str) -> None:
    """The plan, with Kon Tum and the merged host partitioned from the moment
    mail.presync starts until the run has ended; healed whatever happens."""
    partitioned = False
    try:
        proc = lab.spawn(
            "run", str(lab.plan("dns-mail.yml")), "--env", "lab", "--auto-approve",
            "--run-id", RUN, "-e", f"mail_dsync_timeout={DSYNC_TIMEOUT_S}",
            log=LOG,
        )  # fmt: skip
        started = lab.watch(
            RUN,
            proc,
            lambda j: any(e.step == "mail.presync" for e in j.events(kind="step.started")),
            timeout=600,
        )
        assert started, lab.output(LOG)[-3000:]
        lab.partition("kontum", merged)
        partitioned = True
        assert not lab.reaches("kontum", merged, 22)  # the partition is real
        proc.wait(timeout=1800)
    finally:
        if partitioned:
            lab.heal(lab.container("kontum"))


def test_partition_during_mail_sync_is_detected_rolled_back_and_loses_nothing(
    fault_lab: FaultLab,
) -> None:
    lab = fault_lab
    merged = lab.address("merged")
    prober = lab.prober()
    prober.start()
    try:
        _run_with_partition(lab, merged)
        assert lab.reaches("kontum", merged, 22)  # healed

        output = lab.output(LOG)
        journal = lab.journal(RUN)
        assert journal is not None, output[-3000:]
        try:
            state = journal.state()
            steps = journal.steps()
            failed = journal.events(kind="step.failed")
        finally:
            journal.close()
        assert state == "rolled_back", output[-4000:]
        # its action failed part way (some mailboxes may have been copied): rolled back too
        assert steps["mail.presync"].state == "rolled_back"
        assert {e.data.get("phase") for e in failed if e.step == "mail.presync"} == {"action"}

        # The partition was seen and reported, not ignored, wherever it struck: a forward
        # that could not reach the merged server (before it was up), or the dsync through
        # it hung and killed after its timeout (the runner's JSON says so).
        reports = [
            (pdd / "artifacts" / "action" / "stdout").read_text(errors="replace")
            for pdd, _ in action_dirs(lab.run_dir(RUN), "mail.presync")
        ]
        seen = (f"timed out after {DSYNC_TIMEOUT_S}s", "forward to the merged server")
        assert any(s in text for text in reports for s in seen), reports
        assert any("the mail sync failed on" in text for text in reports), reports
        # and the endpoint was closed all the same: nothing of it left on either side
        for host in ("kontum", "merged"):
            left = lab.kit.dsync_leftovers(lab.container(host))
            assert not left, (host, left)
        # every step whose action changed something was rolled back
        plan = lab.loaded("dns-mail.yml")
        for sid, rec in steps.items():
            if rec.action_done and plan.steps[sid].mutating:
                assert rec.state == "rolled_back", (sid, rec)

        report = lab.verify("as-is")
        assert report["ok"], [c for c in report["checks"] if not c["ok"]]
        time.sleep(10)  # the last probe messages land
    finally:
        prober.stop()
        lab.finish(RUN)
    messages = account(lab.context(), prober.sent, merged=False)
    print(f"partition: {messages.sent} probe messages, lost {len(messages.lost)}")
    assert messages.sent > 0
    assert messages.lost == [], messages.lost
