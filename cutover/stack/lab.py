"""Lab hosts through the project's Pulumi stack (``<merger>-lab`` of the root
Pulumi.yaml, whose ``lab`` backend makes one container per inventory host): the
:class:`cutover.lab.lab.StackHosts` that callers hand to the lab, which decides whether
to use it."""

from __future__ import annotations

from typing import Any

from cutover.inventory import Inventory
from cutover.lab.keys import KeyPair
from cutover.lab.lab import HostsApplier, Report
from cutover.lab.lxc import HostSpec, HostState
from cutover.stack.targets import open_target


def applier(inv: Inventory) -> HostsApplier:
    def apply(specs: list[HostSpec], keys: KeyPair, report: Report) -> list[HostState]:
        del keys  # the stack program reads the same key pair from the lab's folder
        handle = open_target(inv)
        # Called under the lab's own lock: a lock left on the stack is a killed run's.
        handle.clear_stale_locks()
        done = 0

        def listener(kind: str, data: dict[str, Any]) -> None:
            nonlocal done
            if kind == "resource.done" and data["type"].startswith("pulumi-python:dynamic"):
                done += 1
                report("host.ready", host=data["name"], address="", done=done, total=len(specs))
            elif kind in ("resource.failed", "diagnostic"):
                report(f"stack.{kind}", **data)

        handle.up(listener)
        outputs = handle.outputs()
        addresses = {name: host["address"] for name, host in outputs["hosts"].items()}
        keys_by_name = {}
        for line in outputs["known_hosts"]:
            names, key = line.split(" ", 1)
            keys_by_name[names.split(",")[1]] = key
        return [
            HostState(s.name, addresses[s.hostname], True, keys_by_name[s.hostname]) for s in specs
        ]

    return apply


def destroy(inv: Inventory, report: Report) -> None:
    handle = open_target(inv)
    handle.clear_stale_locks()
    handle.destroy(remove=True)
    report("stack.destroyed", stack=handle.name)
