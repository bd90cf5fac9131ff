"""Webhook notifications of run and step state changes, sent off the engine's path.

A slow or dead webhook must never slow or fail a cutover: posts go through a queue to
one background thread, with a short timeout; failures are logged and dropped.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

from cutover.clients import http

log = logging.getLogger(__name__)
_STOP = object()


class Webhook:
    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self.url = url
        self.timeout = timeout
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="webhook", daemon=True)
        self._thread.start()

    def send(self, payload: dict[str, Any]) -> None:
        self._queue.put(payload)

    def close(self, wait: float = 10.0) -> None:
        self._queue.put(_STOP)
        self._thread.join(wait)

    def _loop(self) -> None:
        with http.client(timeout=self.timeout) as client:
            while (item := self._queue.get()) is not _STOP:
                try:
                    client.post(self.url, json=item).raise_for_status()
                except http.Error as exc:
                    log.warning("webhook %s failed: %s", self.url, exc)
