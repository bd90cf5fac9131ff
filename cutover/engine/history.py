"""Rehearsal history: how long each step of a plan took in earlier real runs."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from cutover.errors import JournalError
from cutover.journal import Event, Journal, StepRecord, list_runs


def _journals(
    runs_dir: Path, plan_name: str, skipped: list[str] | None
) -> Iterator[tuple[dict[str, StepRecord], list[Event]]]:
    """Step records and events of each earlier rehearsal and live run of the plan; an
    unreadable run is left out (and named in ``skipped``)."""
    for run_dir, meta in list_runs(runs_dir, skipped):
        if meta.get("plan_name") != plan_name or meta.get("mode") == "check":
            continue
        try:
            journal = Journal(run_dir, read_only=True)
            try:
                found = journal.steps(), journal.events()
            finally:
                journal.close()
        except (JournalError, sqlite3.Error, ValueError) as exc:
            if skipped is not None:
                skipped.append(f"{run_dir}: unreadable journal: {exc}")
            continue
        yield found


def _means(samples: dict[str, list[float]]) -> dict[str, float]:
    return {sid: sum(values) / len(values) for sid, values in samples.items()}


def step_durations(
    runs_dir: Path, plan_name: str, skipped: list[str] | None = None
) -> dict[str, float]:
    """Mean seconds per step over succeeded steps of earlier rehearsal and live runs."""
    samples: dict[str, list[float]] = defaultdict(list)
    for records, _ in _journals(runs_dir, plan_name, skipped):
        for sid, record in records.items():
            if record.state == "succeeded" and record.seconds is not None:
                samples[sid].append(record.seconds)
    return _means(samples)


def rollback_durations(
    runs_dir: Path, plan_name: str, skipped: list[str] | None = None
) -> dict[str, float]:
    """Mean seconds per step of its undo (rollback started to rolled back, verification
    included) over earlier runs that rolled it back."""
    samples: dict[str, list[float]] = defaultdict(list)
    for _, events in _journals(runs_dir, plan_name, skipped):
        started: dict[str, datetime] = {}
        for event in events:
            if event.step is None:
                continue
            if event.kind == "step.rollback_started":
                started[event.step] = datetime.fromisoformat(event.ts)
            elif event.kind == "step.rolled_back" and event.step in started:
                took = datetime.fromisoformat(event.ts) - started.pop(event.step)
                samples[event.step].append(took.total_seconds())
    return _means(samples)
