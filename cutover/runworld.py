"""The world a run acts on, built by whoever starts the run (``cutover run``, ``resume``,
``rollback``, the rehearsal) and handed to the engine: the merger environment's Ansible
inventory and variables, and the Pulumi stack adapter. The engine itself imports neither
provisioning, the cutovers nor Pulumi."""

from __future__ import annotations

from pathlib import Path

from cutover.engine.stacks import StackAdapter
from cutover.engine.world import MergerContext, World, WorldFactory
from cutover.inventory import Inventory, find_merger_dir, load
from cutover.plan import LoadedPlan


def merger_dir_for(merger: str, plan_dir: Path) -> Path:
    """The plan's own folder when it sits in the merger's folder (as
    ``inventories/<merger>/plan.yml`` or ``inventories/<merger>/plans/x.yml`` do), else
    the merger by name or path."""
    if (plan_dir / "merger.yml").is_file():
        return plan_dir
    if plan_dir.name == "plans" and (plan_dir.parent / "merger.yml").is_file():
        return plan_dir.parent
    if (plan_dir / merger / "merger.yml").is_file():
        return plan_dir / merger
    return find_merger_dir(merger)


def merger_context(inv: Inventory) -> MergerContext:
    # Imported here: provisioning pulls in the lab and the vars builder, which plans
    # without a merger never need.
    from cutover import provision
    from cutover.cutovers import context_vars

    prepared = provision.prepare(inv)
    # The portal and video cutovers' own (small) variables, besides provisioning's.
    return MergerContext(inv, prepared.inventory, {**prepared.public, **context_vars(inv)})


def _pulumi() -> StackAdapter:
    from cutover.stack.adapter import PulumiAdapter

    return PulumiAdapter()


def factory(inventory: Inventory | None = None) -> WorldFactory:
    """A run's world: ``inventory`` when the caller has the plan's merger environment
    loaded already (loaded once per command), else loaded from the plan's merger."""

    def build(plan: LoadedPlan, env: str) -> World:
        merger = plan.model.merger
        context = None
        if merger is not None:
            inv = inventory
            if inv is None or inv.environment != env or inv.name != merger:
                inv = load(merger_dir_for(merger, plan.base), env)
            context = merger_context(inv)
        return World(context, {"pulumi": _pulumi})

    return build
