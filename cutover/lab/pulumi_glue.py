"""Placeholder until the Pulumi path is wired: no engine, hosts are made directly."""

from __future__ import annotations

from cutover.inventory import Inventory
from cutover.lab.lab import HostsApplier, Report


def applier() -> HostsApplier | None:
    return None


def destroy(inv: Inventory, report: Report) -> None:
    del inv, report
