"""Where mail for each address goes in each phase of the cutover, as Postfix tables.

Every mail host gets four texthash tables (see the mail role's ``main.cf``), swapped in
together: ``alias-domains`` (domains accepted through aliases), ``virtual`` (address ->
address), ``transport`` (domain -> next hop) and ``relay-domains`` (domains accepted to
pass on). Phases:

``as-is``   every table empty: each province's server delivers its own domain.
``accept``  the merged server accepts the old domains and maps each old address to its new
            mailbox; the target's old server accepts the new addresses of the former
            provinces and hands them to their old servers (where those mailboxes still live).
``relay``   mailboxes live on the merged server: every old server relays its domain to it
            (the target's old server also accepts the new addresses and relays them).
``back``    after a rollback mailboxes live on the old servers again: the merged server
            relays everything it still receives there (new addresses mapped back to old).
            The old domains are relay domains there then, not alias domains: Postfix
            bounces an address of an alias domain that the alias map does not rewrite
            into another domain ("User unknown in virtual alias table"), whatever the
            transport map says.
``hold``, ``hold-back``
            ``accept`` and ``back``, but every old server defers (queues) the mail of its
            own domain instead of delivering it. A sync runs only while its destination
            mailboxes get no other writes: a message delivered into a mailbox while dsync
            fills it can collide with a synced one (same UID, other message) and end up
            twice. Mail waits in the old server's queue for the length of the sync, then
            ``relay`` or ``back`` and a queue flush deliver it; nothing is refused.

Collisions between provinces are resolved by the inventory (``new_address``, from the
explicit ``collisions.map`` or the suffix rule); two old addresses that would share a new
mailbox are refused here, never merged silently.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from cutover.errors import ConfigError
from cutover.inventory import Inventory
from cutover.inventory.model import MERGED, Service

PHASES = ("as-is", "accept", "hold", "relay", "back", "hold-back")
# The mail role's LMTP transport listed in defer_transports: the message is accepted (the
# sender has its 250) and stays queued until a flush. (retry(8) would make smtpd refuse
# the recipient with a 450 instead.)
HOLD = "cutover-hold:unix:private/dovecot-lmtp"


@dataclass
class Tables:
    alias_domains: list[str] = field(default_factory=list)
    virtual: list[tuple[str, str]] = field(default_factory=list)
    transport: list[tuple[str, str]] = field(default_factory=list)
    relay_domains: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[Any]]:
        return {
            "alias_domains": sorted(set(self.alias_domains)),
            "relay_domains": sorted(set(self.relay_domains)),
            "virtual": sorted(set(self.virtual)),
            "transport": sorted(set(self.transport)),
        }


@dataclass(frozen=True)
class Mapping:
    old: str
    new: str
    province: str


def mappings(inv: Inventory) -> list[Mapping]:
    """Every mailbox's old and new address; refuses two old addresses on one new one."""
    seen: dict[str, str] = {}
    result = []
    for box in inv.mailboxes:
        other = seen.get(box.new_address)
        if other is not None:
            raise ConfigError(
                f"{other} and {box.address} would both be delivered to {box.new_address}",
                hint="map one of them explicitly under mail.collisions.map in merger.yml",
            )
        seen[box.new_address] = box.address
        result.append(Mapping(box.address, box.new_address, box.province))
    return result


def _nexthop(address: str) -> str:
    return f"smtp:[{address}]:25"


def tables(inv: Inventory, phase: str) -> dict[str, dict[str, list[Any]]]:
    """``{mail host name: tables}`` for every mail host of the merger."""
    if phase not in PHASES:
        raise ConfigError(f"unknown mail phase {phase!r}", hint=f"one of {', '.join(PHASES)}")
    merged_hosts = inv.hosts_for(MERGED, Service.MAIL)
    provinces = {p.id: p for p in inv.merger.provinces}
    old_hosts = {p.id: inv.hosts_for(p.id, Service.MAIL) for p in inv.merger.provinces}
    result: dict[str, Tables] = defaultdict(Tables)
    for hosts in [merged_hosts, *old_hosts.values()]:
        for h in hosts:
            result[h.name] = Tables()
    if phase == "as-is" or not merged_hosts:
        return {name: t.as_dict() for name, t in result.items()}
    hold = phase in ("hold", "hold-back")
    phase = {"hold": "accept", "hold-back": "back"}.get(phase, phase)
    merged = merged_hosts[0]
    target = inv.target
    boxes = mappings(inv)
    moved = [m for m in boxes if m.old != m.new]
    former_domains = [provinces[p.id].domain for p in inv.former]

    def old_server(province: str) -> str | None:
        hosts = old_hosts.get(province) or ()
        return str(hosts[0].address) if hosts else None

    for p_id, hosts in old_hosts.items():
        for h in hosts:
            t = result[h.name]
            domain = provinces[p_id].domain
            if p_id == target.id:
                # new addresses of former provinces' mailboxes live in the target's domain
                for m in moved:
                    if m.new.endswith("@" + domain):
                        t.virtual.append((m.new, m.new if phase == "relay" else m.old))
                if phase in ("accept", "back"):
                    for m in moved:
                        hop = old_server(m.province)
                        if hop:
                            t.transport.append((m.old.split("@")[1], _nexthop(hop)))
            if phase == "relay":
                t.transport.append((domain, _nexthop(str(merged.address))))
            if hold:
                t.transport.append((domain, HOLD))
    t = result[merged.name]
    if phase in ("accept", "relay"):
        t.alias_domains += former_domains
        t.virtual += [(m.old, m.new) for m in moved]
    else:  # back: whatever still arrives goes to the old servers
        t.relay_domains += former_domains
        t.virtual += [(m.new, m.old) for m in moved]
        for p in inv.merger.provinces:
            hop = old_server(p.id)
            if hop:
                t.transport.append((p.domain, _nexthop(hop)))
    return {name: t.as_dict() for name, t in result.items()}
