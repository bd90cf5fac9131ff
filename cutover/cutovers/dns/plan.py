"""What the DNS cutover changes, computed from the inventory and the live zones.

- Province zones: every province's zone (target and former). Former provinces' zones move
  to the merged authoritative servers; the target's zone stays where it is.
- Service records switched to the merged hosts, by service:
  ``mail`` the apex MX; ``portal`` the apex A and ``www``; ``video`` the XMPP SRV records
  and the web name ``meet.<zone>``. Only values that point at a province's own host of that
  service are rewritten, so a second run changes nothing.
- Every change is applied on each primary currently serving the zone (the old one, and the
  merged one once the zone has moved), so a resolver still following the old delegation
  gets the same answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cutover.cutovers.dns.rrsets import Change, Key, RRset, absolute
from cutover.inventory import Inventory
from cutover.inventory.model import MERGED, SHARED, Host, Service
from cutover.inventory.naming import xfr_key
from cutover.inventory.zones import zones

SERVICES = ("mail", "portal", "video")
_SERVICE = {"mail": Service.MAIL, "portal": Service.PORTAL, "video": Service.VIDEO}


@dataclass(frozen=True)
class Server:
    name: str
    address: str
    fqdn: str


def _server(h: Host) -> Server:
    return Server(h.name, str(h.address), h.fqdn)


@dataclass(frozen=True)
class ZoneInfo:
    name: str
    owner: str
    primary: Server
    secondaries: tuple[Server, ...]
    transfer_key: str
    moves: bool  # a former province's zone: moves to the merged servers
    parent: bool = False

    @property
    def servers(self) -> tuple[Server, ...]:
        return (self.primary, *self.secondaries)


class DnsPlan:
    def __init__(self, inv: Inventory) -> None:
        self.inv = inv
        former = {p.id for p in inv.former}
        self.zones: list[ZoneInfo] = []
        for z in inv.merger.zones:
            hosts = [_server(inv.host(n)) for n in z.ns]
            self.zones.append(
                ZoneInfo(z.name, z.province, hosts[0], tuple(hosts[1:]), xfr_key(z.province),
                         z.province in former)
            )  # fmt: skip
        parents = [_server(h) for h in inv.hosts if Service.PARENT_DNS in h.services]
        self.parent: ZoneInfo | None = None
        if parents:
            self.parent = ZoneInfo(
                inv.merger.parent_zone, SHARED, parents[0], tuple(parents[1:]),
                xfr_key(SHARED), moves=False, parent=True,
            )  # fmt: skip
        self.merged_ns = tuple(_server(h) for h in inv.hosts_for(MERGED, Service.DNS))
        resolvers = [h for h in inv.hosts if Service.RESOLVER in h.services]
        self.resolver = str(resolvers[0].address) if resolvers else None

    # --- who is who ------------------------------------------------------------

    def zone(self, name: str) -> ZoneInfo:
        for z in self.all_zones():
            if z.name == name:
                return z
        raise KeyError(name)

    def all_zones(self) -> list[ZoneInfo]:
        return self.zones + ([self.parent] if self.parent else [])

    def moving(self) -> list[ZoneInfo]:
        return [z for z in self.zones if z.moves]

    def merged(self, service: str) -> Host | None:
        hosts = self.inv.hosts_for(MERGED, _SERVICE[service])
        return hosts[0] if hosts else None

    def _old_hosts(self, service: str) -> list[Host]:
        return [
            h
            for h in self.inv.hosts
            if h.owner not in (MERGED, SHARED) and _SERVICE[service] in h.services
        ]

    # --- service records ---------------------------------------------------------

    def switch(self, zone: str, data: Mapping[Key, RRset], services: Iterable[str]) -> list[Change]:
        """Changes that point ``zone``'s service records at the merged hosts."""
        wanted: dict[Key, RRset] = {}
        for service in services:
            new = self.merged(service)
            if new is None:
                continue
            old = self._old_hosts(service)
            names = {h.fqdn.lower() + "." for h in old}
            addresses = {str(h.address) for h in old}
            target = new.fqdn.lower() + "."
            for key, rrset in self.service_rrsets(zone, data, service).items():
                rtype = key[1]
                values = []
                for v in rrset.values:
                    parts = v.split()
                    if rtype in ("MX", "SRV", "CNAME") and parts[-1].lower() in names:
                        parts[-1] = target
                    elif rtype == "A" and v in addresses:
                        parts = [str(new.address)]
                    values.append(" ".join(parts))
                wanted[key] = RRset.of(rrset.ttl, values)
        return [
            Change(zone, k[0], k[1], v, data[k]) for k, v in sorted(wanted.items()) if data[k] != v
        ]

    def service_rrsets(
        self, zone: str, data: Mapping[Key, RRset], service: str
    ) -> dict[Key, RRset]:
        apex = absolute("@", zone)
        keys: list[Key] = []
        if service == "mail":
            keys = [(apex, "MX")]
        elif service == "portal":
            keys = [(apex, "A"), (absolute("www", zone), "CNAME")]
        elif service == "video":
            keys = [k for k in data if k[1] == "SRV" and k[0].startswith("_xmpp")]
            keys.append((absolute("meet", zone), "A"))
        return {k: data[k] for k in keys if k in data}

    def lowered(
        self, zone: ZoneInfo, data: Mapping[Key, RRset], services: Iterable[str]
    ) -> set[Key]:
        """The RRsets whose TTL is lowered before the cutover: every service record that
        may switch, and the apex NS of a zone that moves."""
        keys: set[Key] = set()
        for service in services:
            keys |= set(self.service_rrsets(zone.name, data, service))
        if zone.moves:
            keys.add((absolute("@", zone.name), "NS"))
        return keys

    # --- zone moves --------------------------------------------------------------------

    def merged_ns_rrset(self, ttl: int) -> RRset:
        return RRset.of(ttl, [s.fqdn.lower() + "." for s in self.merged_ns])

    def moved_copy(self, zone: ZoneInfo, data: Mapping[Key, RRset]) -> dict[Key, RRset]:
        """The zone as the merged primary serves it: the same records, with the merged
        servers in the SOA and apex NS."""
        apex = absolute("@", zone.name)
        copy = dict(data)
        ns_ttl = data[(apex, "NS")].ttl if (apex, "NS") in data else 3600
        copy[(apex, "NS")] = self.merged_ns_rrset(ns_ttl)
        soa = data[(apex, "SOA")]
        fields = soa.values[0].split()
        fields[0] = self.merged_ns[0].fqdn.lower() + "."
        fields[2] = str(int(fields[2]) + 1)
        copy[(apex, "SOA")] = RRset.of(soa.ttl, [" ".join(fields)])
        return copy

    def delegation(self, zone: ZoneInfo, parent: Mapping[Key, RRset]) -> list[Change]:
        assert self.parent is not None
        key = (absolute(zone.name + ".", self.parent.name), "NS")
        old = parent.get(key)
        new = self.merged_ns_rrset(old.ttl if old else 3600)
        return [] if old == new else [Change(self.parent.name, key[0], key[1], new, old)]


def moving_ttl(inv: Inventory) -> int | None:
    """The longest TTL among the records the cutover lowers (service records, the apex
    NS of a moving zone) as the environment's zones describe them: the old TTL the
    ``lower-ttl`` action will report there, for predicting a window before any run.
    None when the environment describes none of them."""
    plan = DnsPlan(inv)
    described = {z.name: z for z in zones(inv)}
    longest: int | None = None
    for zone in plan.zones:
        rows = described[zone.name]
        values: dict[Key, list[str]] = {}
        ttls: dict[Key, int] = {}
        for r in rows.records:
            key = (absolute(r["name"], zone.name), r["type"])
            values.setdefault(key, []).append(str(r["value"]))
            ttls[key] = max(ttls.get(key, 0), int(r.get("ttl") or rows.ttl))
        data = {k: RRset.of(ttls[k], v) for k, v in values.items()}
        for key in plan.lowered(zone, data, SERVICES):
            longest = max(longest or 0, data[key].ttl)
    return longest
