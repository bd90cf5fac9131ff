"""Names that follow from a merger's data, shared by provisioning, the cutovers,
verification and the probes (facts of the data, not of any one of them)."""

from __future__ import annotations

from cutover.inventory.model import Province

CUTOVER_KEY = "cutover"  # the TSIG key that may update the zones the cutover changes
PROBE_LOCAL = "probe"  # the local part of each province's probe mailbox


def probe_address(province: Province) -> str:
    """The mailbox the verification and the probes send to and read back."""
    return f"{PROBE_LOCAL}@{province.domain}"


def xfr_key(owner: str) -> str:
    """The TSIG key an owner's secondaries transfer its zones with."""
    return f"xfr-{owner}"


def prosody_encode(text: str) -> str:
    """Prosody's datamanager file-name encoding: every non-alphanumeric as %xx."""
    return "".join(c if c.isalnum() and c.isascii() else f"%{ord(c):02x}" for c in text)
