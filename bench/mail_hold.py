"""Benchmark (not a test): how long the mail cutover held citizens' mail in the old
servers' queues, read from a run's ansible-runner events.

The hold starts when a host switches to a ``hold`` (or ``hold-back``) table set and ends
when it switches to the next set (``relay``, or ``back``); both moments are the ``ok``
events of the swap task, whose result names the set. Printed per step and host, with the
median and the longest.

    .venv/bin/python bench/mail_hold.py .runs/RUN [...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from datetime import datetime
from pathlib import Path

SWAP = "Swap the table set in at once and reload Postfix."


def switches(artifacts: Path) -> list[tuple[datetime, str, str]]:
    """(when, host, set) of every table switch in one playbook run's events."""
    found = []
    for path in sorted(artifacts.glob("*/job_events/*.json")):
        event = json.loads(path.read_text())
        data = event.get("event_data", {})
        if event.get("event") != "runner_on_ok" or data.get("task") != SWAP:
            continue
        result = json.loads(data["res"]["stdout"])
        found.append((datetime.fromisoformat(event["created"]), data["host"], result["set"]))
    return sorted(found)


def holds(run: Path) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for artifacts in sorted(run.glob("steps/*/*/artifacts")):
        held: dict[str, tuple[datetime, str]] = {}
        for when, host, name in switches(artifacts):
            phase = name.rsplit("-", 1)[0]
            if phase in ("hold", "hold-back"):
                held[host] = (when, phase)
            elif host in held:
                start, hold_phase = held.pop(host)
                rows.append({
                    "step": artifacts.parent.parent.name, "playbook": artifacts.parent.name,
                    "host": host, "phase": hold_phase, "next": phase,
                    "seconds": round((when - start).total_seconds(), 1),
                })  # fmt: skip
    return rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("runs", nargs="+", type=Path)
    args = parser.parse_args()
    for run in args.runs:
        rows = holds(run)
        print(f"# {run.name}")
        for row in rows:
            print(json.dumps(row))
        if rows:
            seconds = [float(str(r["seconds"])) for r in rows]
            print(f"hold windows: {len(rows)}, median {statistics.median(seconds):.1f} s, "
                  f"longest {max(seconds):.1f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
