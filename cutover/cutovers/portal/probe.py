"""A client that keeps requesting during a switch and counts what failed.

Used by the zero-downtime test and the benchmark: one HTTP/1.1 connection at a time
(reconnecting as a browser would), bounded by a count and a time, only to the address
given (a lab address). A request fails if it raises (refused, reset, timeout, TLS) or
answers a status outside ``ok_status``.

Like browsers and HTTP libraries (RFC 9110, 9.2.2), a GET sent on a *reused* keep-alive
connection that the server closed without sending any response is retried once on a new
connection: nginx's graceful reload closes idle keep-alive connections, and a request
already on its way meets that close. Such retries are counted (``retried``), and a retry
that fails again is a failure.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from cutover.clients import http


@dataclass
class ProbeResult:
    requests: int = 0
    failures: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    retried: int = 0
    seconds: float = 0.0


class Hammer(threading.Thread):
    def __init__(
        self,
        address: str,
        name: str,
        path: str,
        tls: ssl.SSLContext,
        *,
        ok_status: tuple[int, ...] = (200, 301),
        max_requests: int = 200_000,
        max_seconds: float = 600.0,
    ) -> None:
        super().__init__(daemon=True)
        self.address, self.name, self.path, self.tls = address, name, path, tls
        self.ok_status = ok_status
        self.max_requests, self.max_seconds = max_requests, max_seconds
        self.stop = threading.Event()
        self.result = ProbeResult()

    def run(self) -> None:
        r = self.result
        started = time.monotonic()
        url = f"https://{self.address}{self.path}"
        headers = {"Host": self.name}
        with http.client(self.tls, timeout=5, follow_redirects=False) as client:
            while not self.stop.is_set() and r.requests < self.max_requests:
                if time.monotonic() - started > self.max_seconds:
                    break
                r.requests += 1
                try:
                    try:
                        resp = client.get(url, headers=headers,
                                          extensions={"sni_hostname": self.name})  # fmt: skip
                    except http.Dropped:
                        r.retried += 1  # closed before any response: retry once (see above)
                        resp = client.get(url, headers=headers,
                                          extensions={"sni_hostname": self.name})  # fmt: skip
                    r.statuses[resp.status_code] += 1
                    if resp.status_code not in self.ok_status:
                        r.failures += 1
                        r.errors.append(f"status {resp.status_code}")
                except http.Error as exc:
                    r.failures += 1
                    r.errors.append(f"{exc.__class__.__name__}: {exc}")
        r.seconds = time.monotonic() - started

    def finish(self) -> ProbeResult:
        self.stop.set()
        self.join()
        return self.result
