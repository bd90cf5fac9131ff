"""Prosody data moved under the merged domain: accounts keep their credentials under
their new JIDs (collisions resolved from inventory data, across every former province),
rooms keep their settings under new names, the old domains keep their data."""

from __future__ import annotations

from pathlib import Path

import pytest

from cutover.cutovers.video import lua, migrate
from cutover.errors import ConfigError
from cutover.inventory import load
from cutover.inventory import video as video_plan
from cutover.provision.vars import prosody_encode, room_files

ROOT = Path(__file__).resolve().parents[3]


def load_inv(name: str):
    return load(ROOT / "inventories" / name, "lab")


def old_server(inv, province_id: str, extra_locals=()) -> dict[str, str]:
    """A former province's /var/lib/prosody as provisioning makes it."""
    p = next(p for p in inv.former if p.id == province_id)
    files = {}
    for a in inv.accounts:
        if a.province == p.id:
            local = a.jid.split("@")[0]
            files[f"{prosody_encode(p.domain)}/accounts/{prosody_encode(local)}.dat"] = (
                f'return {{ ["stored_key"] = "key-{a.jid}"; }};\n'
            )
    for local in extra_locals:
        files[f"{prosody_encode(p.domain)}/accounts/{prosody_encode(local)}.dat"] = "return {};\n"
    rooms = [(r.name, r.title) for r in inv.rooms if r.province == p.id]
    for f in room_files(f"conference.{p.domain}", rooms):
        files[f["path"]] = f["content"]
    return files


def merged_server(inv) -> dict[str, str]:
    t = inv.target
    rooms = [(r.new_name, r.title) for r in inv.rooms if r.province == t.id]
    return {f["path"]: f["content"] for f in room_files(f"conference.{t.domain}", rooms)}


@pytest.fixture(scope="module")
def three():
    inv = load_inv("cantho-haugiang-soctrang")
    old = {p.id: old_server(inv, p.id) for p in inv.former}
    return inv, migrate.migrate(inv, old, merged_server(inv))


def test_every_former_province_is_migrated_not_just_one(three):
    inv, result = three
    former = {p.domain for p in inv.former}
    assert former == {"haugiang.gov.vn", "soctrang.gov.vn"}
    assert {j.split("@")[1] for j in result.accounts} == former
    assert {j.split("@")[1] for j in result.accounts.values()} == {"cantho.gov.vn"}
    assert len(result.accounts) == sum(1 for a in inv.accounts if a.province != inv.target.id)


def test_accounts_take_the_inventory_new_jids_with_their_credentials(three):
    inv, result = three
    for a in inv.accounts:
        if a.province == inv.target.id:
            continue
        assert result.accounts[a.jid] == a.new_jid
        new_local = a.new_jid.split("@")[0]
        path = f"{prosody_encode('cantho.gov.vn')}/accounts/{prosody_encode(new_local)}.dat"
        assert f"key-{a.jid}" in result.files[path]
        old_path = f"{prosody_encode(a.jid.split('@')[1])}/accounts/"
        assert any(p.startswith(old_path) for p in result.files)  # the old domain kept


def test_new_jids_are_unique_across_all_three_provinces(three):
    _, result = three
    assert len(set(result.accounts.values())) == len(result.accounts)


def test_same_room_name_in_two_provinces_gets_two_rooms_with_settings(three):
    _, result = three
    hg = result.rooms["giao-ban-ubnd@conference.haugiang.gov.vn"]
    st = result.rooms["giao-ban-ubnd@conference.soctrang.gov.vn"]
    assert hg == "hau-giang-giao-ban-ubnd@conference.cantho.gov.vn"
    assert st == "soc-trang-giao-ban-ubnd@conference.cantho.gov.vn"
    muc = prosody_encode("conference.cantho.gov.vn")
    path = f"{muc}/config/{prosody_encode('soc-trang-giao-ban-ubnd')}.dat"
    room = lua.loads(result.files[path])
    assert room["_jid"] == st
    assert room["_data"]["name"] == "Giao ban UBND tỉnh Sóc Trăng"
    assert room["_data"]["persistent"] is True
    listing = lua.loads(
        result.files[f"{prosody_encode('conference.cantho.gov.vn')}/persistent.dat"]
    )
    assert {hg, st, "giao-ban-ubnd@conference.cantho.gov.vn"} <= set(listing)


def test_affiliations_follow_accounts_to_their_new_jids():
    inv = load_inv("quangngai-kontum")
    old = old_server(inv, "kontum")
    account = next(a for a in inv.accounts if a.province == "kontum")
    path = (
        f"{prosody_encode('conference.kontum.gov.vn')}/config/{prosody_encode('hop-so-khcn')}.dat"
    )
    room = lua.loads(old[path])
    room["_affiliations"] = {account.jid: "owner", "guest@example.org": "member"}
    room["_data"]["password"] = "mat-khau"
    old[path] = lua.dumps(room)
    result = migrate.migrate(inv, {"kontum": old}, merged_server(inv))
    muc = prosody_encode("conference.quangngai.gov.vn")
    new_path = f"{muc}/config/{prosody_encode('kon-tum-hop-so-khcn')}.dat"
    moved = lua.loads(result.files[new_path])
    assert moved["_affiliations"] == {account.new_jid: "owner", "guest@example.org": "member"}
    assert moved["_data"]["password"] == "mat-khau"
    assert result.files[path] == old[path]  # the old MUC keeps the room as it was


def test_unknown_account_gets_the_province_code_and_collisions_are_refused():
    inv = load_inv("cantho-haugiang-soctrang")
    old = {"haugiang": old_server(inv, "haugiang", ["khach"])}
    result = migrate.migrate(inv, old, merged_server(inv))
    assert result.accounts["khach@haugiang.gov.vn"] == "khach.hg@cantho.gov.vn"
    # the same local part on Soc Trang's server gets Soc Trang's code: no clash
    old["soctrang"] = old_server(inv, "soctrang", ["khach"])
    result = migrate.migrate(inv, old, merged_server(inv))
    assert result.accounts["khach@soctrang.gov.vn"] == "khach.st@cantho.gov.vn"


def test_two_old_accounts_mapping_to_one_new_jid_is_an_error(monkeypatch):
    inv = load_inv("cantho-haugiang-soctrang")
    monkeypatch.setattr(migrate, "_new_jid", lambda inv, p, local: f"same@{inv.target.domain}")
    old = {p.id: old_server(inv, p.id) for p in inv.former}
    with pytest.raises(ConfigError, match="account collision"):
        migrate.migrate(inv, old, merged_server(inv))


def test_room_collision_is_an_error(monkeypatch):
    inv = load_inv("cantho-haugiang-soctrang")
    monkeypatch.setattr(migrate, "_new_room", lambda inv, p, name: name)
    old = {p.id: old_server(inv, p.id) for p in inv.former}
    with pytest.raises(ConfigError, match="room collision"):
        migrate.migrate(inv, old, merged_server(inv))


def test_plan_vars_list_every_former_province():
    inv = load_inv("cantho-haugiang-soctrang")
    info = video_plan.build(inv)
    assert [f["domain"] for f in info["former"]] == ["haugiang.gov.vn", "soctrang.gov.vn"]
    assert info["old_hosts"] == ["video-haugiang", "video-soctrang"]
    assert "conference.soctrang.gov.vn" in info["cert"]["names"]


@pytest.mark.parametrize("value", [
    {"a": "x\"y\\z\nw", "b": [1, 2.5, True, False], "c": {}, "d": {"e": "Sóc Trăng"}},
    ["one", "two"],
])  # fmt: skip
def test_lua_round_trip(value):
    assert lua.loads(lua.dumps(value)) == value


def test_lua_reads_decimal_escapes_as_utf8():
    assert lua.loads('return { ["n"] = "S\\195\\179c"; };') == {"n": "Sóc"}
