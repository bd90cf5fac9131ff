"""Cross-reference checks and generated data of an inventory.

Each check raises a ConfigError at the line of the offending value. The order follows
the dependencies: provinces, then network and hosts, then the services that refer to
hosts, then the data (mail, portal, video) that refers to provinces.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

from cutover.inventory import generate, sites
from cutover.inventory.model import (
    LAB_ONLY_SERVICES,
    MERGED,
    PROVINCE_SERVICES,
    SHARED,
    EnvFile,
    MergerFile,
    Service,
)
from cutover.inventory.resolved import Account, Inventory, MailboxEntry, RoomEntry
from cutover.inventory.source import Source

LAB_RANGE = IPv4Network("198.18.0.0/15")  # RFC 2544 benchmarking range: the lab's own
FORBIDDEN = IPv4Network("192.0.2.0/24")  # this machine's uplink: never a lab address


def resolve(
    merger: MergerFile, msrc: Source, env: EnvFile, esrc: Source, merger_dir: Path
) -> Inventory:
    _check_provinces(merger, msrc)
    _check_network(env, esrc)
    _check_sites(env, esrc)
    _check_hosts(merger, env, esrc)
    host_keys = _site_host_keys(env, esrc)
    _check_zones(merger, msrc, env)
    mailboxes, collisions = _mail(merger, msrc, env, esrc)
    pages, url_map = _portal(merger, msrc, env)
    rooms, accounts = _video(merger, msrc, env, mailboxes)
    return Inventory(
        merger_dir=merger_dir,
        merger=merger,
        env=env,
        mailboxes=mailboxes,
        collisions=collisions,
        pages=pages,
        url_map=url_map,
        rooms=rooms,
        accounts=accounts,
        site_host_keys=host_keys,
    )


def _dupes(values: list[str]) -> set[str]:
    return {v for v, n in Counter(values).items() if n > 1}


def _check_provinces(merger: MergerFile, src: Source) -> None:
    seen: dict[str, int] = {}
    for i, p in enumerate(merger.provinces):
        for attr in ("id", "domain", "slug", "code"):
            key = f"{attr}={getattr(p, attr)}"
            if key in seen:
                raise src.error(
                    f"province {attr} {getattr(p, attr)!r} is used twice",
                    ("provinces", i, attr),
                    hint=f"it is already used by province #{seen[key] + 1}",
                )
            seen[key] = i
    if merger.target not in {p.id for p in merger.provinces}:
        raise src.error(
            f"target {merger.target!r} is not one of the provinces",
            ("target",),
            hint="name the province whose name the merged province keeps",
        )


def _check_network(env: EnvFile, src: Source) -> None:
    net = env.network
    if net.cidr.overlaps(FORBIDDEN):
        raise src.error(
            f"network {net.cidr} overlaps {FORBIDDEN}, this machine's own uplink",
            ("network", "cidr"),
            hint="lab networks use 198.18.0.0/15",
        )
    if env.environment == "lab" or env.compute == "lab":
        if not net.cidr.subnet_of(LAB_RANGE):
            raise src.error(
                f"lab network {net.cidr} is outside the lab range {LAB_RANGE}",
                ("network", "cidr"),
                hint="use a /24 inside 198.18.0.0/15, e.g. 198.18.1.0/24",
            )
        for key in ("gateway", "bridge", "lab"):
            if getattr(net, key) is None:
                raise src.error(
                    f"a lab network needs network.{key}", ("network",), hint=f"add {key}:"
                )
    if net.gateway is not None and net.gateway not in net.cidr:
        raise src.error(
            f"gateway {net.gateway} is outside network {net.cidr}",
            ("network", "gateway"),
            hint="the gateway is the bridge's own address inside the network",
        )


def _check_sites(env: EnvFile, src: Source) -> None:
    lab = env.environment == "lab"
    for sid, site in env.sites.items():
        where = ("sites", sid)
        if site.network.overlaps(FORBIDDEN):
            raise src.error(
                f"site {sid!r}: network {site.network} overlaps {FORBIDDEN}, this machine's "
                "own uplink",
                (*where, "network"),
                hint="lab networks use 198.18.0.0/15",
            )
        if lab and not site.network.subnet_of(LAB_RANGE):
            raise src.error(
                f"site {sid!r}: lab network {site.network} is outside the lab range {LAB_RANGE}",
                (*where, "network"),
                hint="a lab site is a part of the lab's own /24",
            )
        if not lab and site.network.overlaps(env.network.cidr):
            raise src.error(
                f"site {sid!r}: network {site.network} overlaps the merged site's "
                f"{env.network.cidr}",
                (*where, "network"),
                hint="a province's site is its own network, reached from the merged site",
            )
        if not lab and site.known_hosts is None:
            raise src.error(
                f"site {sid!r} gives no known_hosts: its hosts' SSH keys would be trusted "
                "on first use",
                where,
                hint="add known_hosts: FILE (the site's OpenSSH known_hosts lines)",
            )


def _site_host_keys(env: EnvFile, src: Source) -> dict[str, tuple[str, ...]]:
    """Each as-is host's SSH host keys, from its site's known_hosts file."""
    result: dict[str, tuple[str, ...]] = {}
    read: dict[str, dict[str, list[str]]] = {}
    for i, h in enumerate(env.hosts):
        site = env.sites[h.site] if h.site is not None else None  # declared: checked before
        if h.site is None or site is None or site.known_hosts is None:
            continue
        if h.site not in read:
            read[h.site] = sites.read_known_hosts(src.path.parent / site.known_hosts)
        given = read[h.site]
        keys = [k for name in (h.name, h.fqdn, str(h.address)) for k in given.get(name, [])]
        if not keys:
            raise src.error(
                f"host {h.name!r}: site {h.site!r}'s known_hosts has no key for it",
                ("hosts", i, "site"),
                hint=f"ask the site for its key; list it under {h.fqdn} or {h.address}",
            )
        result[h.name] = tuple(dict.fromkeys(keys))
    return result


def _check_hosts(merger: MergerFile, env: EnvFile, src: Source) -> None:
    owners = {p.id for p in merger.provinces} | {MERGED, SHARED}
    names: dict[str, int] = {}
    fqdns: dict[str, int] = {}
    addresses: dict[IPv4Address, int] = {}
    for i, h in enumerate(env.hosts):
        for value, seen, what in ((h.name, names, "name"), (h.fqdn, fqdns, "fqdn")):
            if value in seen:
                raise src.error(
                    f"host {what} {value!r} is used twice",
                    ("hosts", i, what),
                    hint=f"hosts #{seen[value] + 1} already has it",
                )
            seen[value] = i
        if h.owner not in owners:
            raise src.error(
                f"host {h.name!r}: unknown owner {h.owner!r}",
                ("hosts", i, "owner"),
                hint=f"use one of {', '.join(sorted(owners))}",
            )
        built = not h.existing
        if h.site is not None and h.site not in env.sites:
            raise src.error(
                f"host {h.name!r}: unknown site {h.site!r}",
                ("hosts", i, "site"),
                hint=f"declare it under sites: ({', '.join(sorted(env.sites)) or 'none yet'})",
            )
        if built and h.site is not None:
            raise src.error(
                f"host {h.name!r} is built by the merged province: it is on network:, not "
                f"on site {h.site!r}",
                ("hosts", i, "site"),
                hint="remove site:",
            )
        if not built and h.site is None and env.environment != "lab":
            raise src.error(
                f"host {h.name!r} is {h.owner}'s as-is host: name the site it is on",
                ("hosts", i),
                hint=f"add site: {h.owner} and the site under sites: (network, resolvers, "
                "known_hosts)",
            )
        net = env.sites[h.site].network if h.site is not None else env.network.cidr
        reserved: set[IPv4Address | None] = {net.network_address, net.broadcast_address}
        if h.site is None:
            reserved.add(env.network.gateway)
        if h.address not in net or h.address in reserved:
            where = "outside the lab range " if env.environment == "lab" else "outside "
            raise src.error(
                f"host {h.name!r}: address {h.address} is {where}{net}"
                + (" (or reserved)" if h.address in net else ""),
                ("hosts", i, "address"),
                hint=f"pick a free address in {net} other than the network, broadcast "
                "and gateway addresses",
            )
        if h.address in addresses:
            raise src.error(
                f"host {h.name!r}: address {h.address} is already used",
                ("hosts", i, "address"),
                hint=f"hosts #{addresses[h.address] + 1} has it",
            )
        addresses[h.address] = i
        lab_only = set(h.services) & set(LAB_ONLY_SERVICES)
        if lab_only and env.environment != "lab":
            raise src.error(
                f"host {h.name!r}: {', '.join(sorted(lab_only))} exists only in the lab",
                ("hosts", i, "services"),
                hint="staging and production use the real gov.vn parent and resolvers",
            )
    required: list[tuple[str, Service]] = [
        (owner, s) for owner in [*(p.id for p in merger.provinces), MERGED]
        for s in PROVINCE_SERVICES
    ]  # fmt: skip
    if env.environment == "lab":
        required += [(SHARED, s) for s in LAB_ONLY_SERVICES]
    for owner, service in required:
        if not any(h.owner == owner and service in h.services for h in env.hosts):
            raise src.error(
                f"no host provides {service.value} for {owner}",
                ("hosts",),
                hint=f"add a host with owner: {owner} and services: [{service.value}]",
            )


def _check_zones(merger: MergerFile, src: Source, env: EnvFile) -> None:
    hosts = {h.name: h for h in env.hosts}
    provinces = {p.id: p for p in merger.provinces}
    names: dict[str, int] = {}
    for i, z in enumerate(merger.zones):
        if z.name in names:
            raise src.error(
                f"zone {z.name!r} is defined twice", ("zones", i, "name"), hint="keep one"
            )
        names[z.name] = i
        if z.province not in provinces:
            raise src.error(
                f"zone {z.name!r}: unknown province {z.province!r}",
                ("zones", i, "province"),
                hint=f"use one of {', '.join(sorted(provinces))}",
            )
        if not z.ns:
            raise src.error(
                f"zone {z.name!r} has no NS host",
                ("zones", i),
                hint="list its authoritative servers under ns: (host names)",
            )
        for j, ns in enumerate(z.ns):
            host = hosts.get(ns)
            if host is None:
                raise src.error(
                    f"zone {z.name!r}: NS host {ns!r} is not in {env.environment}/inventory.yml",
                    ("zones", i, "ns", j),
                    hint="add the host or fix the name",
                )
            if Service.DNS not in host.services:
                raise src.error(
                    f"zone {z.name!r}: NS host {ns!r} does not provide dns",
                    ("zones", i, "ns", j),
                    hint=f"add dns to the services of {ns!r}",
                )
    for p in merger.provinces:
        if p.domain not in names:
            raise src.error(
                f"province {p.id!r} has no zone for its domain {p.domain}",
                ("zones",),
                hint=f"add a zone named {p.domain}",
            )


def _mail(
    merger: MergerFile, msrc: Source, env: EnvFile, esrc: Source
) -> tuple[tuple[MailboxEntry, ...], dict[str, str]]:
    provinces = {p.domain: p for p in merger.provinces}
    target = next(p for p in merger.provinces if p.id == merger.target)
    # (address, name, province id, generated, path of its source for errors)
    raw: list[tuple[str, str, str, bool, Source, tuple[str | int, ...]]] = []
    for i, m in enumerate(merger.mail.mailboxes):
        domain = m.address.split("@", 1)[1]
        if domain not in provinces:
            raise msrc.error(
                f"mailbox {m.address!r}: {domain} is not a province's domain",
                ("mail", "mailboxes", i, "address"),
                hint="use an address at a province's domain",
            )
        raw.append((m.address, m.name, provinces[domain].id, False, msrc, ("mail", "mailboxes", i)))
    gen = env.generated
    for p in merger.provinces:
        for person in generate.people(gen.seed, p.id, gen.mailboxes_per_province):
            address = f"{person.local}@{p.domain}"
            raw.append((address, person.name, p.id, True, esrc, ("generate",)))
    first: dict[str, tuple[Source, tuple[str | int, ...]]] = {}
    for address, _, _, _, src, path in raw:
        if address in first:
            other_src, other_path = first[address]
            raise src.error(
                f"duplicate mailbox {address!r}",
                path,
                hint=f"it is already defined at {other_src.at(other_path)}",
            )
        first[address] = (src, path)

    # A former province's local part collides if the target or another former province
    # has it too; the target's own mailboxes keep their addresses.
    target_locals = {a.split("@")[0] for a, _, pid, *_ in raw if pid == target.id}
    former_claims = Counter(a.split("@")[0] for a, _, pid, *_ in raw if pid != target.id)
    explicit = merger.mail.collisions.map
    code = {p.id: p.code for p in merger.provinces}
    result: list[MailboxEntry] = []
    collisions: dict[str, str] = {}
    for address, name, pid, generated, src, path in raw:
        local = address.split("@")[0]
        if pid == target.id:
            new = address
        else:
            collides = local in target_locals or former_claims[local] > 1
            if address in explicit:
                new = explicit[address]
            elif not collides:
                new = f"{local}@{target.domain}"
            elif merger.mail.collisions.strategy == "suffix":
                new = f"{local}.{code[pid]}@{target.domain}"
            else:
                raise src.error(
                    f"unresolved collision: {address!r} would become "
                    f"{local}@{target.domain}, which another mailbox has",
                    path,
                    hint=f"map it under mail.collisions.map in {msrc.path.name} "
                    f"(e.g. {address}: {local}.{code[pid]}@{target.domain}) "
                    "or use strategy: suffix",
                )
            if collides or address in explicit:
                collisions[address] = new
        result.append(MailboxEntry(address, name, pid, new, generated))

    for old in explicit:
        path = ("mail", "collisions", "map", old)
        if old not in first:
            raise msrc.error(
                f"collision map names {old!r}, which is no mailbox", path, hint="remove it"
            )
        if not explicit[old].endswith("@" + target.domain):
            raise msrc.error(
                f"collision map sends {old!r} outside {target.domain}",
                path,
                hint=f"map it to an address @{target.domain}",
            )
    owners: dict[str, str] = {}
    for entry in result:
        if entry.new_address in owners:
            where = ("mail", "collisions", "map", entry.address)
            if entry.address not in explicit:
                where = ("mail", "collisions", "map", owners[entry.new_address])
            raise msrc.error(
                f"unresolved collision: {owners[entry.new_address]!r} and {entry.address!r} "
                f"would both become {entry.new_address!r}",
                where,
                hint="give one of them another address under mail.collisions.map",
            )
        owners[entry.new_address] = entry.address
    return tuple(result), collisions


def _portal(
    merger: MergerFile, src: Source, env: EnvFile
) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    target = next(p for p in merger.provinces if p.id == merger.target)
    gen = env.generated
    pages = {
        p.id: tuple(
            generate.page_paths(gen.seed, p.id, list(merger.portal.sections), gen.pages_per_section)
        )
        for p in merger.provinces
    }
    base = f"https://{target.domain}"
    merged_pages = {base + path for path in pages[target.id]}
    url_map: dict[str, str] = {}
    for p in merger.provinces:
        if p.id == target.id:
            continue
        for path in pages[p.id]:
            new = f"{base}/{p.slug}{path}"
            merged_pages.add(new)
            url_map[f"https://{p.domain}{path}"] = new
    former_domains = {p.domain for p in merger.provinces if p.id != target.id}
    for i, entry in enumerate(merger.portal.url_map):
        host = entry.from_.split("/")[2]
        if host not in former_domains:
            raise src.error(
                f"URL map entry from {entry.from_!r}: {host} is not a former province's portal",
                ("portal", "url_map", i, "from"),
                hint=f"map URLs of {', '.join(sorted(former_domains))}",
            )
        if entry.to not in merged_pages:
            raise src.error(
                f"URL map entry points nowhere: {entry.to!r} is no page of the merged portal",
                ("portal", "url_map", i, "to"),
                hint=f"point it at an existing page under {base}/",
            )
        url_map[entry.from_] = entry.to
    return pages, url_map


def _video(
    merger: MergerFile, src: Source, env: EnvFile, mailboxes: tuple[MailboxEntry, ...]
) -> tuple[tuple[RoomEntry, ...], tuple[Account, ...]]:
    provinces = {p.id: p for p in merger.provinces}
    rooms: list[RoomEntry] = []
    seen: dict[tuple[str, str], int] = {}
    for i, r in enumerate(merger.video.rooms):
        if r.province not in provinces:
            raise src.error(
                f"room {r.name!r}: unknown province {r.province!r}",
                ("video", "rooms", i, "province"),
                hint="use a province id of merger.yml",
            )
        if (r.province, r.name) in seen:
            raise src.error(
                f"room {r.name!r} of {r.province} is defined twice", ("video", "rooms", i, "name")
            )
        seen[(r.province, r.name)] = i
        # Former provinces' rooms keep their identity under the province's slug, so two
        # provinces' "giao-ban" rooms never meet on the merged server.
        new = r.name if r.province == merger.target else f"{provinces[r.province].slug}-{r.name}"
        rooms.append(RoomEntry(r.province, r.name, r.title, new))
    per: defaultdict[str, int] = defaultdict(int)
    accounts: list[Account] = []
    for m in mailboxes:
        if m.generated and per[m.province] < env.generated.accounts_per_province:
            per[m.province] += 1
            accounts.append(Account(m.address, m.province, m.new_address))
    return tuple(rooms), tuple(accounts)
