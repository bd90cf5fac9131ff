"""What a `stack` step needs from the Pulumi layer, as a Protocol, and adapter lookup.

The real adapter lives in :mod:`cutover.stack` (a thin layer over the Automation API) and
registers itself with :func:`register_adapter`; tests register small fakes. The engine
journals the previous values *before* updating, so a rollback after a crash restores them.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from cutover.errors import StackError

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


_ADAPTERS: dict[str, Callable[[], StackAdapter]] = {}


def register_adapter(name: str, factory: Callable[[], StackAdapter]) -> None:
    _ADAPTERS[name] = factory


def unregister_adapter(name: str) -> None:
    _ADAPTERS.pop(name, None)


def get_adapter(name: str) -> StackAdapter:
    if name not in _ADAPTERS:
        with contextlib.suppress(ImportError):  # the Pulumi layer registers itself on import
            importlib.import_module("cutover.stack")
    if name not in _ADAPTERS:
        raise StackError(
            f"no stack adapter '{name}' is available",
            hint="install the Pulumi layer (cutover.stack) or fix `adapter:` in the plan",
        )
    return _ADAPTERS[name]()
