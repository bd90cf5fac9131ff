"""The stack's outputs: the hosts, the Ansible inventory and known_hosts lines."""

from pathlib import Path

import pulumi
from hosts import HostOutputs

from cutover.inventory import Inventory
from cutover.lab import ansible

# Where the controller keeps the SSH key and known_hosts is the operator's business;
# these placeholders are rewritten by `cutover lab up` (lab) or set by a real site.
KEY_PLACEHOLDER = Path("{{ cutover_ssh_key }}")
KNOWN_HOSTS_PLACEHOLDER = Path("{{ cutover_known_hosts }}")


def export_all(inv: Inventory, built: dict[str, HostOutputs]) -> None:
    """``built``: the hosts the compute backend made (the lab: every host). The others
    exist already: their address is the inventory's, their keys the site's."""
    hosts = dict(built)
    for host in inv.hosts:
        if host.name not in hosts:
            keys = inv.site_host_keys.get(host.name, ())
            hosts[host.name] = HostOutputs(
                pulumi.Output.from_input(str(host.address)),
                pulumi.Output.from_input("\n".join(keys)) if keys else None,
            )
    names = [h.name for h in inv.hosts]
    addresses = pulumi.Output.all(*(hosts[n].address for n in names)).apply(
        lambda values: dict(zip(names, values, strict=True))
    )
    pulumi.export(
        "hosts",
        addresses.apply(
            lambda a: {n: {"address": a[n], "owner": inv.host(n).owner} for n in names}
        ),
    )
    pulumi.export(
        "ansible_inventory",
        addresses.apply(lambda a: ansible.build(inv, a, KEY_PLACEHOLDER, KNOWN_HOSTS_PLACEHOLDER)),
    )
    keyed = [n for n in names if hosts[n].host_key is not None]
    key_outputs = [hosts[n].host_key for n in keyed]
    pulumi.export(
        "known_hosts",
        pulumi.Output.all(addresses, *key_outputs).apply(
            lambda values: [
                f"{values[0][n]},{n},{inv.host(n).fqdn} {' '.join(line.split()[:2])}"
                for n, k in zip(keyed, values[1:], strict=True)
                for line in str(k).splitlines()  # a site may give several keys per host
            ]
        ),
    )
