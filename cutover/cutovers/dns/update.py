"""Batched TSIG-signed dynamic updates (RFC 2136) over TCP, one message per batch.

A DNS message over TCP is capped at 65,535 bytes (about 1,500 A-record replaces, see
LAB-NOTES): changes are packed greedily into messages whose estimated size stays under
``MAX_BYTES``; each message is checked after rendering and split again if it is still too
big. One message per batch, never one per record.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring
import dns.update

from cutover.cutovers.dns.rrsets import Change
from cutover.errors import CutoverError

MAX_BYTES = 65_000  # below 65,535 with room for the TSIG record
HEADER_BYTES = 12 + 255 + 4  # header and the zone section (at most)
TSIG_ALGORITHM = dns.tsig.HMAC_SHA256


class UpdateError(CutoverError):
    """A server refused an update (or could not be reached)."""


@dataclass(frozen=True)
class Key:
    """A TSIG key. ``repr`` never shows the secret."""

    name: str
    secret: str

    def __repr__(self) -> str:
        return f"Key({self.name!r}, secret=***)"

    def keyring(self) -> dict[dns.name.Name, dns.tsig.Key]:
        return dns.tsigkeyring.from_text({self.name: (TSIG_ALGORITHM.to_text(), self.secret)})


POINTER_LIMIT = 0x3FFF  # compression pointers reach only the first 16 KiB of a message


def _estimate(change: Change, offset: int = 0) -> int:
    """Wire bytes of one change as dnspython renders it at ``offset`` in the message: the
    owner name (its labels below the zone, then a pointer to the zone), the RRset delete,
    and each record (type, class, TTL, length, rdata). A later mention of the name is a
    2-byte pointer only while its first mention lies in the first 16 KiB. Names inside
    rdata are counted uncompressed (an upper bound); :func:`send` still checks."""
    zone = change.zone.rstrip(".") + "."
    relative = change.name[: -len(zone)] if change.name.endswith(zone) else change.name
    full = len(relative) + 3
    again = 2 if offset < POINTER_LIMIT else full
    size = full + 10
    if change.new is not None:
        for value in change.new.values:
            rdlen = {"A": 4, "AAAA": 16}.get(change.type, len(value) + 2)
            size += again + 10 + rdlen
    return size


def batches(changes: Sequence[Change], max_bytes: int = MAX_BYTES) -> list[list[Change]]:
    """Changes packed in order into messages of at most ``max_bytes`` (estimated)."""
    result: list[list[Change]] = []
    current: list[Change] = []
    size = HEADER_BYTES
    for change in changes:
        est = _estimate(change, size)
        if current and size + est > max_bytes:
            result.append(current)
            current, size = [], HEADER_BYTES
            est = _estimate(change, size)
        current.append(change)
        size += est
    if current:
        result.append(current)
    return result


def message(zone: str, changes: Sequence[Change], key: Key | None) -> dns.update.UpdateMessage:
    kwargs = {}
    if key is not None:
        kwargs = {"keyring": key.keyring(), "keyname": key.name, "keyalgorithm": TSIG_ALGORITHM}
    update = dns.update.UpdateMessage(zone, **kwargs)  # type: ignore[arg-type]
    origin = dns.name.from_text(zone)
    for change in changes:
        name = dns.name.from_text(change.name)
        rdtype = dns.rdatatype.from_text(change.type)

        def rdata(value: str, rdtype: dns.rdatatype.RdataType = rdtype) -> dns.rdata.Rdata:
            return dns.rdata.from_text(
                dns.rdataclass.IN, rdtype, value, origin=origin, relativize=False
            )

        if name == origin and rdtype == dns.rdatatype.NS:
            # RFC 2136 3.4.2.4: a server ignores deleting the apex NS RRset (and its last
            # record): add the new servers first, then delete the old ones one by one.
            new = change.new.values if change.new is not None else ()
            ttl = change.new.ttl if change.new is not None else 0
            for value in new:
                update.add(name, ttl, rdata(value))
            for value in change.old.values if change.old is not None else ():
                if value not in new:
                    update.delete(name, rdata(value))
            continue
        update.delete(name, rdtype)
        if change.new is not None:
            for value in change.new.values:
                update.add(name, change.new.ttl, rdata(value))
    return update


@dataclass
class Applied:
    messages: int = 0
    changes: int = 0
    seconds: float = 0.0


def send(
    server: str,
    zone: str,
    changes: Sequence[Change],
    key: Key | None,
    *,
    port: int = 53,
    timeout: float = 30.0,
    max_bytes: int = MAX_BYTES,
) -> Applied:
    """Apply ``changes`` to ``zone`` at its primary ``server``, a message per batch."""
    applied = Applied()
    started = time.monotonic()
    pending = [list(b) for b in batches(changes, max_bytes)]
    while pending:
        batch = pending.pop(0)
        update = message(zone, batch, key)
        if len(update.to_wire()) > 65_000 and len(batch) > 1:  # the estimate was wrong
            half = len(batch) // 2
            pending[:0] = [batch[:half], batch[half:]]
            continue
        try:
            response = dns.query.tcp(update, server, port=port, timeout=timeout)
        except (OSError, dns.exception.DNSException) as exc:
            raise UpdateError(f"update of {zone} at {server}: {exc}") from exc
        rcode = response.rcode()
        if rcode != dns.rcode.NOERROR:
            raise UpdateError(
                f"update of {zone} at {server} refused: {dns.rcode.to_text(rcode)}",
                hint="is the cutover key allowed to update this zone (update-policy)?",
            )
        applied.messages += 1
        applied.changes += len(batch)
    applied.seconds = time.monotonic() - started
    return applied


def send_one_by_one(
    server: str, zone: str, changes: Sequence[Change], key: Key | None, *, port: int = 53
) -> Applied:
    """The baseline the benchmark compares with: one update message per record."""
    applied = Applied()
    started = time.monotonic()
    for change in changes:
        response = dns.query.tcp(message(zone, [change], key), server, port=port, timeout=30)
        if response.rcode() != dns.rcode.NOERROR:
            raise UpdateError(f"update of {change.name} refused")
        applied.messages += 1
        applied.changes += 1
    applied.seconds = time.monotonic() - started
    return applied
