"""The protocol clients' pure parts."""

from __future__ import annotations

import pytest

from cutover.clients import dns as dnsclient


def test_mx_hosts_are_ordered_by_preference_not_by_text() -> None:
    answers = ["20 mail2.kontum.gov.vn.", "5 mail.quangngai.gov.vn.", "10 mx.kontum.gov.vn."]
    assert dnsclient.mx_hosts(answers) == [
        "mail.quangngai.gov.vn",
        "mx.kontum.gov.vn",
        "mail2.kontum.gov.vn",
    ]
    assert dnsclient.mx_hosts([]) == []


def test_until_returns_the_first_good_result() -> None:
    from cutover.clients.retry import until

    seen: list[int] = []

    def attempt() -> int:
        seen.append(len(seen))
        return len(seen)

    assert until(attempt, lambda n: n >= 3, seconds=30, interval=0.01) == 3
    assert seen == [0, 1, 2]


def test_until_gives_the_last_result_when_time_runs_out() -> None:
    from cutover.clients.retry import until

    calls: list[None] = []

    def attempt() -> list[str]:
        calls.append(None)
        return ["still wrong"]

    assert until(attempt, lambda found: not found, seconds=0.05, interval=0.01) == ["still wrong"]
    assert len(calls) >= 2  # tried again before giving up


def test_until_does_not_retry_an_exception() -> None:
    from cutover.clients.retry import until

    calls: list[None] = []

    def attempt() -> bool:
        calls.append(None)
        raise OSError("refused")

    with pytest.raises(OSError, match="refused"):
        until(attempt, bool, seconds=5, interval=0.01)
    assert len(calls) == 1
