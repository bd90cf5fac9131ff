"""``cutover lab up|down|status MERGER``: the merger's lab twin on this machine."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from cutover.context import state
from cutover.inventory import Inventory, find_merger_dir, load
from cutover.output import Output

if TYPE_CHECKING:
    from cutover.lab import lab as lablib

MergerArg = Annotated[
    str, typer.Argument(help="A merger under inventories/ (e.g. quangngai-kontum) or its path.")
]


def _reporter(out: Output) -> lablib.Report:
    def report(kind: str, **data: Any) -> None:
        out.event(kind, **data)
        if out.json_mode:
            return
        if kind == "template.build":
            out.message(f"building the lab template {data['template']} (a few minutes, once)")
        elif kind == "bridge.ready":
            out.message(f"bridge {data['bridge']} {data['address']}")
        elif kind == "hosts.start":
            out.message(f"bringing up {data['total']} hosts")
        elif kind == "host.ready":
            out.message(f"  [{data['done']}/{data['total']}] {data['host']} {data['address']}")
        elif kind in ("host.removed", "host.destroyed"):
            out.message(f"  removed {data['host']}")
        elif kind == "stack.event":
            out.message(f"  {data['text']}")

    return report


def _applier(inv: Inventory) -> lablib.HostsApplier:
    """Through the project's Pulumi stack, unless CUTOVER_LAB_ENGINE=direct."""
    from cutover.lab import stack as lab_stack

    return lab_stack.hosts_applier(inv)


def up(ctx: typer.Context, merger: MergerArg) -> None:
    """Create or converge the lab: bridge, containers, SSH keys, Ansible inventory."""
    out = state(ctx).out
    inv = load(find_merger_dir(merger), "lab")
    # the lab machinery (Pulumi, SSH) loads once the merger is known to be good
    from cutover.lab import lab as lablib

    started = time.monotonic()
    result = lablib.up(inv, _reporter(out), apply=_applier(inv))
    elapsed = time.monotonic() - started
    out.result(
        {
            "lab": result.lab,
            "hosts": len(result.hosts),
            "seconds": round(elapsed, 1),
            "inventory": str(result.inventory),
            "known_hosts": str(result.known_hosts),
        },
        render=f"lab {result.lab}: {len(result.hosts)} hosts up in {elapsed:.1f} s; "
        f"ansible -i {result.inventory} all -m ping",
    )


def down(ctx: typer.Context, merger: MergerArg) -> None:
    """Destroy the lab's containers, bridge and state."""
    out = state(ctx).out
    inv = load(find_merger_dir(merger), "lab")
    from cutover.lab import lab as lablib
    from cutover.lab import stack as lab_stack

    net = inv.env.network
    if lab_stack.enabled():
        lab_stack.destroy(inv, _reporter(out))
    count = lablib.down(net.lab or "", net.bridge, _reporter(out))
    out.result({"lab": net.lab, "destroyed": count}, render=f"lab {net.lab}: down")


def status(ctx: typer.Context, merger: MergerArg) -> None:
    """Show each host of the lab: container, address, state."""
    out = state(ctx).out
    inv = load(find_merger_dir(merger), "lab")
    from cutover.lab import lab as lablib

    rows = lablib.status(inv)
    table = Table("host", "container", "address", "state", "services")
    for row in rows:
        table.add_row(
            row["host"], row["container"], row["address"], row["state"], ",".join(row["services"])
        )
    out.result(rows, render=table)


def register(app: typer.Typer) -> None:
    lab_app = typer.Typer(help="The merger's lab twin: LXC containers on a host-only bridge.")
    lab_app.command("up")(up)
    lab_app.command("down")(down)
    lab_app.command("status")(status)
    app.add_typer(lab_app, name="lab")
