"""The cutovers themselves: the Python behind the cutover playbooks (DNS, mail, portal,
video conference).

Playbooks stay the thing that acts on hosts; these modules compute what to change from the
inventory, talk to the servers with real clients and check the results. They are run by
the playbooks as ``python -m cutover.cutovers.<name> ACTION ...`` on the controller and
read secrets from the provisioning secrets file, never from their command line.

Each service has a package with the pure data work (what the playbooks render or copy,
unit-tested without a lab), the variables the engine adds for a plan naming a merger
(:func:`context_vars`), and a ``__main__`` the playbooks call on the controller for work
that is too large or too precise for Jinja (a 100,000-entry redirect map, Prosody data
rewritten under the merged domain, verification with real clients).
"""

from __future__ import annotations

from typing import Any

from cutover.inventory import Inventory


def context_vars(inv: Inventory) -> dict[str, Any]:
    """Small variables for the portal and video cutover playbooks (no bulk data)."""
    from cutover.inventory import portal as portal_plan
    from cutover.inventory import video as video_plan

    return {
        "cutover_merger_dir": str(inv.merger_dir.resolve()),
        "cutover_portal_cutover": portal_plan.build(inv),
        "cutover_video_cutover": video_plan.build(inv),
    }
