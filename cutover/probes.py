"""Probes: small checks a `check` step runs, each of a registered kind.

A probe in a plan is a mapping with exactly one kind key, e.g. ``{tcp: "198.18.0.10:25"}``,
``{command: [dig, +short, example.vn]}``, ``{dns: {name: ..., type: MX, expect: ...}}`` or
``{http: https://..., status: 301}``. Each kind is a pydantic model, so plans are validated
(with lines) before anything runs, and the JSON Schema lists every kind.
"""

from __future__ import annotations

import shlex
import socket
import subprocess
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    detail: str


class Probe(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: ClassVar[str]

    def run(self, timeout: float) -> ProbeResult:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


class CommandProbe(Probe):
    """Runs a command (no shell); passes on the expected exit code (and output)."""

    kind: ClassVar[str] = "command"
    command: list[str] = Field(min_length=1)
    expect_rc: int = 0
    expect_output: str | None = None

    @field_validator("command", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return shlex.split(value) if isinstance(value, str) else value

    def run(self, timeout: float) -> ProbeResult:
        try:
            done = subprocess.run(
                self.command, capture_output=True, text=True, timeout=timeout, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return ProbeResult(False, f"{self.describe()}: {exc}")
        if done.returncode != self.expect_rc:
            return ProbeResult(
                False, f"{self.describe()}: exit {done.returncode}, expected {self.expect_rc}"
            )
        if self.expect_output is not None and self.expect_output not in done.stdout:
            return ProbeResult(False, f"{self.describe()}: output lacks {self.expect_output!r}")
        return ProbeResult(True, self.describe())

    def describe(self) -> str:
        return "command " + shlex.join(self.command)


class TcpProbe(Probe):
    """Passes when a TCP connection to host:port succeeds."""

    kind: ClassVar[str] = "tcp"
    tcp: str = Field(pattern=r"^(\[[0-9A-Fa-f:.]+\]|[^:\s]+):\d{1,5}$")

    def run(self, timeout: float) -> ProbeResult:
        host, _, port = self.tcp.rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
                return ProbeResult(True, self.describe())
        except OSError as exc:
            return ProbeResult(False, f"{self.describe()}: {exc}")

    def describe(self) -> str:
        return f"tcp {self.tcp}"


class DnsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    type: str = "A"
    server: str | None = None
    port: int = 53
    expect: str | list[str] | None = None


class DnsProbe(Probe):
    """Asks one server (or the system resolver) and compares the answer set."""

    kind: ClassVar[str] = "dns"
    dns: DnsQuery

    def run(self, timeout: float) -> ProbeResult:
        import dns.exception
        import dns.resolver

        query = self.dns
        resolver = dns.resolver.Resolver(configure=query.server is None)
        if query.server is not None:
            resolver.nameservers = [query.server]
            resolver.port = query.port
        resolver.lifetime = timeout
        try:
            answer = resolver.resolve(query.name, query.type, raise_on_no_answer=False)
        except dns.exception.DNSException as exc:
            return ProbeResult(False, f"{self.describe()}: {exc}")
        got = sorted(rr.to_text() for rr in answer.rrset or [])
        if query.expect is None:
            ok = bool(got)
        else:
            want = [query.expect] if isinstance(query.expect, str) else query.expect
            ok = sorted(want) == got
        return ProbeResult(ok, f"{self.describe()}: {', '.join(got) or 'no answer'}")

    def describe(self) -> str:
        at = f" @{self.dns.server}" if self.dns.server else ""
        return f"dns {self.dns.name} {self.dns.type}{at}"


class HttpProbe(Probe):
    """Passes when a GET (redirects not followed) returns the expected status."""

    kind: ClassVar[str] = "http"
    http: str = Field(pattern=r"^https?://")
    status: int = 200
    location: str | None = None

    def run(self, timeout: float) -> ProbeResult:
        from cutover.clients import http

        try:
            response = http.get(self.http, timeout=timeout, follow_redirects=False)
        except http.Error as exc:
            return ProbeResult(False, f"{self.describe()}: {exc}")
        ok = response.status_code == self.status
        if ok and self.location is not None:
            ok = response.headers.get("location") == self.location
        return ProbeResult(ok, f"{self.describe()}: {response.status_code}")

    def describe(self) -> str:
        return f"http {self.http}"


REGISTRY: dict[str, type[Probe]] = {
    cls.kind: cls for cls in (CommandProbe, TcpProbe, DnsProbe, HttpProbe)
}


def register(cls: type[Probe]) -> None:
    """Add a probe kind (e.g. from a plugin module)."""
    REGISTRY[cls.kind] = cls


def parse_probe(data: Any) -> Probe:
    """A probe from its plan mapping; ValueError naming the kinds otherwise."""
    kinds = ", ".join(sorted(REGISTRY))
    if not isinstance(data, dict):
        raise ValueError(f"a probe must be a mapping with one of: {kinds}")
    present = [key for key in data if key in REGISTRY]
    if len(present) != 1:
        found = ", ".join(sorted(data)) or "nothing"
        raise ValueError(f"a probe needs exactly one kind key ({kinds}); found {found}")
    return REGISTRY[present[0]].model_validate(data)
