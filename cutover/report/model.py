"""What a rehearsal report says, independent of how it is rendered.

Times are seconds from the start of the run, so charts need no time zone arithmetic;
the absolute start is kept once for people."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cutover.journal import Journal


@dataclass
class StepTiming:
    id: str
    kind: str
    owner: str | None
    approver: str | None
    state: str
    planned_s: float | None  # the estimate the plan or earlier rehearsals gave
    start_s: float | None
    end_s: float | None
    rollback_start_s: float | None = None
    rollback_end_s: float | None = None


@dataclass
class ProbeSample:
    t_s: float
    ok: bool
    latency_ms: float
    detail: str = ""  # for failures: what went wrong (never a secret)


@dataclass
class ProbeSeries:
    service: str
    target: str
    samples: list[ProbeSample] = field(default_factory=list)

    @property
    def failures(self) -> list[ProbeSample]:
        return [s for s in self.samples if not s.ok]


@dataclass
class MessageAccount:
    sent: int = 0
    found: int = 0
    duplicated: list[str] = field(default_factory=list)  # Message-IDs found more than once
    lost: list[str] = field(default_factory=list)  # Message-IDs found nowhere


@dataclass
class Rehearsal:
    merger: str
    env: str
    run_id: str
    state: str
    started_at: str  # ISO, with offset
    wall_s: float
    critical_path_s: float
    steps: list[StepTiming] = field(default_factory=list)
    probes: list[ProbeSeries] = field(default_factory=list)
    rollbacks: list[dict[str, Any]] = field(default_factory=list)
    messages: MessageAccount = field(default_factory=MessageAccount)
    injected_failure: str | None = None
    safety_margin: float = 0.5  # without a prediction: the lab's time plus this share
    # The window predicted for the real environment (cutover.plan.predict's to_dict and
    # its arithmetic lines); None for a merger with no staging or production inventory.
    prediction: dict[str, Any] | None = None
    prediction_lines: list[str] = field(default_factory=list)

    @property
    def suggested_window_s(self) -> float:
        if self.prediction is not None:
            return float(self.prediction["window_s"])
        return max(self.critical_path_s, self.wall_s) * (1 + self.safety_margin)

    @property
    def failed_probes(self) -> int:
        return sum(len(p.failures) for p in self.probes)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["suggested_window_s"] = self.suggested_window_s
        data["failed_probes"] = self.failed_probes
        return data


def _seconds(ts: str | None, origin: datetime) -> float | None:
    return None if ts is None else (datetime.fromisoformat(ts) - origin).total_seconds()


def steps_from_journal(
    run_dir: Path, plan_steps: dict[str, dict[str, Any]], origin: datetime
) -> tuple[list[StepTiming], list[dict[str, Any]]]:
    """Step timings and rollback events from a run's journal. ``plan_steps``: per step
    id, its kind, owner, approver and planned seconds."""
    journal = Journal.open(run_dir)
    try:
        records = journal.steps()
        events = journal.events()
    finally:
        journal.close()
    first: dict[tuple[str, str], str] = {}
    for event in events:
        if event.step and event.kind in ("step.started", "step.rollback_started"):
            first.setdefault((event.step, event.kind), event.ts)
    rollback_end: dict[str, str] = {}
    rollbacks = []
    for event in events:
        if event.step and event.kind.startswith("step.rolled_back"):
            rollback_end[event.step] = event.ts
        if "rollback" in event.kind or event.kind == "run.rolling_back":
            rollbacks.append(
                {"t_s": _seconds(event.ts, origin), "step": event.step, "kind": event.kind}
            )
    timings = []
    for step_id, info in plan_steps.items():
        record = records.get(step_id)
        started = first.get((step_id, "step.started")) or (record.started if record else None)
        timings.append(
            StepTiming(
                id=step_id,
                kind=info.get("kind", ""),
                owner=info.get("owner"),
                approver=info.get("approver"),
                state=record.state if record else "not_run",
                planned_s=info.get("planned_s"),
                start_s=_seconds(started, origin),
                end_s=_seconds(record.finished if record else None, origin),
                rollback_start_s=_seconds(first.get((step_id, "step.rollback_started")), origin),
                rollback_end_s=_seconds(rollback_end.get(step_id), origin),
            )
        )
    return timings, rollbacks
