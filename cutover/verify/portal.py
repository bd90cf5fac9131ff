"""Portals: every page of each province's portal returns 200 over TLS valid for its name
(checked against the lab CA), at the address the lab resolver gives for the name."""

from __future__ import annotations

from cutover.clients import http
from cutover.inventory.model import Service
from cutover.verify.context import Check, Context


def fetch_all(ctx: Context, name: str, address: str, paths: list[str]) -> tuple[bool, str]:
    bad = []
    with http.client(ctx.tls(), timeout=10) as client:
        for path in paths:
            try:
                response = client.get(
                    f"https://{address}{path}",
                    headers={"Host": name},
                    extensions={"sni_hostname": name},
                )
                if response.status_code != 200:
                    bad.append(f"{path}: {response.status_code}")
            except http.Error as exc:
                bad.append(f"{path}: {exc.__class__.__name__}: {exc}")
    if bad:
        return False, f"{len(bad)}/{len(paths)} failed: " + "; ".join(bad[:3])
    return True, f"{len(paths)} pages 200 from {address}"


def check(ctx: Context) -> list[Check]:
    results = []
    for p in ctx.inv.merger.provinces:
        paths = list(ctx.inv.pages[p.id])
        for name, pages in ((p.domain, paths), (f"www.{p.domain}", ["/"])):
            addresses = ctx.resolve(name, "A")
            if not addresses:
                results.append(Check("portal", name, "resolves", False, "no A record"))
                continue
            ok, detail = fetch_all(ctx, name, addresses[0], pages)
            results.append(Check("portal", name, "pages return 200 over valid TLS", ok, detail))
    target = ctx.inv.target
    for host in ctx.inv.hosts_for("merged", Service.PORTAL):
        paths = list(ctx.inv.pages[target.id])
        for f in ctx.inv.former:
            paths += [f"/{f.slug}{path}" for path in ctx.inv.pages[f.id]]
        ok, detail = fetch_all(ctx, target.domain, str(host.address), paths)
        results.append(
            Check("portal", f"{host.name} (merged)", "merged pages return 200", ok, detail)
        )
    return results
