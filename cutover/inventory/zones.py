"""The zones an inventory describes, each record resolved: the province zones (NS, an A
for every host inside, the apex at the province's portal unless a record takes it, the
inventory's own records) and, in a lab, the parent zone with delegations and glue. What
provisioning writes and what verification expects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cutover.inventory.model import SHARED, Host, Service
from cutover.inventory.resolved import Inventory


def _in_zone(name: str, zone: str) -> bool:
    return name == zone or name.endswith("." + zone)


def _relative(name: str, zone: str) -> str:
    return "@" if name == zone else name[: -len(zone) - 1]


@dataclass(frozen=True)
class ZoneData:
    name: str
    owner: str
    ttl: int
    primary: Host
    secondaries: tuple[Host, ...]
    records: tuple[dict[str, Any], ...]
    dynamic: bool


def _zone_hosts(inv: Inventory, ns: list[str]) -> tuple[Host, tuple[Host, ...]]:
    hosts = [inv.host(n) for n in ns]
    return hosts[0], tuple(hosts[1:])


def zones(inv: Inventory) -> list[ZoneData]:
    """The as-is province zones and the lab parent zone, with every record resolved."""
    served = [z.name for z in inv.merger.zones]
    provinces = {p.id: p for p in inv.merger.provinces}
    result = []

    def host_records(zone: str) -> list[dict[str, Any]]:
        deeper = [s for s in served if s != zone and _in_zone(s, zone)]
        return [
            {"name": _relative(h.fqdn, zone), "type": "A", "value": str(h.address), "ttl": None}
            for h in inv.hosts
            if _in_zone(h.fqdn, zone) and not any(_in_zone(h.fqdn, d) for d in deeper)
        ]

    for z in inv.merger.zones:
        primary, secondaries = _zone_hosts(inv, z.ns)
        records: list[dict[str, Any]] = [
            {"name": "@", "type": "NS", "value": inv.host(n).fqdn + ".", "ttl": None} for n in z.ns
        ]
        records += host_records(z.name)
        own = [r.model_dump() for r in z.records]
        apex_taken = any(r["name"] == "@" and r["type"] in ("A", "CNAME") for r in own + records)
        province = provinces[z.province]
        portals = inv.hosts_for(province.id, Service.PORTAL)
        if z.name == province.domain and portals and not apex_taken:
            apex = {"name": "@", "type": "A", "value": str(portals[0].address), "ttl": None}
            records.append(apex)
        records += own
        result.append(
            ZoneData(
                z.name,
                z.province,
                inv.env.zone_ttl or z.ttl,
                primary,
                secondaries,
                tuple(records),
                True,
            )
        )

    parents = [h for h in inv.hosts if Service.PARENT_DNS in h.services]
    if parents:
        parent = inv.merger.parent_zone
        records = [{"name": "@", "type": "NS", "value": h.fqdn + ".", "ttl": None} for h in parents]
        records += host_records(parent)  # the parent's own hosts (ns1.lab.gov.vn, ...)
        for z in inv.merger.zones:
            child = _relative(z.name, parent)
            for n in z.ns:
                fqdn = inv.host(n).fqdn
                records.append({"name": child, "type": "NS", "value": fqdn + ".", "ttl": None})
                if _in_zone(fqdn, parent):  # glue: the child's servers live below gov.vn
                    addr = str(inv.host(n).address)
                    glue = {"name": _relative(fqdn, parent), "type": "A", "value": addr}
                    if {**glue, "ttl": None} not in records:
                        records.append({**glue, "ttl": None})
        result.append(
            ZoneData(parent, SHARED, 3600, parents[0], tuple(parents[1:]), tuple(records), True)
        )
    return result


def record_ttl(inv: Inventory, name: str, rtype: str) -> int | None:
    """The TTL of ``name``'s ``rtype`` records in this environment's zones (the record's
    own, else its zone's); None when no zone of the merger serves the name."""
    name = name.rstrip(".").lower()
    served = [z for z in zones(inv) if _in_zone(name, z.name)]
    if not served:
        return None
    zone = max(served, key=lambda z: len(z.name))  # the deepest zone answers for it
    relative = _relative(name, zone.name)
    for record in zone.records:
        if record["name"] == relative and record["type"] == rtype.upper() and record.get("ttl"):
            return int(record["ttl"])
    return zone.ttl
