"""A merger's lab twin: bring it up, take it down, say what is there.

``up`` converges from any state (nothing, a half-made lab, a finished one): template,
key pair, bridge, hosts, then known_hosts and the Ansible inventory from the hosts' real
keys. ``down`` leaves no container, bridge or state behind. Progress is reported as
events through ``report(kind, **data)``; nothing here prints.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from ipaddress import IPv4Interface
from pathlib import Path
from typing import Any, Protocol

from cutover.errors import LabError
from cutover.inventory import Inventory
from cutover.lab import ansible, bridge, limits, lxc, template
from cutover.lab.keys import KeyPair, ensure_keypair, write_known_hosts
from cutover.lab.lxc import HostSpec, HostState
from cutover.lab.paths import lab_dir

Report = Callable[..., None]
HostsApplier = Callable[[list[HostSpec], KeyPair, Report], list[HostState]]


def _quiet(kind: str, **data: Any) -> None:
    del kind, data


@dataclass(frozen=True)
class LabSpec:
    lab: str
    bridge: str
    gateway: IPv4Interface
    hosts: tuple[HostSpec, ...]


@dataclass(frozen=True)
class LabResult:
    lab: str
    hosts: tuple[HostState, ...]
    inventory: Path
    known_hosts: Path
    private_key: Path


def spec_of(inv: Inventory, template_name: str) -> LabSpec:
    net = inv.env.network
    if inv.env.compute != "lab" or net.lab is None or net.bridge is None or net.gateway is None:
        raise LabError(
            f"{inv.name}/{inv.environment} is not a lab environment",
            hint="use the lab environment (compute: lab, network.lab/bridge/gateway set)",
        )
    prefix = net.cidr.prefixlen
    hosts = tuple(
        HostSpec(
            lab=net.lab,
            name=f"{net.lab}-{h.name}",
            hostname=h.name,
            address=IPv4Interface(f"{h.address}/{prefix}"),
            gateway=net.gateway,
            bridge=net.bridge,
            template=template_name,
        )
        for h in inv.hosts
    )
    return LabSpec(net.lab, net.bridge, IPv4Interface(f"{net.gateway}/{prefix}"), hosts)


@contextmanager
def locked(lab: str) -> Iterator[Path]:
    """One lab command at a time per lab; the lock dies with its process (kill -9 too)."""
    directory = lab_dir(lab)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    with (directory.parent / f"{lab}.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise LabError(
                f"another cutover command is working on lab {lab!r}", hint="wait for it"
            ) from exc
        yield directory


def apply_hosts_directly(specs: list[HostSpec], keys: KeyPair, report: Report) -> list[HostState]:
    """Create or converge hosts in parallel, without Pulumi."""
    states: list[HostState] = []
    with ThreadPoolExecutor(max_workers=min(8, max(1, len(specs)))) as pool:
        futures = {pool.submit(lxc.ensure, spec, keys): spec for spec in specs}
        for future in as_completed(futures):
            state = future.result()
            states.append(state)
            report("host.ready", host=state.name, address=state.address, done=len(states),
                   total=len(specs))  # fmt: skip
    return states


def prepare(inv: Inventory, report: Report = _quiet) -> tuple[LabSpec, KeyPair]:
    """Everything but the hosts: template, key pair, bridge, and no stray containers."""
    wanted = template.name()
    if not template.is_ready(wanted):
        report("template.build", template=wanted)
    spec = spec_of(inv, template.ensure())
    keys = ensure_keypair(lab_dir(spec.lab), comment=f"cutover-lab-{spec.lab}")
    for name, value in limits.ensure().items():
        report("host.limit", name=name, value=value)
    bridge.ensure(spec.bridge, spec.gateway)
    report("bridge.ready", bridge=spec.bridge, address=str(spec.gateway))
    names = {h.name for h in spec.hosts}
    for stray in lxc.containers_of(spec.lab):
        if stray not in names:  # a host removed from the inventory since the last up
            lxc.destroy(stray)
            report("host.removed", host=stray)
    return spec, keys


def finish(inv: Inventory, spec: LabSpec, keys: KeyPair, states: list[HostState]) -> LabResult:
    """known_hosts from the hosts' real keys, then the Ansible inventory that uses it."""
    directory = lab_dir(spec.lab)
    by_name = {s.name: s for s in states}
    entries = []
    addresses = {}
    for host, hs in zip(inv.hosts, spec.hosts, strict=True):
        state = by_name[hs.name]
        entries.append(([state.address, host.name, host.fqdn], state.host_key))
        addresses[host.name] = state.address
    known = directory / "known_hosts"
    write_known_hosts(known, entries)
    inventory = directory / "inventory.yml"
    ansible.write(inventory, ansible.build(inv, addresses, keys.private, known))
    ordered = tuple(by_name[h.name] for h in spec.hosts)
    return LabResult(spec.lab, ordered, inventory, known, keys.private)


class StackHosts(Protocol):
    """The lab's hosts as resources of a stack (:mod:`cutover.stack.lab`), handed in by
    the caller: the lab does not import the Pulumi layer."""

    def applier(self, inv: Inventory) -> HostsApplier: ...

    def destroy(self, inv: Inventory, report: Report) -> None: ...


def through_stack() -> bool:
    """``CUTOVER_LAB_ENGINE=direct`` skips the stack (for debugging the host manager)."""
    return os.environ.get("CUTOVER_LAB_ENGINE", "pulumi") != "direct"


def hosts_applier(inv: Inventory, stack: StackHosts) -> HostsApplier:
    """How ``up`` makes the hosts: through the stack, or directly when disabled. The one
    place that decides, with :func:`teardown`, so up and down always agree."""
    return stack.applier(inv) if through_stack() else apply_hosts_directly


def teardown(inv: Inventory, stack: StackHosts, report: Report = _quiet) -> int:
    """The lab down whichever way it came up: its stack's resources, then every
    container, the bridge and the state (:func:`down`). Returns the container count."""
    if through_stack():
        stack.destroy(inv, report)
    return down(inv.env.network.lab or "", inv.env.network.bridge, report)


def up(
    inv: Inventory,
    report: Report = _quiet,
    apply: HostsApplier = apply_hosts_directly,
    restore: Callable[[LabSpec], None] | None = None,
) -> LabResult:
    """``restore``: puts saved hosts in place (a snapshot) before they are started."""
    lab = inv.env.network.lab or ""
    with locked(lab):
        spec, keys = prepare(inv, report)
        if restore is not None:
            restore(spec)
        report("hosts.start", total=len(spec.hosts))
        states = apply(list(spec.hosts), keys, report)
        return finish(inv, spec, keys, states)


def down(lab: str, bridge_name: str | None, report: Report = _quiet) -> int:
    """Destroy every container of ``lab``, its bridge and its state; returns the count."""
    with locked(lab) as directory:
        names = lxc.containers_of(lab)
        with ThreadPoolExecutor(max_workers=8) as pool:
            for name, _ in zip(names, pool.map(lxc.destroy, names), strict=True):
                report("host.destroyed", host=name)
        if bridge_name:
            bridge.remove(bridge_name)
            report("bridge.removed", bridge=bridge_name)
        shutil.rmtree(directory, ignore_errors=True)
    return len(names)


def status(inv: Inventory) -> list[dict[str, Any]]:
    spec = spec_of(inv, template.name())
    rows = []
    for host, hs in zip(inv.hosts, spec.hosts, strict=True):
        state = lxc.state(hs.name) if lxc.exists(hs.name) else None
        rows.append(
            {
                "host": host.name,
                "container": hs.name,
                "address": str(hs.address.ip),
                "state": "absent" if state is None else "running" if state.running else "stopped",
                "owner": host.owner,
                "services": [s.value for s in host.services],
            }
        )
    return rows
