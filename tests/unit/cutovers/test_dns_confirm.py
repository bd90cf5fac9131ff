"""Reading a zone back after an update from an IXFR answer (no server needed): the
differences replayed on the zone as it was, the whole-zone fallback, and the full
comparison with the expected zone."""

from __future__ import annotations

import dns.message
import dns.rdatatype
import dns.rrset
import dns.zone
import pytest

from cutover.cutovers.dns.confirm import Record, problems, replay, touched
from cutover.cutovers.dns.rrsets import Change, RRset, absolute, apply, parse_text
from cutover.cutovers.dns.transfer import TransferError, records, zone_of

ZONE = "kontum.gov.vn"
APEX = absolute("@", ZONE)


def soa(serial: int) -> Record:
    return (
        APEX,
        "SOA",
        60,
        f"ns1.kontum.gov.vn. hostmaster.kontum.gov.vn. {serial} 300 60 1209600 60",
    )


def before() -> dict:
    zone = {
        (APEX, "SOA"): RRset.of(60, [soa(7)[3]]),
        (APEX, "NS"): RRset.of(3600, ["ns1.kontum.gov.vn."]),
        (absolute("www", ZONE), "A"): RRset.of(3600, ["198.18.0.1"]),
        (absolute("mail", ZONE), "A"): RRset.of(3600, ["198.18.0.2", "198.18.0.3"]),
    }
    return zone


def changes() -> list[Change]:
    b = before()
    www, mail = (absolute("www", ZONE), "A"), (absolute("mail", ZONE), "A")
    return [
        Change(ZONE, www[0], "A", RRset.of(60, ["198.18.9.1"]), b[www]),
        Change(ZONE, mail[0], "A", None, b[mail]),
        Change(ZONE, absolute("new", ZONE), "A", RRset.of(60, ["198.18.9.2"])),
    ]


def incremental() -> list[Record]:
    """Two updates as a server journals them: old SOA, deletions, new SOA, additions."""
    www, mail, new = (absolute(n, ZONE) for n in ("www", "mail", "new"))
    return [
        soa(9),
        soa(7),
        (www, "A", 3600, "198.18.0.1"),
        (mail, "A", 3600, "198.18.0.2"),
        (mail, "A", 3600, "198.18.0.3"),
        soa(8),
        (www, "A", 60, "198.18.9.1"),
        soa(8),
        soa(9),
        (new, "A", 60, "198.18.9.2"),
        soa(9),
    ]


def test_replayed_differences_give_the_expected_zone() -> None:
    now, how = replay(before(), ZONE, incremental())
    assert how == "ixfr"
    assert problems(ZONE, before(), changes(), now) == ([], [])
    assert now[(APEX, "SOA")].values[0].split()[2] == "9"


def test_a_change_the_server_did_not_make_or_made_besides_is_named() -> None:
    answer = [*incremental()[:-3], soa(9), (absolute("other", ZONE), "TXT", 60, '"x"'), soa(9)]
    now, _ = replay(before(), ZONE, answer)
    missing, besides = problems(ZONE, before(), changes(), now)
    assert missing == ["new.kontum.gov.vn. A: expected 60 198.18.9.2, the server has -"]
    assert besides == ['other.kontum.gov.vn. TXT: expected -, the server has 60 "x"']


def test_a_whole_zone_answer_is_read_as_a_transfer() -> None:
    want = apply(before(), changes())
    full = [soa(9)]
    for (name, rtype), rrset in sorted(want.items()):
        if rtype != "SOA":
            full += [(name, rtype, rrset.ttl, v) for v in rrset.values]
    now, how = replay(before(), ZONE, [*full, soa(9)])
    assert how == "axfr"
    assert problems(ZONE, before(), changes(), now) == ([], [])


def test_an_unchanged_zone_answers_one_soa() -> None:
    now, how = replay(before(), ZONE, [soa(7)])
    assert how == "current"
    assert len(problems(ZONE, before(), changes(), now)[0]) == 3
    with pytest.raises(TransferError):
        replay(before(), ZONE, [soa(8)])


def test_deleting_a_record_the_base_zone_lacks_is_an_error() -> None:
    with pytest.raises(TransferError, match="not in the base zone"):
        replay(
            before(),
            ZONE,
            [soa(8), soa(7), (absolute("x", ZONE), "A", 60, "1.2.3.4"), soa(8), soa(8)],
        )


def test_transfer_records_read_as_dns_zone_reads_them() -> None:
    """A whole-zone answer read straight from its messages equals the zone dnspython builds
    from the same text (names in rdata absolute, TTLs, several records per RRset)."""
    text = (
        "$ORIGIN kontum.gov.vn.\n"
        "@ 60 IN SOA ns1 hostmaster 7 300 60 1209600 60\n"
        "@ 3600 IN NS ns1\n@ 3600 IN NS ns2.quangngai.gov.vn.\n"
        "@ 300 IN MX 10 mail\nwww 120 IN CNAME srv\nsrv 120 IN A 198.18.0.1\n"
        "srv 120 IN A 198.18.0.2\n_xmpp-client._tcp 300 IN SRV 5 0 5222 srv\n"
        'txt 300 IN TXT "v=spf1 -all"\n'
    )
    zone = dns.zone.from_text(text, origin=ZONE, relativize=False)
    message = dns.message.make_response(dns.message.make_query(ZONE, "AXFR"))
    soa_rrset = zone.find_rrset(ZONE + ".", "SOA")
    message.answer.append(soa_rrset)
    for name, node in zone.nodes.items():
        for rds in node.rdatasets:
            if rds.rdtype != dns.rdatatype.SOA:
                message.answer.append(dns.rrset.from_rdata_list(name, rds.ttl, list(rds)))
    message.answer.append(soa_rrset)
    wire = dns.message.from_wire(message.to_wire(), xfr=True)  # as dns.query.xfr reads it
    assert zone_of(records([wire], ZONE), ZONE) == parse_text(text, ZONE)
    with pytest.raises(TransferError):
        zone_of([soa(7), soa(7)], ZONE)  # no NS at the apex


@pytest.mark.parametrize(
    "answer",
    [
        incremental(),
        [*incremental()[:-3], soa(9), (absolute("other", ZONE), "TXT", 60, '"x"'), soa(9)],
        [soa(7)],
    ],
    ids=["as-planned", "missing-and-besides", "unchanged"],
)
def test_comparing_only_what_the_ixfr_touched_finds_what_the_full_comparison_finds(
    answer: list[Record],
) -> None:
    zone = before()
    for i in range(500):  # RRsets the answer does not touch: skipped, not compared
        zone[(absolute(f"h{i}", ZONE), "A")] = RRset.of(60, [f"198.18.1.{i % 250 + 1}"])
    now, _ = replay(zone, ZONE, answer)
    only = touched(answer, ZONE)
    assert only is not None and len(only) <= 4
    assert problems(ZONE, zone, changes(), now, only=only) == problems(ZONE, zone, changes(), now)


def test_a_whole_zone_answer_touches_everything() -> None:
    assert touched([soa(9), (APEX, "NS", 60, "ns1.kontum.gov.vn."), soa(9)], ZONE) is None
