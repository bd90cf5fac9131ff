"""Verification with real clients, through the lab resolver: DNS (dnspython), mail
(cutover.clients: smtp, imap), portal (http over TLS checked against the lab CA), video (slixmpp).

Each service module has ``check(ctx) -> list[Check]``; :func:`verify` runs them all and
returns a :class:`Report`. Nothing here prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from cutover.errors import ConfigError
from cutover.inventory import Inventory
from cutover.verify.context import STATES, Check, Context, Report, context

__all__ = ["STATES", "Check", "Context", "Report", "context", "verify"]


def verify(inv: Inventory, state: str = "as-is", services: tuple[str, ...] = ()) -> Report:
    if state not in STATES:
        raise ConfigError(f"unknown state {state!r}", hint=f"use one of {', '.join(STATES)}")
    # imported when verifying: their clients (slixmpp, httpx) cost start-up time that
    # users of Check and context alone do not need
    from cutover.verify import dns_check as dnscheck
    from cutover.verify import mail, portal, portal_merged, video, video_merged

    checks: dict[str, Callable[[Context], list[Check]]] = (
        {"dns": dnscheck.check, "mail": mail.check, "portal": portal.check, "video": video.check}
        if state == "as-is"
        else {
            "dns": dnscheck.check_merged,
            "mail": mail.check_merged,
            "portal": portal_merged.check,
            "video": video_merged.check,
        }
    )
    ctx = context(inv)
    report = Report(inv.name, inv.environment, state)
    started = time.monotonic()
    for name, run in checks.items():
        if not services or name in services:
            report.checks += run(ctx)
    report.seconds = time.monotonic() - started
    return report
