"""Every probe message, found in exactly one mailbox afterwards (Message-ID accounting).

One IMAP login per (mail host, mailbox) that could hold a probe message, listing the
Message-IDs of its INBOX once, rather than one search per message."""

from __future__ import annotations

import contextlib
import imaplib
import re
from collections import Counter

from cutover.inventory.model import Service
from cutover.rehearse.probes import SentMessage
from cutover.report.model import MessageAccount
from cutover.verify import Context
from cutover.verify.mail import _IMAP

_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>]+>)", re.IGNORECASE | re.MULTILINE)


def _message_ids(ctx: Context, server: str, address: str, mailbox: str) -> list[str]:
    """Message-IDs in ``mailbox``'s INBOX on ``server``; [] where it has no such mailbox."""
    try:
        imap = _IMAP(server, address, timeout=10)
    except OSError:
        return []
    try:
        imap.starttls(ssl_context=ctx.tls())
        imap.login(mailbox, ctx.secrets.mailbox(mailbox)["password"])
        typ, data = imap.select("INBOX", readonly=True)
        if typ != "OK" or data[0] in (b"0", None):
            return []
        _, fetched = imap.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        ids = []
        for part in fetched:
            if isinstance(part, tuple):
                ids += [m.decode() for m in _MESSAGE_ID.findall(part[1])]
        return ids
    except (imaplib.IMAP4.error, KeyError, OSError):
        return []
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            imap.logout()


def account(ctx: Context, sent: list[SentMessage]) -> MessageAccount:
    new_of = {m.address: m.new_address for m in ctx.inv.mailboxes}
    mailboxes = set()
    for message in sent:
        mailboxes.add(message.recipient)
        mailboxes.add(new_of.get(message.recipient, message.recipient))
    counts: Counter[str] = Counter()
    for host in ctx.inv.hosts:
        if Service.MAIL not in host.services:
            continue
        for mailbox in sorted(mailboxes):
            counts.update(_message_ids(ctx, host.fqdn, str(host.address), mailbox))
    ours = [m.message_id for m in sent]
    return MessageAccount(
        sent=len(ours),
        found=sum(1 for mid in ours if counts[mid] >= 1),
        duplicated=[mid for mid in ours if counts[mid] > 1],
        lost=[mid for mid in ours if counts[mid] == 0],
    )
