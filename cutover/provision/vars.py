"""From a resolved inventory to the variables the provisioning playbook needs.

Everything is computed here, in Python, where it can be unit-tested: each zone's records
resolved to addresses (SOA, NS and A glue included), each host's sites (mail domains and
mailboxes, portal pages, Prosody accounts and rooms), the certificates the lab CA issues.
The roles only render what they are given.

Two outputs:
- ``public``: passed as ``--extra-vars`` (lands in the run's ``env/`` folder); no secret.
- ``secret``: TSIG keys, password hashes and SCRAM keys; written 0600 under ``.state/`` and
  loaded by the plays with ``vars_files``; every task that uses them has ``no_log``.

Conventions the inventory relies on (documented in ``inventories/README.md``):
- A zone's first ``ns`` host is its primary, the others are secondaries.
- Every host whose FQDN falls inside a served zone gets an A record there; the apex of a
  province's zone points at its portal (the portal is served at ``https://<domain>/``).
- The probe mailbox of a province is ``probe@<domain>``; the probe account of the video
  service is the province's first generated account.
"""

from __future__ import annotations

import html
from typing import Any

from cutover.inventory import Inventory
from cutover.inventory.model import MERGED, SHARED, Host, Province, Service
from cutover.inventory.naming import CUTOVER_KEY, probe_address, prosody_encode, xfr_key
from cutover.inventory.zones import ZoneData, zones
from cutover.secretstore import Secrets

SEED_MESSAGES = 3  # messages seeded per as-is mailbox, each with its own Message-ID


def page_file(path: str) -> str:
    """The file behind a page's path: ``/a/`` is ``a/index.html``."""
    rel = path.lstrip("/")
    return rel + "index.html" if rel == "" or rel.endswith("/") else rel


def page_html(title: str, domain: str, path: str) -> str:
    words = path.strip("/").rsplit("/", 1)[-1].removesuffix(".html").replace("-", " ")
    heading = html.escape(words.capitalize() or "Trang chủ")
    title = html.escape(title)
    return (
        f'<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8">'
        f"<title>{heading} - {title}</title></head>\n"
        f"<body><header>{title}</header><h1>{heading}</h1>"
        f"<p>https://{domain}{path}</p></body></html>\n"
    )


def lua_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def room_files(muc: str, rooms: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Prosody 0.12 MUC storage: one config file per persistent room (restored on the
    first join after a restart) and the list of persistent rooms (for disco listings)."""
    base = prosody_encode(muc)
    files = []
    for name, title in rooms:
        jid = f"{name}@{muc}"
        files.append({
            "path": f"{base}/config/{prosody_encode(name)}.dat",
            "content": "return {\n"
            f"\t[\"_jid\"] = {lua_string(jid)};\n"
            "\t[\"_data\"] = {\n\t\t[\"persistent\"] = true;\n"
            f"\t\t[\"name\"] = {lua_string(title)};\n\t\t[\"hidden\"] = false;\n\t}};\n"
            "\t[\"_affiliation_data\"] = {};\n};\n",
        })  # fmt: skip
    listing = "".join(f"\t[{lua_string(f'{n}@{muc}')}] = true;\n" for n, _ in rooms)
    files.append({"path": f"{base}/persistent.dat", "content": "return {\n" + listing + "};\n"})
    return files


def _zone_vars(z: ZoneData) -> dict[str, Any]:
    return {
        "name": z.name,
        "ttl": z.ttl,
        "primary": z.primary.name,
        "primary_address": str(z.primary.address),
        "primary_fqdn": z.primary.fqdn,
        "secondaries": [h.name for h in z.secondaries],
        "secondary_addresses": [str(h.address) for h in z.secondaries],
        "transfer_key": xfr_key(z.owner),
        "dynamic": z.dynamic,
        "records": list(z.records),
    }


def _cert(host: Host, kind: str, names: list[str]) -> dict[str, Any]:
    unique = list(dict.fromkeys(names))
    return {"id": f"{host.name}-{kind}-{unique[0]}", "names": unique}


def build(inv: Inventory, sec: Secrets, pki_dir: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(public, secret)`` variables for one provision run; fills ``sec`` as needed."""
    provinces = {p.id: p for p in inv.merger.provinces}
    target = inv.target
    zone_list = zones(inv)
    keys = sorted({xfr_key(z.owner) for z in zone_list} | {CUTOVER_KEY})
    tsig = {k: sec.tsig(k) for k in keys}

    mail: dict[str, Any] = {}
    portal: dict[str, Any] = {}
    video: dict[str, Any] = {}
    certs: list[dict[str, Any]] = []
    mail_hashes: dict[str, str] = {}
    xmpp_creds: dict[str, Any] = {}

    def site_owner(owner: str) -> tuple[Province, bool]:
        return (target, True) if owner == MERGED else (provinces[owner], False)

    for host in inv.hosts:
        if host.owner == SHARED:
            continue
        province, merged = site_owner(host.owner)
        domain = province.domain
        if Service.MAIL in host.services:
            if merged:
                boxes = [(m.new_address, m.name, False) for m in inv.mailboxes]
            else:
                boxes = [(m.address, m.name, True) for m in inv.mailboxes
                         if m.province == province.id]  # fmt: skip
            for address, _, _ in boxes:
                mail_hashes[address] = sec.mailbox(address)["hash"]
            cert = _cert(host, "mail", [host.fqdn, domain])
            certs.append(cert)
            mail[host.name] = {
                "domains": [domain],
                "cert": cert["id"],
                "mailboxes": [{"address": a, "name": n, "seed": s} for a, n, s in boxes],
                "seed_messages": SEED_MESSAGES,
            }
        if Service.PORTAL in host.services:
            if merged:
                pages = list(inv.pages[target.id])
                for p in inv.former:
                    pages += [f"/{p.slug}{path}" for path in inv.pages[p.id]]
            else:
                pages = list(inv.pages[province.id])
            names = [domain, f"www.{domain}", host.fqdn]
            cert = _cert(host, "portal", names)
            certs.append(cert)
            title = f"Cổng thông tin điện tử {province.name}"
            portal[host.name] = {
                "domain": domain,
                "names": cert["names"],
                "cert": cert["id"],
                "pages": pages,
                "files": [
                    {"path": page_file(path), "content": page_html(title, domain, path)}
                    for path in pages
                ],
            }
        if Service.VIDEO in host.services:
            if merged:
                jids = [a.new_jid for a in inv.accounts]
                rooms = [(r.new_name, r.title) for r in inv.rooms]
            else:
                jids = [a.jid for a in inv.accounts if a.province == province.id]
                rooms = [(r.name, r.title) for r in inv.rooms if r.province == province.id]
            for jid in jids:
                cred = sec.xmpp(jid)
                xmpp_creds[jid] = {k: v for k, v in cred.items() if k != "password"}
            muc = f"conference.{domain}"
            web = f"meet.{domain}"
            cert = _cert(host, "video", [domain, muc, web, host.fqdn])
            certs.append(cert)
            video[host.name] = {
                "domain": domain,
                "muc": muc,
                "web_names": list(dict.fromkeys([web, host.fqdn])),
                "cert": cert["id"],
                "data_dir": prosody_encode(domain),
                "muc_data_dir": prosody_encode(muc),
                "accounts": [
                    {"jid": j, "file": prosody_encode(j.split("@")[0]) + ".dat"} for j in jids
                ],
                "rooms": [{"name": n, "title": t, "jid": f"{n}@{muc}"} for n, t in rooms],
                "room_files": room_files(muc, rooms),
            }

    resolvers = [h for h in inv.hosts if Service.RESOLVER in h.services]
    parents = [h for h in inv.hosts if Service.PARENT_DNS in h.services]
    public = {
        "cutover_merger": inv.name,
        "cutover_environment": inv.environment,
        "cutover_pki_dir": pki_dir,
        "cutover_provinces": [
            {"id": p.id, "name": p.name, "domain": p.domain, "probe": probe_address(p)}
            for p in inv.merger.provinces
        ],
        "cutover_network": str(inv.network),
        "cutover_dns": {
            "keys": keys,
            "cutover_key": CUTOVER_KEY,
            "zones": [_zone_vars(z) for z in zone_list],
            "parent_zone": inv.merger.parent_zone,
            "parent_addresses": [str(h.address) for h in parents],
            "resolver_hosts": [h.name for h in resolvers],
        },
        "cutover_mail": mail,
        "cutover_portal": portal,
        "cutover_video": video,
        "cutover_certs": certs,
    }
    secret = {
        "cutover_tsig": tsig,
        "cutover_mail_hashes": mail_hashes,
        "cutover_xmpp_creds": xmpp_creds,
    }
    return public, secret
