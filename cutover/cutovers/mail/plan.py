"""What the mail cutover does for an inventory: per old server, the mailboxes to sync
and the dsync commands; the dsync endpoint's userdb on the merged server."""

from __future__ import annotations

from typing import Any

from cutover.cutovers.mail.dsync import Endpoint, chunks, command
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
    merged = inv.hosts_for(MERGED, Service.MAIL)
    if not merged:
        return {"endpoint": None, "hosts": {}}
    endpoint = Endpoint(str(merged[0].address))
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
                "users": len(users),
                "files": [{"path": k, "content": "\n".join(v) + "\n"} for k, v in files.items()],
                "commands": [command(direction, path, endpoint) for path in files],
                "maildirs": [maildir(u) for u in users],
            }
            break  # one server per province holds its mailboxes
    return {
        "endpoint": {"host": merged[0].name, "address": endpoint.address, "port": endpoint.port},
        "direction": direction,
        "hosts": hosts,
    }
