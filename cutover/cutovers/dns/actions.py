"""The DNS cutover's actions, each run by a playbook on the controller:
``python -m cutover.cutovers.dns ACTION --merger-dir D --env E --run-dir R ...``.

The run's folder keeps ``dns/snapshot/`` (the zones as they were before the first change,
taken once and never overwritten, so a resumed run cannot lose them) and ``dns/changes.jsonl``
(every change sent, without secrets). Every action prints one JSON object.

The steps that plan changes (lower-ttl, restore-ttl, delegate, switch) read a primary's
zone as the run's snapshot of it plus an IXFR since the snapshot's serial, as a secondary
would: the cost of the changes made since, not of the zone (issue 7's 2x target on a
10,000-RRset zone). The steps whose job is to compare or copy whole zones (snapshot,
move-prepare, verify-move, rollback, verify-rollback) keep a full AXFR.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cutover.clients.retry import until
from cutover.cutovers.dns import safety
from cutover.cutovers.dns.confirm import send_confirmed, since
from cutover.cutovers.dns.plan import DnsPlan, ZoneInfo
from cutover.cutovers.dns.rrsets import (
    Change,
    Key,
    RRset,
    Zone,
    absolute,
    diff,
    from_plain,
    parse_text,
    soa_serial,
    to_plain,
    without_soa,
    zone_text,
)
from cutover.cutovers.dns.transfer import TransferError, answers, axfr, serial, serves
from cutover.cutovers.dns.update import Key as TsigKey
from cutover.errors import CutoverError
from cutover.inventory import Inventory
from cutover.inventory.naming import CUTOVER_KEY


class VerifyError(CutoverError):
    """The DNS is not (yet) what the step expects."""


@dataclass
class Options:
    services: tuple[str, ...] = ()
    force: bool = False
    max_share: float = safety.MAX_SHARE
    low_ttl: int = 60
    wait: float = 0.0  # how long verification may wait for resolvers (TTL) and secondaries


@dataclass
class Context:
    inv: Inventory
    run_dir: Path
    tsig: dict[str, str]
    options: Options
    plan: DnsPlan = field(init=False)
    report: dict[str, Any] = field(default_factory=dict)
    # the newest copy of each (server, zone) this process holds: read or confirmed
    known: dict[tuple[str, str], Zone] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.plan = DnsPlan(self.inv)
        self.dir.mkdir(parents=True, exist_ok=True)

    @property
    def dir(self) -> Path:
        return self.run_dir / "dns"

    def key(self, name: str) -> TsigKey:
        return TsigKey(name, self.tsig[name])

    def transfer(self, server: str, zone: ZoneInfo) -> Zone:
        return axfr(server, zone.name, self.key(zone.transfer_key))

    def current(self, server: str, zone: ZoneInfo) -> Zone:
        """The zone as ``server`` holds it now, for planning changes: the newest copy this
        run has of it (confirmed by this step, or the snapshot for the old primary) plus
        an IXFR since that copy's serial; a full AXFR when there is no copy, or when the
        IXFR answer does not fit the copy (a serial the server no longer knows)."""
        base = self.known.get((server, zone.name))
        taken_from = self.snapshot_index().get(zone.name, {}).get("server")
        if base is None and server == zone.primary.address and taken_from == zone.primary.name:
            base = self.snapshot(zone.name)
        data, how = None, "axfr"
        if base is not None:
            try:
                data, how = since(server, zone.name, base, self.key(zone.transfer_key))
            except TransferError:
                data = None  # read it whole below; the AXFR's own error is the one to show
        if data is None:
            data = self.transfer(server, zone)
        self.known[(server, zone.name)] = data
        reads = self.report.setdefault("read", {})
        reads[f"{zone.name}@{server}"] = how
        return data

    def serves(self, server: str, zone: str) -> bool:
        return serves(server, zone)

    def primaries(self, zone: ZoneInfo) -> list[str]:
        """Addresses of the primaries serving the zone now: the old one and, once the zone
        has moved, the merged one."""
        result = [zone.primary.address]
        if zone.moves and self.plan.merged_ns:
            merged = self.plan.merged_ns[0].address
            if self.serves(merged, zone.name):
                result.append(merged)
        return result

    def apply(
        self, server: str, zone: ZoneInfo, changes: list[Change], why: str, before: Zone
    ) -> None:
        """Send ``changes`` to the primary ``server`` whose zone was ``before`` (the data they
        were planned from), then read the zone back by IXFR and compare it with the expected
        one: a change the server does not hold as planned stops the step here."""
        if not changes:
            return
        applied = send_confirmed(
            server, zone.name, changes, self.key(CUTOVER_KEY), before, self.key(zone.transfer_key)
        )
        with (self.dir / "changes.jsonl").open("a") as log:
            for c in changes:
                entry = {"t": time.time(), "why": why, "server": server, "change": c.describe()}
                log.write(json.dumps(entry, ensure_ascii=False) + "\n")
        stats = self.report.setdefault("applied", {})
        item = stats.setdefault(f"{zone.name}@{server}", {"changes": 0, "messages": 0})
        item["changes"] += applied.changes
        item["messages"] += applied.messages
        item["read_back"] = applied.transfer
        self.known[(server, zone.name)] = applied.zone
        if applied.besides:  # changed by someone else meanwhile: shown, not undone
            item.setdefault("changed_besides", []).extend(applied.besides[:10])

    # --- the snapshot -------------------------------------------------------------

    @property
    def snapshot_dir(self) -> Path:
        return self.dir / "snapshot"

    def snapshot(self, zone: str) -> Zone:
        """The snapshot of ``zone``: from its JSON rows when the run wrote them (fast),
        else from the master file (runs from before the rows existed)."""
        rows = self.snapshot_dir / f"{zone}.json"
        if rows.is_file():
            return from_plain(json.loads(rows.read_text()))
        path = self.snapshot_dir / f"{zone}.zone"
        if not path.is_file():
            raise VerifyError(f"no snapshot of {zone} in {self.snapshot_dir}")
        return parse_text(path.read_text(), zone)

    def snapshot_index(self) -> dict[str, Any]:
        path = self.snapshot_dir / "index.json"
        return json.loads(path.read_text()) if path.is_file() else {}


# --- actions -------------------------------------------------------------------------


def snapshot(ctx: Context) -> None:
    """AXFR every zone the cutover may change from its primary, once."""
    ctx.snapshot_dir.mkdir(parents=True, exist_ok=True)
    index = ctx.snapshot_index()
    for zone in ctx.plan.all_zones():
        path = ctx.snapshot_dir / f"{zone.name}.zone"
        if zone.name in index and path.is_file():
            continue  # taken before the first change: never replaced
        data = ctx.transfer(zone.primary.address, zone)
        # the rows first: the master file is what marks the zone as taken
        for target, text in (
            (path.with_suffix(".json"), json.dumps(to_plain(data), ensure_ascii=False)),
            (path, zone_text(zone.name, data)),
        ):
            tmp = target.with_suffix(".tmp")
            tmp.write_text(text)
            tmp.replace(target)
        index[zone.name] = {
            "server": zone.primary.name,
            "serial": soa_serial(data, zone.name),
            "rrsets": len(data),
            "taken": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        (ctx.snapshot_dir / "index.json").write_text(json.dumps(index, indent=2) + "\n")
    ctx.report["snapshot"] = index


def lower_ttl(ctx: Context) -> None:
    """Lower the TTL of the records that will move; report the longest of their TTLs in
    the snapshot (the old TTL resolvers may hold: the same figure when run again)."""
    old_ttl = 0
    for zone in ctx.plan.zones:
        snap = ctx.snapshot(zone.name)
        moving = ctx.plan.lowered(zone, snap, ctx.options.services)
        old_ttl = max([old_ttl, *(snap[k].ttl for k in moving)])
        data = ctx.current(zone.primary.address, zone)
        keys = ctx.plan.lowered(zone, data, ctx.options.services)
        for server in ctx.primaries(zone):
            current = data if server == zone.primary.address else ctx.current(server, zone)
            low = ctx.options.low_ttl
            changes = [
                Change(zone.name, k[0], k[1], RRset(low, current[k].values), current[k])
                for k in sorted(keys)
                if k in current and current[k].ttl > low
            ]
            ctx.apply(server, zone, changes, "lower-ttl", current)
    ctx.report["old_ttl"] = old_ttl
    ctx.report["low_ttl"] = ctx.options.low_ttl


def restore_ttl(ctx: Context) -> None:
    """Set every lowered TTL back to the snapshot's, keeping today's values."""
    for zone in ctx.plan.zones:
        snap = ctx.snapshot(zone.name)
        for server in ctx.primaries(zone):
            current = ctx.current(server, zone)
            keys = ctx.plan.lowered(zone, snap, ctx.options.services)
            changes = [
                Change(zone.name, k[0], k[1], RRset(snap[k].ttl, current[k].values), current[k])
                for k in sorted(keys)
                if k in current and k in snap and current[k].ttl != snap[k].ttl
            ]
            ctx.apply(server, zone, changes, "restore-ttl", current)


def move_prepare(ctx: Context) -> None:
    """Zone files for the merged primary, from the old primary's data (after the TTLs
    were lowered), for Ansible to install and add with ``rndc addzone``."""
    out = ctx.dir / "move"
    out.mkdir(exist_ok=True)
    moves = []
    if not ctx.plan.merged_ns:
        raise VerifyError("the inventory has no merged DNS host to move the zones to")
    for zone in ctx.plan.moving():
        data = ctx.transfer(zone.primary.address, zone)
        path = out / f"{zone.name}.db"
        path.write_text(zone_text(zone.name, ctx.plan.moved_copy(zone, data)))
        moves.append({"zone": zone.name, "file": str(path), "transfer_key": zone.transfer_key})
    ctx.report["moves"] = moves
    ctx.report["primary"] = ctx.plan.merged_ns[0].name
    ctx.report["primary_address"] = ctx.plan.merged_ns[0].address
    ctx.report["secondaries"] = [s.name for s in ctx.plan.merged_ns[1:]]
    ctx.report["secondary_addresses"] = [s.address for s in ctx.plan.merged_ns[1:]]


def delegate(ctx: Context) -> None:
    """Point the parent's delegation and the old servers' apex NS at the merged servers."""
    moving = ctx.plan.moving()
    for zone in moving:
        data = ctx.current(zone.primary.address, zone)
        apex = absolute("@", zone.name)
        old = data.get((apex, "NS"))
        new = ctx.plan.merged_ns_rrset(old.ttl if old else 3600)
        if old != new:
            ctx.apply(zone.primary.address, zone,
                      [Change(zone.name, apex, "NS", new, old)], "move", data)  # fmt: skip
    parent = ctx.plan.parent
    if parent is None:
        ctx.report["parent"] = "no parent server in this environment: ask the registry"
        return
    pdata = ctx.current(parent.primary.address, parent)
    changes = [c for z in moving for c in ctx.plan.delegation(z, pdata)]
    safety.check(parent.name, pdata, changes, max_share=ctx.options.max_share,
                 force=ctx.options.force)  # fmt: skip
    ctx.apply(parent.primary.address, parent, changes, "delegate", pdata)


def switch(ctx: Context) -> None:
    """Point the service records at the merged hosts, on every primary serving each zone.
    The whole plan is computed and checked against the threshold before anything is sent."""
    todo: list[tuple[str, ZoneInfo, list[Change], Zone]] = []
    for zone in ctx.plan.zones:
        for server in ctx.primaries(zone):
            data = ctx.current(server, zone)
            changes = ctx.plan.switch(zone.name, data, ctx.options.services)
            safety.check(zone.name, data, changes, max_share=ctx.options.max_share,
                         force=ctx.options.force)  # fmt: skip
            todo.append((server, zone, changes, data))
    ctx.report["planned"] = [c.describe() for _, _, cs, _ in todo for c in cs]
    for server, zone, changes, data in todo:
        ctx.apply(server, zone, changes, "switch " + ",".join(ctx.options.services), data)


def _expected_switched(ctx: Context, zone: ZoneInfo) -> dict[Key, set[str]]:
    snap = ctx.snapshot(zone.name)
    after = dict(snap)
    for c in ctx.plan.switch(zone.name, snap, ctx.options.services):
        assert c.new is not None
        after[c.key] = c.new
    keys = set()
    for service in ctx.options.services:
        keys |= set(ctx.plan.service_rrsets(zone.name, snap, service))
    return {k: set(after[k].values) for k in keys}


def _server_groups(ctx: Context, zone: ZoneInfo) -> list[list[tuple[str, str]]]:
    """Servers that must agree on the serial: the old primary with its secondaries and,
    once moved, the merged primary with its secondaries."""
    groups = [[(s.name, s.address) for s in zone.servers]]
    if zone.moves and ctx.plan.merged_ns and ctx.serves(ctx.plan.merged_ns[0].address, zone.name):
        groups.append([(s.name, s.address) for s in ctx.plan.merged_ns])
    return groups


def _serial_problems(ctx: Context, zone: ZoneInfo) -> list[str]:
    try:
        groups = _server_groups(ctx, zone)
    except TransferError as exc:  # a problem to retry within the wait, like the others
        return [exc.message]
    problems = []
    for group in groups:
        serials = {name: serial(addr, zone.name) for name, addr in group}
        if None in serials.values() or len(set(serials.values())) != 1:
            shown = ", ".join(f"{n}={s}" for n, s in serials.items())
            problems.append(f"{zone.name}: SOA serials differ ({shown})")
    return problems


def verify(ctx: Context) -> None:
    """Every server of each zone answers the same serial and the switched data; the
    resolver answers it once the (lowered) TTL allows."""
    problems: list[str] = []
    checked = 0
    for zone in ctx.plan.zones:
        want = _expected_switched(ctx, zone)
        servers = [s for g in _server_groups(ctx, zone) for s in g]

        def check(
            zone: ZoneInfo = zone,
            want: dict[Key, set[str]] = want,
            servers: list[tuple[str, str]] = servers,
        ) -> list[str]:
            found = _serial_problems(ctx, zone)
            targets = [*servers, *([("resolver", ctx.plan.resolver)] if ctx.plan.resolver else [])]
            for host, addr in targets:
                for (name, rtype), values in sorted(want.items()):
                    got = answers(addr, name, rtype, recurse=host == "resolver")
                    if got != values:
                        found.append(f"{host}: {name} {rtype} {sorted(got)} != {sorted(values)}")
            return found

        problems += until(check, lambda found: not found, ctx.options.wait, 1.0)
        checked += len(want) * (len(servers) + 1)
    ctx.report["checked"] = checked
    if problems:
        raise VerifyError("; ".join(problems[:10]))


def verify_move(ctx: Context) -> None:
    problems: list[str] = []
    for zone in ctx.plan.moving():
        apex = absolute("@", zone.name)

        def check(zone: ZoneInfo = zone, apex: str = apex) -> list[str]:
            found = _serial_problems(ctx, zone)
            merged = ctx.plan.merged_ns[0].address
            try:
                old = ctx.transfer(zone.primary.address, zone)
                new = ctx.transfer(merged, zone)
            except TransferError as exc:
                return [*found, exc.message]
            strip = {(apex, "NS"), (apex, "SOA")}
            if {k: v for k, v in old.items() if k not in strip} != {
                k: v for k, v in new.items() if k not in strip
            }:
                found.append(f"{zone.name}: the merged primary's data differs from the old one")
            want = set(ctx.plan.merged_ns_rrset(0).values)
            for label, data in ((zone.primary.name, old), ("merged", new)):
                if set(data[(apex, "NS")].values) != want:
                    found.append(f"{label}: apex NS of {zone.name} is not the merged servers")
            if ctx.plan.parent:
                got = answers(ctx.plan.parent.primary.address, zone.name, "NS")
                response_ns = got or _referral(ctx.plan.parent.primary.address, zone.name)
                if response_ns != want:
                    found.append(f"parent: delegation of {zone.name} is {sorted(response_ns)}")
            return found

        problems += until(check, lambda found: not found, ctx.options.wait, 1.0)
    if problems:
        raise VerifyError("; ".join(problems[:10]))


def _referral(server: str, zone: str) -> set[str]:
    from cutover.cutovers.dns.transfer import query

    response = query(server, zone, "NS")
    return {r.to_text() for rrset in response.authority if rrset.rdtype == 2 for r in rrset}


def moved_zones(ctx: Context) -> None:
    """Which moving zones the merged servers serve now (for the rollback's delzone)."""
    present = []
    for zone in ctx.plan.moving():
        if any(ctx.serves(s.address, zone.name) for s in ctx.plan.merged_ns):
            present.append(zone.name)
    ctx.report["present"] = present
    ctx.report["primary"] = ctx.plan.merged_ns[0].name if ctx.plan.merged_ns else None


def rollback(ctx: Context) -> None:
    """Restore every zone to the snapshot on its old primary (and the parent); a zone
    still served by the merged primary gets the same data there (apex NS and SOA apart).

    A merged primary that does not answer cannot be checked: every other server is still
    restored (the old primaries and the parent's delegation are what users reach), then
    the rollback fails naming it, to be run again once it answers."""
    unanswered: list[str] = []
    for zone in ctx.plan.all_zones():
        if zone.name not in ctx.snapshot_index():
            continue
        snap = ctx.snapshot(zone.name)
        try:
            servers = ctx.primaries(zone)
        except TransferError as exc:
            servers = [zone.primary.address]
            unanswered.append(exc.message)
        for server in servers:
            current = ctx.transfer(server, zone)
            wanted = dict(snap)
            if server != zone.primary.address:  # the merged copy keeps its own NS
                apex = absolute("@", zone.name)
                wanted[(apex, "NS")] = current[(apex, "NS")]
            ctx.apply(server, zone, diff(zone.name, current, wanted), "rollback", current)
    if unanswered:
        raise TransferError(
            "; ".join(unanswered),
            hint="the other servers are restored; roll back again once it answers",
        )


def verify_rollback(ctx: Context) -> None:
    """An AXFR of every zone equals its snapshot, apart from a higher SOA serial."""
    problems = []
    index = ctx.snapshot_index()
    for zone in ctx.plan.all_zones():
        if zone.name not in index:
            continue
        snap = ctx.snapshot(zone.name)

        def check(zone: ZoneInfo = zone, snap: Zone = snap) -> list[str]:
            now = ctx.transfer(zone.primary.address, zone)
            found = [f"{zone.name}: {c.describe()}" for c in diff(zone.name, snap, now)]
            if without_soa(now) == without_soa(snap):
                apex = absolute("@", zone.name)
                old_soa = snap[(apex, "SOA")].values[0].split()
                new_soa = now[(apex, "SOA")].values[0].split()
                if old_soa[:2] + old_soa[3:] != new_soa[:2] + new_soa[3:]:
                    found.append(f"{zone.name}: SOA differs beyond the serial")
                if int(new_soa[2]) < int(old_soa[2]):
                    found.append(f"{zone.name}: serial went back ({old_soa[2]} -> {new_soa[2]})")
            return found + _serial_problems(ctx, zone)

        problems += until(check, lambda found: not found, ctx.options.wait, 1.0)
    ctx.report["zones"] = sorted(index)
    if problems:
        raise VerifyError("; ".join(problems[:10]))


ACTIONS: dict[str, Callable[[Context], None]] = {
    "snapshot": snapshot,
    "lower-ttl": lower_ttl,
    "restore-ttl": restore_ttl,
    "move-prepare": move_prepare,
    "delegate": delegate,
    "switch": switch,
    "verify": verify,
    "verify-move": verify_move,
    "moved-zones": moved_zones,
    "rollback": rollback,
    "verify-rollback": verify_rollback,
}


def run(action: str, ctx: Context) -> dict[str, Any]:
    ACTIONS[action](ctx)
    return {"action": action, "ok": True, **ctx.report}


def services(text: Iterable[str]) -> tuple[str, ...]:
    return tuple(s for item in text for s in item.split(",") if s)
