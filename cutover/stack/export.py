"""What a staging or production stack gives the controller after an update: the Ansible
inventory of its hosts, written where provisioning and cutover runs read it
(:func:`cutover.paths.exported_inventory`), with the hosts' own SSH host keys (the
stack's ``known_hosts`` output) beside it, so nothing trusts a key on first use."""

from __future__ import annotations

import os
from pathlib import Path

from cutover import paths
from cutover.errors import StackError
from cutover.inventory import Inventory
from cutover.lab import ansible
from cutover.stack.workspace import StackHandle

# The private half of the stack's key pair (cutover:keyPair): the operator's, never ours.
SSH_KEY_ENV = "CUTOVER_SSH_KEY"


def ssh_key() -> Path:
    return Path(os.environ.get(SSH_KEY_ENV) or "~/.ssh/id_ed25519").expanduser()


def write_inventory(handle: StackHandle, inv: Inventory) -> Path:
    """Write the stack's inventory and known_hosts for ``inv``; returns the inventory."""
    outputs = handle.outputs()
    hosts = outputs.get("hosts")
    if not isinstance(hosts, dict) or not hosts:
        raise StackError(
            f"stack {handle.name} exports no hosts",
            hint=f"run `cutover stack up {inv.name} --env {inv.environment}` first",
        )
    target = paths.exported_inventory(inv.name, inv.environment)
    known = target.with_suffix(".known_hosts")
    lines = [str(line) for line in outputs.get("known_hosts") or []]
    known.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    addresses = {name: str(host["address"]) for name, host in hosts.items()}
    ansible.write(target, ansible.build(inv, addresses, ssh_key(), known))
    return target
