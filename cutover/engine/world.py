"""What a run acts on, handed to the engine by its caller: the merger environment's
context (Ansible inventory and variables) and the stack adapters by name.

The engine knows neither how a merger is loaded nor how a stack is reached: the command
or the rehearsal that starts a run builds its world (:mod:`cutover.runworld`), and tests
hand in small fakes. A world is built lazily, once per engine, from the plan and the
environment (a resumed run only learns its plan from the journal)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cutover.engine.stacks import StackAdapter
from cutover.errors import StackError
from cutover.inventory import Inventory

if TYPE_CHECKING:
    from cutover.plan import LoadedPlan


@dataclass(frozen=True)
class MergerContext:
    """A merger environment as playbooks see it: its Ansible inventory and the public
    variables (zones, mailboxes, portals, rooms, the path of the secrets file; never a
    secret)."""

    inventory: Inventory
    ansible_inventory: Path
    vars: dict[str, Any]


@dataclass(frozen=True)
class World:
    context: MergerContext | None = None
    stacks: Mapping[str, Callable[[], StackAdapter]] = field(default_factory=dict)

    def stack(self, name: str) -> StackAdapter:
        if name not in self.stacks:
            raise StackError(
                f"no stack adapter '{name}' is available",
                hint=f"use one of: {', '.join(sorted(self.stacks)) or 'none'}"
                " (fix `adapter:` in the plan)",
            )
        return self.stacks[name]()


WorldFactory = Callable[["LoadedPlan", str], World]


def empty(plan: LoadedPlan, env: str) -> World:
    """No merger and no stacks: plans that only run their own inventories and checks."""
    return World()
