"""The octoDNS-style safety threshold: a plan that would change more than a share of a
zone's RRsets is refused unless forced (a config bug must not rewrite a whole zone).

As in octoDNS, small zones (fewer than ``MIN_EXISTING`` RRsets) are exempt. TTL-only
changes (lowering before a cutover, restoring after) change no answer and do not count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from cutover.cutovers.dns.rrsets import Change, Key, RRset, rrset_count
from cutover.errors import CutoverError

MAX_SHARE = 0.3
MIN_EXISTING = 10


class UnsafePlan(CutoverError):
    """A plan changes more of a zone than the threshold allows."""


def check(
    zone: str,
    current: Mapping[Key, RRset],
    changes: Iterable[Change],
    *,
    max_share: float = MAX_SHARE,
    force: bool = False,
) -> float:
    """The share of the zone's RRsets whose data the changes alter; raises
    :class:`UnsafePlan` above ``max_share`` unless ``force``."""
    existing = rrset_count(current)
    counted = [c for c in changes if c.zone == zone and c.type != "SOA" and not c.ttl_only]
    share = len(counted) / existing if existing else (1.0 if counted else 0.0)
    if force or existing < MIN_EXISTING or share <= max_share:
        return share
    raise UnsafePlan(
        f"zone {zone}: the plan changes {len(counted)} of {existing} RRsets "
        f"({share:.0%}, above the {max_share:.0%} threshold)",
        hint="check the inventory; if the change is intended, set `dns_force: true` for this step",
    )
