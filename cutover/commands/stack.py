"""``cutover stack preview|up|refresh|destroy MERGER --env ENV``: stack updates on any
environment, shown as a plan before anything changes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from cutover.context import state
from cutover.inventory import find_merger_dir, load
from cutover.output import Output, markup

if TYPE_CHECKING:
    from cutover.inventory import Inventory
    from cutover.stack.workspace import StackHandle

stack_app = typer.Typer(help="Preview and apply the merged infrastructure's Pulumi stack.")

MergerArg = Annotated[str, typer.Argument(help="The merger, a folder under inventories/.")]
EnvOpt = Annotated[str, typer.Option("--env", help="lab, staging or production.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")]


def _open(merger: str, env: str) -> tuple[StackHandle, Inventory]:
    # Pulumi's SDK loads only once the merger and environment are known to be good: bad
    # input is refused without its seconds of start-up
    inv = load(find_merger_dir(merger), env)
    from cutover.stack.targets import open_target

    return open_target(inv), inv


def progress(out: Output) -> Any:
    def listener(kind: str, data: dict[str, Any]) -> None:
        out.event(f"stack.{kind}", **data)
        if out.json_mode:
            return
        if kind == "resource.done" and data["op"] != "same":
            out.message(f"  {data['op']:>8}  {data['name']}")
        elif kind == "resource.failed":
            out.message(markup("  [red]failed[/]  {op} {name}", op=data["op"], name=data["name"]))
        elif kind == "diagnostic" and data["severity"] == "error":
            out.message(markup("  [red]error[/]  {message}", message=data["message"]))

    return listener


@stack_app.command("preview")
def preview(ctx: typer.Context, merger: MergerArg, env: EnvOpt = "lab") -> None:
    """Show what an update would change; changes nothing."""
    out = state(ctx).out
    handle, _ = _open(merger, env)
    summary = handle.preview(progress(out))
    out.result({"stack": handle.name, "changes": summary.changes}, f"preview: {summary}")


@stack_app.command("up")
def up(ctx: typer.Context, merger: MergerArg, env: EnvOpt = "lab", yes: YesOpt = False) -> None:
    """Preview, confirm, then update the stack; a staging or production stack's Ansible
    inventory and known_hosts are written for provisioning and runs."""
    out = state(ctx).out
    handle, inv = _open(merger, env)
    planned = handle.preview(progress(out))
    out.message(f"plan: {planned}")
    changes, said = planned.changes, "nothing to do"
    if planned.changed:
        if not yes and not typer.confirm(f"apply these changes to {handle.name}?"):
            raise typer.Exit(1)
        summary = handle.up(progress(out))
        changes, said = summary.changes, f"updated: {summary}"
    data: dict[str, Any] = {"stack": handle.name, "changes": changes}
    if env != "lab":  # the lab writes its own, with the lab's key (cutover lab up)
        from cutover.stack.export import write_inventory

        data["inventory"] = str(write_inventory(handle, inv))
    out.result(data, said)


@stack_app.command("refresh")
def refresh(ctx: typer.Context, merger: MergerArg, env: EnvOpt = "lab") -> None:
    """Read the real state of every resource back into the stack."""
    out = state(ctx).out
    handle, _ = _open(merger, env)
    summary = handle.refresh(progress(out))
    out.result({"stack": handle.name, "changes": summary.changes}, f"refreshed: {summary}")


@stack_app.command("destroy")
def destroy(
    ctx: typer.Context, merger: MergerArg, env: EnvOpt = "lab", yes: YesOpt = False
) -> None:
    """Delete every resource of the stack (asks first unless --yes)."""
    out = state(ctx).out
    handle, _ = _open(merger, env)
    if not yes and not typer.confirm(f"destroy every resource of {handle.name}?"):
        raise typer.Exit(1)
    summary = handle.destroy(progress(out))
    out.result({"stack": handle.name, "changes": summary.changes}, f"destroyed: {summary}")


def register(app: typer.Typer) -> None:
    app.add_typer(stack_app, name="stack")
