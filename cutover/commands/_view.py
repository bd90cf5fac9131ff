"""The live view of a run for people, and the JSON event stream for machines."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from cutover.output import Output
from cutover.plan.durations import format_duration

if TYPE_CHECKING:
    from cutover.engine import Outcome

_STYLE = {
    "succeeded": "green",
    "rolled_back": "yellow",
    "kept": "magenta",
    "failed": "red",
    "rollback_failed": "bold red",
    "rollback_blocked": "bold red",
    "running": "cyan",
    "pending": "dim",
    "held": "yellow",
}


class Progress:
    """An engine reporter: one line per state change, tasks indented under their step."""

    def __init__(self, out: Output, *, tasks: bool = True) -> None:
        self.out = out
        self.tasks = tasks
        self._lock = threading.Lock()

    def __call__(self, kind: str, **data: Any) -> None:
        with self._lock:
            if self.out.json_mode:
                self.out.event(kind, **data)
                return
            line = self._line(kind, data)
            if line:
                clock = datetime.now().strftime("%H:%M:%S")
                # _line escapes every value it puts in its markup
                self.out.console.print(Text.from_markup(f"[dim]{clock}[/dim] {line}"))

    def _line(self, kind: str, data: dict[str, Any]) -> str | None:
        # plan text and Ansible output may contain [brackets]: never let them be markup
        d = {k: escape(v) if isinstance(v, str) else v for k, v in data.items()}
        step = d.get("step", "")
        msg = d.get("message") or ""
        match kind:
            case "run.started" | "run.resumed":
                return f"[bold]run {d['run']}[/bold] {kind.split('.')[1]}"
            case "run.waiting":
                return f"waiting for the start at {d.get('until')}"
            case "run.stopping":
                return f"[yellow]stopping[/yellow]: {d.get('reason')} -> {d.get('decision')}"
            case kind if kind.startswith("run."):
                return f"[bold]run {d['run']}: {kind.split('.')[1].replace('_', ' ')}[/bold]"
            case "step.started":
                return f"[cyan]> {step}[/cyan] ({d.get('step_kind')}, {d.get('owner')})"
            case "step.verify_started":
                return f"[cyan]> {step}[/cyan] verifying again: {msg}"
            case "step.succeeded":
                return f"[green]ok {step}[/green]"
            case "step.failed":
                return f"[red]FAILED {step}[/red] ({d.get('phase')}): {msg}"
            case "step.retrying":
                return f"[yellow]retry {step}[/yellow] after attempt {d.get('attempt')}: {msg}"
            case "step.rollback_started":
                return f"[yellow]rolling back {step}[/yellow]"
            case "step.rollback_verify_started":
                return f"[yellow]verifying the rollback of {step} again[/yellow]: {msg}"
            case "step.rolled_back":
                return f"[yellow]rolled back {step}[/yellow]"
            case "step.rollback_failed":
                return f"[bold red]ROLLBACK FAILED {step}[/bold red]: {msg}"
            case "step.rollback_blocked":
                return f"[bold red]NOT ROLLED BACK {step}[/bold red]: {msg}"
            case "step.kept":
                return f"[magenta]kept {step}[/magenta]: {msg}"
            case "step.reset":
                return f"reset {step}: {msg}"
            case "gate.waiting":
                return (
                    f"[bold yellow]gate {step}[/bold yellow] waits for {d.get('approver')}: "
                    f"`{d.get('command')}`"
                )
            case "gate.approved":
                return f"gate {step} approved by {d.get('by')}"
            case "gate.denied":
                return f"[red]gate {step} denied[/red] by {d.get('by')}: {d.get('reason')}"
            case "wait.until":
                return f"{step} waits until {d.get('until')}"
            case "probe":
                mark = "[green]pass[/green]" if d.get("ok") else "[red]fail[/red]"
                return f"  {step}: {mark} {d.get('detail')}"
            case "task" if self.tasks:
                status = "changed" if d.get("changed") else d.get("status")
                where = escape(f"[{d.get('host')}]")
                return f"  [dim]{step} {d.get('action')}: {d.get('task')} {where} {status}[/dim]"
        return None


def steps_table(outcome: Outcome) -> Table:
    table = Table(title=f"run {outcome.run_id}: {outcome.state}")
    for column in ("step", "kind", "state", "tries", "time", "owner", "note"):
        table.add_column(column)
    for sid, s in outcome.steps.items():
        style = _STYLE.get(s["state"], "")
        seconds = format_duration(s["seconds"]) if s["seconds"] is not None else ""
        table.add_row(
            sid,
            s["kind"],
            Text(s["state"], style=style),
            str(s["attempts"]),
            seconds,
            s["owner"] or "",
            s["message"] or "",
        )
    return table


def outcome_data(outcome: Outcome) -> dict[str, Any]:
    return {
        "run": outcome.run_id,
        "state": outcome.state,
        "run_dir": str(outcome.run_dir),
        "steps": outcome.steps,
    }


class LabProgress(Progress):
    """Engine progress plus a lab's: its phases (rehearsal), hosts, snapshots and
    verifications."""

    def _line(self, kind: str, data: dict[str, Any]) -> str | None:
        match kind:
            case "phase":
                return f"[bold]== {escape(str(data['name']))}[/bold]"
            case "verify":
                mark = "[green]passed[/green]" if data["ok"] else "[red]FAILED[/red]"
                failed = "".join(f"\n    {escape(f)}" for f in data.get("failed", []))
                state = escape(str(data["state"]))
                return f"verification {state}: {mark} ({data['passed']} checks){failed}"
            case "host.ready":
                count = escape(f"[{data['done']}/{data['total']}]")
                return f"  host {escape(str(data['host']))} {count}"
            case "snapshot.restored":
                return (
                    f"lab restored from snapshot {escape(str(data['name']))} "
                    f"(key {escape(str(data['key']))}) in {data['seconds']} s: provisioning skipped"
                )
            case "snapshot.saved":
                return (
                    f"provisioned lab saved as snapshot {escape(str(data['name']))} "
                    f"(key {escape(str(data['key']))}) in {data['seconds']} s"
                )
            case "snapshot.stale":
                changed = escape(", ".join(data["changed"]))
                return f"snapshot {escape(str(data['name']))} is stale ({changed} changed)"
            case "snapshot.dropped":
                reason = escape(str(data["reason"]))
                return f"snapshot {escape(str(data['name']))} dropped: {reason}"
            case "bridge.ready":
                return f"bridge {escape(str(data['bridge']))} {escape(str(data['address']))}"
            case "stack.event":
                return f"  {escape(str(data['text']))}"
            case "hosts.start":
                return f"bringing up {data['total']} hosts"
            case "host.removed" | "host.destroyed":
                return f"  removed {escape(str(data['host']))}"
            case "template.build":
                template = escape(str(data["template"]))
                return f"building the lab template {template} (once, a few minutes)"
        return super()._line(kind, data)
