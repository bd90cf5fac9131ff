"""Benchmark (not a test): the cost of masking secrets in one string, by number of
secrets and string length, for both of Redactor's ways (substring searches, prefix index).

    .venv/bin/python bench/redact.py
"""

from __future__ import annotations

import secrets
import time

from cutover import redact
from cutover.redact import Redactor


def per_call_ms(count: int, length: int, limit: int, rounds: int = 20) -> float:
    values = [secrets.token_urlsafe(18) for _ in range(count)]
    text = ("ok: mail-kontum changed=true synced 1234 mailboxes " * (length // 50 + 1))[:length]
    text += values[count // 2]
    saved = redact.SEARCH_LIMIT
    redact.SEARCH_LIMIT = limit
    try:
        redactor = Redactor(values)
        started = time.perf_counter()
        for _ in range(rounds):
            masked = redactor.text(text)
        elapsed = (time.perf_counter() - started) / rounds * 1000
    finally:
        redact.SEARCH_LIMIT = saved
    assert values[count // 2] not in masked
    return elapsed


def main() -> None:
    print(f"{'secrets':>8} {'chars':>8} {'search ms':>10} {'index ms':>10}")
    for count in (20, 200, 2000, 9000):
        for length in (200, 20_000):
            search = per_call_ms(count, length, limit=10**9)
            index = per_call_ms(count, length, limit=0)
            print(f"{count:>8} {length:>8} {search:>10.3f} {index:>10.3f}")


if __name__ == "__main__":
    main()
