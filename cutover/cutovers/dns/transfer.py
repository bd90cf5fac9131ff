"""Zone transfers (AXFR and IXFR with the zone's transfer key) and SOA serial queries.

A transfer's records are read straight from its messages into plain data
(:data:`Record`, then :data:`cutover.cutovers.dns.rrsets.Zone`): building a
``dns.zone.Zone`` first and converting it cost about a third more (issue 10, 1,000 RRsets),
and the comparison needs only the plain data."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rdatatype

from cutover.cutovers.dns.rrsets import RRset, Zone, absolute
from cutover.cutovers.dns.update import TSIG_ALGORITHM, Key
from cutover.errors import CutoverError


class TransferError(CutoverError):
    """A zone could not be transferred or queried."""


Record = tuple[str, str, int, str]  # owner (absolute, lower case), type, TTL, rdata text


def records(messages: Iterable[dns.message.Message], zone: str) -> list[Record]:
    """The answer records of a transfer, in order, with rdata as text as
    :func:`cutover.cutovers.dns.rrsets.from_dnszone` writes it (absolute names)."""
    origin = dns.name.from_text(zone)
    result: list[Record] = []
    for message in messages:
        for rrset in message.answer:
            owner = rrset.name.to_text().lower()
            rtype = dns.rdatatype.to_text(rrset.rdtype)
            for rdata in rrset:
                text = rdata.to_text(origin=origin, relativize=False)
                result.append((owner, rtype, int(rrset.ttl), text))
    return result


def transfer(
    server: str,
    zone: str,
    key: Key | None,
    *,
    serial: int | None = None,
    port: int = 53,
    timeout: float = 30,
) -> list[Record]:
    """The records of an AXFR of ``zone`` or, given the ``serial`` the caller holds, of an
    IXFR from it (RFC 1995: the differences since, or the whole zone)."""
    kwargs: dict[str, Any] = {}
    if key is not None:
        kwargs = {"keyring": key.keyring(), "keyname": key.name, "keyalgorithm": TSIG_ALGORITHM}
    rdtype = dns.rdatatype.AXFR if serial is None else dns.rdatatype.IXFR
    try:
        return records(
            dns.query.xfr(
                server, zone, rdtype=rdtype, serial=serial or 0, port=port, timeout=timeout,
                lifetime=timeout, relativize=False, **kwargs,
            ),
            zone,
        )  # fmt: skip
    except (OSError, ValueError, dns.exception.DNSException, EOFError) as exc:
        detail = f"{exc.__class__.__name__} {exc}"
        kind = dns.rdatatype.to_text(rdtype)
        raise TransferError(f"{kind} of {zone} from {server}: {detail}") from exc


def zone_of(answer: Sequence[Record], zone: str) -> Zone:
    """The zone a whole-zone answer holds (its SOA first and last): RRsets grouped, their
    TTL the lowest of their records' (as ``dns.zone`` reads it); an answer without the
    zone's SOA and NS at its apex is refused."""
    apex = absolute("@", zone)
    if len(answer) < 2 or answer[0][:2] != (apex, "SOA") or answer[-1] != answer[0]:
        raise TransferError(f"the transfer of {zone} does not begin and end with its SOA")
    grouped: dict[tuple[str, str], tuple[int, list[str]]] = {}
    for owner, rtype, ttl, text in answer[:-1]:
        got = grouped.get((owner, rtype))
        if got is None:
            grouped[(owner, rtype)] = (ttl, [text])
        else:
            got[1].append(text)
            if ttl < got[0]:
                grouped[(owner, rtype)] = (ttl, got[1])
    if (apex, "SOA") not in grouped or (apex, "NS") not in grouped:
        raise TransferError(f"the transfer of {zone} has no SOA or NS at its apex")
    return {k: RRset.of(ttl, values) for k, (ttl, values) in grouped.items()}


def axfr(server: str, zone: str, key: Key | None, *, port: int = 53, timeout: float = 30) -> Zone:
    return zone_of(transfer(server, zone, key, port=port, timeout=timeout), zone)


def query(server: str, name: str, rdtype: str, *, recurse: bool = False) -> dns.message.Message:
    q = dns.message.make_query(name, rdtype)
    if not recurse:
        q.flags &= ~dns.flags.RD
    return dns.query.udp(q, server, timeout=3)


def answers(server: str, name: str, rdtype: str, *, recurse: bool = False) -> set[str]:
    wanted = dns.rdatatype.from_text(rdtype)
    response = query(server, name, rdtype, recurse=recurse)
    return {r.to_text() for rrset in response.answer if rrset.rdtype == wanted for r in rrset}


def serial(server: str, zone: str) -> int | None:
    try:
        response = query(server, zone, "SOA")
    except (OSError, dns.exception.DNSException):
        return None
    if response.rcode() != 0:
        return None
    for rrset in response.answer:
        if rrset.rdtype == dns.rdatatype.SOA:
            return int(rrset[0].serial)
    return None


def serves(server: str, zone: str) -> bool:
    """Whether ``server`` answers authoritatively for ``zone``. Unlike :func:`serial`, a
    server that does not answer at all raises: "cannot tell" must not pass for "does not
    serve it", or a rollback would skip a server it cannot reach and report success."""
    try:
        response = query(server, zone, "SOA")
    except (OSError, dns.exception.DNSException) as exc:
        detail = f"{exc.__class__.__name__} {exc}".strip()
        raise TransferError(
            f"{server} does not answer for {zone} ({detail}): cannot tell whether it serves it"
        ) from exc
    return response.rcode() == 0 and any(
        rrset.rdtype == dns.rdatatype.SOA for rrset in response.answer
    )
