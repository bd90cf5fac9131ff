"""The mail cutover's pure parts: the dsync guard, commands, chunks, routing tables per
phase and the collision mapping."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from cutover.cutovers.mail import routing
from cutover.cutovers.mail.dsync import (
    Endpoint,
    UnsafeSync,
    assert_safe,
    chunks,
    command,
)
from cutover.cutovers.mail.plan import endpoint_users, sync_plan
from cutover.errors import ConfigError
from cutover.inventory import load
from cutover.inventory.model import MERGED, Service

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def qnkt():
    return load(ROOT / "inventories/quangngai-kontum", "lab")


@pytest.mark.parametrize(
    ("argv", "side"),
    [
        ("doveadm backup -u a@kontum.gov.vn tcp:old:12345", "merged"),
        ("doveadm backup -R -u a@kontum.gov.vn tcp:merged:12345", "old"),
        ("doveadm -c x backup -f -R -u a tcp:merged", "old"),
        ("doveadm sync -u a tcp:merged:12345", "old"),
        ("doveadm mailbox delete -u a INBOX", "old"),
    ],
)
def test_guard_refuses_what_could_delete_old_mail(argv: str, side: str) -> None:
    with pytest.raises(UnsafeSync):
        assert_safe(argv.split(), side)


@pytest.mark.parametrize(
    ("argv", "side"),
    [
        ("doveadm backup -R -u a imapc:", "merged"),  # the imapc baseline pulls into merged
        ("doveadm sync -1 -u a tcp:merged:12345", "old"),
        ("doveadm sync -1 -R -u a tcp:merged:12345", "old"),
    ],
)
def test_guard_allows_one_way_syncs(argv: str, side: str) -> None:
    assert_safe(argv.split(), side)


def test_commands_are_one_way_and_guarded() -> None:
    endpoint = Endpoint("198.18.1.103")
    forward = command("to-merged", "/var/lib/u", endpoint)
    assert forward[3:5] == ["sync", "-1"] and "-R" not in forward
    assert forward[-1] == "tcp:198.18.1.103:12345"
    assert "-R" in command("back", "/var/lib/u", endpoint)
    with pytest.raises(UnsafeSync):
        command("mirror", "/var/lib/u", endpoint)


def test_chunks_split_evenly() -> None:
    users = [f"u{i}" for i in range(10)]
    parts = chunks(users, 4)
    assert len(parts) == 4 and sorted(u for part in parts for u in part) == sorted(users)
    assert chunks(users[:2], 8) == [["u0"], ["u1"]]
    assert chunks([], 4) == []


def test_collisions_map_explicitly_and_never_merge(qnkt) -> None:
    pairs = {m.old: m.new for m in routing.mappings(qnkt)}
    assert pairs["vanphong@kontum.gov.vn"] == "vanphong.kontum@quangngai.gov.vn"
    assert pairs["vanphong@quangngai.gov.vn"] == "vanphong@quangngai.gov.vn"
    assert len(set(pairs.values())) == len(pairs)
    boxes = list(qnkt.mailboxes)
    clash = dataclasses.replace(boxes[-1], new_address=boxes[0].new_address)
    broken = dataclasses.replace(qnkt, mailboxes=(*boxes[:-1], clash))
    with pytest.raises(ConfigError, match="would both be delivered"):
        routing.mappings(broken)


def test_routing_phases(qnkt) -> None:
    assert all(not any(t.values()) for t in routing.tables(qnkt, "as-is").values())
    accept = routing.tables(qnkt, "accept")
    merged = accept["mail-merged"]
    assert merged["alias_domains"] == ["kontum.gov.vn"]
    assert ["vanphong@kontum.gov.vn", "vanphong.kontum@quangngai.gov.vn"] in map(
        list, merged["virtual"]
    )
    assert not merged["transport"]
    relay = routing.tables(qnkt, "relay")
    assert relay["mail-kontum"]["transport"] == [("kontum.gov.vn", "smtp:[198.18.1.103]:25")]
    assert ("quangngai.gov.vn", "smtp:[198.18.1.103]:25") in relay["mail-quangngai"]["transport"]
    back = routing.tables(qnkt, "back")
    assert ("kontum.gov.vn", "smtp:[198.18.1.23]:25") in back["mail-merged"]["transport"]
    assert ("vanphong.kontum@quangngai.gov.vn", "vanphong@kontum.gov.vn") in back["mail-merged"][
        "virtual"
    ]
    with pytest.raises(ConfigError):
        routing.tables(qnkt, "sideways")


def test_hold_phases_defer_on_the_old_servers_only(qnkt) -> None:
    """While a sync writes the mailboxes, their servers queue their own domain's mail."""
    for phase, like in (("hold", "accept"), ("hold-back", "back")):
        hold, base = routing.tables(qnkt, phase), routing.tables(qnkt, like)
        assert hold["mail-merged"] == base["mail-merged"]
        for host, domain in (
            ("mail-kontum", "kontum.gov.vn"),
            ("mail-quangngai", "quangngai.gov.vn"),
        ):
            added = set(hold[host]["transport"]) - set(base[host]["transport"])
            assert added == {(domain, routing.HOLD)}
            assert hold[host]["virtual"] == base[host]["virtual"]
    assert routing.HOLD.startswith("cutover-hold:")


def test_three_provinces_sync_every_old_server() -> None:
    inv = load(ROOT / "inventories/cantho-haugiang-soctrang", "lab")
    plan = sync_plan(inv, "to-merged", 4)
    assert sorted(plan["hosts"]) == ["mail-cantho", "mail-haugiang", "mail-soctrang"]
    users = endpoint_users(inv)
    assert any(
        line.startswith("vanphong@soctrang.gov.vn::")
        and "/cantho.gov.vn/vanphong.soctrang:" in line
        for line in users
    )
    relay = routing.tables(inv, "relay")
    assert sorted(
        relay["mail-cantho-merged" if "mail-cantho-merged" in relay else "mail-merged"][
            "alias_domains"
        ]
    ) == ["haugiang.gov.vn", "soctrang.gov.vn"]


@pytest.mark.security
def test_the_endpoint_listens_on_loopback_and_admits_only_the_old_servers() -> None:
    inv = load(ROOT / "inventories/cantho-haugiang-soctrang", "lab")
    plan = sync_plan(inv, "to-merged", 4)
    endpoint = plan["endpoint"]
    assert endpoint["listen"] == "127.0.0.1"
    assert endpoint["address"] == str(inv.hosts_for(MERGED, Service.MAIL)[0].address)
    olds = {str(h.address) for h in inv.hosts if Service.MAIL in h.services} - {endpoint["address"]}
    assert set(endpoint["allow"]) == olds
    assert len(olds) == 3
    for host in plan["hosts"].values():
        for argv in host["commands"]:
            assert argv[-1] == "tcp:127.0.0.1:12345"
