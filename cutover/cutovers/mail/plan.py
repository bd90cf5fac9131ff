"""What the mail cutover does for an inventory: per old server, the mailboxes to sync
and the dsync commands; the dsync endpoint's userdb on the merged server."""

from __future__ import annotations

from typing import Any

from cutover.cutovers.mail.dsync import (
    ENDPOINT_PORT,
    LOOPBACK,
    Endpoint,
    chunks,
    command,
)
from cutover.cutovers.mail.routing import mappings
from cutover.inventory import Inventory
from cutover.inventory.model import MERGED, Service

MAIL_ROOT = "/var/vmail"  # the mail role's mail_root
VMAIL_UID = 5000  # the mail role's mail_vmail_uid
CHUNK_DIR = "/var/lib/cutover-dsync"


def maildir(address: str) -> str:
    """Where the mail role keeps a mailbox: <root>/<domain>/<local part>/Maildir."""
    local, domain = address.split("@")
    return f"{MAIL_ROOT}/{domain}/{local}/Maildir"


def endpoint_users(inv: Inventory) -> list[str]:
    """passwd-file lines: every old address, homed in its new mailbox on the merged server."""
    lines = []
    for m in mappings(inv):
        local, domain = m.new.split("@")
        home = f"{MAIL_ROOT}/{domain}/{local}"
        lines.append(f"{m.old}::{VMAIL_UID}:{VMAIL_UID}::{home}::")
    return lines


def sync_plan(inv: Inventory, direction: str, parallel: int) -> dict[str, Any]:
    """Per old server its user lists and dsync commands (through its forward); the
    endpoint: the merged server's address, where it listens and whom it admits."""
    merged = inv.hosts_for(MERGED, Service.MAIL)
    if not merged:
        return {"endpoint": None, "hosts": {}}
    merged_address = str(merged[0].address)
    endpoint = Endpoint(LOOPBACK, ENDPOINT_PORT)  # each old server's end of its forward
    by_province: dict[str, list[str]] = {}
    for m in mappings(inv):
        by_province.setdefault(m.province, []).append(m.old)
    hosts: dict[str, Any] = {}
    for p in inv.merger.provinces:
        for h in inv.hosts_for(p.id, Service.MAIL):
            users = by_province.get(p.id, [])
            parts = chunks(users, parallel)
            files = {f"{CHUNK_DIR}/{direction}-{i}.users": part for i, part in enumerate(parts)}
            hosts[h.name] = {
                "address": str(h.address),
                "users": len(users),
                "files": [{"path": k, "content": "\n".join(v) + "\n"} for k, v in files.items()],
                "commands": [command(direction, path, endpoint) for path in files],
                "maildirs": [maildir(u) for u in users],
            }
            break  # one server per province holds its mailboxes
    return {
        "endpoint": {
            "host": merged[0].name,
            "address": merged_address,
            "listen": LOOPBACK,
            "port": endpoint.port,
            # the addresses the tunnel user's keys are admitted from: the old servers
            "allow": sorted({v["address"] for v in hosts.values()}),
        },
        "direction": direction,
        "hosts": hosts,
    }
