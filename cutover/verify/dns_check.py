"""DNS as the inventory says: every record on every authoritative server, the same SOA
serial everywhere, and the same answers through the lab resolver."""

from __future__ import annotations

from collections import defaultdict

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype

from cutover.clients.retry import until
from cutover.inventory.zones import ZoneData, zones
from cutover.verify.context import Check, Context


def _expected(z: ZoneData, delegated: list[str]) -> dict[tuple[str, str], set[str]]:
    """(absolute name, type) -> rdata texts, without the parent's delegations and glue."""
    origin = dns.name.from_text(z.name)
    want: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in z.records:
        fqdn = z.name if r["name"] == "@" else f"{r['name']}.{z.name}"
        if any(fqdn == d or fqdn.endswith("." + d) for d in delegated):
            continue
        value = r["value"]
        if r["type"] == "TXT" and not value.startswith('"'):
            value = f'"{value}"'
        rdtype = dns.rdatatype.from_text(r["type"])
        rdata = dns.rdata.from_text(
            dns.rdataclass.IN, rdtype, value, origin=origin, relativize=False
        )
        want[(fqdn, r["type"])].add(rdata.to_text())
    return want


def _answers(ctx: Context, server: str, name: str, rdtype: str, recurse: bool) -> set[str]:
    response = ctx.query(server, name, rdtype, recurse=recurse)
    wanted = dns.rdatatype.from_text(rdtype)
    return {r.to_text() for s in response.answer if s.rdtype == wanted for r in s}


def _serial(ctx: Context, server: str, zone: str) -> int | None:
    try:
        response = ctx.query(server, zone, "SOA")
    except dns.exception.DNSException:
        return None
    for rrset in response.answer:
        for r in rrset:
            return int(r.serial)
    return None


def check(ctx: Context) -> list[Check]:
    results: list[Check] = []
    zone_list = zones(ctx.inv)
    names = [z.name for z in zone_list]
    for z in zone_list:
        delegated = [n for n in names if n != z.name and n.endswith("." + z.name)]
        want = _expected(z, delegated)
        servers = [(h.name, str(h.address)) for h in (z.primary, *z.secondaries)]

        def serials(
            servers: list[tuple[str, str]] = servers, zone: str = z.name
        ) -> list[int | None]:
            return [_serial(ctx, addr, zone) for _, addr in servers]

        got = until(serials, lambda s: None not in s and len(set(s)) == 1, 15)
        detail = ", ".join(f"{n}={s}" for (n, _), s in zip(servers, got, strict=True))
        ok = None not in got and len(set(got)) == 1
        results.append(Check("dns", z.name, "same SOA serial on every server", ok, detail))
        targets = [*servers, ("resolver", ctx.resolver)]
        for host, addr in targets:
            wrong = []
            for (name, rdtype), values in sorted(want.items()):
                try:
                    answer = _answers(ctx, addr, name, rdtype, recurse=host == "resolver")
                except dns.exception.DNSException as exc:
                    wrong.append(f"{name} {rdtype}: {exc.__class__.__name__}")
                    continue
                if answer != values:
                    wrong.append(f"{name} {rdtype}: {sorted(answer)} != {sorted(values)}")
            how = "through the resolver" if host == "resolver" else f"on {host}"
            results.append(
                Check(
                    "dns",
                    z.name,
                    f"{len(want)} names resolve as the inventory says {how}",
                    not wrong,
                    "; ".join(wrong[:3]),
                )
            )
    return results


def _addresses(ctx: Context, name: str) -> set[str]:
    return set(ctx.resolve(name.rstrip("."), "A"))


def check_merged(ctx: Context) -> list[Check]:
    """After the cutover, as a citizen's resolver sees it: every former zone delegated to
    the merged name servers (which agree on its serial), and each province's MX, portal
    names and XMPP SRV leading to the merged hosts."""
    from cutover.inventory.model import MERGED, Service

    inv = ctx.inv
    merged = {s: inv.hosts_for(MERGED, s) for s in (Service.DNS, Service.MAIL, Service.PORTAL)}
    merged[Service.VIDEO] = inv.hosts_for(MERGED, Service.VIDEO)
    want_ns = {h.fqdn.lower() + "." for h in merged[Service.DNS]}
    results: list[Check] = []
    for p in inv.merger.provinces:
        domain = p.domain
        try:
            if p.id != inv.target.id:
                ns = {n.lower() for n in ctx.resolve(domain, "NS")}
                results.append(
                    Check("dns", domain, "delegated to the merged name servers", ns == want_ns,
                          f"NS {sorted(ns)}")
                )  # fmt: skip
                servers = [str(h.address) for h in merged[Service.DNS]]

                def merged_serials(
                    servers: list[str] = servers, zone: str = domain
                ) -> list[int | None]:
                    return [_serial(ctx, a, zone) for a in servers]

                got = until(merged_serials, lambda s: None not in s and len(set(s)) == 1, 15)
                ok = None not in got and len(set(got)) == 1
                results.append(
                    Check("dns", domain, "same SOA serial on the merged servers", ok, f"{got}")
                )
            mx = ctx.mx_hosts(domain)
            srv = ctx.resolve(f"_xmpp-client._tcp.{domain}", "SRV")
            leads = [
                ("MX", mx[0] if mx else "", Service.MAIL),
                ("apex A", domain, Service.PORTAL),
                ("www", f"www.{domain}", Service.PORTAL),
                ("XMPP SRV", srv[0].split()[3] if srv else "", Service.VIDEO),
            ]
        except dns.exception.DNSException as exc:
            results.append(Check("dns", domain, "resolves", False, exc.__class__.__name__))
            continue
        for what, name, service in leads:
            want = {str(h.address) for h in merged[service]}
            got_addresses = _addresses(ctx, name) if name else set()
            results.append(
                Check("dns", domain, f"{what} leads to the merged {service.value} host",
                      bool(got_addresses) and got_addresses <= want,
                      f"{name or '(none)'} -> {sorted(got_addresses)}")
            )  # fmt: skip
    return results
