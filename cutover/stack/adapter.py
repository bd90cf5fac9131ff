"""The engine's `stack` steps on real Pulumi stacks (the adapter a run's world names
``pulumi``) of the project (root Pulumi.yaml).

Previous values are journaled by the engine before an update; secret values are handed
over in their encrypted form (``secure:<ciphertext>`` from the stack's config file), so
a journal never holds a secret in clear and a rollback restores the exact ciphertext."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from cutover.stack.workspace import StackHandle, open_stack

SECURE = "secure:"
# The values of the engine's StackAdapter protocol (structural: no import of the engine).
ConfigValue = str | int | float | bool | None


def _text(value: ConfigValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _config_file(handle: StackHandle) -> Path:
    return handle.work_dir / f"Pulumi.{handle.name}.yaml"


def _raw_config(handle: StackHandle) -> dict[str, Any]:
    path = _config_file(handle)
    data = yaml.safe_load(path.read_text()) if path.exists() else None
    return dict((data or {}).get("config") or {})


def _write_secure(handle: StackHandle, values: Mapping[str, str]) -> None:
    path = _config_file(handle)
    data = (yaml.safe_load(path.read_text()) if path.exists() else None) or {}
    config = data.setdefault("config", {})
    for key, ciphertext in values.items():
        config[key] = {"secure": ciphertext}
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


@contextmanager
def _restored_afterwards(handle: StackHandle) -> Any:
    """For check mode: any config written inside is put back exactly as it was."""
    path = _config_file(handle)
    before = path.read_bytes() if path.exists() else None
    try:
        yield
    finally:
        if before is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(before)


class PulumiAdapter:
    def read_config(self, stack: str, keys: Sequence[str]) -> dict[str, ConfigValue]:
        handle = open_stack(stack, create=False)
        current = handle.get_config()
        raw = _raw_config(handle)
        values: dict[str, ConfigValue] = {}
        for key in keys:
            if key not in current:
                values[key] = None
            elif current[key].secret:
                values[key] = SECURE + str(raw[key]["secure"])
            else:
                values[key] = current[key].value
        return values

    def update(self, stack: str, config: Mapping[str, ConfigValue], *, check: bool) -> None:
        handle = open_stack(stack, create=False)
        removed = [k for k, v in config.items() if v is None]
        secure = {
            k: v.removeprefix(SECURE)
            for k, v in config.items()
            if isinstance(v, str) and v.startswith(SECURE)
        }
        plain = {k: _text(v) for k, v in config.items() if v is not None and k not in secure}

        def apply_config() -> None:
            if plain:
                handle.set_config(plain)
            if secure:
                _write_secure(handle, secure)
            if removed:
                handle.remove_config(removed)

        if check:
            with _restored_afterwards(handle):
                apply_config()
                handle.preview()
            return
        apply_config()
        handle.up()
