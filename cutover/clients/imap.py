"""IMAP: a STARTTLS login to a server at an address, its certificate checked against the
server's name, and the Message-IDs of an INBOX."""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import imaplib
import socket
import ssl
from collections.abc import Iterator

Error = imaplib.IMAP4.error
_HEADERS = email.parser.BytesHeaderParser(policy=email.policy.compat32)


class IMAP(imaplib.IMAP4):
    """IMAP to ``address`` (not what ``name`` resolves to), TLS checked against ``name``."""

    def __init__(self, name: str, address: str, timeout: float = 15) -> None:
        self._address = address
        super().__init__(name, 143, timeout=timeout)

    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        return socket.create_connection((self._address, self.port), timeout)


@contextlib.contextmanager
def logged_in(
    name: str, address: str, user: str, password: str, tls: ssl.SSLContext, timeout: float = 15
) -> Iterator[IMAP]:
    """A session logged in as ``user`` after STARTTLS; logged out on exit (a failing
    logout is not the caller's error)."""
    imap = IMAP(name, address, timeout=timeout)
    try:
        imap.starttls(ssl_context=tls)
        imap.login(user, password)
        yield imap
    finally:
        with contextlib.suppress(Error, OSError):
            imap.logout()


def inbox_message_ids(imap: IMAP) -> list[str]:
    """The Message-ID of every message in INBOX, read-only (a list: duplicates show)."""
    typ, data = imap.select("INBOX", readonly=True)
    if typ != "OK" or data[0] in (b"0", None):
        return []
    _, fetched = imap.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    ids = []
    for item in fetched:
        if isinstance(item, tuple):
            ids.append(str(_HEADERS.parsebytes(item[1]).get("Message-ID", "")).strip())
    return ids
