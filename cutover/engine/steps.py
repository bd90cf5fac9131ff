"""What each step kind does forward and backward. The engine journals around these.

Every function returns True on success; failures are journaled here with the phase
(``action`` or ``verify``) and whether the forward action had completed, because that
decides whether the step itself must be rolled back.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Any, Protocol

from cutover.ansible.runner import PlaybookResult
from cutover.engine.stacks import StackAdapter
from cutover.errors import CutoverError, EngineError
from cutover.journal import Event, Journal
from cutover.plan import LoadedPlan
from cutover.plan.model import CheckStep, GateStep, PlaybookStep, StackStep, WaitStep
from cutover.probes import parse_probe
from cutover.redact import MASK

# The set_stats key a playbook reports the old TTL it lowered under (``per_host: false``):
# the TTL a ``until: ttl-expired`` wait with no ``ttl``/``ttl_of`` waits out.
REPORTED_TTL = "cutover_old_ttl"


class Run(Protocol):
    """What a step kind may use of the run that executes it."""

    plan: LoadedPlan
    journal: Journal
    run_id: str
    auto_approve: bool
    stopping: threading.Event

    @property
    def check_mode(self) -> bool: ...

    def now(self) -> datetime: ...

    def report(self, kind: str, **data: Any) -> None: ...

    def record(self, kind: str, step: str | None = None, **data: Any) -> Event: ...

    def playbook(self, step: PlaybookStep, relative: str, action: str) -> PlaybookResult: ...

    def stack(self, name: str) -> StackAdapter: ...


def forward(engine: Run, sid: str) -> bool:
    step = engine.plan.steps[sid]
    if isinstance(step, PlaybookStep):
        return _playbook_forward(engine, step)
    if isinstance(step, StackStep):
        return _stack_forward(engine, step)
    if isinstance(step, CheckStep):
        return _check(engine, step)
    if isinstance(step, GateStep):
        return _gate(engine, step)
    if isinstance(step, WaitStep):
        return _wait(engine, step)
    raise EngineError(f"step '{sid}': unknown kind")  # pragma: no cover - model forbids it


def rollback(engine: Run, sid: str, *, action_done: bool = False) -> bool:
    """Undo the step; with ``action_done`` (journaled before a crash) only verify that."""
    step = engine.plan.steps[sid]
    if isinstance(step, PlaybookStep) and step.rollback:
        if not action_done:
            result = engine.playbook(step, step.rollback, "rollback")
            if not result.ok:
                engine.record("step.rollback_failed", sid, message=f"rollback {result.summary()}")
                return False
            engine.record("step.rollback_action_succeeded", sid)
        if step.verify_rollback and not engine.check_mode:
            result = engine.playbook(step, step.verify_rollback, "verify-rollback")
            if not result.ok:
                engine.record(
                    "step.rollback_failed", sid, message=f"rollback verify {result.summary()}"
                )
                return False
        return True
    if isinstance(step, StackStep):
        if action_done:
            return True  # the previous config is back; a stack step has no rollback check
        prepared = engine.journal.events(step=sid, kind="step.prepared")
        if not prepared:
            engine.record("step.rollback_failed", sid, message="previous config not journaled")
            return False
        previous = prepared[-1].data.get("previous") or {}
        if any(value == MASK for value in previous.values()):
            engine.record(
                "step.rollback_failed",
                sid,
                message="previous config holds masked secrets; restore them by hand",
            )
            return False
        try:
            engine.stack(step.adapter).update(step.stack, previous, check=engine.check_mode)
        except CutoverError as exc:
            engine.record("step.rollback_failed", sid, message=exc.one_line())
            return False
        engine.record("step.rollback_action_succeeded", sid)
        return True
    return True  # checks, gates and waits change nothing


def _fail(engine: Run, sid: str, phase: str, message: str, *, action_done: bool) -> bool:
    engine.record("step.failed", sid, phase=phase, message=message, action_done=action_done)
    return False


def _playbook_forward(engine: Run, step: PlaybookStep) -> bool:
    record = engine.journal.steps()[step.id]
    if not record.action_done:  # after a crash past the action, only verify again
        attempts = engine.plan.retries(step) + 1
        for attempt in range(1, attempts + 1):
            result = engine.playbook(step, step.playbook, "action")
            if result.ok:
                break
            if attempt < attempts and not engine.stopping.is_set():
                engine.record("step.retrying", step.id, attempt=attempt, message=result.summary())
                if engine.stopping.wait(step.retry_delay):
                    break
        if not result.ok:
            # A playbook that failed ran some of its tasks (the mail routes switched, the
            # wait for the queue timed out): what it changed stays changed unless undone.
            # Its rollback, written to undo any part of the action, runs with the others.
            partly = bool(step.rollback) and not engine.check_mode
            return _fail(engine, step.id, "action", result.summary(), action_done=partly)
        missing = _observe_ttl(engine, step, result)
        if missing:  # the TTLs were lowered: undo that too
            return _fail(engine, step.id, "action", missing, action_done=True)
        engine.record("step.action_succeeded", step.id)
    if step.verify and not engine.check_mode:  # nothing changed in check mode to verify
        result = engine.playbook(step, step.verify, "verify")
        if not result.ok:
            return _fail(engine, step.id, "verify", result.summary(), action_done=True)
    return True


def _observe_ttl(engine: Run, step: PlaybookStep, result: PlaybookResult) -> str | None:
    """Journal the old TTL ``step`` reports for each wait that waits it out, before the
    step's success: a run resumed after that success still knows how long to wait.
    Returns what is wrong when the step reported none."""
    waits = [
        wid
        for wid, w in engine.plan.steps.items()
        if isinstance(w, WaitStep)
        and w.until == "ttl-expired"
        and w.ttl is None
        and w.ttl_of is None
        and engine.plan.wait_after(w) == step.id
    ]
    if not waits or engine.check_mode:
        return None
    reported = result.facts.get(REPORTED_TTL)
    # set_stats hands a templated value over as text or as a number; nothing else is a TTL
    text = str(reported) if isinstance(reported, int | str) and reported is not True else ""
    ttl = int(text) if text.isdigit() else None
    if ttl is None:
        return (
            f"reported no old TTL ({REPORTED_TTL}) for {', '.join(waits)}: its playbook must"
            " set_stats it, or the wait must give `ttl:`"
        )
    for wid in waits:
        engine.record("ttl.observed", wid, ttl=ttl, source=step.id)
    return None


def _stack_forward(engine: Run, step: StackStep) -> bool:
    try:
        adapter = engine.stack(step.adapter)
        record = engine.journal.steps()[step.id]
        if not record.action_done:
            if not engine.journal.events(step=step.id, kind="step.prepared"):
                previous = adapter.read_config(step.stack, list(step.config))
                # journaled before the update: a crash mid-update can still be rolled back
                engine.record("step.prepared", step.id, previous=previous)
            adapter.update(step.stack, step.config, check=engine.check_mode)
            engine.record("step.action_succeeded", step.id)
    except CutoverError as exc:
        # an update that failed may have changed part of the stack: once the previous
        # config is journaled, the rollback puts it back
        prepared = engine.journal.events(step=step.id, kind="step.prepared")
        partly = bool(prepared) and not engine.check_mode
        return _fail(engine, step.id, "action", exc.one_line(), action_done=partly)
    return True


def _check(engine: Run, step: CheckStep) -> bool:
    probes = [parse_probe(spec) for spec in step.probes]
    deadline = time.monotonic() + engine.plan.timeout(step)
    attempts = engine.plan.retries(step) + 1
    failures: list[str] = []
    for attempt in range(1, attempts + 1):
        remaining = max(1.0, deadline - time.monotonic())
        failures = []
        for probe in probes:
            result = probe.run(min(remaining, 30.0))
            engine.report("probe", step=step.id, ok=result.ok, detail=result.detail)
            if not result.ok:
                failures.append(result.detail)
        if not failures or engine.check_mode:
            return True
        if attempt < attempts and time.monotonic() < deadline:
            engine.record("step.retrying", step.id, attempt=attempt, message="; ".join(failures))
            if engine.stopping.wait(step.interval):
                break
    return _fail(engine, step.id, "verify", "; ".join(failures), action_done=False)


def _gate(engine: Run, step: GateStep) -> bool:
    if engine.check_mode or engine.auto_approve:
        by = "check mode" if engine.check_mode else "--auto-approve"
        engine.record("gate.approved", step.id, by=by)
        return True
    approver = engine.plan.approver(step)
    # journaled: only a gate that waits can be answered, and only this wait's answer
    # counts (an approval given before, or to an earlier attempt, does not)
    waited = engine.record(
        "gate.waiting",
        step.id,
        approver=approver,
        message=step.message,
        command=f"cutover approve {engine.run_id} {step.id} --by '{approver}'",
    )
    deadline = time.monotonic() + engine.plan.timeout(step)
    while time.monotonic() < deadline:
        answer = next(
            (
                e
                for e in engine.journal.events(step=step.id)
                if e.seq > waited.seq and e.kind in ("gate.approved", "gate.denied")
            ),
            None,
        )
        if answer is not None and answer.kind == "gate.approved":
            return True
        if answer is not None:
            reason = f"denied by {answer.data.get('by')}: {answer.data.get('reason')}"
            return _fail(engine, step.id, "action", reason, action_done=False)
        if engine.stopping.wait(0.5):
            engine.record("step.reset", step.id, message="not approved before the run stopped")
            return False
    return _fail(engine, step.id, "action", "not approved in time", action_done=False)


def _wait(engine: Run, step: WaitStep) -> bool:
    if engine.check_mode:
        return True
    if step.duration is not None:
        started = engine.journal.events(step=step.id, kind="step.started")[0].ts
        target = datetime.fromisoformat(started) + timedelta(seconds=step.duration)
    else:
        after = engine.plan.wait_after(step)
        assert after is not None  # validation guarantees it
        done = engine.journal.events(step=after, kind="step.action_succeeded")
        ttl = step.ttl
        if ttl is None:
            observed = engine.journal.events(step=step.id, kind="ttl.observed")
            if not observed:
                return _fail(
                    engine,
                    step.id,
                    "action",
                    f"old TTL was not read before {after}",
                    action_done=False,
                )
            ttl = float(observed[-1].data["ttl"])
        if not done:
            return _fail(engine, step.id, "action", f"{after} has not completed", action_done=False)
        target = datetime.fromisoformat(done[-1].ts) + timedelta(seconds=ttl)
    engine.report("wait.until", step=step.id, until=target.isoformat())
    remaining = (target - engine.now()).total_seconds()
    if remaining > 0 and engine.stopping.wait(remaining):
        engine.record("step.reset", step.id, message="wait interrupted: the run stopped")
        return False
    return True
