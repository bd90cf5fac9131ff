"""Approving a gate of a running run, from any terminal (a journal append)."""

from __future__ import annotations

import getpass
from pathlib import Path

from cutover.errors import EngineError
from cutover.journal import RUN_FINAL, Journal, run_folder


def approve(runs_dir: Path, run_id: str, step: str, by: str | None = None) -> str:
    """Record that ``by`` approves gate ``step``; returns who. EngineError if not a gate
    that can still be approved."""
    journal = Journal.open(run_folder(runs_dir, run_id))
    try:
        meta = journal.meta()
        kinds: dict[str, str] = meta.get("steps", {})
        if step not in kinds:
            raise EngineError(
                f"run {run_id} has no step '{step}'",
                hint="gates: " + (", ".join(s for s, k in kinds.items() if k == "gate") or "none"),
            )
        if kinds[step] != "gate":
            raise EngineError(f"step '{step}' is a {kinds[step]} step, not a gate")
        state = journal.state()
        if state in RUN_FINAL:
            raise EngineError(f"run {run_id} is finished ({state})")
        record = journal.steps().get(step)
        if record is not None and record.state == "succeeded":
            raise EngineError(f"gate '{step}' is already passed")
        who = by or getpass.getuser()
        journal.append("gate.approved", step, by=who)
        return who
    finally:
        journal.close()
