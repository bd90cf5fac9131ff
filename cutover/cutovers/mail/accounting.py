"""Message-ID accounting over IMAP (`cutover.clients.imap`, STARTTLS checked against the
lab CA), and the probe: a message sent to an old address, read back from the new
mailbox."""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from cutover.clients import dns as dnsclient
from cutover.clients import imap, smtp
from cutover.clients.retry import until


@dataclass(frozen=True)
class Server:
    name: str  # the name in its certificate
    address: str


def message_ids(server: Server, user: str, password: str, tls: ssl.SSLContext) -> list[str]:
    """The Message-ID of every message in INBOX (a list: duplicates show)."""
    with imap.logged_in(server.name, server.address, user, password, tls) as session:
        return imap.inbox_message_ids(session)


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


def mx_host(resolver: str, domain: str) -> Server:
    name = dnsclient.mx_hosts(dnsclient.resolve(resolver, domain, "MX"))[0]
    return Server(name, dnsclient.resolve(resolver, name, "A")[0])


def send(address: str, to: str, message_id: str, subject: str = "cutover probe") -> None:
    msg = smtp.message("probe@lab.gov.vn", to, subject, message_id, f"{subject}\n")
    smtp.send(address, msg, helo="probe.lab.gov.vn", timeout=15)


def new_message_id(tag: str) -> str:
    return f"<{tag}-{uuid.uuid4().hex}@cutover.lab>"


def wait_for(
    server: Server, user: str, password: str, tls: ssl.SSLContext, message_id: str, seconds: float
) -> bool:
    return until(lambda: message_id in message_ids(server, user, password, tls), bool, seconds)
