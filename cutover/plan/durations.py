"""Durations as people write them in plans: ``30s``, ``5m``, ``1h30m``, or plain seconds."""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_WHOLE = re.compile(r"^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
PATTERN = r"^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$"


def parse_duration(value: object) -> float:
    """Seconds in ``value``; ValueError with a fix-it message otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"invalid duration {value!r} (use e.g. 30s, 5m, 1h30m)")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"duration {value} is negative")
        return float(value)
    if isinstance(value, str):
        text = value.strip().replace(" ", "")
        if _WHOLE.match(text):
            return sum(float(n) * _UNIT[u] for n, u in _PART.findall(text))
    raise ValueError(f"invalid duration {value!r} (use e.g. 30s, 5m, 1h30m)")


def format_duration(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"
