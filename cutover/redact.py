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


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        for value in secrets:
            self.add(value)

    def add(self, value: str) -> None:
        if len(value) >= MIN_SECRET_LEN:
            self._values.add(value)

    def text(self, value: str) -> str:
        # longest first, so a secret containing another is masked whole
        for secret in sorted(self._values, key=len, reverse=True):
            if secret in value:
                value = value.replace(secret, MASK)
        return value

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
