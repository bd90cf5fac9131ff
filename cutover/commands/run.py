"""`cutover run | resume | rollback | approve`: execute plans through the engine."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal
from zoneinfo import ZoneInfo

import typer

from cutover.commands._view import Progress, outcome_data, steps_table
from cutover.context import state
from cutover.engine.gates import answer as answer_gate
from cutover.errors import ConfigError, EngineError
from cutover.journal import runs_dir
from cutover.output import Output
from cutover.plan import load_plan
from cutover.plan.model import DEFAULT_TZ

ByOpt = Annotated[
    str | None, typer.Option("--by", help="The gate's approver, as the plan names it.")
]

if TYPE_CHECKING:
    # the engine is imported where a run starts: options and plans are checked first,
    # without the seconds its start-up costs
    from cutover.engine import Engine, Outcome

RunsDirOpt = Annotated[
    Path | None,
    typer.Option("--runs-dir", help="Where runs are kept (default $CUTOVER_RUNS_DIR or .runs)."),
]
_NEXT = {
    "held": "resume it with `cutover resume {run}` or undo it with `cutover rollback {run}`",
    "rolled_back": "see `cutover show {run} --events` for what failed",
    "rollback_failed": "fix the cause, then `cutover rollback {run}`",
    "failed": "see `cutover show {run} --events`",
}


def _parse_at(text: str | None, tz: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(
            f"--at {text!r} is not a time", hint="write e.g. 2025-06-28T22:00"
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(tz))


def _decider(out: Output) -> Literal["rollback", "hold"]:
    if out.json_mode or not sys.stdin.isatty():
        return "hold"  # nobody to ask: holding changes nothing
    answer = typer.prompt(
        "\nInterrupted. Roll back completed steps, or hold the run? [rollback/hold]",
        default="hold",
    )
    return "rollback" if answer.strip().lower().startswith("r") else "hold"


@contextmanager
def _ctrl_c(engine: Engine) -> Iterator[None]:
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, lambda signum, frame: engine.interrupt())
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _finish(out: Output, outcome: Outcome, wanted: str = "succeeded") -> None:
    out.result(outcome_data(outcome), render=steps_table(outcome))
    if outcome.state != wanted:
        # an error, so the CLI prints one line and exits non-zero for scripts and schedulers
        # name every step left needing attention: the one that failed, and after a failed
        # rollback those whose rollback failed and those left applied because of them
        # (a step whose action failed part way ends rolled back: it is named as failed)
        groups = {
            "failed": [s for s, d in outcome.steps.items() if d["failed"]],
            "rollback failed": [
                s for s, d in outcome.steps.items() if d["state"] == "rollback_failed"
            ],
            "not rolled back": [
                s for s, d in outcome.steps.items() if d["state"] == "rollback_blocked"
            ],
        }
        parts = [f"{label}: {', '.join(steps)}" for label, steps in groups.items() if steps]
        why = f" ({'; '.join(parts)})" if parts else ""
        raise EngineError(
            f"run {outcome.run_id} ended {outcome.state}{why}",
            hint=_NEXT.get(outcome.state, "").format(run=outcome.run_id) or None,
        )


def _drive(out: Output, engine: Engine, action: str, assume: dict[str, str]) -> None:
    try:
        with _ctrl_c(engine):
            outcome = engine.rollback() if action == "rollback" else engine.execute(assume=assume)
    finally:
        engine.close()
    # A rollback that was asked for and completed is a success, not an error.
    _finish(out, outcome, "rolled_back" if action == "rollback" else "succeeded")


def register(app: typer.Typer) -> None:
    @app.command()
    def run(
        ctx: typer.Context,
        plan: Annotated[Path, typer.Argument(help="The plan file.")],
        env: Annotated[
            str, typer.Option("--env", help="lab, staging (rehearsal) or production (live).")
        ],
        check: Annotated[
            bool, typer.Option("--check", help="Ansible check mode and Pulumi preview only.")
        ] = False,
        at: Annotated[
            str | None, typer.Option("--at", help="Start at this time (waits for it).")
        ] = None,
        auto_approve: Annotated[
            bool, typer.Option("--auto-approve", help="Pass gates (rehearsals only).")
        ] = False,
        max_parallel: Annotated[
            int | None, typer.Option("--max-parallel", min=1, help="Steps at once.")
        ] = None,
        webhook: Annotated[
            str | None, typer.Option("--webhook", help="POST state changes to this URL.")
        ] = None,
        run_id: Annotated[str | None, typer.Option("--run-id", help="Name the run.")] = None,
        inject_failure: Annotated[
            str | None,
            typer.Option(
                "--inject-failure",
                metavar="STEP",
                help="Rehearsals: STEP fails after its action, to rehearse the rollback.",
            ),
        ] = None,
        extra: Annotated[
            list[str] | None, typer.Option("--var", "-e", help="KEY=VALUE for every playbook.")
        ] = None,
        quiet_tasks: Annotated[
            bool, typer.Option("--no-tasks", help="Hide Ansible task lines.")
        ] = False,
        runs: RunsDirOpt = None,
    ) -> None:
        """Run a plan: in dependency order, journaled, rolled back on failure."""
        out = state(ctx).out
        loaded = load_plan(plan)
        window = loaded.model.window
        extravars: dict[str, str] = {}
        for item in extra or []:
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise ConfigError(
                    f"--var {item!r} is not KEY=VALUE", hint="write e.g. -e dns_force=true"
                )
            extravars[key] = value
        from cutover import runworld
        from cutover.engine import RunOptions, create_run

        options = RunOptions(
            env=env,
            check=check,
            auto_approve=auto_approve,
            max_parallel=max_parallel,
            at=_parse_at(at, window.tz if window else DEFAULT_TZ),
            webhook=webhook,
            extravars=extravars,
            run_id=run_id,
            inject_failure=inject_failure,
        )
        engine = create_run(
            loaded,
            runs_dir(runs),
            options,
            runworld.factory(),
            report=Progress(out, tasks=not quiet_tasks),
            decide=lambda: _decider(out),
        )
        _drive(out, engine, "run", {})

    @app.command()
    def resume(
        ctx: typer.Context,
        run_id: Annotated[str, typer.Argument(metavar="RUN", help="The run to continue.")],
        assume: Annotated[
            list[str] | None,
            typer.Option(
                "--assume",
                help="STEP=done|redo for a step in doubt after a crash: done, its action "
                "completed (the step is verified); redo, run its action again.",
            ),
        ] = None,
        runs: RunsDirOpt = None,
    ) -> None:
        """Continue a crashed or held run; succeeded steps are never re-run."""
        out = state(ctx).out
        choices: dict[str, str] = {}
        for item in assume or []:
            step, _, choice = item.partition("=")
            if choice not in ("done", "redo"):
                raise ConfigError(
                    f"--assume {item!r}: write STEP=done or STEP=redo",
                    hint="done: the step's action completed (it is verified next); "
                    "redo: run its action again",
                )
            choices[step] = choice
        from cutover import runworld
        from cutover.engine import open_run

        engine = open_run(
            runs_dir(runs),
            run_id,
            runworld.factory(),
            report=Progress(out),
            decide=lambda: _decider(out),
        )
        _drive(out, engine, "run", choices)

    @app.command()
    def rollback(
        ctx: typer.Context,
        run_id: Annotated[str, typer.Argument(metavar="RUN", help="The run to undo.")],
        runs: RunsDirOpt = None,
    ) -> None:
        """Roll back a finished or held run, newest step first."""
        from cutover import runworld
        from cutover.engine import open_run

        out = state(ctx).out
        engine = open_run(runs_dir(runs), run_id, runworld.factory(), report=Progress(out))
        _drive(out, engine, "rollback", {})

    @app.command()
    def approve(
        ctx: typer.Context,
        run_id: Annotated[str, typer.Argument(metavar="RUN")],
        step: Annotated[str, typer.Argument(metavar="STEP", help="The gate to pass.")],
        by: ByOpt = None,
        runs: RunsDirOpt = None,
    ) -> None:
        """Approve a waiting gate of a running run (from any terminal)."""
        who = answer_gate(runs_dir(runs), run_id, step, by)
        state(ctx).out.message(f"approved {step} of {run_id} as {who}", step=step, by=who)

    @app.command()
    def deny(
        ctx: typer.Context,
        run_id: Annotated[str, typer.Argument(metavar="RUN")],
        step: Annotated[str, typer.Argument(metavar="STEP", help="The gate to refuse.")],
        reason: Annotated[str, typer.Option("--reason", help="Why: kept in the journal.")],
        by: ByOpt = None,
        runs: RunsDirOpt = None,
    ) -> None:
        """Refuse a waiting gate: the step fails, and the run rolls back as its policy says."""
        who = answer_gate(runs_dir(runs), run_id, step, by, deny=reason)
        state(ctx).out.message(f"denied {step} of {run_id} as {who}", step=step, by=who)
