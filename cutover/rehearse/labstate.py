"""A lab up, provisioned and verified as-is: restored from its snapshot when the
snapshot's key matches, else provisioned and then saved, so the next rehearsal (or test)
on the same inputs starts in seconds. Progress goes to ``report(kind, **data)``."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

from cutover import provision as provisioning
from cutover import verify
from cutover.clients.retry import until
from cutover.errors import CutoverError
from cutover.inventory import Inventory
from cutover.lab import lab as lablib
from cutover.lab import snapshot
from cutover.secretstore import env_dir

Report = Callable[..., None]
How = Literal["restored", "provisioned"]


class LabStateError(CutoverError):
    """The lab could not be brought to its provisioned, verified as-is state."""


def verify_state(inv: Inventory, state: str, report: Report, settle_s: float = 60.0) -> bool:
    # Right after provisioning, a restore or a rollback, secondaries may still be
    # transferring and services starting: verify again until it passes or ``settle_s``.
    result = until(lambda: verify.verify(inv, state), lambda r: r.ok, settle_s, 5.0)
    failed = [f"{c.service} {c.target}: {c.detail}" for c in result.checks if not c.ok]
    report("verify", state=state, ok=result.ok, passed=len(result.checks) - len(failed),
           failed=failed)  # fmt: skip
    return result.ok


def _provision(inv: Inventory) -> None:
    result = provisioning.provision(inv)
    if not result.ok:
        raise LabStateError(
            f"provisioning failed on {', '.join(result.failed_hosts()) or 'the controller'}",
            hint=f"see the ansible-runner artifacts in {result.artifact_dir}",
        )


def provisioned(
    inv: Inventory, report: Report, apply: lablib.HostsApplier, *, snapshots: bool = True
) -> How:
    """Bring the lab to its provisioned as-is state; says how. ``snapshots=False``
    provisions from the template and neither restores nor saves."""
    lab = inv.env.network.lab or ""
    state = env_dir(inv)
    found, changed = snapshot.usable(inv) if snapshots else (None, [])
    if found is not None and not changed:
        report("phase", name="restore")
        started = time.monotonic()
        lablib.up(inv, report, apply=apply, restore=snapshot.restorer(inv, found.name, state))
        report("snapshot.restored", lab=lab, name=found.name, key=found.key[:12],
               seconds=round(time.monotonic() - started, 1))  # fmt: skip
        if verify_state(inv, "as-is", report):
            return "restored"
        # Not what it was saved as: drop it, and let provisioning converge the hosts.
        snapshot.remove(lab, found.name)
        report("snapshot.dropped", lab=lab, name=found.name, reason="as-is verification failed")
    else:
        if found is not None:
            report("snapshot.stale", lab=lab, name=found.name, changed=changed)
        lablib.up(inv, report, apply=apply)
    report("phase", name="provision")
    _provision(inv)
    report("phase", name="verify-as-is")
    if not verify_state(inv, "as-is", report):
        raise LabStateError("the as-is lab does not verify", hint="see the failed checks")
    if snapshots:
        report("phase", name="snapshot")
        saved = snapshot.save(inv, snapshot.DEFAULT, state, report)
        # The hosts were restarted to be saved: what comes back is what a restore gives.
        if not verify_state(inv, "as-is", report):
            snapshot.remove(lab, saved.name)
            raise LabStateError(
                "the as-is lab does not verify after its hosts restarted",
                hint="a service of the provisioned hosts does not start at boot",
            )
    return "provisioned"
