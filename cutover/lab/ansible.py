"""The Ansible inventory of a lab: hosts, groups per province and per service, addresses.

SSH options pin the lab's own known_hosts with strict host-key checking, so Ansible
trusts exactly the keys the hosts generated at first boot and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from cutover.inventory import Inventory
from cutover.inventory.model import MERGED, SHARED


def group_of_owner(owner: str) -> str:
    return owner if owner in (MERGED, SHARED) else f"province_{owner}"


def build(
    inv: Inventory, addresses: Mapping[str, str], key: Path, known_hosts: Path
) -> dict[str, Any]:
    """``addresses``: inventory host name -> address actually given to it."""
    groups: dict[str, dict[str, Any]] = {}

    def add(group: str, host: str) -> None:
        groups.setdefault(group, {"hosts": {}})["hosts"][host] = None

    hostvars: dict[str, dict[str, Any]] = {}
    for h in inv.hosts:
        hostvars[h.name] = {
            "ansible_host": addresses.get(h.name, str(h.address)),
            "fqdn": h.fqdn,
            "owner": h.owner,
        }
        add(group_of_owner(h.owner), h.name)
        for service in h.services:
            add(service.value, h.name)
            add(f"{group_of_owner(h.owner)}_{service.value}", h.name)
    ssh_args = (
        f"-o UserKnownHostsFile={known_hosts} -o GlobalKnownHostsFile=/dev/null "
        "-o StrictHostKeyChecking=yes -o IdentitiesOnly=yes"
    )
    return {
        "all": {
            "vars": {
                "ansible_user": "root",
                "ansible_ssh_private_key_file": str(key),
                "ansible_ssh_common_args": ssh_args,
                "ansible_python_interpreter": "/usr/bin/python3",
                "cutover_merger": inv.name,
                "cutover_environment": inv.environment,
            },
            "hosts": hostvars,
            "children": dict(sorted(groups.items())),
        }
    }


def write(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text("---\n" + yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    tmp.replace(path)
