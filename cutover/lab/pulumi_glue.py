"""Running the lab's hosts through a Pulumi stack (Automation API, local file backend).

Kept minimal and isolated: the shared Automation API layer (``cutover/stack/``) is
being written separately and will replace this module. The stack ``lab-<lab>`` of the
inline project ``cutover-lab`` keeps its state under ``.state/pulumi`` with a passphrase
generated in ``.state/pulumi-passphrase`` (0600); no service is needed.

The engine is used when a ``pulumi`` binary is on PATH (``CUTOVER_LAB_ENGINE=direct``
forces the direct path). Dynamic providers need ``pulumi-resource-pulumi-python`` that
runs *this* interpreter, so a shim for it is written under ``.state/pulumi-bin``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
from typing import Any

from cutover.errors import StackError
from cutover.inventory import Inventory
from cutover.lab.keys import KeyPair
from cutover.lab.lab import HostsApplier, Report
from cutover.lab.lxc import HostSpec, HostState
from cutover.lab.paths import state_dir

PROJECT = "cutover-lab"


def engine() -> str | None:
    if os.environ.get("CUTOVER_LAB_ENGINE", "pulumi") == "direct":
        return None
    return shutil.which("pulumi")


def _env() -> dict[str, str]:
    root = state_dir()
    backend = root / "pulumi"
    backend.mkdir(exist_ok=True, mode=0o700)
    passphrase = root / "pulumi-passphrase"
    if not passphrase.exists():
        fd = os.open(passphrase, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(32))
    shim_dir = root / "pulumi-bin"
    shim_dir.mkdir(exist_ok=True)
    shim = shim_dir / "pulumi-resource-pulumi-python"
    text = f'#!/bin/sh\nexec "{sys.executable}" -u -m pulumi.dynamic "$@"\n'
    if not shim.exists() or shim.read_text() != text:
        shim.write_text(text)
        shim.chmod(0o755)
    return {
        "PULUMI_BACKEND_URL": backend.as_uri(),
        "PULUMI_CONFIG_PASSPHRASE_FILE": str(passphrase),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_HOME": str(root / "pulumi-home"),
        "PATH": f"{shim_dir}{os.pathsep}{os.environ.get('PATH', '')}",
    }


def _clear_stale_locks(stack: str) -> None:
    # The caller holds the lab's own flock, so any engine lock on this stack belongs to
    # a run that was killed (the file backend cannot tell a dead holder by itself).
    locks = state_dir() / "pulumi" / ".pulumi" / "locks"
    for lock in locks.glob(f"**/{PROJECT}/{stack}/*.json"):
        lock.unlink(missing_ok=True)


def _stack(lab: str, program: Any) -> Any:
    from pulumi import automation as auto

    env = _env()
    _clear_stale_locks(f"lab-{lab}")
    return auto.create_or_select_stack(
        stack_name=f"lab-{lab}",
        project_name=PROJECT,
        program=program,
        opts=auto.LocalWorkspaceOptions(
            env_vars=env,
            pulumi_home=env["PULUMI_HOME"],
            project_settings=auto.ProjectSettings(
                name=PROJECT,
                runtime="python",
                backend=auto.ProjectBackend(url=env["PULUMI_BACKEND_URL"]),
            ),
            secrets_provider="passphrase",
        ),
    )


def _apply(specs: list[HostSpec], keys: KeyPair, report: Report) -> list[HostState]:
    import pulumi

    from cutover.lab.provider import LabHost

    def program() -> None:
        for spec in specs:
            host = LabHost(spec.name, spec, keys)
            pulumi.export(spec.name, {"ip": host.ip, "host_key": host.host_key})

    done = 0

    def on_event(event: Any) -> None:
        nonlocal done
        outputs = getattr(event, "res_outputs_event", None)
        if outputs is not None and outputs.metadata.type.startswith("pulumi-python:dynamic"):
            done += 1
            name = outputs.metadata.urn.rsplit("::", 1)[-1]
            report("host.ready", host=name, address="", done=done, total=len(specs))

    lab = specs[0].lab if specs else "empty"
    try:
        result = _stack(lab, program).up(parallel=8, on_event=on_event, color="never")
    except Exception as exc:  # the Automation API raises CommandError and others
        raise StackError(f"lab stack lab-{lab} failed: {str(exc).strip()[-400:]}") from exc
    states = []
    for spec in specs:
        value = result.outputs[spec.name].value
        states.append(HostState(spec.name, value["ip"], True, value["host_key"]))
    return states


def applier() -> HostsApplier | None:
    return _apply if engine() else None


def destroy(inv: Inventory, report: Report) -> None:
    """Destroy the lab's stack if there is one; leftovers are then removed directly."""
    lab = inv.env.network.lab
    if not engine() or lab is None or not (state_dir() / "pulumi").exists():
        return
    from pulumi import automation as auto

    try:
        stack = _stack(lab, lambda: None)
        stack.destroy(color="never", on_output=lambda line: None)
        stack.workspace.remove_stack(f"lab-{lab}")
        report("stack.destroyed", stack=f"lab-{lab}")
    except auto.errors.CommandError as exc:
        raise StackError(f"destroying stack lab-{lab} failed: {str(exc).strip()[-400:]}") from exc
