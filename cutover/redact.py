"""Secret redaction for everything the engine writes: journal, events, artifacts, webhooks.

Two rules: values registered as secrets are replaced wherever they appear in text, and
values under secret-looking keys (password, token, tsig...) are replaced in mappings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

MASK = "********"
SECRET_KEY = re.compile(r"(pass(word|wd)?|secret|token|tsig|private_?key|api_?key)", re.I)
# short values would mask ordinary words and numbers; such "secrets" are refused upstream
MIN_SECRET_LEN = 4


# Below this many secrets one C-speed substring search per secret beats a Python-level
# scan of the string (measured: bench/redact.py).
SEARCH_LIMIT = 200


class Redactor:
    """Masks registered secrets in text and secret-looking keys in data.

    Every string of every Ansible event passes through ``text``, and a production merger
    registers thousands of secrets (a password per mailbox): one substring search per
    secret per string was milliseconds each. Past SEARCH_LIMIT secrets they are indexed
    by their first MIN_SECRET_LEN characters and a string is scanned once, a set lookup
    per position, comparing only the secrets that start there. Either way every
    occurrence of every secret is masked, overlapping ones as one span, so no part of a
    secret is left.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self._by_prefix: dict[str, list[str]] = {}
        for value in secrets:
            self.add(value)

    def add(self, value: str) -> None:
        if len(value) >= MIN_SECRET_LEN and value not in self._values:
            self._values.add(value)
            self._by_prefix.setdefault(value[:MIN_SECRET_LEN], []).append(value)

    def _found(self, value: str) -> list[tuple[int, int]]:
        found = []
        if len(self._values) <= SEARCH_LIMIT:
            for secret in self._values:
                start = value.find(secret)
                while start != -1:
                    found.append((start, start + len(secret)))
                    start = value.find(secret, start + 1)
            return found
        by_prefix = self._by_prefix
        for i in range(len(value) - MIN_SECRET_LEN + 1):
            candidates = by_prefix.get(value[i : i + MIN_SECRET_LEN])
            if candidates is not None:
                found += [(i, i + len(c)) for c in candidates if value.startswith(c, i)]
        return found

    def text(self, value: str) -> str:
        if not self._values or len(value) < MIN_SECRET_LEN:
            return value
        found = self._found(value)
        if not found:
            return value
        spans: list[tuple[int, int]] = []
        for start, end in sorted(found):
            if spans and start <= spans[-1][1]:  # overlaps or touches the previous span
                spans[-1] = (spans[-1][0], max(spans[-1][1], end))
            else:
                spans.append((start, end))
        out, last = [], 0
        for start, end in spans:
            out += [value[last:start], MASK]
            last = end
        out.append(value[last:])
        return "".join(out)

    def data(self, value: Any, key: str | None = None) -> Any:
        """A copy of ``value`` with secrets masked (recursing into mappings and lists)."""
        if key is not None and SECRET_KEY.search(key) and isinstance(value, str | int | float):
            return MASK
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.data(v, str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        return value

    def scrub_tree(self, root: Path) -> int:
        """Mask secrets inside every file under ``root``; returns how many files changed."""
        if not self._values or not root.exists():
            return 0
        changed = 0
        for path in root.rglob("*"):
            if not path.is_file() or path.is_symlink():
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            masked = self.text(text)
            if masked != text:
                path.write_text(masked, encoding="utf-8")
                changed += 1
        return changed
