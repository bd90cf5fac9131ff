"""``cutover stack preview|up|refresh|destroy MERGER --env ENV``: stack updates on any
environment, shown as a plan before anything changes."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cutover.context import state
from cutover.errors import ConfigError
from cutover.output import Output
from cutover.paths import project_root
from cutover.stack import StackHandle, open_stack

ENVIRONMENTS = ("lab", "staging", "production")

stack_app = typer.Typer(help="Preview and apply the merged infrastructure's Pulumi stack.")

MergerArg = Annotated[str, typer.Argument(help="The merger, a folder under inventories/.")]
EnvOpt = Annotated[str, typer.Option("--env", help="lab, staging or production.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")]


def stack_name(merger: str, env: str) -> str:
    return f"{merger}-{env}"


def check_target(merger: str, env: str) -> None:
    if env not in ENVIRONMENTS:
        raise ConfigError(
            f"unknown environment {env!r}", hint=f"use one of {', '.join(ENVIRONMENTS)}"
        )
    inventories = project_root() / "inventories"
    if not (inventories / merger / env).is_dir():
        known = (
            sorted(p.name for p in inventories.iterdir() if p.is_dir())
            if inventories.is_dir()
            else []
        )
        raise ConfigError(
            f"no inventory for merger {merger!r} in environment {env!r} "
            f"(looked for {inventories / merger / env})",
            hint=f"known mergers: {', '.join(known) or 'none'}",
        )


def progress(out: Output) -> Any:
    def listener(kind: str, data: dict[str, Any]) -> None:
        out.event(f"stack.{kind}", **data)
        if out.json_mode:
            return
        if kind == "resource.done" and data["op"] != "same":
            out.message(f"  {data['op']:>8}  {data['name']}")
        elif kind == "resource.failed":
            out.message(f"  [red]failed[/]  {data['op']} {data['name']}")
        elif kind == "diagnostic" and data["severity"] == "error":
            out.message(f"  [red]error[/]  {data['message']}")

    return listener


def open_target(merger: str, env: str) -> StackHandle:
    check_target(merger, env)
    handle = open_stack(stack_name(merger, env))
    current = handle.get_config()
    wanted = {
        "cutover:merger": merger,
        "cutover:environment": env,
        "cutover:compute": "lab" if env == "lab" else "openstack",
    }
    missing = {k: v for k, v in wanted.items() if k not in current}
    if missing:
        handle.set_config(missing)
    return handle


@stack_app.command("preview")
def preview(ctx: typer.Context, merger: MergerArg, env: EnvOpt = "lab") -> None:
    """Show what an update would change; changes nothing."""
    out = state(ctx).out
    summary = open_target(merger, env).preview(progress(out))
    out.result(
        {"stack": stack_name(merger, env), "changes": summary.changes}, f"preview: {summary}"
    )


@stack_app.command("up")
def up(ctx: typer.Context, merger: MergerArg, env: EnvOpt = "lab", yes: YesOpt = False) -> None:
    """Preview, confirm, then update the stack."""
    out = state(ctx).out
    handle = open_target(merger, env)
    planned = handle.preview(progress(out))
    out.message(f"plan: {planned}")
    if not planned.changed:
        out.result({"stack": handle.name, "changes": planned.changes}, "nothing to do")
        return
    if not yes and not typer.confirm(f"apply these changes to {handle.name}?"):
        raise typer.Exit(1)
    summary = handle.up(progress(out))
    out.result({"stack": handle.name, "changes": summary.changes}, f"updated: {summary}")


@stack_app.command("refresh")
def refresh(ctx: typer.Context, merger: MergerArg, env: EnvOpt = "lab") -> None:
    """Read the real state of every resource back into the stack."""
    out = state(ctx).out
    summary = open_target(merger, env).refresh(progress(out))
    out.result(
        {"stack": stack_name(merger, env), "changes": summary.changes}, f"refreshed: {summary}"
    )


@stack_app.command("destroy")
def destroy(
    ctx: typer.Context, merger: MergerArg, env: EnvOpt = "lab", yes: YesOpt = False
) -> None:
    """Delete every resource of the stack (asks first unless --yes)."""
    out = state(ctx).out
    handle = open_target(merger, env)
    if not yes and not typer.confirm(f"destroy every resource of {handle.name}?"):
        raise typer.Exit(1)
    summary = handle.destroy(progress(out))
    out.result({"stack": handle.name, "changes": summary.changes}, f"destroyed: {summary}")


def register(app: typer.Typer) -> None:
    app.add_typer(stack_app, name="stack")
