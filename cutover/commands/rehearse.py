"""``cutover rehearse MERGER``: the whole cutover on the lab twin, with a report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cutover.commands._view import LabProgress
from cutover.context import state
from cutover.errors import ConfigError, EngineError
from cutover.output import Output
from cutover.report.i18n import LANGS


def rehearse_command(
    ctx: typer.Context,
    merger: Annotated[str, typer.Argument(help="A merger under inventories/ or its folder.")],
    inject_failure: Annotated[
        str | None,
        typer.Option("--inject-failure", metavar="STEP", help="Rehearse a rollback at STEP."),
    ] = None,
    keep: Annotated[bool, typer.Option("--keep", help="Leave the lab running afterwards.")] = False,
    lang: Annotated[str, typer.Option("--lang", help="Report language: vi or en.")] = "vi",
    plan: Annotated[
        Path | None,
        typer.Option("--plan", help="Plan file (default inventories/MERGER/plans/cutover.yml)."),
    ] = None,
    runs: Annotated[Path | None, typer.Option("--runs-dir", help="Where runs are kept.")] = None,
    tasks: Annotated[bool, typer.Option("--tasks/--no-tasks", help="Show Ansible tasks.")] = False,
    snapshots: Annotated[
        bool,
        typer.Option(
            "--snapshot/--no-snapshot",
            help="Restore the provisioned lab from its snapshot when its key matches, and "
            "save one after provisioning (--no-snapshot: provision from the template).",
        ),
    ] = True,
) -> None:
    """Rehearse a merger's whole cutover on its lab twin and write the report."""
    if lang not in LANGS:
        raise ConfigError(f"unknown report language {lang!r}", hint="use --lang vi or --lang en")
    # the rehearsal machinery (engine, lab, probes) loads after the options are checked
    from cutover.rehearse.run import Options, rehearse

    out: Output = state(ctx).out
    result = rehearse(
        Options(
            merger,
            plan=plan,
            inject_failure=inject_failure,
            keep=keep,
            lang=lang,
            runs=runs,
            snapshots=snapshots,
        ),
        LabProgress(out, tasks=tasks),
    )
    r = result.rehearsal
    summary = {
        "run": r.run_id,
        "state": r.state,
        "verified": result.verified,
        "lab": result.lab,
        "report": str(result.html),
        "json": str(result.json),
        "wall_s": round(r.wall_s, 1),
        "critical_path_s": round(r.critical_path_s, 1),
        "ratio": round(r.wall_s / r.critical_path_s, 2) if r.critical_path_s else None,
        "failed_probes": r.failed_probes,
        "messages_sent": r.messages.sent,
        "messages_lost": len(r.messages.lost),
        "messages_duplicated": len(r.messages.duplicated),
    }
    out.result(
        summary,
        render=(
            f"rehearsal {r.run_id}: {r.state}, verified={result.verified}, lab {result.lab}, "
            f"{r.failed_probes} failed probes, {len(r.messages.lost)} lost of "
            f"{r.messages.sent} messages, wall {r.wall_s:.0f} s vs critical path "
            f"{r.critical_path_s:.0f} s\nreport: {result.html}"
        ),
    )
    wanted = "rolled_back" if inject_failure else "succeeded"
    clean = r.failed_probes == 0 and not r.messages.lost and not r.messages.duplicated
    if r.state != wanted or not result.verified or not clean:
        raise EngineError(
            f"rehearsal {r.run_id} did not pass (state {r.state}, verified={result.verified}, "
            f"{r.failed_probes} failed probes, {len(r.messages.lost)} lost messages)",
            hint=f"read {result.html}",
        )


def register(app: typer.Typer) -> None:
    app.command("rehearse")(rehearse_command)
