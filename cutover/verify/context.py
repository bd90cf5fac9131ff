"""What every check of verification shares: the result types and the context (the
environment, its resolver, its secrets and CA)."""

from __future__ import annotations

import ssl
from dataclasses import asdict, dataclass, field
from pathlib import Path

import dns.message

from cutover import secretstore as secretlib
from cutover.clients import dns as dnsclient
from cutover.errors import ConfigError, Location
from cutover.inventory import Inventory
from cutover.inventory.model import Service
from cutover.secretstore import env_dir

# as-is: every province on its own systems (after provisioning, after a rollback);
# merged: the cutover done, as citizens reach it through the resolver.
STATES = ("as-is", "merged")


@dataclass(frozen=True)
class Check:
    service: str
    target: str
    name: str
    ok: bool
    detail: str = ""


@dataclass
class Report:
    merger: str
    environment: str
    state: str
    checks: list[Check] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def as_dict(self) -> dict[str, object]:
        return {
            "merger": self.merger,
            "environment": self.environment,
            "state": self.state,
            "ok": self.ok,
            "passed": sum(c.ok for c in self.checks),
            "failed": sum(not c.ok for c in self.checks),
            "seconds": round(self.seconds, 1),
            "checks": [asdict(c) for c in self.checks],
        }


@dataclass
class Context:
    inv: Inventory
    resolver: str
    secrets: secretlib.Secrets
    ca_file: Path

    def tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def query(
        self, server: str, name: str, rdtype: str, *, recurse: bool = False
    ) -> dns.message.Message:
        return dnsclient.query(server, name, rdtype, recurse=recurse)

    def resolve(self, name: str, rdtype: str = "A") -> list[str]:
        """Answers of ``name`` through the lab resolver, following CNAMEs."""
        return dnsclient.resolve(self.resolver, name, rdtype)

    def mx_hosts(self, domain: str) -> list[str]:
        """``domain``'s mail exchangers through the resolver, in the order senders try them."""
        return dnsclient.mx_hosts(self.resolve(domain, "MX"))


def context(inv: Inventory) -> Context:
    resolvers = [h for h in inv.hosts if Service.RESOLVER in h.services]
    if not resolvers:
        raise ConfigError(
            f"{inv.name}/{inv.environment} has no resolver host to verify through",
            hint="verification runs in the lab (a host with services: [resolver])",
        )
    directory = env_dir(inv)
    secrets_file = directory / "secrets.json"
    ca_file = directory / "pki" / "ca.crt"
    for path in (secrets_file, ca_file):
        if not path.exists():
            raise ConfigError(
                "the environment was never provisioned",
                where=Location(path),
                hint=f"run `cutover provision {inv.name} --env {inv.environment}` first",
            )
    return Context(inv, str(resolvers[0].address), secretlib.load(secrets_file), ca_file)
