"""SMTP: one message, with its own Message-ID, handed to the MTA at an address (port 25,
as the Internet hands mail to an MX), the client naming itself with ``helo``."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

Error = smtplib.SMTPException


def message(sender: str, to: str, subject: str, message_id: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    msg.set_content(body)
    return msg


def send(address: str, msg: EmailMessage, helo: str, timeout: float = 15) -> None:
    """Deliver ``msg`` to the MTA at ``address``; raises :data:`Error` or ``OSError``."""
    with smtplib.SMTP(address, 25, local_hostname=helo, timeout=timeout) as smtp:
        smtp.send_message(msg)
