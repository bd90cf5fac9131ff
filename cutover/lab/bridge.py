"""The lab's host-only bridge: one per lab, its address in 198.18.0.0/15.

The bridge carries traffic between the host and its containers only: no NAT rule is
made, no uplink is enslaved, and IP forwarding is never turned on, so nothing routes out.
Functions converge from any leftover state (missing, wrong kind, extra addresses, down).
"""

from __future__ import annotations

import json
from ipaddress import IPv4Interface, IPv4Network
from pathlib import Path
from typing import Any

from cutover.errors import LabError
from cutover.lab.proc import run

LAB_RANGE = IPv4Network("198.18.0.0/15")
FORBIDDEN = IPv4Network("192.0.2.0/24")  # this machine's uplink (LAB-NOTES.md)


def _link(name: str) -> dict[str, Any] | None:
    result = run(["ip", "-j", "-d", "link", "show", "dev", name], check=False)
    if result.returncode != 0:
        return None
    links: list[dict[str, Any]] = json.loads(result.stdout or "[]")
    return links[0] if links else None


def exists(name: str) -> bool:
    return _link(name) is not None


def check_address(address: IPv4Interface) -> None:
    if address.network.overlaps(FORBIDDEN) or not address.network.subnet_of(LAB_RANGE):
        raise LabError(
            f"bridge address {address} is outside the lab range {LAB_RANGE}",
            hint="lab networks live in 198.18.0.0/15 and never in 192.0.2.0/24",
        )


def ensure(name: str, address: IPv4Interface) -> None:
    """Make ``name`` a bridge that is up with exactly ``address``."""
    check_address(address)
    link = _link(name)
    if link is not None and link.get("linkinfo", {}).get("info_kind") != "bridge":
        run(["ip", "link", "del", "dev", name])  # a leftover of another kind: replace it
        link = None
    if link is None:
        run(["ip", "link", "add", "name", name, "type", "bridge"])
    _only_address(name, address)
    run(["ip", "link", "set", "dev", name, "up"])
    forward = Path("/proc/sys/net/ipv4/ip_forward")
    if forward.exists() and forward.read_text().strip() != "0":
        # Not ours to change, but a lab must not be reachable through this host.
        raise LabError(
            "IP forwarding is on: the lab would route out through this host",
            hint="set net.ipv4.ip_forward=0 (the lab never turns it on)",
        )


def _only_address(name: str, address: IPv4Interface) -> None:
    result = run(["ip", "-j", "-4", "addr", "show", "dev", name])
    infos: list[dict[str, Any]] = json.loads(result.stdout or "[]")
    present = {
        IPv4Interface(f"{a['local']}/{a['prefixlen']}")
        for info in infos
        for a in info.get("addr_info", [])
    }
    for other in present - {address}:
        run(["ip", "addr", "del", str(other), "dev", name])
    if address not in present:
        _check_not_elsewhere(name, address)
        run(["ip", "addr", "add", str(address), "dev", name])


def _check_not_elsewhere(name: str, address: IPv4Interface) -> None:
    result = run(["ip", "-j", "-4", "addr", "show"])
    for info in json.loads(result.stdout or "[]"):
        if info.get("ifname") == name:
            continue
        for a in info.get("addr_info", []):
            other = IPv4Interface(f"{a['local']}/{a['prefixlen']}")
            if other.network.overlaps(address.network):
                raise LabError(
                    f"network {address.network} is already on {info['ifname']} ({other})",
                    hint="another lab uses this range: run `cutover lab down` for it, or "
                    "give this lab another network in its inventory",
                )


def remove(name: str) -> None:
    if exists(name):
        run(["ip", "link", "del", "dev", name])
