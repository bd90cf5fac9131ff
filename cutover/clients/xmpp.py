"""XMPP: a logged-in slixmpp session (TLS checked against the caller's context), joining
rooms and reading their titles."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import slixmpp

logging.getLogger("slixmpp").setLevel(logging.CRITICAL)

MUC = "xep_0045"
DISCO = "xep_0030"
PING = "xep_0199"
# after a dropped stream, before connecting again: time for a port to change hands
RECONNECT_S = 0.5


@asynccontextmanager
async def session(
    jid: str,
    password: str,
    address: str,
    port: int,
    tls: ssl.SSLContext,
    *,
    plugins: Sequence[str] = (MUC, PING),
    timeout: float = 15.0,
    linger: float = 0.2,
) -> AsyncIterator[slixmpp.ClientXMPP]:
    """A client logged in as ``jid`` at ``address`` (raises ``PermissionError`` on a refused
    login, ``TimeoutError`` when no session starts within ``timeout``, however often the
    server dropped the stream meanwhile); disconnected on exit, with ``linger`` seconds
    for the stream to close."""
    client = slixmpp.ClientXMPP(jid, password)
    client.ssl_context = tls
    for plugin in plugins:
        client.register_plugin(plugin)
    started: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_start(_event: object) -> None:
        if not started.done():
            started.set_result(None)

    def on_refused(_event: object) -> None:
        if not started.done():
            started.set_exception(PermissionError("auth failed"))

    def on_dropped(_event: object) -> None:
        # As real clients (Jitsi Meet's, Conversations) do: a stream the server closes
        # before the login completed (a server restarting, its port changing hands) is
        # connected again; slixmpp itself retries only connections that fail to open.
        if not started.done():
            loop.call_later(RECONNECT_S, client.connect, address, port)

    loop = asyncio.get_running_loop()
    client.add_event_handler("session_start", on_start)
    client.add_event_handler("failed_auth", on_refused)
    client.add_event_handler("disconnected", on_dropped)
    client.connect(host=address, port=port)
    try:
        await asyncio.wait_for(started, timeout)
        yield client
    finally:
        client.disconnect()
        await asyncio.sleep(linger)


async def join(client: slixmpp.ClientXMPP, room: str, nick: str = "verify") -> None:
    """Join ``room`` (a bare room JID) and wait until the server confirms it."""
    client.send_presence()
    await client.plugin["xep_0045"].join_muc_wait(slixmpp.JID(room), nick, maxstanzas=0, timeout=10)


async def room_title(client: slixmpp.ClientXMPP, room: str) -> str:
    """The room's name as its service discovery identity gives it ("" when it has none)."""
    info = await client.plugin["xep_0030"].get_info(jid=slixmpp.JID(room), timeout=10)
    identities = info["disco_info"]["identities"]
    return next((i[3] for i in identities if i[0] == "conference"), "") or ""
