"""``cutover init MERGER --target T --absorb A,B``: a new merger's skeleton (merger file,
lab twin, plans), from the project's table of the 63 former provinces."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cutover.context import state
from cutover.errors import ConfigError
from cutover.inventory import load
from cutover.inventory.loader import default_inventories


def init(
    ctx: typer.Context,
    merger: Annotated[
        str | None,
        typer.Argument(help="The new merger's name, e.g. tuyenquang-hagiang (target first)."),
    ] = None,
    target: Annotated[
        str | None, typer.Option("--target", help="The province whose name the merger keeps.")
    ] = None,
    absorb: Annotated[
        str | None, typer.Option("--absorb", help="The provinces merged into it, comma-separated.")
    ] = None,
    inventories: Annotated[
        Path | None,
        typer.Option("--inventories", help="Where mergers live (default: the project's)."),
    ] = None,
    list_: Annotated[
        bool, typer.Option("--list", help="List the provinces' ids and stop.")
    ] = False,
) -> None:
    """Write a new merger: merger.yml, its lab inventory and its plans; then rehearse it."""
    from cutover.inventory import skeleton

    out = state(ctx).out
    if list_:
        table = Table("id", "name", "domain", "code")
        rows = list(skeleton.provinces().values())
        for p in rows:
            table.add_row(p.id, p.name, p.domain, p.code)
        out.result({"provinces": [asdict(p) for p in rows]}, render=table)
        return
    if not merger or not target or not absorb:
        raise ConfigError(
            "cutover init needs the merger's name, --target and --absorb",
            hint="e.g. cutover init tuyenquang-hagiang --target tuyenquang --absorb hagiang",
        )
    base = inventories or default_inventories()
    absorbed = [a.strip() for a in absorb.split(",") if a.strip()]
    written = skeleton.write(base, merger, target, absorbed)
    inv = load(base / merger, "lab")  # what was written loads, or the error says why
    out.result(
        {"merger": inv.name, "network": str(inv.network), "files": [str(p) for p in written]}
    )
    out.message(
        f"wrote {len(written)} files for {inv.name} (lab {inv.network}); next: "
        f"`cutover rehearse {inv.name}`"
    )


def register(app: typer.Typer) -> None:
    app.command("init")(init)
