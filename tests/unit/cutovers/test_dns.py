"""The DNS cutover's pure parts: batching under 64 KiB, the safety threshold, snapshot
diff and restore, and the service-record switch computed from an inventory."""

from __future__ import annotations

import json
from pathlib import Path

import dns.tsig
import pytest

from cutover.cutovers.dns import safety
from cutover.cutovers.dns.plan import DnsPlan
from cutover.cutovers.dns.rrsets import (
    Change,
    RRset,
    absolute,
    apply,
    diff,
    from_plain,
    parse_text,
    to_plain,
    without_soa,
    zone_text,
)
from cutover.cutovers.dns.update import Key, batches, message
from cutover.inventory import load

ROOT = Path(__file__).resolve().parents[3]
ZONE = "kontum.gov.vn"
SECRET = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI="


def zone_with(n: int) -> dict:
    data = {
        (absolute("@", ZONE), "SOA"): RRset.of(
            60, ["ns1.kontum.gov.vn. hostmaster.kontum.gov.vn. 7 300 60 1209600 60"]
        ),
        (absolute("@", ZONE), "NS"): RRset.of(3600, ["ns1.kontum.gov.vn."]),
    }
    for i in range(n):
        data[(absolute(f"h{i}", ZONE), "A")] = RRset.of(3600, [f"198.18.{i // 250}.{i % 250}"])
    return data


def a_changes(n: int) -> list[Change]:
    return [
        Change(
            ZONE,
            absolute(f"host-{i:05d}", ZONE),
            "A",
            RRset.of(60, [f"198.19.{i // 250}.{i % 250}"]),
        )
        for i in range(n)
    ]


def test_batches_stay_under_64k_and_cover_every_change() -> None:
    changes = a_changes(10_000)
    parts = batches(changes)
    assert sum(len(p) for p in parts) == 10_000
    assert 5 <= len(parts) <= 12  # about 1,500 replaces per message (LAB-NOTES)
    key = Key("cutover", SECRET)
    for part in parts:
        wire = message(ZONE, part, key).to_wire()
        assert len(wire) < 65_535


def test_one_message_for_few_changes() -> None:
    assert len(batches(a_changes(100))) == 1
    assert batches([]) == []


def test_key_repr_hides_the_secret() -> None:
    key = Key("cutover", SECRET)
    assert SECRET not in repr(key)
    assert dns.tsig.HMAC_SHA256  # the algorithm the bind role configures


def test_threshold_refuses_a_large_share_unless_forced() -> None:
    current = zone_with(20)
    changes = [
        Change(ZONE, k[0], k[1], RRset.of(60, ["198.18.9.9"]), v)
        for k, v in list(current.items())[2:12]
    ]
    with pytest.raises(safety.UnsafePlan, match="10 of 21"):
        safety.check(ZONE, current, changes)
    assert safety.check(ZONE, current, changes, force=True) == pytest.approx(10 / 21)
    assert safety.check(ZONE, current, changes[:6]) == pytest.approx(6 / 21)


def test_threshold_ignores_ttl_only_changes_and_small_zones() -> None:
    current = zone_with(20)
    lowered = [Change(ZONE, k[0], k[1], RRset(5, v.values), v) for k, v in current.items()]
    assert safety.check(ZONE, current, lowered) == 0.0
    small = zone_with(3)
    everything = [Change(ZONE, k[0], k[1], None, v) for k, v in small.items()]
    assert safety.check(ZONE, small, everything) == 1.0  # under MIN_EXISTING: exempt


def test_snapshot_text_round_trip_and_restore_diff() -> None:
    snap = zone_with(5)
    assert parse_text(zone_text(ZONE, snap), ZONE) == snap
    changed = apply(snap, a_changes(3))
    changed.pop((absolute("h1", ZONE), "A"))
    changed[(absolute("h2", ZONE), "A")] = RRset.of(5, ["198.18.0.2"])  # TTL only
    restore = diff(ZONE, changed, snap)
    assert len(restore) == 5  # three added deleted, one re-added, one TTL put back
    assert without_soa(apply(changed, restore)) == without_soa(snap)
    assert all(c.type != "SOA" for c in restore)


def test_snapshot_rows_load_to_what_the_master_file_parses_to() -> None:
    snap = zone_with(5)
    snap[(absolute("@", ZONE), "TXT")] = RRset.of(60, ['"v=spf1 mx -all"', '"Kon Tum"'])
    snap[(absolute("_xmpp-client._tcp", ZONE), "SRV")] = RRset.of(60, [f"5 0 5222 srv.{ZONE}."])
    rows = json.loads(json.dumps(to_plain(snap)))
    assert from_plain(rows) == snap == parse_text(zone_text(ZONE, snap), ZONE)


def test_switch_points_service_records_at_merged_hosts_and_is_idempotent() -> None:
    inv = load(ROOT / "inventories/quangngai-kontum", "lab")
    plan = DnsPlan(inv)
    assert [z.name for z in plan.moving()] == ["kontum.gov.vn"]
    assert not plan.zone("quangngai.gov.vn").moves
    data = {
        (absolute("@", ZONE), "MX"): RRset.of(3600, ["10 mail.kontum.gov.vn."]),
        (absolute("@", ZONE), "A"): RRset.of(3600, ["198.18.1.24"]),
        (absolute("www", ZONE), "CNAME"): RRset.of(3600, ["portal.kontum.gov.vn."]),
        (absolute("_xmpp-client._tcp", ZONE), "SRV"): RRset.of(
            3600, ["5 0 5222 meet.kontum.gov.vn."]
        ),
        (absolute("meet", ZONE), "A"): RRset.of(3600, ["198.18.1.25"]),
        (absolute("@", ZONE), "TXT"): RRset.of(3600, ['"v=spf1 mx -all"']),
    }
    mx_only = plan.switch(ZONE, data, ["mail"])
    assert [c.describe() for c in mx_only] == [
        "kontum.gov.vn. MX: 3600 10 mail.kontum.gov.vn. -> 3600 10 mail.ttdl.quangngai.gov.vn."
    ]
    every = plan.switch(ZONE, data, ["mail", "portal", "video"])
    assert len(every) == 5  # the TXT stays
    after = apply(data, every)
    assert after[(absolute("www", ZONE), "CNAME")].values == ("portal.ttdl.quangngai.gov.vn.",)
    assert after[(absolute("meet", ZONE), "A")].values == ("198.18.1.105",)
    assert plan.switch(ZONE, after, ["mail", "portal", "video"]) == []


def test_moved_copy_has_merged_ns_and_a_higher_serial() -> None:
    inv = load(ROOT / "inventories/quangngai-kontum", "lab")
    plan = DnsPlan(inv)
    zone = plan.zone(ZONE)
    data = zone_with(3)
    copy = plan.moved_copy(zone, data)
    apex = absolute("@", ZONE)
    assert copy[(apex, "NS")].values == (
        "ns1.ttdl.quangngai.gov.vn.",
        "ns2.ttdl.quangngai.gov.vn.",
    )
    assert copy[(apex, "SOA")].values[0].startswith("ns1.ttdl.quangngai.gov.vn. ")
    assert " 8 " in copy[(apex, "SOA")].values[0]
    parent = {(absolute("kontum.gov.vn.", "gov.vn"), "NS"): RRset.of(3600, ["ns1.kontum.gov.vn."])}
    (change,) = plan.delegation(zone, parent)
    assert change.new == RRset.of(
        3600, ["ns1.ttdl.quangngai.gov.vn.", "ns2.ttdl.quangngai.gov.vn."]
    )


def test_three_provinces_move_every_former_zone() -> None:
    inv = load(ROOT / "inventories/cantho-haugiang-soctrang", "lab")
    plan = DnsPlan(inv)
    assert sorted(z.name for z in plan.moving()) == ["haugiang.gov.vn", "soctrang.gov.vn"]


def test_a_server_that_does_not_answer_is_not_taken_for_one_that_does_not_serve(
    monkeypatch,
) -> None:
    import dns.exception
    import pytest

    from cutover.cutovers.dns import transfer

    def silent(*args, **kwargs):
        raise dns.exception.Timeout

    monkeypatch.setattr(transfer, "query", silent)
    assert transfer.serial("198.18.0.20", "kontum.gov.vn") is None
    with pytest.raises(transfer.TransferError, match="cannot tell whether it serves it"):
        transfer.serves("198.18.0.20", "kontum.gov.vn")


def test_moving_ttl_is_the_longest_ttl_of_the_records_that_move(tmp_path) -> None:
    import shutil

    from cutover.cutovers.dns.plan import moving_ttl
    from cutover.inventory import find_merger_dir, load

    source = find_merger_dir("quangngai-kontum")
    assert moving_ttl(load(source, "production")) == 3600  # the zones' TTL
    assert moving_ttl(load(source, "lab")) == 60  # the lab's zone TTL
    copy = tmp_path / "quangngai-kontum"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("plans"))
    merger = copy / "merger.yml"
    text = merger.read_text(encoding="utf-8")
    # a record that moves (the SRV of the video service) with a TTL of its own, and one
    # that does not (TXT) with a longer one: only the first counts
    text = text.replace(
        '{name: _xmpp-client._tcp, type: SRV, value: "5 0 5222 meet.kontum.gov.vn."}',
        '{name: _xmpp-client._tcp, type: SRV, value: "5 0 5222 meet.kontum.gov.vn.", ttl: 7200}',
    ).replace(
        '{name: "@", type: TXT, value: "v=spf1 mx -all"}',
        '{name: "@", type: TXT, value: "v=spf1 mx -all", ttl: 86400}',
    )
    merger.write_text(text, encoding="utf-8")
    assert moving_ttl(load(copy, "production")) == 7200
