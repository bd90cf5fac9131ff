"""A plan that names its merger runs its playbooks against that merger's environment:
the environment's Ansible inventory and the same variables provisioning uses (zones,
mailboxes, portals, rooms, and the path of the private secrets file, never a secret)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cutover.inventory import Inventory, find_merger_dir, load


@dataclass(frozen=True)
class MergerContext:
    inventory: Inventory
    ansible_inventory: Path
    vars: dict[str, Any]


def merger_dir_for(merger: str, plan_dir: Path) -> Path:
    """The plan's own folder when it sits in the merger's folder (as
    ``inventories/<merger>/plan.yml`` does) or in its ``plans/`` folder, else the merger by
    name or path."""
    if (plan_dir / "merger.yml").is_file():
        return plan_dir
    if (plan_dir.parent / "merger.yml").is_file() and plan_dir.parent.name == merger:
        return plan_dir.parent  # inventories/<merger>/plans/<plan>.yml
    if (plan_dir / merger / "merger.yml").is_file():
        return plan_dir / merger
    return find_merger_dir(merger)


def load_context(merger: str, env: str, plan_dir: Path) -> MergerContext:
    # Imported here: provisioning pulls in the lab and the vars builder, which plans
    # without a merger never need.
    from cutover import provision

    inv = load(merger_dir_for(merger, plan_dir), env)
    prepared = provision.prepare(inv)
    # The merger's folder: cutover modules run by playbooks load the same inventory.
    public = {**prepared.public, "cutover_merger_dir": str(inv.merger_dir)}
    return MergerContext(inv, prepared.inventory, public)
