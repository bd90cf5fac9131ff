"""Prosody data of the former provinces, rewritten for the merged server.

Input: each former province's Prosody data files as fetched from its server (paths
relative to ``/var/lib/prosody``) and the merged server's own. Output: the files to write
on the merged server:

- every account under its new JID on the merged domain (the inventory's mail collision
  rules give the new local part), with its stored SCRAM credentials unchanged, so the
  user's password keeps working;
- every persistent room under its new name on the merged MUC, with its settings
  (``_data``: title, password, members-only, ...) and affiliations (owner/admin/member
  JIDs rewritten to the new JIDs);
- the same accounts and rooms, unchanged, under the old domain and its MUC, which the
  merged server serves as extra virtual hosts until the agreed end, so existing clients
  keep logging in as ``user@kontum.gov.vn`` and joining ``room@conference.kontum.gov.vn``;
- the merged MUC's list of persistent rooms, extended with the migrated ones.

Any number of former provinces; every new name is checked unique across all of them and
the target, from inventory data (a collision is an error naming both, never an overwrite).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cutover.cutovers.video import lua
from cutover.errors import ConfigError
from cutover.inventory import Inventory
from cutover.inventory.model import Province
from cutover.inventory.naming import prosody_encode

Files = Mapping[str, str]  # path relative to /var/lib/prosody -> content


def prosody_decode(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "%" and i + 2 < len(text):
            out.append(chr(int(text[i + 1 : i + 3], 16)))
            i += 3
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


@dataclass
class Migration:
    files: dict[str, str] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)  # old JID -> new JID
    rooms: dict[str, str] = field(default_factory=dict)  # old room JID -> new room JID
    titles: dict[str, str] = field(default_factory=dict)  # new room JID -> its title

    def summary(self) -> dict[str, Any]:
        return {"accounts": len(self.accounts), "rooms": len(self.rooms), "files": len(self.files)}


def _new_jid(inv: Inventory, province: Province, local: str) -> str:
    """An old account's JID on the merged domain: the inventory's (its mailbox's new
    address, where collisions are resolved), else the local part with the province code."""
    old = f"{local}@{province.domain}"
    for a in inv.accounts:
        if a.jid == old:
            return a.new_jid
    for m in inv.mailboxes:
        if m.address == old:
            return m.new_address
    return f"{local}.{province.code}@{inv.target.domain}"


def _new_room(inv: Inventory, province: Province, name: str) -> str:
    for r in inv.rooms:
        if r.province == province.id and r.name == name:
            return r.new_name
    return f"{province.slug}-{name}"


def _rewrite_jids(value: Any, jids: Mapping[str, str]) -> Any:
    """Affiliation tables are keyed by bare JIDs: move them to the new JIDs."""
    if isinstance(value, dict):
        return {jids.get(k, k) if isinstance(k, str) else k: v for k, v in value.items()}
    return value


def _target_accounts(target_files: Files, target: Province) -> set[str]:
    prefix = f"{prosody_encode(target.domain)}/accounts/"
    return {
        prosody_decode(p[len(prefix) :].removesuffix(".dat")) + "@" + target.domain
        for p in target_files
        if p.startswith(prefix) and p.endswith(".dat")
    }


def migrate(inv: Inventory, old: Mapping[str, Files], target_files: Files) -> Migration:
    """``old``: province id -> its server's files; ``target_files``: the merged server's
    files before the migration (its persistent-room list is extended, not replaced)."""
    target = inv.target
    provinces = {p.id: p for p in inv.former}
    tmuc = f"conference.{target.domain}"
    result = Migration()
    # Accounts the target has of its own: a migrated JID may replace a placeholder the
    # inventory made for that very person (same new JID), never someone else's account.
    own = {a.new_jid for a in inv.accounts if a.province == target.id}
    taken: dict[str, str] = {}  # new JID -> old JID
    taken_rooms: dict[str, str] = {}
    persistent_path = f"{prosody_encode(tmuc)}/persistent.dat"
    persistent = lua.loads(target_files[persistent_path]) if persistent_path in target_files else {}
    target_rooms = {k for k in persistent if isinstance(k, str)}

    unknown = sorted(set(old) - set(provinces))
    if unknown:
        raise ConfigError(f"{', '.join(unknown)}: not a former province of {inv.name}")
    for pid in sorted(old, key=list(provinces).index):
        province = provinces[pid]
        files = old[pid]
        dom, muc = prosody_encode(province.domain), prosody_encode(f"conference.{province.domain}")
        for path in sorted(files):
            content = files[path]
            if path.startswith(f"{dom}/accounts/") and path.endswith(".dat"):
                local = prosody_decode(path.rsplit("/", 1)[1].removesuffix(".dat"))
                old_jid = f"{local}@{province.domain}"
                new_jid = _new_jid(inv, province, local)
                if new_jid in taken or new_jid in own:
                    other = taken.get(new_jid, new_jid)
                    raise ConfigError(
                        f"account collision: {old_jid} and {other} would both be {new_jid}",
                        hint="give one of them another address under mail.collisions.map",
                    )
                taken[new_jid] = old_jid
                result.accounts[old_jid] = new_jid
                new_local = new_jid.split("@")[0]
                result.files[path] = content  # the old domain, kept on the merged server
                result.files[f"{prosody_encode(target.domain)}/accounts/"
                             f"{prosody_encode(new_local)}.dat"] = content  # fmt: skip
            elif path.startswith(f"{muc}/"):
                result.files[path] = content  # the old MUC, kept as it is
        for path in sorted(files):
            if not (path.startswith(f"{muc}/config/") and path.endswith(".dat")):
                continue
            name = prosody_decode(path.rsplit("/", 1)[1].removesuffix(".dat"))
            room = lua.loads(files[path])
            new_name = _new_room(inv, province, name)
            new_room_jid = f"{new_name}@{tmuc}"
            old_room_jid = f"{name}@conference.{province.domain}"
            if new_room_jid in taken_rooms:
                raise ConfigError(
                    f"room collision: {old_room_jid} and {taken_rooms[new_room_jid]} "
                    f"would both be {new_room_jid}",
                    hint="rename one of them in video.rooms",
                )
            if new_room_jid in target_rooms and not any(
                r.new_name == new_name and r.province == pid for r in inv.rooms
            ):
                raise ConfigError(
                    f"room collision: {old_room_jid} would replace the merged room {new_room_jid}"
                )
            taken_rooms[new_room_jid] = old_room_jid
            room["_jid"] = new_room_jid
            for key in ("_affiliations", "_affiliation_data"):
                if key in room:
                    room[key] = _rewrite_jids(room[key], result.accounts)
            data = room.get("_data") or {}
            result.rooms[old_room_jid] = new_room_jid
            result.titles[new_room_jid] = str(data.get("name", new_name))
            result.files[f"{prosody_encode(tmuc)}/config/{prosody_encode(new_name)}.dat"] = (
                lua.dumps(room)
            )
            if data.get("persistent", True):
                persistent[new_room_jid] = True
    result.files[persistent_path] = lua.dumps(persistent)
    return result
