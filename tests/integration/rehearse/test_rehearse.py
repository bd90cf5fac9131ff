"""The main job end to end, on a copy of quangngai-kontum's lab (its own name, bridge and
/24; zone TTL and the restore delay cut to seconds, every step as in the real plan).

A rehearsal with a failure injected right after the MX switch (it must roll back to a
passing as-is verification), then a forward rehearsal (it must end in a passing merged
verification). During both the probes query every service several
times a second and send a stream of messages to old and new addresses; afterwards every
message must be in its home mailbox exactly once (issue 7's Message-ID accounting) and no
probe may have failed. The forward report is opened in headless Chromium (issue 9).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from browser import ARTIFACTS, count_color, screenshot
from labkit import CutoverLab, assert_clean, needs_lab, rehearse

# A rehearsal (lab, provisioning, the whole plan, accounting) takes minutes; the module's
# lab comes up inside the first test's limit.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(2700)]

RUNS: dict[str, dict[str, Any]] = {}


@pytest.fixture(scope="module")
def rlab(tmp_path_factory):
    reason = needs_lab()
    if reason:  # not a skip: CI must have every component its tests need
        pytest.fail(reason)
    lab = CutoverLab(tmp_path_factory.mktemp("rh"), copy="quangngai-kontum", prefix="r")
    lab.shorten_waits()
    try:
        yield lab
    finally:
        lab.cleanup()


def assert_endpoint_closed(lab: CutoverLab) -> None:
    """After a run, forward or rolled back, nothing of the dsync endpoint is left open."""
    containers = lab.containers()
    assert len(containers) >= 3, containers
    left = {}
    for name in containers:
        if found := lab.dsync_leftovers(name):
            left[name] = found
    assert not left, left


@pytest.mark.security
def test_failure_after_the_mx_switch_rolls_back_losing_nothing(rlab: CutoverLab) -> None:
    run = rehearse(rlab, "--inject-failure", "dns.switch-mx")
    RUNS["rollback"] = run
    assert_clean(run, "rolled_back")
    undone = {e["step"] for e in run["report"]["rollbacks"] if e["kind"] == "step.rollback_started"}
    assert {"dns.switch-mx", "mail.final-sync", "mail.accept-old-domains"} <= undone, undone
    assert not [e for e in run["report"]["rollbacks"] if e["kind"].endswith("rollback_failed")]
    assert_endpoint_closed(rlab)


@pytest.mark.security
def test_forward_rehearsal_loses_nothing_and_fails_no_probe(rlab: CutoverLab) -> None:
    run = rehearse(rlab)
    RUNS["forward"] = run
    # The rollback rehearsal before it provisioned and saved the lab, or restored it: this
    # one starts from the snapshot, and it is as good as a provisioned lab.
    assert run["summary"]["lab"] == "restored", run["summary"]
    assert_clean(run, "succeeded")
    steps = {s["id"]: s["state"] for s in run["report"]["steps"]}
    assert steps["dns.switch-mx"] == "succeeded" and steps["mail.final-sync"] == "succeeded"
    assert_endpoint_closed(rlab)


def test_the_report_renders_in_chromium(rlab: CutoverLab, tmp_path: Path) -> None:
    run = RUNS.get("forward")
    assert run is not None, "the forward rehearsal did not run"
    # The whole page (a real run has a long step table above the availability chart).
    page = Path(run["summary"]["report"])
    image = screenshot(page, ARTIFACTS / "rehearsal-en.png", tmp_path, size=(1000, 5000))
    # Step bars of succeeded steps and available-probe buckets in their own colours, and
    # no bucket in the failed colour: no probe failed.
    assert count_color(image, (0x2E, 0x7D, 0x32)) > 500, "no succeeded step bars drawn"
    assert count_color(image, (0x43, 0xA0, 0x47)) > 2000, "no available buckets drawn"
    assert count_color(image, (0xC6, 0x28, 0x28)) < 50, "failed buckets drawn for a clean run"


def test_nothing_the_runs_wrote_holds_a_secret(rlab: CutoverLab) -> None:
    """No TSIG key, password, password hash or private key of the lab in any file of the
    runs (journal, logs, Ansible artifacts, snapshots, archives, reports)."""
    from cutover.audit.secrets_scan import lab_secrets, scan_run

    assert RUNS, "no rehearsal ran"
    values = lab_secrets(rlab.dir, "lab", state=rlab.state)
    assert len(values) > 20  # TSIG keys, mailbox and XMPP passwords, private keys
    for run in RUNS.values():
        run_dir = Path(run["summary"]["json"]).parent
        hits = scan_run(run_dir, values)
        assert not hits, [h.describe() for h in hits[:10]]
        # The mail sync's doveadm password is made per sync and known to no scan: no file
        # may hold one as it is written on the hosts (nor a forward's private key).
        leaks = re.compile(rb"doveadm_password = [A-Za-z0-9]{32}|BEGIN OPENSSH PRIVATE KEY")
        leaked = [p for p in run_dir.rglob("*") if p.is_file() and leaks.search(p.read_bytes())]
        assert not leaked, leaked[:10]
