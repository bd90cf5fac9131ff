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


def test_an_xmpp_login_dropped_by_the_server_connects_again() -> None:
    """A server that closes every connection at once (as a restarting one does to logins in
    flight): the client connects again until its timeout, then says it timed out."""
    import asyncio
    import ssl
    import time

    from cutover.clients import xmpp

    async def scenario() -> list[float]:
        accepted: list[float] = []

        async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            accepted.append(time.monotonic())
            writer.close()

        server = await asyncio.start_server(drop, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            with pytest.raises(TimeoutError):
                async with xmpp.session(
                    "probe@example.gov.vn", "x", "127.0.0.1", port, ssl.create_default_context(),
                    plugins=(), timeout=2.0, linger=0,
                ):  # fmt: skip
                    pass
        finally:
            server.close()
            await server.wait_closed()
        return accepted

    accepted = asyncio.run(scenario())
    # slixmpp opens its first connections together; a later one is a new attempt
    assert accepted and max(accepted) - min(accepted) >= xmpp.RECONNECT_S
