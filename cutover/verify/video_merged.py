"""Verify the moved video-conference service with a real XMPP client (slixmpp, TLS
checked against the lab CA):

- at the merged server's own address, a migrated account logs in with its old JID and
  password and joins its migrated room by the old domain name;
- the same through the lab resolver (SRV ``_xmpp-client._tcp.<old domain>``: the old
  server relaying to the merged one, or the merged one once DNS moved);
- the account's new JID logs in with the same (migrated) password and joins the room's
  new name on the merged domain;
- the web client of the old name serves a config.js naming the merged domain.
"""

from __future__ import annotations

from cutover.clients import http
from cutover.inventory import video as plan
from cutover.inventory.model import MERGED, Service
from cutover.verify.context import Check, Context
from cutover.verify.video import session


def check(ctx: Context) -> list[Check]:
    inv = ctx.inv
    info = plan.build(inv)
    merged = str(inv.hosts_for(MERGED, Service.VIDEO)[0].address)
    results: list[Check] = []
    for f in info["former"]:
        accounts = [a for a in inv.accounts if a.province == f["province"]]
        rooms = [r for r in inv.rooms if r.province == f["province"]]
        if not accounts or not rooms:
            continue
        account, room = accounts[0], rooms[0]
        password = ctx.secrets.xmpp(account.jid)["password"]
        old_room = f"{room.name}@{f['muc']}"
        new_room = f"{room.new_name}@{info['target_muc']}"

        ok, detail, _ = session(ctx, account.jid, password, merged, 5222, old_room)
        results.append(
            Check(
                "video",
                f"{f['domain']} @ merged ({merged})",
                "old JID logs in and joins the old room name",
                ok,
                detail,
            )
        )

        srv = ctx.resolve(f"_xmpp-client._tcp.{f['domain']}", "SRV")
        if srv:
            _, _, port, target = srv[0].split()
            address = ctx.resolve(target.rstrip("."), "A")[0]
            ok, detail, _ = session(ctx, account.jid, password, address, int(port), old_room)
        else:
            address, ok, detail = "?", False, "no SRV record"
        results.append(
            Check(
                "video",
                f"{f['domain']} @ resolver ({address})",
                "old JID joins the old room through SRV",
                ok,
                detail,
            )
        )

        ok, detail, title = session(ctx, account.new_jid, password, merged, 5222, new_room)
        results.append(
            Check(
                "video",
                f"{account.new_jid} @ merged",
                "new JID logs in with the migrated password, joins the new room",
                ok,
                detail,
            )
        )
        results.append(
            Check(
                "video",
                new_room,
                "the migrated room keeps its settings (title)",
                title == room.title,
                f"title {title!r}",
            )
        )

        web = f["web"]
        try:
            with http.client(ctx.tls(), timeout=10) as client:
                for where, addr in (("merged", merged), ("resolver", ctx.resolve(web, "A")[0])):
                    r = client.get(
                        f"https://{addr}/config.js",
                        headers={"Host": web},
                        extensions={"sni_hostname": web},
                    )
                    ok = r.status_code == 200 and f"domain: '{info['target_domain']}'" in r.text
                    results.append(
                        Check(
                            "video",
                            f"{web} @ {where} ({addr})",
                            "web client config names the merged domain",
                            ok,
                            f"{r.status_code}",
                        )
                    )
        except (http.Error, IndexError) as exc:
            results.append(Check("video", web, "web client config", False, str(exc)))
    return results
