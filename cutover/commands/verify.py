"""``cutover verify MERGER --env ENV --state as-is|merged``: real clients, through the lab
resolver."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from cutover.context import state
from cutover.errors import CutoverError
from cutover.inventory import find_merger_dir, load

MergerArg = Annotated[
    str, typer.Argument(help="A merger under inventories/ (e.g. quangngai-kontum) or its path.")
]


def verify(
    ctx: typer.Context,
    merger: MergerArg,
    env: Annotated[str, typer.Option("--env", help="lab, staging or production.")] = "lab",
    state_name: Annotated[
        str,
        typer.Option(
            "--state", help="as-is (before, or after a rollback) or merged (after the cutover)."
        ),
    ] = "as-is",
    service: Annotated[
        list[str] | None, typer.Option("--service", help="Only these: dns, mail, portal, video.")
    ] = None,
) -> None:
    """Check DNS, mail, portals and video conference with real clients."""
    from cutover.verify import verify as run

    out = state(ctx).out
    inv = load(find_merger_dir(merger), env)
    report = run(inv, state_name, tuple(service or ()))
    table = Table("service", "target", "check", "result", "detail")
    for c in report.checks:
        table.add_row(
            c.service,
            c.target,
            c.name,
            Text("ok", style="green") if c.ok else Text("FAILED", style="red"),
            c.detail,
        )
    data = report.as_dict()
    out.result(data, render=table)
    out.message(f"{data['passed']} passed, {data['failed']} failed in {data['seconds']} s")
    if not report.ok:
        raise CutoverError(
            f"verification of {inv.name} ({state_name}) failed: {data['failed']} checks"
        )


def register(app: typer.Typer) -> None:
    app.command("verify")(verify)
