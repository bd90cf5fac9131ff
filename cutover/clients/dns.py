"""DNS: one query to one server (a resolver, recursion desired, or an authoritative
server, without), its answers as text, and MX answers in the order senders use them."""

from __future__ import annotations

import dns.flags
import dns.message
import dns.query
import dns.rdatatype


def query(
    server: str, name: str, rdtype: str, *, recurse: bool = False, timeout: float = 3.0
) -> dns.message.Message:
    """One UDP query; ``recurse``: ask a resolver (RD set) rather than an authority."""
    q = dns.message.make_query(name, rdtype)
    if not recurse:
        q.flags &= ~dns.flags.RD
    return dns.query.udp(q, server, timeout=timeout)


def answers(response: dns.message.Message, rdtype: str) -> list[str]:
    """The answer section's records of ``rdtype`` (after any CNAME chain), as text."""
    wanted = dns.rdatatype.from_text(rdtype)
    return [r.to_text() for rrset in response.answer if rrset.rdtype == wanted for r in rrset]


def resolve(resolver: str, name: str, rdtype: str = "A", timeout: float = 3.0) -> list[str]:
    """Answers of ``name`` through ``resolver``, following CNAMEs."""
    return answers(query(resolver, name, rdtype, recurse=True, timeout=timeout), rdtype)


def mx_hosts(mx_answers: list[str]) -> list[str]:
    """The exchange names of MX answers (``"10 mail.example."``), lowest preference first,
    without the root dot."""
    ordered = sorted((int(a.split()[0]), a.split()[1].rstrip(".")) for a in mx_answers)
    return [host for _, host in ordered]
