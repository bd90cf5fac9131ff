"""Message-ID accounting over IMAP (imaplib, STARTTLS checked against the lab CA), and the
probe: a message sent to an old address, read back from the new mailbox."""

from __future__ import annotations

import email.parser
import email.policy
import imaplib
import smtplib
import socket
import ssl
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.message import EmailMessage

import dns.message
import dns.query
import dns.rdatatype

_HEADERS = email.parser.BytesHeaderParser(policy=email.policy.compat32)


class IMAP(imaplib.IMAP4):
    """IMAP to an address, with TLS checked against the server's name."""

    def __init__(self, name: str, address: str, timeout: float = 15) -> None:
        self._address = address
        super().__init__(name, 143, timeout=timeout)

    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        return socket.create_connection((self._address, self.port), timeout)


@dataclass(frozen=True)
class Server:
    name: str  # the name in its certificate
    address: str


def login(server: Server, user: str, password: str, tls: ssl.SSLContext) -> IMAP:
    imap = IMAP(server.name, server.address)
    imap.starttls(ssl_context=tls)
    imap.login(user, password)
    return imap


def message_ids(server: Server, user: str, password: str, tls: ssl.SSLContext) -> list[str]:
    """The Message-ID of every message in INBOX (a list: duplicates show)."""
    imap = login(server, user, password, tls)
    try:
        _, data = imap.select("INBOX", readonly=True)
        count = int(data[0] or 0)
        if not count:
            return []
        _, fetched = imap.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        ids = []
        for item in fetched:
            if isinstance(item, tuple):
                value = _HEADERS.parsebytes(item[1]).get("Message-ID", "")
                ids.append(str(value).strip())
        return ids
    finally:
        imap.logout()


@dataclass
class Account:
    old: str
    new: str
    on_old: list[str]
    on_new: list[str]

    @property
    def missing_on_new(self) -> set[str]:
        return set(self.on_old) - set(self.on_new)

    @property
    def missing_on_old(self) -> set[str]:
        return set(self.on_new) - set(self.on_old)


def account(
    pairs: Iterable[tuple[str, str]],
    old_server: Callable[[str], Server],
    new_server: Server,
    password: Callable[[str], str],
    tls: ssl.SSLContext,
    parallel: int = 8,
) -> list[Account]:
    """Message-IDs of each (old address, new address) on the old and the merged server."""

    def one(pair: tuple[str, str]) -> Account:
        old, new = pair
        return Account(
            old,
            new,
            message_ids(old_server(old), old, password(old), tls),
            message_ids(new_server, new, password(new), tls),
        )

    with ThreadPoolExecutor(parallel) as pool:
        return list(pool.map(one, list(pairs)))


def resolve(resolver: str, name: str, rdtype: str) -> list[str]:
    query = dns.message.make_query(name, rdtype)
    response = dns.query.udp(query, resolver, timeout=3)
    wanted = dns.rdatatype.from_text(rdtype)
    return [r.to_text() for s in response.answer if s.rdtype == wanted for r in s]


def mx_host(resolver: str, domain: str) -> Server:
    mx = sorted(resolve(resolver, domain, "MX"), key=lambda r: int(r.split()[0]))
    name = mx[0].split()[1].rstrip(".")
    return Server(name, resolve(resolver, name, "A")[0])


def send(address: str, to: str, message_id: str, subject: str = "cutover probe") -> None:
    msg = EmailMessage()
    msg["From"] = "probe@lab.gov.vn"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    msg.set_content(f"{subject}\n")
    with smtplib.SMTP(address, 25, local_hostname="probe.lab.gov.vn", timeout=15) as smtp:
        smtp.send_message(msg)


def new_message_id(tag: str) -> str:
    return f"<{tag}-{uuid.uuid4().hex}@cutover.lab>"


def wait_for(
    server: Server, user: str, password: str, tls: ssl.SSLContext, message_id: str, seconds: float
) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        if message_id in message_ids(server, user, password, tls):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
