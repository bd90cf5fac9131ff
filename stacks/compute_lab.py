"""The ``lab`` compute backend: one LXC container per inventory host.

The bridge, the template and the lab's SSH key pair are the lab's ground, made by
``cutover lab up`` before the stack runs (and idempotently here, so a plain
``pulumi up`` works too); the hosts are resources of the stack."""

from hosts import HostOutputs

from cutover.inventory import Inventory
from cutover.lab import template
from cutover.lab.keys import ensure_keypair
from cutover.lab.lab import spec_of
from cutover.lab.paths import lab_dir
from cutover.stack.lab_provider import LabHost


def build(inv: Inventory) -> dict[str, HostOutputs]:
    spec = spec_of(inv, template.name())
    keys = ensure_keypair(lab_dir(spec.lab), comment=f"cutover-lab-{spec.lab}")
    outputs = {}
    for host, host_spec in zip(inv.hosts, spec.hosts, strict=True):
        resource = LabHost(host.name, host_spec, keys)
        outputs[host.name] = HostOutputs(resource.ip, resource.host_key)
    return outputs
