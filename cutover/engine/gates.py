"""Answering a gate of a running run, from any terminal (a journal append).

A gate is answered only while it waits (the engine journals ``gate.waiting`` when it
starts waiting), and only by the approver the plan names for it: approving a gate before
its run reaches it would be ``--auto-approve`` by another name. Beside the name given,
the answer records the operating-system user and host it came from.
"""

from __future__ import annotations

import getpass
import socket
import unicodedata
from pathlib import Path

from cutover.errors import EngineError
from cutover.journal import RUN_FINAL, Event, Journal, run_folder

# what ends a gate's wait: after one of these, an answer is to another wait, or to none
_ENDS_WAIT = ("gate.approved", "gate.denied", "step.reset", "step.failed", "step.succeeded")


def waiting(events: list[Event]) -> Event | None:
    """The ``gate.waiting`` event of the wait still open among a step's events."""
    open_wait: Event | None = None
    for event in events:
        if event.kind == "gate.waiting":
            open_wait = event
        elif event.kind in _ENDS_WAIT:
            open_wait = None
    return open_wait


def _plain(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def accepted_names(approver: str) -> set[str]:
    """The approver as the plan writes it, and the person's name before any
    "(role)": "Phạm Văn Dũng (Giám đốc Sở)" is answered as either."""
    names = {_plain(approver)}
    if " (" in approver:
        names.add(_plain(approver.split(" (", 1)[0]))
    return names


def answer(
    runs_dir: Path, run_id: str, step: str, by: str | None, *, deny: str | None = None
) -> str:
    """Record that ``by`` approves gate ``step`` (or denies it, giving ``deny`` as the
    reason); returns who. EngineError unless the gate waits and ``by`` is its approver."""
    journal = Journal.open(run_folder(runs_dir, run_id))
    try:
        meta = journal.meta()
        kinds: dict[str, str] = meta.get("steps", {})
        if step not in kinds:
            raise EngineError(
                f"run {run_id} has no step '{step}'",
                hint="gates: " + (", ".join(s for s, k in kinds.items() if k == "gate") or "none"),
            )
        if kinds[step] != "gate":
            raise EngineError(f"step '{step}' is a {kinds[step]} step, not a gate")
        state = journal.state()
        if state in RUN_FINAL:
            raise EngineError(f"run {run_id} is finished ({state})")
        record = journal.steps().get(step)
        if record is not None and record.state == "succeeded":
            raise EngineError(f"gate '{step}' is already passed")
        wait = waiting(journal.events(step=step))
        if wait is None:
            raise EngineError(
                f"gate '{step}' of run {run_id} is not waiting for an answer",
                hint="a gate is answered when the run reaches it and shows its command",
            )
        approver = str(wait.data.get("approver") or "")
        if not by or _plain(by) not in accepted_names(approver):
            raise EngineError(
                f"gate '{step}' is answered by its approver, {approver}, not {by or 'nobody'}",
                hint=f"--by '{approver}'",
            )
        origin = {"os_user": getpass.getuser(), "host": socket.gethostname(), "wait": wait.seq}
        if deny is None:
            journal.append("gate.approved", step, by=by, **origin)
        else:
            journal.append("gate.denied", step, by=by, reason=deny, **origin)
        return by
    finally:
        journal.close()
