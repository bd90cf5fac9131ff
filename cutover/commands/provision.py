"""``cutover provision MERGER --env ENV [--check]``: configure every host from the inventory."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cutover.context import state
from cutover.errors import PlaybookError
from cutover.inventory import find_merger_dir, load
from cutover.output import Output, markup

MergerArg = Annotated[
    str, typer.Argument(help="A merger under inventories/ (e.g. quangngai-kontum) or its path.")
]
EnvOpt = Annotated[str, typer.Option("--env", help="lab, staging or production.")]


def _progress(out: Output) -> Any:
    """Live progress from ansible-runner events: plays, tasks, and each changed or failed
    host. Results of no_log tasks are censored by Ansible before they get here."""

    def on_event(event: dict[str, Any]) -> None:
        kind = event.get("event", "")
        data = event.get("event_data", {})
        if kind == "playbook_on_play_start":
            out.event("provision.play", play=data.get("play"))
            if not out.json_mode:
                out.message(markup("[bold]{play}[/bold]", play=data.get("play")))
        elif kind == "playbook_on_task_start":
            out.event("provision.task", task=data.get("task"))
        elif kind in ("runner_on_ok", "runner_on_failed", "runner_on_unreachable"):
            res = data.get("res", {})
            changed = bool(res.get("changed"))
            failed = kind != "runner_on_ok" and not data.get("ignore_errors")
            out.event("provision.host", host=data.get("host"), task=data.get("task"),
                      changed=changed, failed=failed)  # fmt: skip
            if not out.json_mode and (changed or failed):
                mark = "[red]failed[/red]" if failed else "[yellow]changed[/yellow]"
                msg = f": {res.get('msg')}" if failed and res.get("msg") else ""
                line = "  " + mark + " {host}: {task}{msg}"
                out.message(markup(line, host=data.get("host"), task=data.get("task"), msg=msg))

    return on_event


def provision(
    ctx: typer.Context,
    merger: MergerArg,
    env: EnvOpt = "lab",
    check: Annotated[
        bool, typer.Option("--check", help="Ansible check mode: report what would change.")
    ] = False,
) -> None:
    """Configure the as-is provinces' and the merged target's DNS, mail, portal and video
    hosts from the inventory (validated first: a bad inventory touches no host)."""
    from cutover.provision import provision as run

    out = state(ctx).out
    inv = load(find_merger_dir(merger), env)
    result = run(inv, check=check, on_event=_progress(out))
    failed_hosts = result.failed_hosts()
    summary: dict[str, Any] = {
        "merger": inv.name,
        "environment": inv.environment,
        "check": check,
        "status": result.status,
        "seconds": round(result.seconds, 1),
        "changed": result.total("changed"),
        "changed_by_host": {h: n for h, n in (result.stats.get("changed") or {}).items() if n},
        "failed_hosts": failed_hosts,
        "artifacts": str(result.artifact_dir),
    }
    verb = "would change" if check else "changed"
    out.result(
        summary,
        render=f"provision {inv.name}/{inv.environment}: {result.status} in "
        f"{result.seconds:.1f} s, {verb} {summary['changed']} tasks"
        + (f", failed on {', '.join(failed_hosts)}" if failed_hosts else "")
        + f" (artifacts: {result.artifact_dir})",
    )
    if not result.ok:
        raise PlaybookError(
            f"provision failed (rc {result.rc})", hint=f"see {result.artifact_dir}/stdout"
        )


def register(app: typer.Typer) -> None:
    app.command("provision")(provision)
