"""`cutover history | show | unlock`: read the journal and the environment locks."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Group
from rich.table import Table

from cutover.commands._view import outcome_data, steps_table
from cutover.context import state
from cutover.engine.history import step_durations
from cutover.engine.lock import break_lock, describe, lock_name, read_lock
from cutover.journal import Journal, list_runs, run_folder, runs_dir
from cutover.plan.durations import format_duration

if TYPE_CHECKING:
    from cutover.engine import Outcome

RunsDirOpt = Annotated[
    Path | None,
    typer.Option("--runs-dir", help="Where runs are kept (default $CUTOVER_RUNS_DIR or .runs)."),
]


def _outcome(journal: Journal) -> Outcome:
    from cutover.engine import Outcome  # the engine's start-up only where it is used

    meta = journal.meta()
    records = journal.steps()
    steps: dict[str, dict[str, Any]] = {}
    for sid, kind in meta.get("steps", {}).items():
        rec = records.get(sid)
        steps[sid] = {
            "kind": kind,
            "state": rec.state if rec else "pending",
            "attempts": rec.attempts if rec else 0,
            "seconds": rec.seconds if rec else None,
            "message": rec.message if rec else None,
            "owner": None,
        }
    return Outcome(meta["run_id"], journal.state(), steps, journal.run_dir)


def register(app: typer.Typer) -> None:
    @app.command()
    def history(
        ctx: typer.Context,
        env: Annotated[str | None, typer.Option("--env", help="Only this environment.")] = None,
        runs: RunsDirOpt = None,
    ) -> None:
        """Every run in the journal, oldest first."""
        rows = []
        skipped: list[str] = []
        for run_dir, meta in list_runs(runs_dir(runs), skipped):
            if env and meta.get("env") != env:
                continue
            rows.append(
                {
                    "run": meta.get("run_id", run_dir.name),
                    "plan": meta.get("plan_name"),
                    "env": meta.get("env"),
                    "mode": meta.get("mode"),
                    "state": meta.get("state"),
                }
            )
        table = Table(title="runs")
        for column in ("run", "plan", "env", "mode", "state"):
            table.add_column(column)
        for row in rows:
            table.add_row(*(str(row[c] or "") for c in ("run", "plan", "env", "mode", "state")))
        for reason in skipped:
            state(ctx).out.warning(f"skipped {reason}")
        state(ctx).out.result(rows, render=table)

    @app.command()
    def show(
        ctx: typer.Context,
        run_id: Annotated[str, typer.Argument(metavar="RUN")],
        events: Annotated[bool, typer.Option("--events", help="Also list every event.")] = False,
        runs: RunsDirOpt = None,
    ) -> None:
        """One run: its steps' states and times (vs rehearsals), optionally every event."""
        root = runs_dir(runs)
        journal = Journal.open(run_folder(root, run_id), read_only=True)
        try:
            outcome = _outcome(journal)
            meta = journal.meta()
            log = journal.events() if events else []
        finally:
            journal.close()
        rehearsed = step_durations(root, str(meta.get("plan_name")))
        data = outcome_data(outcome)
        data["meta"] = {k: v for k, v in meta.items() if k not in ("steps",)}
        for sid, step in data["steps"].items():
            step["rehearsal_seconds"] = rehearsed.get(sid)
        if events:
            data["events"] = [e.__dict__ for e in log]
        summary = f"plan {meta.get('plan_name')} | env {meta.get('env')} | mode {meta.get('mode')}"
        comparisons = [
            f"{sid}: {format_duration(s['seconds'])} vs rehearsal "
            f"{format_duration(s['rehearsal_seconds'])}"
            for sid, s in data["steps"].items()
            if s["seconds"] is not None and s["rehearsal_seconds"] is not None
        ]
        parts: list[Any] = [summary, steps_table(outcome)]
        if comparisons and meta.get("mode") == "live":
            parts.append("\n".join(comparisons))
        if events:
            parts.append(
                "\n".join(f"{e.seq:>4} {e.ts} {e.kind} {e.step or ''} {e.data}" for e in log)
            )
        state(ctx).out.result(data, render=Group(*parts))

    @app.command()
    def unlock(
        ctx: typer.Context,
        env: Annotated[str, typer.Argument(help="The environment to free.")],
        merger: Annotated[
            str | None, typer.Option("--merger", help="The merger whose environment it is.")
        ] = None,
        force: Annotated[
            bool, typer.Option("--force", help="Required: the owning run is abandoned.")
        ] = False,
        reason: Annotated[
            str | None, typer.Option("--reason", help="Why: journaled in the abandoned run.")
        ] = None,
        run_state: Annotated[
            str | None,
            typer.Option("--state", help="Production: the abandoned run's state, as it is."),
        ] = None,
    ) -> None:
        """Show who holds an environment; with --force, free it from an abandoned run."""
        out = state(ctx).out
        name = lock_name(env, Path(merger).name) if merger is not None else env
        info = read_lock(name)
        if info is None:
            out.message(f"environment {name} is free", env=name, lock=None)
            return
        if not force:
            out.message(f"environment {name} is held by {describe(info)}", env=name, lock=info)
            return
        freed = break_lock(name, env=env, reason=reason, state=run_state)
        if freed is None:
            out.message(f"environment {name} is free", env=name, lock=None)
            return
        out.message(f"environment {name} freed from {describe(freed)}", env=name, lock=freed)
