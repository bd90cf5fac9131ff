"""Rehearsal history: how long each step of a plan took in earlier real runs."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from pathlib import Path

from cutover.errors import JournalError
from cutover.journal import Journal, list_runs


def step_durations(
    runs_dir: Path, plan_name: str, skipped: list[str] | None = None
) -> dict[str, float]:
    """Mean seconds per step over succeeded steps of earlier rehearsal and live runs; an
    unreadable run is left out (and named in ``skipped``)."""
    samples: dict[str, list[float]] = defaultdict(list)
    for run_dir, meta in list_runs(runs_dir, skipped):
        if meta.get("plan_name") != plan_name or meta.get("mode") == "check":
            continue
        try:
            journal = Journal(run_dir, read_only=True)
            try:
                records = journal.steps()
            finally:
                journal.close()
        except (JournalError, sqlite3.Error, ValueError) as exc:
            if skipped is not None:
                skipped.append(f"{run_dir}: unreadable journal: {exc}")
            continue
        for sid, record in records.items():
            if record.state == "succeeded" and record.seconds is not None:
                samples[sid].append(record.seconds)
    return {sid: sum(values) / len(values) for sid, values in samples.items()}
