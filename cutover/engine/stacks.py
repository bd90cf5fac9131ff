"""What a `stack` step needs from the Pulumi layer, as a Protocol.

The real adapter lives in :mod:`cutover.stack.adapter` (a thin layer over the Automation
API); the caller of a run hands it to the engine in the run's world
(:mod:`cutover.engine.world`), and tests hand in small fakes. The engine journals the
previous values *before* updating, so a rollback after a crash restores them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

ConfigValue = str | int | float | bool | None


class StackAdapter(Protocol):
    def read_config(self, stack: str, keys: Sequence[str]) -> dict[str, ConfigValue]:
        """Current values of ``keys`` (None when unset). Secret values must be returned
        in a form that is safe to journal (e.g. Pulumi's encrypted ``secure`` form)."""
        ...

    def update(self, stack: str, config: Mapping[str, ConfigValue], *, check: bool) -> None:
        """Set these keys (None removes one) and update the stack; with ``check``, only
        preview and change nothing."""
        ...
