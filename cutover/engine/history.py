"""Rehearsal history: how long each step of a plan took in earlier real runs."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from cutover.journal import Journal, list_runs


def step_durations(runs_dir: Path, plan_name: str) -> dict[str, float]:
    """Mean seconds per step over succeeded steps of earlier rehearsal and live runs."""
    samples: dict[str, list[float]] = defaultdict(list)
    for run_dir, meta in list_runs(runs_dir):
        if meta.get("plan_name") != plan_name or meta.get("mode") == "check":
            continue
        journal = Journal(run_dir)
        try:
            for sid, record in journal.steps().items():
                if record.state == "succeeded" and record.seconds is not None:
                    samples[sid].append(record.seconds)
        finally:
            journal.close()
    return {sid: sum(values) / len(values) for sid, values in samples.items()}
