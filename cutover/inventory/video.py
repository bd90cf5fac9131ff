"""The merged video-conference service as the inventory defines it: what the video
cutover playbooks need to know about a merger (small variables) and what verification
expects of it."""

from __future__ import annotations

from typing import Any

from cutover.inventory.model import MERGED, Service
from cutover.inventory.naming import prosody_encode
from cutover.inventory.resolved import Inventory


def build(inv: Inventory) -> dict[str, Any]:
    merged = inv.hosts_for(MERGED, Service.VIDEO)
    if not merged:
        return {}
    host = merged[0]
    target = inv.target
    former = []
    for p in inv.former:  # one, two or more former provinces: never assume a count
        old = inv.hosts_for(p.id, Service.VIDEO)
        muc = f"conference.{p.domain}"
        former.append({
            "province": p.id,
            "domain": p.domain,
            "muc": muc,
            "web": f"meet.{p.domain}",
            "host": old[0].name if old else None,
            "data_dirs": [prosody_encode(p.domain), prosody_encode(muc)],
        })  # fmt: skip
    legacy_names = [n for f in former for n in (f["domain"], f["muc"], f["web"])]
    return {
        "merged_host": host.name,
        "merged_address": str(host.address),
        "target_domain": target.domain,
        "target_muc": f"conference.{target.domain}",
        "target_web": f"meet.{target.domain}",
        "former": former,
        "old_hosts": [f["host"] for f in former if f["host"]],
        # The merged server's certificate for the old domains (XMPP, MUC, web client).
        "cert": {"id": f"{host.name}-video-old-domains", "names": legacy_names},
    }
