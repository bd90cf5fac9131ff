"""An SSH host key made by the stack for a cloud instance, so a real site is never
trust-on-first-use: the private half goes to the instance through cloud-init (a secret in
the stack's state), the public half into the stack's ``known_hosts`` output, and the
controller checks every connection against it.

A Pulumi dynamic resource: the key is made once, at create, and kept in the state; an
update of the stack leaves it (and the instance) alone."""

from __future__ import annotations

from typing import Any

import pulumi
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider


def make_pair() -> tuple[str, str]:
    """A new ed25519 pair: the OpenSSH private key (PEM) and the public line."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return private, public.decode()


class HostKeyProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        private, public = make_pair()
        return CreateResult(
            id_=props["host"], outs={"host": props["host"], "private": private, "public": public}
        )

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        # The key belongs to its host: a new one only for a new host.
        replace = _olds.get("host") != _news.get("host")
        return DiffResult(changes=replace, replaces=["host"] if replace else [])


class HostKey(pulumi.dynamic.Resource):
    """Outputs ``public`` (``ssh-ed25519 AAAA...``) and ``private`` (a secret)."""

    public: pulumi.Output[str]
    private: pulumi.Output[str]

    def __init__(self, name: str, host: str, opts: pulumi.ResourceOptions | None = None) -> None:
        props = {"host": host, "private": None, "public": None}
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["private"])
        )
        super().__init__(HostKeyProvider(), name, props, opts)


def cloud_config(private: str, public: str) -> str:
    """The cloud-init user data that installs the key as the host's only SSH host key."""
    config = {
        "ssh_deletekeys": True,
        "ssh_genkeytypes": [],
        "ssh_keys": {"ed25519_private": private, "ed25519_public": public},
    }
    return "#cloud-config\n" + yaml.safe_dump(config, sort_keys=True)
