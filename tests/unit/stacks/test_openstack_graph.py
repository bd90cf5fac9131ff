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

from cutover.inventory import find_merger_dir, load
from cutover.paths import project_root

STACKS = project_root() / "stacks"
MGMT = "10.51.250.0/24"


class Recorder(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args)
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
            runpy.run_path(str(STACKS / "__main__.py"), run_name="__main__")

        program()
    finally:
        sys.path.remove(str(STACKS))
    return recorder


@pytest.mark.parametrize("merger", ["quangngai-kontum", "cantho-haugiang-soctrang"])
@pytest.mark.parametrize("env", ["staging", "production"])
def test_every_inventory_host_has_an_instance_at_its_address(merger: str, env: str) -> None:
    inv = load(find_merger_dir(merger), env)
    rec = run_program(merger, env)
    instances = {r.name: r for r in rec.of_type("openstack:compute/instance:Instance")}
    assert set(instances) == {h.name for h in inv.hosts}
    ports = {r.name: r for r in rec.of_type("openstack:networking/port:Port")}
    for host in inv.hosts:
        fixed = ports[f"{host.name}-port"].inputs["fixedIps"]
        assert [ip["ipAddress"] for ip in fixed] == [str(host.address)]
        assert instances[host.name].inputs["name"] == host.fqdn


@pytest.mark.parametrize("merger", ["quangngai-kontum", "cantho-haugiang-soctrang"])
def test_ssh_is_open_only_from_the_management_network(merger: str) -> None:
    rec = run_program(merger, "staging")
    rules = rec.of_type("openstack:networking/secGroupRule:SecGroupRule")
    assert rules, "no security group rules at all"
    for rule in rules:
        low, high = rule.inputs.get("portRangeMin"), rule.inputs.get("portRangeMax")
        assert low is not None and high is not None, f"{rule.name} opens every port"
        if low <= 22 <= high:
            assert rule.inputs["remoteIpPrefix"] == MGMT, f"{rule.name} opens SSH widely"


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
