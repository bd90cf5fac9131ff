"""The Pulumi program of the merged infrastructure (config keys: see Pulumi.yaml).

Pulumi owns the hosts and their addresses; everything on the hosts is Ansible's. One
program, two compute backends chosen by ``cutover:compute``: ``lab`` (LXC containers on
this machine, a Python dynamic provider) and ``openstack`` (instances on a real cloud
for staging and production). Both export the same shape: the hosts, the Ansible
inventory and, where the stack knows them, the hosts' SSH keys as known_hosts lines.
"""

import compute_lab
import compute_openstack
import pulumi
from exports import export_all

from cutover.errors import CutoverError
from cutover.inventory import find_merger_dir, load

config = pulumi.Config("cutover")
merger = config.require("merger")
environment = config.get("environment") or "lab"

try:
    inventory = load(find_merger_dir(config.get("inventoryDir") or merger), environment)
except CutoverError as exc:
    # One clear line in Pulumi's output rather than a Python traceback.
    raise pulumi.RunError(exc.one_line()) from exc

compute = config.get("compute") or inventory.env.compute
if compute == "lab":
    hosts = compute_lab.build(inventory)
elif compute == "openstack":
    hosts = compute_openstack.build(inventory, compute_openstack.Settings.from_config(config))
else:
    raise pulumi.RunError(f"cutover:compute is {compute!r}; use lab or openstack")

export_all(inventory, hosts)
