"""Zone transfers (AXFR with the zone's transfer key) and SOA serial queries."""

from __future__ import annotations

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rdatatype
import dns.zone

from cutover.cutovers.dns.rrsets import Zone, from_dnszone
from cutover.cutovers.dns.update import TSIG_ALGORITHM, Key
from cutover.errors import CutoverError


class TransferError(CutoverError):
    """A zone could not be transferred or queried."""


def axfr(server: str, zone: str, key: Key | None, *, port: int = 53, timeout: float = 30) -> Zone:
    kwargs = {}
    if key is not None:
        kwargs = {"keyring": key.keyring(), "keyname": key.name, "keyalgorithm": TSIG_ALGORITHM}
    try:
        xfr = dns.query.xfr(
            server, zone, port=port, timeout=timeout, lifetime=timeout, relativize=False, **kwargs
        )
        parsed = dns.zone.from_xfr(xfr, relativize=False, check_origin=True)
    except (OSError, ValueError, dns.exception.DNSException, EOFError) as exc:
        detail = f"{exc.__class__.__name__} {exc}"
        raise TransferError(f"AXFR of {zone} from {server}: {detail}") from exc
    return from_dnszone(parsed)


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
