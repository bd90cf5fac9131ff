"""The inventory schema: what a merger's YAML files may say (pydantic, strict).

Two files describe one environment of a merger:
- ``inventories/<merger>/merger.yml``: the provinces, their zones, mail, portal and video
  data; identical for lab, staging and production.
- ``inventories/<merger>/<environment>/inventory.yml``: the network, the hosts and their
  addresses, and how much generated data (mailboxes, pages, accounts) to make.

Cross-references (a zone's NS host exists, a URL map target exists, ...) are checked by
:mod:`cutover.inventory.checks` after the shapes below have been validated.
"""

from __future__ import annotations

from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network
from typing import Annotated, Literal

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from cutover.yamlfile import UNPRINTABLE


def _one_line(value: str) -> str:
    found = UNPRINTABLE.search(value)
    if found:
        raise ValueError(
            f"holds the control character U+{ord(found.group()):04X}; write it on one line"
        )
    return value


# Free text (names, titles, owners): any Unicode letters, one line, bounded.
Text = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_one_line)]

Ident = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]*$", max_length=20)]
HostName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*[a-z0-9]$", max_length=40)]
DomainName = Annotated[
    str,
    StringConstraints(
        pattern=r"^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$", max_length=253, to_lower=True
    ),
]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=60)]
Address = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9]+([._-][a-z0-9]+)*@([a-z0-9-]+\.)+[a-z]{2,}$")
]

# Owners of hosts besides the provinces themselves.
MERGED = "merged"  # the merged province's new systems (the cutover's target)
SHARED = "shared"  # lab-only infrastructure: the gov.vn parent zone and a resolver


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Service(StrEnum):
    DNS = "dns"
    MAIL = "mail"
    PORTAL = "portal"
    VIDEO = "video"
    PARENT_DNS = "parent_dns"  # lab only: stands in for VNNIC's gov.vn servers
    RESOLVER = "resolver"  # lab only: what clients (probes) ask


PROVINCE_SERVICES = (Service.DNS, Service.MAIL, Service.PORTAL, Service.VIDEO)
LAB_ONLY_SERVICES = (Service.PARENT_DNS, Service.RESOLVER)


class Province(Strict):
    id: Ident
    name: Text
    domain: DomainName
    slug: Slug  # the path prefix of its pages on the merged portal
    code: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,4}$")]  # collision suffix


# Owner names relative to the zone: "@" (the apex), or labels of letters, digits, "_"
# and "-", the first of which may be "*".
_LABEL = r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
RecordName = Annotated[
    str, StringConstraints(pattern=rf"^(@|(\*|{_LABEL})(\.{_LABEL})*)$", max_length=253)
]
_PLACEHOLDER = dns.name.from_text("zone.invalid.")  # relative names in values stay relative


class Record(Strict):
    name: RecordName  # relative to the zone; "@" is the apex
    type: Literal["A", "CNAME", "MX", "TXT", "SRV"]
    value: Annotated[str, StringConstraints(min_length=1, max_length=4000)]
    ttl: int | None = Field(default=None, ge=0)

    @field_validator("value")
    @classmethod
    def _rdata(cls, value: str, info: ValidationInfo) -> str:
        """The value as dnspython writes it, which is how it goes into zone files: a value
        dnspython cannot parse, or one holding a control character, is refused, so nothing
        but one record's data ever reaches a zone file line. A TXT value that does not
        start with a quote is one string, exactly as written (quotes and backslashes
        escaped, non-ASCII as UTF-8 bytes)."""
        _one_line(value)
        rdtype = info.data.get("type")
        if rdtype is None:
            return value  # the type's own error is reported
        try:
            if rdtype == "TXT" and not value.startswith('"'):
                if len(value.encode()) > 255:
                    raise ValueError("an unquoted TXT value is one string of at most 255 bytes")
                rdata: dns.rdata.Rdata = dns.rdtypes.ANY.TXT.TXT(
                    dns.rdataclass.IN, dns.rdatatype.TXT, [value.encode()]
                )
            else:
                rdata = dns.rdata.from_text(
                    dns.rdataclass.IN, dns.rdatatype.from_text(rdtype), value, _PLACEHOLDER
                )
        except dns.exception.DNSException as exc:
            raise ValueError(f"not a valid {rdtype} record value: {exc}") from exc
        return rdata.to_text(origin=_PLACEHOLDER, relativize=True)


class Zone(Strict):
    name: DomainName
    province: Ident
    ns: list[HostName] = Field(default_factory=list)  # checked non-empty with a clear error
    ttl: int = Field(default=3600, ge=0)
    records: list[Record] = Field(default_factory=list)


class Mailbox(Strict):
    address: Address
    name: Text


class Collisions(Strict):
    # suffix: a former province's colliding local part gets ".<code>"; explicit: every
    # collision must be listed in ``map``. Entries in ``map`` always win.
    strategy: Literal["suffix", "explicit"] = "suffix"
    map: dict[Address, Address] = Field(default_factory=dict)


class MailSpec(Strict):
    mailboxes: list[Mailbox] = Field(default_factory=list)  # hand-kept, besides generated
    collisions: Collisions = Collisions()


class UrlMapEntry(Strict):
    from_: str = Field(alias="from", pattern=r"^https://")
    to: str = Field(pattern=r"^https://")


class PortalSpec(Strict):
    sections: list[Slug] = Field(min_length=1)  # page families generated per province
    url_map: list[UrlMapEntry] = Field(default_factory=list)  # explicit, besides generated


class Room(Strict):
    province: Ident
    name: Slug
    title: Text


class VideoSpec(Strict):
    rooms: list[Room] = Field(default_factory=list)


class MergerFile(Strict):
    """``inventories/<merger>/merger.yml``."""

    merger: Slug
    title: Text
    target: Ident  # the province whose name and domain the merged province keeps
    parent_zone: DomainName
    provinces: list[Province] = Field(min_length=2)
    zones: list[Zone] = Field(default_factory=list)
    mail: MailSpec = MailSpec()
    portal: PortalSpec
    video: VideoSpec = VideoSpec()


class Network(Strict):
    cidr: IPv4Network
    gateway: IPv4Address | None = None  # lab: the bridge's own address on the host
    bridge: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,14}$")] | None = None
    lab: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]{0,11}$")] | None = None


class Host(Strict):
    name: HostName
    fqdn: DomainName
    owner: Ident  # a province id, "merged" or "shared"
    services: list[Service] = Field(min_length=1)
    address: IPv4Address
    # The site of a province's as-is host (one of `sites:`; by default the site named after
    # its owner, when there is one); none for the hosts the merged province builds, which
    # are on `network:`.
    site: Ident | None = None

    @property
    def existing(self) -> bool:
        """An as-is host: a province's own, which exists already (in the lab too, where
        the twin builds it). Never created, provisioned or re-imaged by the project."""
        return self.owner not in (MERGED, SHARED)


class Site(Strict):
    """A former province's own site. Its hosts exist already: the project reads them and
    changes them only at the cutovers' touch points; it never creates, re-images or
    provisions them."""

    network: IPv4Network  # the site's addresses, as reached from the merged site
    # The province's own resolvers, which its citizens ask.
    resolvers: list[IPv4Address] = Field(default_factory=list)
    # The SSH host keys of the site's hosts, as the site gives them (OpenSSH known_hosts
    # lines; relative to this file): no trust on first use. The lab knows its own.
    known_hosts: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None


class Generate(Strict):
    """How much seeded data to generate at load (the lab only); never committed."""

    seed: int = 20250701
    mailboxes_per_province: int = Field(default=50, ge=0, le=200_000)
    pages_per_section: int = Field(default=10, ge=0, le=100_000)
    accounts_per_province: int = Field(default=10, ge=0, le=100_000)


class EnvFile(Strict):
    """``inventories/<merger>/<environment>/inventory.yml``."""

    environment: Literal["lab", "staging", "production"]
    compute: Literal["lab", "openstack"]
    network: Network  # the merged province's site: what the stack builds
    sites: dict[Ident, Site] = Field(default_factory=dict)  # the provinces' own sites
    hosts: list[Host] = Field(min_length=1)
    # The lab's made-up data; staging and production hold the sites' real data, listed in
    # merger.yml (or discovered), never invented.
    generate: Generate | None = None
    # Every zone's default TTL in this environment, instead of the merger's. The lab uses
    # minutes so that a rehearsal waits out the old TTL in minutes, not hours.
    zone_ttl: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _owners_sites(self) -> EnvFile:
        # an as-is host that names no site is on its province's site, if it has one
        hosts = [
            h.model_copy(update={"site": h.owner})
            if h.site is None and h.existing and h.owner in self.sites
            else h
            for h in self.hosts
        ]
        object.__setattr__(self, "hosts", hosts)
        return self

    @property
    def generated(self) -> Generate:
        """How much to generate: nothing where ``generate:`` is absent."""
        return self.generate or Generate(
            mailboxes_per_province=0, pages_per_section=0, accounts_per_province=0
        )
