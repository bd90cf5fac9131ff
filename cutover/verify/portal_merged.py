"""Verify the moved portals with a real HTTP client (httpx, TLS checked against the lab
CA): every mapped old URL answers 301 to its new URL, both at the merged portal's own
address and at the address the lab resolver gives for the old name (the old portal
relaying, or the merged one once DNS moved); unmapped paths go to the landing page;
every target answers 200 at the merged portal."""

from __future__ import annotations

import secrets
from collections import defaultdict
from urllib.parse import urlsplit

from cutover.clients import http
from cutover.inventory import portal as plan
from cutover.inventory.model import MERGED, Service
from cutover.verify.context import Check, Context

MAX_SHOWN = 3


def _client(ctx: Context) -> http.Client:
    return http.client(ctx.tls(), timeout=10, follow_redirects=False)


def get(client: http.Client, address: str, name: str, path: str) -> http.Response:
    return client.get(
        f"https://{address}{path}", headers={"Host": name}, extensions={"sni_hostname": name}
    )


def _expect_301(ctx: Context, address: str, name: str, cases: list[tuple[str, str]]) -> list[str]:
    bad: list[str] = []
    with _client(ctx) as client:  # one client (and TLS session) per name: SNI is per name
        for path, want in cases:
            try:
                r = get(client, address, name, path)
                if r.status_code != 301 or r.headers.get("location") != want:
                    bad.append(f"{name}{path}: {r.status_code} {r.headers.get('location')}")
            except http.Error as exc:
                bad.append(f"{name}{path}: {exc.__class__.__name__}: {exc}")
    return bad


def _result(target: str, name: str, bad: list[str], count: int, what: str) -> Check:
    if bad:
        shown = "; ".join(bad[:MAX_SHOWN])
        return Check("portal", target, name, False, f"{len(bad)}/{count} failed: {shown}")
    return Check("portal", target, name, True, f"{count} {what}")


def check(ctx: Context) -> list[Check]:
    inv = ctx.inv
    info = plan.build(inv)
    merged = inv.hosts_for(MERGED, Service.PORTAL)[0]
    address = str(merged.address)
    by_name: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for old, new in inv.url_map.items():
        domain, path = plan.split(old)
        by_name[domain].append((path, new))
    results: list[Check] = []
    for f in info["former"]:
        domain = f["domain"]
        cases = by_name[domain]
        unmapped = f"/khong-co-trang-nay-{secrets.token_hex(4)}.html"
        cases_all = [*cases, (unmapped, f["landing"])]
        bad = _expect_301(ctx, address, domain, cases_all)
        results.append(
            _result(
                f"{domain} @ {merged.name}",
                "every old URL 301 to its new URL",
                bad,
                len(cases_all),
                "URLs 301 to their new URLs over valid TLS",
            )
        )
        for name in f["names"]:
            answers = ctx.resolve(name, "A")
            if not answers:
                results.append(Check("portal", name, "resolves", False, "no A record"))
                continue
            probe = cases_all
            if name != domain:  # www.<old>/ is the old home page: its new URL
                probe = [("/", inv.url_map.get(f"https://{domain}/", f["landing"]))]
            bad = _expect_301(ctx, answers[0], name, probe)
            results.append(
                _result(
                    f"{name} @ resolver ({answers[0]})",
                    "old URLs 301 through the resolver",
                    bad,
                    len(probe),
                    "URLs 301 to their new URLs over valid TLS",
                )
            )
    targets = sorted(set(inv.url_map.values()) | {f["landing"] for f in info["former"]})
    bad = []
    with _client(ctx) as client:
        for url in targets:
            parts = urlsplit(url)
            try:
                r = get(client, address, parts.hostname or "", parts.path or "/")
                if r.status_code != 200:
                    bad.append(f"{url}: {r.status_code}")
            except http.Error as exc:
                bad.append(f"{url}: {exc.__class__.__name__}: {exc}")
    results.append(
        _result(
            f"{inv.target.domain} @ {merged.name}",
            "every new URL 200 over valid TLS",
            bad,
            len(targets),
            "new URLs 200",
        )
    )
    return results
