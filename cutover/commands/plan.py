"""`cutover plan ...`: validate a plan, show its graph and ETA, export its JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Group
from rich.table import Table
from rich.text import Text

from cutover.context import state
from cutover.engine.history import step_durations
from cutover.journal import runs_dir
from cutover.plan import json_schema, load_plan
from cutover.plan.durations import format_duration
from cutover.plan.model import PlaybookStep, StackStep

plan_app = typer.Typer(help="Cutover plans: validate, show, schema.", no_args_is_help=True)

PlanArg = Annotated[Path, typer.Argument(help="The plan file (YAML).")]
RunsDirOpt = Annotated[
    Path | None,
    typer.Option("--runs-dir", help="Where runs are kept (default $CUTOVER_RUNS_DIR or .runs)."),
]


@plan_app.command("validate")
def validate(ctx: typer.Context, plan: PlanArg) -> None:
    """Check a plan; print one line naming the file, line and fix when it is wrong."""
    loaded = load_plan(plan)
    state(ctx).out.message(f"{plan}: ok, {len(loaded.steps)} steps", steps=len(loaded.steps))


def _actions(step: Any) -> str:
    if isinstance(step, PlaybookStep):
        parts = [step.playbook]
        if step.verify:
            parts.append(f"verify {step.verify}")
        return ", ".join(parts)
    if isinstance(step, StackStep):
        return f"{step.stack}: " + ", ".join(f"{k}={v}" for k, v in step.config.items())
    return str(step.kind)


def _undo(step: Any) -> str:
    if step.point_of_no_return:
        return f"POINT OF NO RETURN: {step.point_of_no_return}"
    if isinstance(step, PlaybookStep):
        return step.rollback or ("read-only" if step.read_only else "")
    if isinstance(step, StackStep):
        return step.rollback or ""
    return "-"


@plan_app.command("show")
def show(
    ctx: typer.Context,
    plan: PlanArg,
    runs: RunsDirOpt = None,
    env: Annotated[
        str | None,
        typer.Option(
            "--env",
            help="Also predict the window in ENV (staging, production): its TTLs, its data "
            "volumes, the rehearsed step and rollback times, with the arithmetic.",
        ),
    ] = None,
) -> None:
    """The graph in execution order, the critical path and the ETA (from rehearsals)."""
    loaded = load_plan(plan)
    prediction = None
    if env is not None:
        from cutover.report.window import predict_window

        prediction = predict_window(loaded, env, runs_dir(runs))
    skipped: list[str] = []
    history = step_durations(runs_dir(runs), loaded.name, skipped)
    for reason in skipped:
        state(ctx).out.warning(f"history: skipped {reason}")
    total, path = loaded.critical_path(history)
    rows: list[dict[str, Any]] = []
    for sid in loaded.order():
        step = loaded.steps[sid]
        source = (
            "rehearsal"
            if sid in history
            else "estimate"
            if step.estimate is not None
            else "worst case"
        )
        rows.append(
            {
                "id": sid,
                "kind": step.kind,
                "needs": step.needs,
                "owner": loaded.owner(step),
                "approver": loaded.approver(step),
                "expected_seconds": loaded.expected(step, history),
                "expected_from": source,
                "critical": sid in path,
                "idempotent": step.idempotent,
                "action": _actions(step),
                "undo": _undo(step),
            }
        )
    window = loaded.model.window
    data: dict[str, Any] = {
        "plan": loaded.name,
        "file": str(plan),
        "steps": rows,
        "critical_path": path,
        "eta_seconds": total,
        "eta_from": "rehearsal history" if history else "estimates and timeouts",
        "window": None
        if window is None
        else {"start": window.starts.isoformat(), "end": window.ends.isoformat(), "tz": window.tz},
        "prediction": None if prediction is None else prediction.to_dict(),
    }
    table = Table(title=f"plan {loaded.name} ({len(rows)} steps)")
    for column in ("", "step", "kind", "needs", "owner / approver", "expect", "does", "undo"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            "*" if row["critical"] else "",
            row["id"],
            row["kind"],
            ", ".join(row["needs"]),
            f"{row['owner']} / {row['approver']}",
            f"{format_duration(row['expected_seconds'])} ({row['expected_from']})",
            row["action"],
            row["undo"],
        )
    summary = (
        f"critical path (*): {' -> '.join(path)}\n"
        f"ETA {format_duration(total)} from {data['eta_from']}"
    )
    if window is not None:
        summary += (
            f"\nwindow {window.starts:%Y-%m-%d %H:%M} - {window.ends:%Y-%m-%d %H:%M} {window.tz}"
        )
    if prediction is not None:
        summary += f"\n\nsuggested window in {prediction.env}: " + format_duration(
            prediction.window_s
        )
        summary += "".join(f"\n  {line}" for line in prediction.arithmetic())
        planned = None if window is None else (window.ends - window.starts).total_seconds()
        if planned is not None and prediction.window_s > planned:
            summary += f"\n  the plan's window ({format_duration(planned)}) is shorter than this"
    state(ctx).out.result(data, render=Group(table, Text(summary)))


@plan_app.command("schema")
def schema(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead.")
    ] = None,
) -> None:
    """The plan file's JSON Schema, for editors (yaml-language-server, VS Code)."""
    text = json.dumps(json_schema(), indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


def register(app: typer.Typer) -> None:
    app.add_typer(plan_app, name="plan")
