"""The Pulumi dynamic provider of lab hosts: a thin wrapper over :mod:`cutover.lab.lxc`.

The provider process (``pulumi-resource-pulumi-python``) imports this module by name, so
it lives in the installed ``cutover`` package rather than in ``stacks/``. Every method
calls the host manager, which already converges, so create and update are the same call.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

from cutover.lab import lxc
from cutover.lab.keys import KeyPair
from cutover.lab.lxc import HostSpec

# Changing any of these means another container: replace rather than update.
IDENTITY = ("lab", "name", "hostname", "address", "gateway", "bridge", "template")


def _spec(props: dict[str, Any]) -> HostSpec:
    return HostSpec(
        lab=props["lab"],
        name=props["name"],
        hostname=props["hostname"],
        address=IPv4Interface(props["address"]),
        gateway=IPv4Address(props["gateway"]),
        bridge=props["bridge"],
        template=props["template"],
    )


def _keys(props: dict[str, Any]) -> KeyPair:
    return KeyPair(Path(props["private_key"]), props["public_key"])


class LabHostProvider(ResourceProvider):
    def _apply(self, props: dict[str, Any]) -> dict[str, Any]:
        state = lxc.ensure(_spec(props), _keys(props))
        return {**props, "ip": state.address, "host_key": state.host_key}

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=props["name"], outs=self._apply(props))

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        replaces = [k for k in IDENTITY if _olds.get(k) != _news.get(k)]
        changed = bool(replaces) or any(
            _olds.get(k) != _news.get(k) for k in ("public_key", "private_key")
        )
        # Drift: a host stopped or destroyed outside Pulumi (a killed run, a reboot of
        # the machine) is converged by an update rather than left as recorded.
        drifted = not (lxc.marker(_id) and lxc.running(_id))
        return DiffResult(changes=changed or drifted, replaces=replaces, delete_before_replace=True)

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=self._apply(_news))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        lxc.destroy(_id)


class LabHost(pulumi.dynamic.Resource):
    """One lab host; outputs ``ip`` and ``host_key`` (its ed25519 OpenSSH public line)."""

    ip: pulumi.Output[str]
    host_key: pulumi.Output[str]

    def __init__(
        self, name: str, spec: HostSpec, keys: KeyPair, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        props: dict[str, Any] = {k: str(getattr(spec, k)) for k in IDENTITY}
        props |= {
            "public_key": keys.public_line,
            "private_key": str(keys.private),
            "ip": None,
            "host_key": None,
        }
        super().__init__(LabHostProvider(), name, props, opts)
