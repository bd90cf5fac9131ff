"""The mail cutover's controller-side actions, run by the mail playbooks:
``python -m cutover.cutovers.mail ACTION --merger-dir D --env E --run-dir R --secret-vars S``.

Mailbox passwords come from the provisioning secrets next to the secret variables file and
are never printed. Every action prints one JSON object.
"""

from __future__ import annotations

import json
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cutover import secretstore as secretlib
from cutover.clients import imap, smtp
from cutover.cutovers.mail import accounting
from cutover.cutovers.mail.plan import endpoint_users, sync_plan
from cutover.cutovers.mail.routing import mappings, tables
from cutover.errors import CutoverError
from cutover.inventory import Inventory
from cutover.inventory.model import MERGED, Service


class MailVerifyError(CutoverError):
    """Mail is missing where it must be."""


@dataclass
class Context:
    inv: Inventory
    run_dir: Path
    secret_vars: Path
    phase: str = "as-is"
    direction: str = "to-merged"
    parallel: int = 8
    wait: float = 60.0
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def secrets(self) -> secretlib.Secrets:
        return secretlib.load(self.secret_vars.parent / "secrets.json")

    def tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.secret_vars.parent / "pki" / "ca.crt"))

    def merged(self) -> accounting.Server:
        host = self.inv.hosts_for(MERGED, Service.MAIL)[0]
        return accounting.Server(host.fqdn, str(host.address))

    def old_server(self, address: str) -> accounting.Server:
        province = next(m.province for m in self.inv.mailboxes if m.address == address)
        host = self.inv.hosts_for(province, Service.MAIL)[0]
        return accounting.Server(host.fqdn, str(host.address))

    def resolver(self) -> str:
        return str(next(h.address for h in self.inv.hosts if Service.RESOLVER in h.services))


def routes(ctx: Context) -> None:
    ctx.report["tables"] = tables(ctx.inv, ctx.phase)
    ctx.report["phase"] = ctx.phase
    ctx.report["domains"] = sorted(p.domain for p in ctx.inv.merger.provinces)


def plan_sync(ctx: Context) -> None:
    ctx.report.update(sync_plan(ctx.inv, ctx.direction, ctx.parallel))
    ctx.report["endpoint_users"] = endpoint_users(ctx.inv)


def _accounts(ctx: Context) -> list[accounting.Account]:
    sec = ctx.secrets
    pairs = [(m.old, m.new) for m in mappings(ctx.inv)]
    return accounting.account(
        pairs,
        ctx.old_server,
        ctx.merged(),
        lambda a: sec.mailbox(a)["password"],
        ctx.tls(),
        ctx.parallel,
    )


def _write(ctx: Context, name: str, accounts: list[accounting.Account]) -> None:
    out = ctx.run_dir / "mail"
    out.mkdir(parents=True, exist_ok=True)
    data = [
        {"old": a.old, "new": a.new, "on_old": sorted(a.on_old), "on_new": sorted(a.on_new)}
        for a in accounts
    ]
    (out / f"{name}-{int(time.time())}.json").write_text(json.dumps(data, indent=1) + "\n")


def verify(ctx: Context) -> None:
    """Forward: every mailbox on the merged server holds every Message-ID (and at least as
    many messages) the old server had; a probe to an old address is read back from the new
    mailbox, reached through the MX the resolver gives."""
    accounts = _accounts(ctx)
    _write(ctx, "verify", accounts)
    problems = [
        f"{a.new}: {len(a.missing_on_new)} of {len(a.on_old)} messages of {a.old} missing"
        for a in accounts
        if a.missing_on_new or len(a.on_new) < len(a.on_old)
    ]
    ctx.report["mailboxes"] = len(accounts)
    ctx.report["messages_old"] = sum(len(a.on_old) for a in accounts)
    ctx.report["messages_new"] = sum(len(a.on_new) for a in accounts)
    probes = []
    sec = ctx.secrets
    for p in ctx.inv.former:
        old = f"probe@{p.domain}"
        new = next(m.new for m in mappings(ctx.inv) if m.old == old)
        message_id = accounting.new_message_id("cutover-probe")
        try:
            mx = accounting.mx_host(ctx.resolver(), p.domain)
            accounting.send(mx.address, old, message_id)
            ok = accounting.wait_for(
                ctx.merged(), new, sec.mailbox(new)["password"], ctx.tls(), message_id, ctx.wait
            )
        except (OSError, smtp.Error, imap.Error, IndexError) as exc:
            ok, mx = False, accounting.Server(str(exc), "")
        probes.append({"to": old, "read_from": new, "via": mx.name, "ok": ok})
        if not ok:
            problems.append(f"probe to {old} not read back from {new} on the merged server")
    ctx.report["probes"] = probes
    if problems:
        raise MailVerifyError("; ".join(problems[:10]))


def verify_back(ctx: Context) -> None:
    """After a rollback: everything the merged server holds is on the old server too."""
    accounts = _accounts(ctx)
    _write(ctx, "verify-back", accounts)
    problems = [
        f"{a.old}: {len(a.missing_on_old)} messages delivered to {a.new} not synced back"
        for a in accounts
        if a.missing_on_old
    ]
    ctx.report["mailboxes"] = len(accounts)
    ctx.report["messages_old"] = sum(len(a.on_old) for a in accounts)
    ctx.report["messages_new"] = sum(len(a.on_new) for a in accounts)
    if problems:
        raise MailVerifyError("; ".join(problems[:10]))


ACTIONS = {"routes": routes, "sync-plan": plan_sync, "verify": verify, "verify-back": verify_back}


def run(action: str, ctx: Context) -> dict[str, Any]:
    ACTIONS[action](ctx)
    return {"action": action, "ok": True, **ctx.report}
