"""``cutover lab up|down|status MERGER``: the merger's lab twin on this machine."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Group
from rich.table import Table

from cutover.commands._view import LabProgress
from cutover.context import state
from cutover.errors import ConfigError
from cutover.inventory import Inventory, find_merger_dir, load
from cutover.output import Output

if TYPE_CHECKING:
    from cutover.lab import lab as lablib

MergerArg = Annotated[
    str, typer.Argument(help="A merger under inventories/ (e.g. quangngai-kontum) or its path.")
]


def _reporter(out: Output) -> lablib.Report:
    return LabProgress(out, tasks=False)


def _applier(inv: Inventory) -> lablib.HostsApplier:
    """Through the project's Pulumi stack, unless CUTOVER_LAB_ENGINE=direct."""
    from cutover.lab import lab as lablib
    from cutover.stack import lab as stack_lab

    return lablib.hosts_applier(inv, stack_lab)


def up(
    ctx: typer.Context,
    merger: MergerArg,
    from_: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="NAME",
            help="Restore the hosts and provisioning state of snapshot NAME (refused when "
            "the inputs that shaped it changed).",
        ),
    ] = None,
    provisioned: Annotated[
        bool,
        typer.Option(
            "--provisioned",
            help="Up, provisioned and verified as-is: from the snapshot 'provisioned' when its "
            "key matches, else provisioned and saved as it.",
        ),
    ] = False,
) -> None:
    """Create or converge the lab: bridge, containers, SSH keys, Ansible inventory."""
    out = state(ctx).out
    inv = load(find_merger_dir(merger), "lab")
    if from_ is not None and provisioned:
        raise ConfigError("--from and --provisioned are two ways of one thing: give one")
    # the lab machinery (Pulumi, SSH) loads once the merger is known to be good
    from cutover.lab import lab as lablib
    from cutover.lab import snapshot
    from cutover.lab.paths import lab_dir

    started = time.monotonic()
    how = "up"
    if provisioned:
        from cutover.rehearse import labstate

        how = labstate.provisioned(inv, _reporter(out), _applier(inv))
    else:
        restore = None
        if from_ is not None:
            from cutover.secretstore import env_dir

            restore = snapshot.restorer(inv, from_, env_dir(inv))
            how = "restored"
        lablib.up(inv, _reporter(out), apply=_applier(inv), restore=restore)
    elapsed = time.monotonic() - started
    lab = inv.env.network.lab or ""
    inventory = lab_dir(lab) / "inventory.yml"
    out.result(
        {
            "lab": lab,
            "hosts": len(inv.hosts),
            "how": how,
            "seconds": round(elapsed, 1),
            "inventory": str(inventory),
            "known_hosts": str(lab_dir(lab) / "known_hosts"),
        },
        render=f"lab {lab}: {len(inv.hosts)} hosts {how} in {elapsed:.1f} s; "
        f"ansible -i {inventory} all -m ping",
    )


def snapshot_command(
    ctx: typer.Context,
    merger: MergerArg,
    name: Annotated[str, typer.Argument(help="The snapshot's name.")] = "provisioned",
) -> None:
    """Save the lab's hosts (stopped for a moment) and provisioning state as NAME."""
    out = state(ctx).out
    inv = load(find_merger_dir(merger), "lab")
    from cutover.lab import snapshot
    from cutover.secretstore import env_dir

    saved = snapshot.save(inv, name, env_dir(inv), _reporter(out))
    out.result(
        {
            "lab": saved.lab,
            "name": saved.name,
            "key": saved.key,
            "seconds": saved.seconds,
            "path": str(saved.path),
        },
        render=f"lab {saved.lab}: snapshot {saved.name} (key {saved.key[:12]}) saved in "
        f"{saved.seconds:.1f} s; `cutover lab up {inv.name} --from {saved.name}` restores it",
    )


def down(
    ctx: typer.Context,
    merger: MergerArg,
    purge: Annotated[
        bool, typer.Option("--purge", help="Remove the lab's snapshots as well.")
    ] = False,
) -> None:
    """Destroy the lab's containers, bridge and state (its snapshots with --purge)."""
    out = state(ctx).out
    inv = load(find_merger_dir(merger), "lab")
    from cutover.lab import lab as lablib
    from cutover.lab import snapshot
    from cutover.stack import lab as stack_lab

    net = inv.env.network
    count = lablib.teardown(inv, stack_lab, _reporter(out))
    purged = snapshot.purge(net.lab or "") if purge else 0
    kept = "" if purge else f", {len(snapshot.listing(net.lab or ''))} snapshots kept"
    out.result(
        {"lab": net.lab, "destroyed": count, "snapshots_removed": purged},
        render=f"lab {net.lab}: down{kept}" + (f", {purged} snapshots removed" if purge else ""),
    )


def status(ctx: typer.Context, merger: MergerArg) -> None:
    """Show each host of the lab: container, address, state."""
    out = state(ctx).out
    inv = load(find_merger_dir(merger), "lab")
    from cutover.lab import lab as lablib
    from cutover.lab import snapshot

    rows = lablib.status(inv)
    table = Table("host", "container", "address", "state", "services")
    for row in rows:
        table.add_row(
            row["host"], row["container"], row["address"], row["state"], ",".join(row["services"])
        )
    found = snapshot.listing(inv.env.network.lab or "")
    if found:
        key = snapshot.key_of(inv)
        snaps = Table("snapshot", "taken", "key", "usable")
        for snap in found:
            changed = snap.changed(key)
            usable = "yes" if not changed else f"no: {', '.join(changed)} changed"
            snaps.add_row(snap.name, snap.created, snap.key[:12], usable)
        out.result(rows, render=Group(table, snaps))
        return
    out.result(rows, render=table)


def register(app: typer.Typer) -> None:
    lab_app = typer.Typer(help="The merger's lab twin: LXC containers on a host-only bridge.")
    lab_app.command("up")(up)
    lab_app.command("down")(down)
    lab_app.command("snapshot")(snapshot_command)
    lab_app.command("status")(status)
    app.add_typer(lab_app, name="lab")
