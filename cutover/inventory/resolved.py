"""A loaded, checked inventory with its generated data: what the rest of the code uses."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from ipaddress import IPv4Network
from pathlib import Path

from cutover.inventory.model import MERGED, SHARED, EnvFile, Host, MergerFile, Province, Service


@dataclass(frozen=True)
class MailboxEntry:
    address: str
    name: str
    province: str
    new_address: str  # its address on the merged mail server
    generated: bool


@dataclass(frozen=True)
class RoomEntry:
    province: str
    name: str
    title: str
    new_name: str  # its name on the merged video-conference server


@dataclass(frozen=True)
class Account:
    jid: str
    province: str
    new_jid: str


@dataclass(frozen=True)
class Inventory:
    merger_dir: Path
    merger: MergerFile
    env: EnvFile
    mailboxes: tuple[MailboxEntry, ...]
    collisions: dict[str, str]  # old address -> new, for every colliding local part
    pages: dict[str, tuple[str, ...]]  # province id -> paths of its portal
    url_map: dict[str, str]  # old URL -> new URL (301)
    rooms: tuple[RoomEntry, ...]
    accounts: tuple[Account, ...]
    # as-is host -> its SSH host keys ("KEYTYPE BASE64"), from its site's known_hosts
    site_host_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _hosts: dict[str, Host] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._hosts.update({h.name: h for h in self.env.hosts})

    @property
    def name(self) -> str:
        return self.merger.merger

    @property
    def environment(self) -> str:
        return self.env.environment

    @property
    def network(self) -> IPv4Network:
        return self.env.network.cidr

    @property
    def target(self) -> Province:
        return next(p for p in self.merger.provinces if p.id == self.merger.target)

    @property
    def former(self) -> tuple[Province, ...]:
        """Provinces merging into the target (one or many: never assume a count)."""
        return tuple(p for p in self.merger.provinces if p.id != self.merger.target)

    @property
    def hosts(self) -> tuple[Host, ...]:
        return tuple(self.env.hosts)

    def host(self, name: str) -> Host:
        return self._hosts[name]

    @staticmethod
    def existing(host: Host) -> bool:
        return host.existing

    @property
    def built(self) -> tuple[Host, ...]:
        """The hosts the merged province builds (and, in the lab, the lab's own)."""
        return tuple(h for h in self.env.hosts if not h.existing)

    def hosts_for(self, owner: str, service: Service) -> tuple[Host, ...]:
        return tuple(h for h in self.env.hosts if h.owner == owner and service in h.services)

    def owners(self) -> Iterator[str]:
        """Every host owner in a stable order: provinces, then merged, then shared."""
        yield from (p.id for p in self.merger.provinces)
        yield MERGED
        yield SHARED
