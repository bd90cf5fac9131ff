"""The cutover engine: scheduling, rollback, windows, gates, the environment lock.

The names below load :mod:`cutover.engine.core` on first use, not on import: core pulls
in Ansible, Pulumi and the probes (seconds of start-up), and the light modules of this
package (history, lock, gates) are used by commands that need none of that, among them
every command that must refuse bad input at once.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cutover.engine.core import Engine, Outcome, RunOptions, create_run, mode_for, open_run

__all__ = ["Engine", "Outcome", "RunOptions", "create_run", "mode_for", "open_run"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("cutover.engine.core"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
