"""Video conference: an account logs in to Prosody (found through the SRV record at the
lab resolver, TLS checked against the lab CA) and joins one of its province's rooms."""

from __future__ import annotations

import asyncio

from cutover.clients import xmpp
from cutover.inventory.model import Service
from cutover.verify.context import Check, Context


async def _session(
    ctx: Context, jid: str, password: str, address: str, port: int, room: str, title: bool
) -> tuple[bool, str, str]:
    """Log in as ``jid`` with ``password`` at ``address``, join ``room``; with ``title``,
    read the room's title too."""
    plugins = (xmpp.DISCO, xmpp.MUC, xmpp.PING) if title else (xmpp.MUC, xmpp.PING)
    async with xmpp.session(jid, password, address, port, ctx.tls(), plugins=plugins) as client:
        await xmpp.join(client, room)
        name = await xmpp.room_title(client, room) if title else ""
    return True, f"{jid} joined {room}", name


def session(
    ctx: Context,
    jid: str,
    password: str,
    address: str,
    port: int,
    room: str,
    *,
    title: bool = True,
) -> tuple[bool, str, str]:
    try:
        return asyncio.run(_session(ctx, jid, password, address, port, room, title))
    except Exception as exc:  # slixmpp raises many kinds; each is a failed check
        return False, f"{jid} at {address}: {exc.__class__.__name__}: {exc}", ""


def join(ctx: Context, jid: str, address: str, port: int, room: str) -> tuple[bool, str]:
    password = ctx.secrets.xmpp(jid)["password"]
    ok, detail, _ = session(ctx, jid, password, address, port, room, title=False)
    return ok, detail


def check(ctx: Context) -> list[Check]:
    results = []
    for p in ctx.inv.merger.provinces:
        accounts = [a for a in ctx.inv.accounts if a.province == p.id]
        rooms = [r for r in ctx.inv.rooms if r.province == p.id]
        if not accounts or not rooms:
            continue
        srv = ctx.resolve(f"_xmpp-client._tcp.{p.domain}", "SRV")
        if not srv:
            results.append(Check("video", p.domain, "SRV _xmpp-client", False, "no SRV record"))
            continue
        _, _, port, target = srv[0].split()
        address = ctx.resolve(target.rstrip("."), "A")
        room = f"{rooms[0].name}@conference.{p.domain}"
        ok, detail = join(ctx, accounts[0].jid, address[0], int(port), room)
        results.append(Check("video", p.domain, "an account logs in and joins a room", ok, detail))
    target_p = ctx.inv.target
    for host in ctx.inv.hosts_for("merged", Service.VIDEO):
        if not ctx.inv.accounts or not ctx.inv.rooms:
            continue
        room = f"{ctx.inv.rooms[-1].new_name}@conference.{target_p.domain}"
        ok, detail = join(ctx, ctx.inv.accounts[-1].new_jid, str(host.address), 5222, room)
        results.append(
            Check(
                "video", f"{host.name} (merged)", "a migrated-name account joins a room", ok, detail
            )
        )
    return results
