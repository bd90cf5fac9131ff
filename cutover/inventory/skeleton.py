"""A new merger's skeleton (``cutover init``): its merger file, its lab twin and its plans,
written from the project's table of the 63 former provinces (``data/provinces.yml``).

What is written is data (YAML dumped from Python values, never text with values pasted
in): the provinces with their public names, domains, slugs and codes; one zone per
province with the records every province portal, mail and video service publishes; the
lab inventory with a /24 of 198.18.0.0/15 that no other merger's lab uses and the
standard host layout; and the three plans, each extending the standard plan library.
Staging and production are not written: their hosts, sites and keys are the sites' own
facts (see "Using it against a real site" in the README).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

import yaml

from cutover import yamlfile
from cutover.errors import ConfigError

DATA = Path(__file__).with_name("data") / "provinces.yml"
# Lab /24s for mergers: 198.18.1-63 (the tests' own labs take 198.18.64 and above).
MERGER_NETS = range(1, 64)
SECTIONS = ["tin-tuc", "thong-bao", "van-ban-phap-quy", "thu-tuc-hanh-chinh", "gioi-thieu"]
SERVICES = [("ns1", "dns"), ("ns2", "dns"), ("mail", "mail"), ("portal", "portal"),
            ("meet", "video")]  # fmt: skip
TO_ASSIGN = "(to assign: the person responsible, before the window)"


@dataclass(frozen=True)
class Province:
    id: str
    name: str
    domain: str
    slug: str
    code: str


def provinces() -> dict[str, Province]:
    """The project's table of the former provinces, by id."""
    rows = yamlfile.load(DATA)["provinces"]
    return {str(r["id"]): Province(**{k: str(v) for k, v in r.items()}) for r in rows}


def _pick(table: dict[str, Province], pid: str, what: str) -> Province:
    if pid in table:
        return table[pid]
    close = sorted(p for p in table if p[:3] == pid[:3] or pid in p)
    raise ConfigError(
        f"{what} {pid!r} is not one of the 63 former provinces",
        hint=f"did you mean {', '.join(close)}?" if close else "see `cutover init --list`",
    )


def _labs_in_use(inventories: Path) -> tuple[set[int], set[str]]:
    """The 198.18.N /24s (N) and the lab names the mergers' lab inventories take."""
    nets: set[int] = set()
    labs: set[str] = set()
    for env_file in inventories.glob("*/lab/inventory.yml"):
        try:
            network = yamlfile.load(env_file)["network"]
            cidr = IPv4Network(str(network["cidr"]))
            labs.add(str(network["lab"]))
        except (ConfigError, KeyError, TypeError, ValueError):
            continue  # a broken merger is its own problem
        octets = str(cidr.network_address).split(".")
        if octets[:2] == ["198", "18"]:
            nets.add(int(octets[2]))
    return nets, labs


def _dump(header: str, data: dict[str, Any]) -> str:
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=96)
    comments = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return f"{comments}---\n{body}"


def write(inventories: Path, merger: str, target: str, absorbed: list[str]) -> list[Path]:
    """Write ``inventories/<merger>/`` for ``absorbed`` merging into ``target``; the
    files written. Refuses (changing nothing) an existing merger or unknown provinces."""
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", merger) or len(merger) > 60:
        raise ConfigError(
            f"merger name {merger!r} is not a slug",
            hint="lower-case letters, digits and single '-', e.g. tuyenquang-hagiang",
        )
    table = provinces()
    where = inventories / merger
    if (where / "merger.yml").exists():
        raise ConfigError(
            f"merger {merger!r} exists already in {inventories}",
            hint="pick another name, or edit its files",
        )
    if not absorbed:
        raise ConfigError("no province to absorb", hint="name them: --absorb A,B")
    ids = [target, *absorbed]
    if len(set(ids)) != len(ids):
        raise ConfigError("a province is named twice", hint="the target is not absorbed too")
    chosen = [_pick(table, target, "target"), *(_pick(table, a, "province") for a in absorbed)]
    used_nets, taken = _labs_in_use(inventories)
    free = [n for n in MERGER_NETS if n not in used_nets]
    if not free:
        raise ConfigError("no lab /24 left for mergers in 198.18.1-63.0/24")
    net = f"198.18.{free[0]}"
    lab = "".join(p.code for p in chosen)[:8]
    if lab in taken:
        lab = f"{lab[:6]}{free[0]:02d}"
    head = chosen[0]
    names = " và ".join(p.name for p in chosen[1:])
    title = f"{names} merged into {head.name}"
    files = {
        "merger.yml": _dump(
            f"{title}.\nShared by lab, staging and production; hosts and addresses are per "
            "environment.\nWritten by `cutover init`: check the zones' records and the "
            "hand-kept mailboxes\nagainst the provinces' own before a real cutover.",
            _merger(merger, title, chosen),
        ),
        "lab/inventory.yml": _dump(
            f"{title}: the lab environment (written by `cutover init`; its /24 is used by no\n"
            "other merger's lab).",
            _lab(chosen, net, lab),
        ),
    }
    for plan, extends, what in (
        ("cutover", "cutover", "DNS, mail, portal and video conference"),
        ("dns-mail", "dns-mail", "DNS and mail"),
        ("portal-video", "portal-video", "portal and video conference"),
    ):
        files[f"plans/{plan}.yml"] = _dump(
            f"The {what} cutover of {merger}: the library's steps (cutover/plans/{extends}.yml);\n"
            "this file states the merger's own facts. Give the people and the window before a\n"
            "live run.",
            {
                "version": 1,
                "extends": extends,
                "name": f"{merger}-{plan}",
                "merger": merger,
                "description": f"{names} vào {head.name}: {what}.",
                "defaults": {"owner": TO_ASSIGN, "approver": TO_ASSIGN},
                "vars": {"dns_low_ttl": 30, "mail_parallel": 8},
            },
        )
    written = []
    for rel, text in files.items():
        path = where / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _merger(merger: str, title: str, chosen: list[Province]) -> dict[str, Any]:
    head = chosen[0]
    zones, mailboxes, rooms = [], [], []
    for p in chosen:
        d = p.domain
        zones.append({
            "name": d, "province": p.id, "ns": [f"ns1-{p.id}", f"ns2-{p.id}"], "ttl": 3600,
            "records": [
                {"name": "@", "type": "MX", "value": f"10 mail.{d}."},
                {"name": "www", "type": "CNAME", "value": f"portal.{d}."},
                {"name": "@", "type": "TXT", "value": "v=spf1 mx -all"},
                {"name": "_xmpp-client._tcp", "type": "SRV", "value": f"5 0 5222 meet.{d}."},
                {"name": "_xmpp-server._tcp.conference", "type": "SRV",
                 "value": f"5 0 5269 meet.{d}."},
            ],
        })  # fmt: skip
        mailboxes += [
            {"address": f"vanphong@{d}", "name": f"Văn phòng UBND tỉnh {p.name}"},
            {"address": f"probe@{d}", "name": f"Hộp thư kiểm tra {p.name} (cutover probe)"},
        ]
        rooms.append(
            {"province": p.id, "name": "giao-ban-ubnd", "title": f"Giao ban UBND {p.name}"}
        )
    return {
        "merger": merger,
        "title": title,
        "target": head.id,
        "parent_zone": "gov.vn",
        "provinces": [
            {"id": p.id, "name": p.name, "domain": p.domain, "slug": p.slug, "code": p.code}
            for p in chosen
        ],
        "zones": zones,
        "mail": {"mailboxes": mailboxes, "collisions": {"strategy": "suffix"}},
        "portal": {"sections": SECTIONS},
        "video": {"rooms": rooms},
    }


def _lab(chosen: list[Province], net: str, lab: str) -> dict[str, Any]:
    hosts: list[dict[str, Any]] = [
        {"name": "parent-govvn", "fqdn": "ns1.lab.gov.vn", "owner": "shared",
         "services": ["parent_dns"], "address": f"{net}.2"},
        {"name": "resolver", "fqdn": "resolver.lab.gov.vn", "owner": "shared",
         "services": ["resolver"], "address": f"{net}.3"},
    ]  # fmt: skip
    owners = [(p.id, p.domain, 10 * i) for i, p in enumerate(chosen, start=1)]
    owners.append(("merged", f"ttdl.{chosen[0].domain}", 100))  # its data centre's names
    for owner, domain, base in owners:
        for j, (label, service) in enumerate(SERVICES, start=1):
            name = "video" if label == "meet" else label
            hosts.append({
                "name": f"{name}-{owner}", "fqdn": f"{label}.{domain}", "owner": owner,
                "services": [service], "address": f"{net}.{base + j}",
            })  # fmt: skip
    return {
        "environment": "lab",
        "compute": "lab",
        "zone_ttl": 60,
        "network": {
            "cidr": f"{net}.0/24",
            "gateway": f"{net}.1",
            "bridge": f"cutlab-{lab}",
            "lab": lab,
        },
        "hosts": hosts,
        "generate": {
            "seed": 20250701,
            "mailboxes_per_province": 50,
            "pages_per_section": 10,
            "accounts_per_province": 10,
        },
    }
