"""The ``openstack`` compute backend for staging and production.

It builds the merged province's site only: one network and subnet (the inventory's
``network:``), one security group per service opening only that service's ports, SSH
only from the management network (and, to the merged mail server, from the old mail
servers' addresses on their own sites: the mail sync's forwards), and one port plus
instance per host the merged province builds, each with an SSH host key made by the stack
and exported as known_hosts. A province's as-is hosts exist already on its own site: no
resource is ever made for one. Two component resources group what is made:
``SiteNetwork`` (network, subnet, security groups) and one ``Host`` per built host
(port, key, instance)."""

from dataclasses import dataclass
from ipaddress import IPv4Network

import pulumi
import pulumi_openstack as openstack
from hosts import HostOutputs

from cutover.inventory import Inventory
from cutover.inventory.model import MERGED, Service
from cutover.inventory.model import Host as InventoryHost
from cutover.stack.host_key import HostKey, cloud_config

# Ports each service answers on, by protocol. The lab-only services never reach a cloud.
SERVICE_PORTS: dict[Service, list[tuple[str, int]]] = {
    Service.DNS: [("udp", 53), ("tcp", 53)],
    Service.MAIL: [("tcp", 25), ("tcp", 587), ("tcp", 143), ("tcp", 993)],
    Service.PORTAL: [("tcp", 80), ("tcp", 443)],
    Service.VIDEO: [("tcp", 443), ("tcp", 5222), ("tcp", 5269), ("udp", 10000)],
}


@dataclass(frozen=True)
class Settings:
    image: str
    flavor: str
    management_cidr: IPv4Network
    key_pair: str | None = None

    @classmethod
    def from_config(cls, config: pulumi.Config) -> "Settings":
        if not config.get("managementCidr"):
            raise pulumi.RunError("set cutover:managementCidr: SSH is opened only from it")
        cidr = IPv4Network(config.require("managementCidr"))
        if cidr.prefixlen == 0:
            raise pulumi.RunError(
                "cutover:managementCidr must be the management network, not 0.0.0.0/0"
            )
        return cls(
            image=config.get("image") or "debian-12",
            flavor=config.get("flavor") or "m1.small",
            management_cidr=cidr,
            key_pair=config.get("keyPair") or None,
        )


class SiteNetwork(pulumi.ComponentResource):
    """The merger's network and subnet and its security groups, as one component: a
    preview shows them under one node, and a host's port takes its groups from it."""

    def __init__(
        self, inv: Inventory, settings: Settings, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("cutover:openstack:SiteNetwork", inv.name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.network = openstack.networking.Network(
            f"{inv.name}-net", admin_state_up=True, opts=child
        )
        self.subnet = openstack.networking.Subnet(
            f"{inv.name}-subnet",
            network_id=self.network.id,
            cidr=str(inv.network),
            gateway_ip=str(inv.env.network.gateway) if inv.env.network.gateway else None,
            ip_version=4,
            opts=child,
        )
        self.groups = _security_groups(inv, settings, child)
        self.register_outputs({"network": self.network.id, "subnet": self.subnet.id})


class Host(pulumi.ComponentResource):
    """One inventory host: its port at the inventory's address, its SSH host key made by
    the stack, and its instance booted with that key."""

    address: pulumi.Output[str]

    def __init__(
        self,
        host: InventoryHost,
        inv: Inventory,
        site: SiteNetwork,
        settings: Settings,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("cutover:openstack:Host", host.name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        groups = site.groups
        wanted = ["ssh"] + [s.value for s in host.services if s.value in groups]
        if host in inv.hosts_for(MERGED, Service.MAIL) and "mail-sync-forward" in groups:
            wanted.append("mail-sync-forward")
        port = openstack.networking.Port(
            f"{host.name}-port",
            network_id=site.network.id,
            fixed_ips=[
                openstack.networking.PortFixedIpArgs(
                    subnet_id=site.subnet.id, ip_address=str(host.address)
                )
            ],
            security_group_ids=[groups[g].id for g in wanted],
            opts=child,
        )
        self.key = HostKey(f"{host.name}-host-key", host.name, opts=child)
        openstack.compute.Instance(
            host.name,
            name=host.fqdn,
            image_name=settings.image,
            flavor_name=settings.flavor,
            key_pair=settings.key_pair,
            user_data=pulumi.Output.all(self.key.private, self.key.public).apply(
                lambda pair: cloud_config(pair[0], pair[1])
            ),
            networks=[openstack.compute.InstanceNetworkArgs(port=port.id)],
            metadata={"merger": inv.name, "owner": host.owner,
                      "services": ",".join(s.value for s in host.services)},
            opts=child,
        )  # fmt: skip
        self.address = port.all_fixed_ips[0]
        self.register_outputs({"address": self.address, "host_key": self.key.public})


def _security_groups(
    inv: Inventory, settings: Settings, opts: pulumi.ResourceOptions
) -> dict[str, openstack.networking.SecGroup]:
    groups: dict[str, openstack.networking.SecGroup] = {}
    ssh = openstack.networking.SecGroup(
        "ssh-management", description=f"SSH from the management network ({inv.name})", opts=opts
    )
    openstack.networking.SecGroupRule(
        "ssh-management-22",
        direction="ingress", ethertype="IPv4", protocol="tcp",
        port_range_min=22, port_range_max=22,
        remote_ip_prefix=str(settings.management_cidr), security_group_id=ssh.id, opts=opts,
    )  # fmt: skip
    groups["ssh"] = ssh
    used = {s for h in inv.built for s in h.services if s in SERVICE_PORTS}
    for service in sorted(used):
        group = openstack.networking.SecGroup(
            f"svc-{service.value}",
            description=f"{service.value} service ports ({inv.name})",
            opts=opts,
        )
        for protocol, port in SERVICE_PORTS[service]:
            openstack.networking.SecGroupRule(
                f"svc-{service.value}-{protocol}-{port}",
                direction="ingress", ethertype="IPv4", protocol=protocol,
                port_range_min=port, port_range_max=port,
                remote_ip_prefix="0.0.0.0/0", security_group_id=group.id, opts=opts,
            )  # fmt: skip
        groups[service.value] = group
    # The mail sync's SSH forwards: each old mail server to the merged one, from its address.
    olds = [h for p in inv.merger.provinces for h in inv.hosts_for(p.id, Service.MAIL)]
    if olds and inv.hosts_for(MERGED, Service.MAIL):
        forward = openstack.networking.SecGroup(
            "mail-sync-forward",
            description=f"SSH from the old mail servers ({inv.name})",
            opts=opts,
        )
        for old in olds:
            openstack.networking.SecGroupRule(
                f"mail-sync-forward-{old.name}",
                direction="ingress", ethertype="IPv4", protocol="tcp",
                port_range_min=22, port_range_max=22,
                remote_ip_prefix=f"{old.address}/32", security_group_id=forward.id, opts=opts,
            )  # fmt: skip
        groups["mail-sync-forward"] = forward
    return groups


def build(inv: Inventory, settings: Settings) -> dict[str, HostOutputs]:
    """The merged province's hosts only: a province's as-is hosts exist already on its own
    site (the exports take their addresses from the inventory and their keys from the
    site's known_hosts)."""
    site = SiteNetwork(inv, settings)
    outputs: dict[str, HostOutputs] = {}
    for host in inv.built:
        made = Host(host, inv, site, settings)
        outputs[host.name] = HostOutputs(made.address, made.key.public)
    return outputs
