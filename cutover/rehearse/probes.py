"""Continuous availability probes through the lab resolver, several times a second per
service, for the whole of a rehearsal: what a citizen would have seen.

Each service runs in its own thread at a bounded rate for a bounded time; every probe
is one sample (time, ok, latency, what failed). SMTP probes send real messages to old
and new addresses and remember each Message-ID, so that afterwards every one can be
accounted for."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from cutover.clients import http, imap, smtp, xmpp
from cutover.inventory.model import MERGED
from cutover.inventory.naming import probe_address
from cutover.report.model import ProbeSample, ProbeSeries
from cutover.verify import Context

Probe = Callable[[], str]  # raises on failure; returns what it checked


@dataclass(frozen=True)
class SentMessage:
    message_id: str
    recipient: str
    t_s: float


@dataclass
class Service:
    name: str
    target: str
    probes: Iterator[Probe]
    interval_s: float
    series: ProbeSeries = field(init=False)

    def __post_init__(self) -> None:
        self.series = ProbeSeries(self.name, self.target)


def _mx_host(ctx: Context, domain: str) -> tuple[str, str]:
    exchangers = ctx.mx_hosts(domain)
    if not exchangers:
        raise LookupError(f"no MX for {domain}")
    server = exchangers[0]
    addresses = ctx.resolve(server, "A")
    if not addresses:
        raise LookupError(f"no A for {server}")
    return server, addresses[0]


class Prober:
    """Start, then stop; the samples are in :attr:`services`, sent mail in :attr:`sent`."""

    def __init__(self, ctx: Context, *, rate_hz: float = 4.0, max_seconds: float = 3600) -> None:
        self.ctx = ctx
        self.max_seconds = max_seconds
        self.sent: list[SentMessage] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._t0 = 0.0
        interval = 1.0 / rate_hz
        provinces = ctx.inv.merger.provinces
        self.services = [
            Service("dns", "user-facing names", itertools.cycle(self._dns_probes()), interval),
            Service("https", "portal pages, old and new URLs",
                    itertools.cycle(self._https_probes()), interval),
            Service("smtp", "old and new addresses", itertools.cycle(self._smtp_probes()),
                    interval),
            Service("imap", "probe mailboxes", itertools.cycle(
                [self._imap_probe(p.domain, probe_address(p)) for p in provinces]), interval),
            Service("xmpp", "accounts by their old domain",
                    itertools.cycle(self._xmpp_probes()), max(interval, 1.0)),
        ]  # fmt: skip

    # --- probe kinds -----------------------------------------------------------------

    def _dns_probes(self) -> list[Probe]:
        probes = []
        for p in self.ctx.inv.merger.provinces:
            for name, rdtype in ((p.domain, "MX"), (p.domain, "A"), (f"www.{p.domain}", "A"),
                                 (f"_xmpp-client._tcp.{p.domain}", "SRV")):  # fmt: skip
                probes.append(self._dns_probe(name, rdtype))
        return probes

    def _dns_probe(self, name: str, rdtype: str) -> Probe:
        def probe() -> str:
            if not self.ctx.resolve(name, rdtype):
                raise LookupError(f"{name} {rdtype}: no answer")
            return f"{name} {rdtype}"

        return probe

    def _https_probes(self) -> list[Probe]:
        probes = []
        for p in self.ctx.inv.merger.provinces:
            paths = list(self.ctx.inv.pages.get(p.id, ()))[:3] or ["/"]
            probes += [self._https_probe(p.domain, path) for path in paths]
        for old in list(self.ctx.inv.url_map)[:5]:
            name, _, path = old.removeprefix("https://").partition("/")
            probes.append(self._https_probe(name, "/" + path))
        return probes

    def _https_probe(self, name: str, path: str) -> Probe:
        def probe() -> str:
            addresses = self.ctx.resolve(name, "A")
            if not addresses:
                raise LookupError(f"{name}: no A record")
            with http.client(self.ctx.tls(), timeout=5) as client:
                response = client.get(
                    f"https://{addresses[0]}{path}",
                    headers={"Host": name},
                    extensions={"sni_hostname": name},
                )
            if response.status_code >= 400:
                raise RuntimeError(f"https://{name}{path}: {response.status_code}")
            return f"https://{name}{path} {response.status_code}"

        return probe

    def _smtp_probes(self) -> list[Probe]:
        recipients = []
        for p in self.ctx.inv.merger.provinces:
            recipients.append(probe_address(p))
        # A former province's new addresses exist only once its mailboxes have moved
        # (mid-cutover); the target province's addresses are the new ones and exist
        # throughout, so every province's probe address covers old and new. Add one old
        # address whose local part collided and was renamed.
        target = self.ctx.inv.target.id
        for mailbox in self.ctx.inv.mailboxes:
            renamed = mailbox.new_address.split("@")[0] != mailbox.address.split("@")[0]
            if mailbox.province != target and renamed:
                recipients.append(mailbox.address)
                break
        return [self._smtp_probe(r) for r in recipients]

    def _smtp_probe(self, recipient: str) -> Probe:
        domain = recipient.rsplit("@", 1)[1]

        def probe() -> str:
            _, address = _mx_host(self.ctx, domain)
            message_id = f"<probe-{uuid.uuid4().hex}@rehearsal.lab>"
            msg = smtp.message("probe@rehearsal.lab.gov.vn", recipient,
                               "cutover rehearsal probe", message_id, "probe\n")  # fmt: skip
            smtp.send(address, msg, helo="probe.lab.gov.vn", timeout=5)
            with self._lock:
                self.sent.append(SentMessage(message_id, recipient, self._now()))
            return f"{recipient} via {address}"

        return probe

    def _imap_probe(self, domain: str, mailbox: str) -> Probe:
        new_of = {m.address: m.new_address for m in self.ctx.inv.mailboxes}
        merged = {str(h.address) for h in self.ctx.inv.hosts if h.owner == MERGED}

        def probe() -> str:
            server, address = _mx_host(self.ctx, domain)
            # Where the MX points is where the user logs in, by the name that server knows.
            user = new_of.get(mailbox, mailbox) if address in merged else mailbox
            password = self.ctx.secrets.mailbox(user)["password"]
            tls = self.ctx.tls()
            with imap.logged_in(server, address, user, password, tls, timeout=5) as session:
                session.select("INBOX", readonly=True)
            return f"{user} at {server}"

        return probe

    def _xmpp_probes(self) -> list[Probe]:
        probes = []
        for p in self.ctx.inv.merger.provinces:
            accounts = [a for a in self.ctx.inv.accounts if a.province == p.id]
            if accounts:
                probes.append(self._xmpp_probe(p.domain, accounts[0].jid))
        return probes

    def _xmpp_probe(self, domain: str, jid: str) -> Probe:
        def probe() -> str:
            srv = self.ctx.resolve(f"_xmpp-client._tcp.{domain}", "SRV")
            if not srv:
                raise LookupError(f"_xmpp-client._tcp.{domain}: no SRV")
            _, _, port, target = srv[0].split()
            address = self.ctx.resolve(target.rstrip("."), "A")[0]
            asyncio.run(self._xmpp_login(jid, address, int(port)))
            return f"{jid} via {address}"

        return probe

    async def _xmpp_login(self, jid: str, address: str, port: int) -> None:
        password = self.ctx.secrets.xmpp(jid)["password"]
        tls = self.ctx.tls()
        async with xmpp.session(
            jid, password, address, port, tls, plugins=(), timeout=8, linger=0.1
        ):
            pass  # a session that starts is the probe's success

    # --- running -----------------------------------------------------------------------

    def _now(self) -> float:
        return time.monotonic() - self._t0

    def _loop(self, service: Service) -> None:
        deadline = self._t0 + self.max_seconds
        while not self._stop.is_set() and time.monotonic() < deadline:
            started = time.monotonic()
            probe = next(service.probes)
            try:
                detail, ok = probe(), True
            except Exception as exc:  # every failure of a probe is a sample, not a crash
                detail, ok = f"{exc.__class__.__name__}: {exc}"[:300], False
            took = time.monotonic() - started
            service.series.samples.append(
                ProbeSample(started - self._t0, ok, round(took * 1000, 1), "" if ok else detail)
            )
            self._stop.wait(max(0.0, service.interval_s - took))

    def start(self, t0: float | None = None) -> None:
        self._t0 = t0 if t0 is not None else time.monotonic()
        for service in self.services:
            thread = threading.Thread(target=self._loop, args=(service,), daemon=True,
                                      name=f"probe-{service.name}")  # fmt: skip
            thread.start()
            self._threads.append(thread)

    def stop(self) -> list[ProbeSeries]:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        return [s.series for s in self.services]


def find_message(ctx: Context, message_id: str, places: list[tuple[str, str, str]]) -> int:
    """How many of ``places`` (server name, address, mailbox) hold ``message_id``."""
    found = 0
    for server, address, mailbox in places:
        try:
            password = ctx.secrets.mailbox(mailbox)["password"]
            with imap.logged_in(server, address, mailbox, password, ctx.tls(), timeout=5) as s:
                s.select("INBOX", readonly=True)
                _, data = s.search(None, "HEADER", "Message-ID", message_id)
                found += len(data[0].split())
        except (imap.Error, KeyError, OSError):
            pass
    return found
