"""The project's own stacks: one per merger and environment, of the root Pulumi.yaml."""

from __future__ import annotations

from cutover.inventory import Inventory
from cutover.inventory.loader import default_inventories
from cutover.stack.workspace import StackHandle, open_stack


def stack_name(merger: str, env: str) -> str:
    return f"{merger}-{env}"


def open_target(inv: Inventory) -> StackHandle:
    """The stack of the merger environment ``inv`` (loaded and checked by the caller, so
    bad input stopped before any engine ran), created on first use with its base config."""
    env = inv.environment
    merger_dir = inv.merger_dir.resolve()
    handle = open_stack(stack_name(inv.name, env))
    wanted = {
        "cutover:merger": inv.name,
        "cutover:environment": env,
        "cutover:compute": inv.env.compute,
    }
    if merger_dir != (default_inventories() / inv.name).resolve():
        wanted["cutover:inventoryDir"] = str(merger_dir)
    current = handle.get_config()
    changed = {k: v for k, v in wanted.items() if k not in current or current[k].value != v}
    if changed:
        handle.set_config(changed)
    return handle
