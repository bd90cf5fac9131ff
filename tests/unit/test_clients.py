"""The protocol clients' pure parts."""

from __future__ import annotations

from cutover.clients import dns as dnsclient


def test_mx_hosts_are_ordered_by_preference_not_by_text() -> None:
    answers = ["20 mail2.kontum.gov.vn.", "5 mail.quangngai.gov.vn.", "10 mx.kontum.gov.vn."]
    assert dnsclient.mx_hosts(answers) == [
        "mail.quangngai.gov.vn",
        "mx.kontum.gov.vn",
        "mail2.kontum.gov.vn",
    ]
    assert dnsclient.mx_hosts([]) == []
