"""The portal and video cutovers end to end on a small lab of its own: a three-province
merger (two former provinces into one target). Lab up,
provision, the plan forward with every verification passing while a client keeps
requesting an old portal name (zero failed requests during the switch), the run rolled
back to a passing as-is verification, then a rehearsal with an injected failure that
rolls back on its own to a passing as-is verification.

The lab has its own name, bridge and a /24 in 198.18.64-250 and is removed at the end.
"""

from __future__ import annotations

import pytest
from labkit import CutoverLab, needs_lab

pytestmark = pytest.mark.integration


# Two former provinces into one target: every loop over former provinces runs more than
# once. The two-province case is the real quangngai-kontum merger, rehearsed whole (portal
# and video included) by tests/integration/rehearse on a copy of its lab.
MERGERS = [["quangngai", "kontum", "haugiang"]]


@pytest.fixture(scope="module", params=MERGERS, ids=["three-provinces"])
def clab(request, tmp_path_factory):
    reason = needs_lab()
    if reason:  # not a skip: CI must have every component its tests need
        pytest.fail(reason)
    lab = CutoverLab(tmp_path_factory.mktemp("pv"), request.param)
    try:
        lab.up_and_provision()
        yield lab
    finally:
        lab.cleanup()


def hammer(lab: CutoverLab, monkeypatch: pytest.MonkeyPatch):
    """A client requesting the first former province's portal through its old address.
    The verification context reads the lab's secrets from ``$CUTOVER_STATE_DIR``, set
    for this test only (a session-wide value would point other modules' labs here)."""
    from cutover.cutovers.portal.probe import Hammer
    from cutover.inventory import load
    from cutover.verify import context

    monkeypatch.setenv("CUTOVER_STATE_DIR", lab.env["CUTOVER_STATE_DIR"])
    inv = load(lab.dir, "lab")
    old = inv.former[0]
    address = str(next(h for h in inv.hosts if h.owner == old.id).address)
    return Hammer(
        address, old.domain, "/tin-tuc/", context(inv).tls(), max_requests=100_000, max_seconds=900
    )


def test_forward_verifies_with_zero_failed_requests_then_rolls_back(clab, monkeypatch):
    client = hammer(clab, monkeypatch)
    client.start()
    run = clab.json("run", str(clab.plan), "--env", "lab", "--auto-approve", check=False)
    probe = client.finish()
    assert run["state"] == "succeeded", run
    assert probe.requests > 50 and probe.failures == 0, (probe.errors[:5], probe.statuses)
    print(
        f"client during the run: {probe.requests} requests, {probe.failures} failed, "
        f"{probe.retried} retried, {dict(probe.statuses)}"
    )
    assert set(probe.statuses) == {200, 301}  # it saw both sides of the switch
    # the migrated data covers every former province, not one
    from cutover.inventory import load

    inv = load(clab.dir, "lab")
    assert len(inv.former) == len(clab.ids) - 1
    back = clab.json("rollback", run["run"], check=False)
    assert back["state"] == "rolled_back", back
    report = clab.verify_as_is()
    assert report["ok"], [c for c in report["checks"] if not c["ok"]]
    assert_run_scans_clean(clab, run["run"])


def assert_run_scans_clean(lab: CutoverLab, run_id: str) -> None:
    """The run's folder holds none of the lab's secrets: the video migration fetched
    every account's stored SCRAM keys, and they must stay in the private folder under the
    state dir, not in the run's (the audit is the one operators run)."""
    from cutover.audit.secrets_scan import lab_secrets, scan_run

    run_dir = lab.runs / run_id
    assert (run_dir / "video" / "fetched-data.txt").is_file()  # the migration did run
    secrets = lab_secrets(lab.dir, "lab", state=lab.state)
    assert secrets
    hits = scan_run(run_dir, secrets)
    assert not hits, [h.describe() for h in hits]  # labels and places only, never values
    audit = lab.cli(
        "audit", "secrets", str(run_dir), "--merger", str(lab.dir), "--env", "lab", check=False
    )
    assert audit.returncode == 0, audit.stderr[-2000:]
    private = lab.state / "provision" / f"{lab.dir.name}-lab" / "private"
    fetched = private / run_id / "video"
    assert sorted(p.name for p in fetched.glob("*.tgz"))  # kept where rollback can't lose it
    for folder in (private, private / run_id, fetched):
        assert folder.stat().st_mode & 0o777 == 0o700, folder


@pytest.mark.parametrize("step", ["portal.switch", "video.switch"])
def test_injected_failure_rolls_back_to_a_passing_as_is(clab, step):
    run = clab.json(
        "run",
        str(clab.plan),
        "--env",
        "lab",
        "--auto-approve",
        "-e",
        f"cutover_rehearse_fail_at={step}",
        check=False,
    )
    assert run["state"] == "rolled_back", run
    report = clab.verify_as_is()
    assert report["ok"], [c for c in report["checks"] if not c["ok"]]
