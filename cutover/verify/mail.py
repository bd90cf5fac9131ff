"""Mail: a probe message sent over SMTP to each province's probe mailbox (found through
MX records at the lab resolver) is read back over IMAP (STARTTLS, lab CA), then removed."""

from __future__ import annotations

import uuid

from cutover.clients import imap, smtp
from cutover.clients.retry import until
from cutover.inventory.model import Service
from cutover.inventory.naming import probe_address
from cutover.verify.context import Check, Context


def probe(
    ctx: Context, server: str, address: str, mailbox: str, to: str | None = None
) -> tuple[bool, str]:
    """Send to ``to`` (default: the mailbox's address) at ``address``; read it back from
    ``mailbox`` on ``server``."""
    password = ctx.secrets.mailbox(mailbox)["password"]
    message_id = f"<verify-{uuid.uuid4().hex}@cutover.lab>"
    msg = smtp.message("verify@lab.gov.vn", to or mailbox, "cutover verification probe",
                       message_id, "probe\n")  # fmt: skip
    smtp.send(address, msg, helo="verify.lab.gov.vn", timeout=10)
    with imap.logged_in(server, address, mailbox, password, ctx.tls(), timeout=10) as session:
        session.select("INBOX")

        def search() -> list[bytes]:
            session.noop()  # lets the server tell of mail delivered since the last look
            _, data = session.search(None, "HEADER", "Message-ID", message_id)
            found: list[bytes] = data[0].split()
            return found

        found = until(search, bool, 15, 0.3)
        if not found:
            return False, f"{message_id} not in INBOX after 15 s"
        _, fetched = session.fetch(found[0].decode(), "(RFC822)")
        body = fetched[0][1] if fetched and isinstance(fetched[0], tuple) else b""
        ok = message_id.encode() in body
        session.store(found[0].decode(), "+FLAGS", "\\Deleted")
        session.expunge()
        return ok, f"read back {message_id} from {server}"


def check(ctx: Context) -> list[Check]:
    results = []
    for p in ctx.inv.merger.provinces:
        mailbox = probe_address(p)
        try:
            server = ctx.mx_hosts(p.domain)[0]
            address = ctx.resolve(server, "A")[0]
            ok, detail = probe(ctx, server, address, mailbox)
        except (OSError, imap.Error, smtp.Error, IndexError) as exc:
            ok, detail = False, f"{exc.__class__.__name__}: {exc}"
        results.append(
            Check("mail", p.domain, f"SMTP to {mailbox} read back over IMAP", ok, detail)
        )
    target = ctx.inv.target
    for host in ctx.inv.hosts_for("merged", Service.MAIL):
        mailbox = probe_address(target)
        try:
            ok, detail = probe(ctx, host.fqdn, str(host.address), mailbox)
        except (OSError, imap.Error, smtp.Error) as exc:
            ok, detail = False, f"{exc.__class__.__name__}: {exc}"
        results.append(
            Check("mail", f"{host.name} (merged)", f"SMTP to {mailbox} read back", ok, detail)
        )
    return results


def check_merged(ctx: Context) -> list[Check]:
    """After the cutover: mail to each province's probe address, sent where its MX points,
    is read back from the address's new mailbox on the merged server."""
    new_of = {m.address: m.new_address for m in ctx.inv.mailboxes}
    merged = ctx.inv.hosts_for("merged", Service.MAIL)[0]
    results = []
    for p in ctx.inv.merger.provinces:
        old = probe_address(p)
        new = new_of.get(old, old)
        try:
            address = ctx.resolve(ctx.mx_hosts(p.domain)[0], "A")[0]
            ok, detail = probe(ctx, merged.fqdn, str(merged.address), new, to=old)
            ok = ok and address == str(merged.address)
            detail = f"MX {address}; {detail}"
        except (OSError, imap.Error, smtp.Error, IndexError) as exc:
            ok, detail = False, f"{exc.__class__.__name__}: {exc}"
        results.append(
            Check("mail", p.domain, f"SMTP to {old} read back from {new} on the merged server",
                  ok, detail)
        )  # fmt: skip
    return results
