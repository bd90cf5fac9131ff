"""Every probe message, found exactly once in its home afterwards (Message-ID accounting).

The home of a message is where its recipient's mail lives at the end: the new mailbox on
the merged server after a cutover, the old mailbox on the province's own server after a
rollback. Copies the migration leaves on the other side (the old server keeps what it
synced; a rollback keeps what it synced back) are counted apart, not as duplicates.
One IMAP login per (host, mailbox), listing its INBOX's Message-IDs once."""

from __future__ import annotations

from collections import Counter

from cutover.clients import imap
from cutover.inventory.model import MERGED, Service
from cutover.rehearse.probes import SentMessage
from cutover.report.model import MessageAccount
from cutover.verify import Context


def _message_ids(ctx: Context, server: str, address: str, mailbox: str) -> list[str]:
    """Message-IDs in ``mailbox``'s INBOX on ``server``; [] where it has no such mailbox."""
    try:
        password = ctx.secrets.mailbox(mailbox)["password"]
        with imap.logged_in(server, address, mailbox, password, ctx.tls(), timeout=10) as session:
            return imap.inbox_message_ids(session)
    except (imap.Error, KeyError, OSError):
        return []


def account(ctx: Context, sent: list[SentMessage], *, merged: bool) -> MessageAccount:
    """``merged``: the cutover went through (homes on the merged server)."""
    new_of = {m.address: m.new_address for m in ctx.inv.mailboxes}
    province_of = {m.address: m.province for m in ctx.inv.mailboxes}
    mail_hosts = [h for h in ctx.inv.hosts if Service.MAIL in h.services]

    def home(recipient: str) -> tuple[tuple[str, str], str]:
        if merged:
            host = next(h for h in mail_hosts if h.owner == MERGED)
            return (host.fqdn, str(host.address)), new_of.get(recipient, recipient)
        owner = province_of.get(recipient, ctx.inv.target.id)
        host = next(h for h in mail_hosts if h.owner == owner)
        return (host.fqdn, str(host.address)), recipient

    homes = {m.recipient: home(m.recipient) for m in sent}
    counts: dict[tuple[tuple[str, str], str], Counter[str]] = {}
    for place in set(homes.values()):
        (server, address), mailbox = place
        counts[place] = Counter(_message_ids(ctx, server, address, mailbox))
    found = [counts[homes[m.recipient]][m.message_id] for m in sent]
    return MessageAccount(
        sent=len(sent),
        found=sum(1 for n in found if n >= 1),
        duplicated=[m.message_id for m, n in zip(sent, found, strict=True) if n > 1],
        lost=[m.message_id for m, n in zip(sent, found, strict=True) if n == 0],
    )
