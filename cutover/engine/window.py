"""The cutover window: refuse to start outside it, wait for it, and project overruns."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cutover.errors import EngineError
from cutover.plan.model import Window


def local(moment: datetime, window: Window) -> str:
    return moment.astimezone(ZoneInfo(window.tz)).strftime("%Y-%m-%d %H:%M %Z")


def check_start(window: Window, now: datetime, at: datetime | None) -> datetime:
    """When the run may begin (``at`` or now); EngineError when outside the window."""
    start = window.aware(at) if at is not None else now
    if at is not None and start < now - timedelta(seconds=60):
        raise EngineError(f"--at {local(start, window)} is in the past")
    if start < window.starts:
        hint = "pass `--at` with a time inside it to wait for it"
        if at is not None:
            hint = "choose an --at inside the window"
        raise EngineError(
            f"outside the window: it opens at {local(window.starts, window)}", hint=hint
        )
    if start >= window.ends:
        raise EngineError(
            f"outside the window: it closed at {local(window.ends, window)}",
            hint="schedule a new window in the plan",
        )
    return start


def sleep_until(target: datetime, now: datetime, stop: threading.Event) -> bool:
    """Wait until ``target``; False if ``stop`` was set first."""
    remaining = (target - now).total_seconds()
    return not stop.wait(remaining) if remaining > 0 else True
