"""The merged portal as the inventory defines it: what the portal cutover playbooks need
to know about a merger (small variables only: the URL map itself is rendered to a file by
:mod:`cutover.cutovers.portal.redirects`) and what verification expects of it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from cutover.errors import ConfigError
from cutover.inventory.model import MERGED, Province, Service
from cutover.inventory.resolved import Inventory

# Where provisioning puts the portals' pages (playbooks/roles/portal/defaults).
PORTAL_ROOT = "/var/www/cutover"


def names(province: Province) -> list[str]:
    """The names an old portal is served under, and so must stay valid for (TLS)."""
    return [province.domain, f"www.{province.domain}"]


def landing(inv: Inventory, province: Province) -> str:
    """Where an old portal's unmapped paths go: its section on the merged portal."""
    return f"https://{inv.target.domain}/{province.slug}/"


def build(inv: Inventory) -> dict[str, Any]:
    merged = inv.hosts_for(MERGED, Service.PORTAL)
    if not merged:
        return {}
    host = merged[0]
    target = inv.target
    former: list[dict[str, Any]] = []
    for p in inv.former:  # one, two or more former provinces: never assume a count
        old = inv.hosts_for(p.id, Service.PORTAL)
        former.append({
            "province": p.id,
            "domain": p.domain,
            "slug": p.slug,
            "names": names(p),
            "landing": landing(inv, p),
            "host": old[0].name if old else None,
            "docroot": f"{PORTAL_ROOT}/{p.domain}",
        })  # fmt: skip
    old_names = [n for f in former for n in f["names"]]
    return {
        "merged_host": host.name,
        "merged_address": str(host.address),
        "target_domain": target.domain,
        "target_docroot": f"{PORTAL_ROOT}/{target.domain}",
        "former": former,
        "old_hosts": [f["host"] for f in former if f["host"]],
        "old_names": old_names,
        # The merged portal's certificate for the old names, issued by the lab CA (a real
        # site's ACME or CA issues the same names).
        "cert": {"id": f"{host.name}-portal-old-names", "names": old_names},
    }


def split(url: str) -> tuple[str, str]:
    """``https://kontum.gov.vn/a/b.html`` -> ``("kontum.gov.vn", "/a/b.html")``."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ConfigError(f"URL map entry {url!r} is not an https:// URL")
    if parts.query or parts.fragment:
        raise ConfigError(
            f"URL map entry {url!r} has a query or fragment",
            hint="map the path only: nginx matches the path ($uri), queries are dropped",
        )
    return parts.hostname.lower(), parts.path or "/"
