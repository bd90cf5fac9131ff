"""The real-site (OpenStack) backend's resource graph, with Pulumi's mocks: a real cloud
cannot run here, so the program runs against the mock monitor and we inspect what it
would create."""

from __future__ import annotations

import asyncio
import runpy
import sys
from typing import Any

import pulumi
import pytest
import yaml

from cutover.inventory import find_merger_dir, load
from cutover.inventory.model import MERGED, Service
from cutover.paths import project_root
from cutover.stack.host_key import HostKeyProvider

STACKS = project_root() / "stacks"
MGMT = "10.51.250.0/24"


class Recorder(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []
        self.exports: dict[str, Any] = {}
        self.urns: list[str] = []  # the mock monitor's: they encode each parent's type

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args)
        if args.typ == "pulumi-python:dynamic:Resource":  # the engine would call create()
            made = HostKeyProvider().create(dict(args.inputs))
            return made.id, dict(made.outs or {})
        outputs = dict(args.inputs)
        if args.typ == "openstack:networking/port:Port":
            outputs["allFixedIps"] = [ip["ipAddress"] for ip in args.inputs["fixedIps"]]
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return {}

    def of_type(self, token: str) -> list[pulumi.runtime.MockResourceArgs]:
        return [r for r in self.resources if r.typ == token]


@pytest.fixture(autouse=True)
def _own_event_loop() -> Any:
    # Pulumi's mocks take the thread's current loop; a test before this one that used
    # asyncio.run() leaves none, so each program gets a loop of its own.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    asyncio.set_event_loop(None)
    loop.close()


def run_program(merger: str, env: str, **extra: str) -> Recorder:
    recorder = Recorder()
    exported: dict[str, Any] = {}
    pulumi.runtime.set_mocks(recorder, project="cutover", stack=f"{merger}-{env}", preview=False)
    pulumi.runtime.set_all_config(
        {
            "cutover:merger": merger,
            "cutover:environment": env,
            "cutover:compute": "openstack",
            "cutover:managementCidr": MGMT,
            **{f"cutover:{k}": v for k, v in extra.items()},
        }
    )
    sys.path.insert(0, str(STACKS))
    try:

        @pulumi.runtime.test
        def program() -> None:
            real_export = pulumi.export
            pulumi.export = lambda name, value: exported.__setitem__(name, value)  # type: ignore[assignment]
            try:
                runpy.run_path(str(STACKS / "__main__.py"), run_name="__main__")
            finally:
                pulumi.export = real_export
            for name, value in exported.items():
                pulumi.Output.from_input(value).apply(
                    lambda v, name=name: recorder.exports.__setitem__(name, v)
                )

        program()
        recorder.urns = list(pulumi.runtime.settings.get_monitor().resources)  # type: ignore[attr-defined]
    finally:
        sys.path.remove(str(STACKS))
    return recorder


@pytest.mark.realsite
@pytest.mark.parametrize("merger", ["quangngai-kontum", "cantho-haugiang-soctrang"])
@pytest.mark.parametrize("env", ["staging", "production"])
def test_only_the_merged_province_hosts_are_built_each_at_its_address(
    merger: str, env: str
) -> None:
    inv = load(find_merger_dir(merger), env)
    rec = run_program(merger, env)
    instances = {r.name: r for r in rec.of_type("openstack:compute/instance:Instance")}
    assert inv.built and set(instances) == {h.name for h in inv.built}
    # A province's as-is hosts exist already on its own site: no resource is made for one
    # (instance, port, key, component); the only ones that name one are the merged mail
    # server's rules admitting that old server's address alone (the sync's forward).
    existing = [h for h in inv.hosts if inv.existing(h)]
    assert existing
    for resource in rec.resources:
        for host in existing:
            if host.name not in resource.name and host.name != resource.inputs.get("host"):
                continue
            assert resource.typ == "openstack:networking/secGroupRule:SecGroupRule", (
                resource.typ, resource.name
            )  # fmt: skip
            assert resource.inputs["remoteIpPrefix"] == f"{host.address}/32", resource.name
    # ...but the exports still give every host, the as-is ones at their sites' addresses
    exported = rec.exports["hosts"]
    assert set(exported) == {h.name for h in inv.hosts}
    for host in existing:
        assert exported[host.name]["address"] == str(host.address)
        assert host.site is not None and host.address in inv.env.sites[host.site].network
    ports = {r.name: r for r in rec.of_type("openstack:networking/port:Port")}
    for host in inv.built:
        fixed = ports[f"{host.name}-port"].inputs["fixedIps"]
        assert [ip["ipAddress"] for ip in fixed] == [str(host.address)]
        assert instances[host.name].inputs["name"] == host.fqdn


@pytest.mark.parametrize("merger", ["quangngai-kontum", "cantho-haugiang-soctrang"])
def test_ssh_is_open_only_from_the_management_network(merger: str) -> None:
    """...and, to the merged mail server alone, from each old mail server (its forward)."""
    inv = load(find_merger_dir(merger), "staging")
    rec = run_program(merger, "staging")
    rules = rec.of_type("openstack:networking/secGroupRule:SecGroupRule")
    assert rules, "no security group rules at all"
    olds = {
        f"{h.address}/32" for p in inv.merger.provinces for h in inv.hosts_for(p.id, Service.MAIL)
    }
    forwards = set()
    for rule in rules:
        low, high = rule.inputs.get("portRangeMin"), rule.inputs.get("portRangeMax")
        assert low is not None and high is not None, f"{rule.name} opens every port"
        if low <= 22 <= high:
            if rule.name.startswith("mail-sync-forward-"):
                assert rule.inputs["remoteIpPrefix"] in olds, rule.name
                forwards.add(rule.inputs["remoteIpPrefix"])
            else:
                assert rule.inputs["remoteIpPrefix"] == MGMT, f"{rule.name} opens SSH widely"
    assert forwards == olds
    merged_mail = {f"{h.name}-port" for h in inv.hosts_for(MERGED, Service.MAIL)}
    for port in rec.of_type("openstack:networking/port:Port"):
        groups = port.inputs["securityGroupIds"]
        assert ("mail-sync-forward-id" in groups) == (port.name in merged_mail), port.name


@pytest.mark.security
@pytest.mark.parametrize("merger", ["quangngai-kontum", "cantho-haugiang-soctrang"])
def test_every_instance_gets_its_host_key_and_known_hosts_has_it(merger: str) -> None:
    """No trust on first use: the stack makes each host's key, cloud-init installs it as
    the only host key, and the known_hosts output names the host with that key."""
    from cryptography.hazmat.primitives import serialization

    inv = load(find_merger_dir(merger), "production")
    rec = run_program(merger, "production")
    known = {line.split()[0]: line.split(None, 1)[1] for line in rec.exports["known_hosts"]}
    keys = {r.inputs["host"]: r for r in rec.of_type("pulumi-python:dynamic:Resource")}
    publics = set()
    for instance in rec.of_type("openstack:compute/instance:Instance"):
        host = inv.host(instance.name)
        user_data = instance.inputs["userData"]
        assert user_data.startswith("#cloud-config\n")
        config = yaml.safe_load(user_data)
        assert config["ssh_deletekeys"] is True and config["ssh_genkeytypes"] == []
        public = config["ssh_keys"]["ed25519_public"]
        private = serialization.load_ssh_private_key(
            config["ssh_keys"]["ed25519_private"].encode(), password=None
        )
        derived = private.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        assert derived.decode() == public
        assert known[f"{host.address},{host.name},{host.fqdn}"] == public
        assert host.name in keys
        publics.add(public)
    assert len(publics) == len(inv.built)  # a key of its own per built host
    # an as-is host's key is the one its site gave, never one learnt on first use
    for host in inv.hosts:
        if inv.existing(host):
            given = inv.site_host_keys[host.name]
            assert known[f"{host.address},{host.name},{host.fqdn}"] in given


def test_only_service_ports_are_opened() -> None:
    rec = run_program("quangngai-kontum", "staging")
    opened = {
        (r.inputs["protocol"], r.inputs["portRangeMin"])
        for r in rec.of_type("openstack:networking/secGroupRule:SecGroupRule")
    }
    allowed = {("tcp", 22), ("udp", 53), ("tcp", 53), ("tcp", 25), ("tcp", 587), ("tcp", 143),
               ("tcp", 993), ("tcp", 80), ("tcp", 443), ("tcp", 5222), ("tcp", 5269),
               ("udp", 10000)}  # fmt: skip
    assert opened <= allowed, f"unexpected ports: {opened - allowed}"


def test_a_wide_management_network_is_refused() -> None:
    with pytest.raises(Exception, match="management network"):
        run_program("quangngai-kontum", "staging", managementCidr="0.0.0.0/0")


def test_each_host_and_the_site_network_are_components() -> None:
    """A preview groups a host's port, key and instance under the host, and the network,
    subnet and security groups under the site."""
    rec = run_program("quangngai-kontum", "production")
    inv = load(find_merger_dir("quangngai-kontum"), "production")
    assert {r.name for r in rec.of_type("cutover:openstack:Host")} == {h.name for h in inv.built}
    assert [r.name for r in rec.of_type("cutover:openstack:SiteNetwork")] == [inv.name]
    host, site = "cutover:openstack:Host", "cutover:openstack:SiteNetwork"
    under = {
        "openstack:compute/instance:Instance": host,
        "openstack:networking/port:Port": host,
        "pulumi-python:dynamic:Resource": host,
        "openstack:networking/network:Network": site,
        "openstack:networking/secGroupRule:SecGroupRule": site,
    }
    checked = 0
    for urn in rec.urns:
        types = urn.split("::")[2].split("$")  # the parents' types, then the resource's
        if types[-1] in under:
            assert types[-2] == under[types[-1]], urn
            checked += 1
    assert checked > 3 * len(inv.built)
