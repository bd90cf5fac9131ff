"""The cutover engine: runs a plan's steps in dependency order, journaling every change.

Order of business for each state change: journal it durably, then act on it. So after a
crash the journal says exactly what was decided: steps that succeeded are never re-run;
a step caught between ``step.started`` and ``step.action_succeeded`` is "in doubt" and is
re-run only if it is idempotent or changes nothing (checks, gates, waits, read-only
playbooks), or the operator says so with ``--assume``; a step whose action had completed
re-runs only its verification (``step.verify_started``), however often the run is killed
during it, and no answer of the operator runs that action again. Rollbacks likewise: a
rollback whose action completed (``step.rollback_action_succeeded``) re-runs only its
verification. A run that was failing or rolling back when it stopped goes on rolling back.

On a failed action or verification the engine stops starting steps, lets running steps
finish, then rolls back every step whose forward action completed in reverse dependency
order (a step once every completed step that needs it has finished its rollback;
independent steps side by side up to ``max_parallel``, so with 1 it is newest first),
verifying each rollback. Steps behind a completed point of no return are kept, and
reported as such.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from cutover.ansible.runner import FAST, ConnectionSettings, PlaybookResult, run_playbook
from cutover.engine import orphans, testhook
from cutover.engine import steps as kinds
from cutover.engine.history import step_durations
from cutover.engine.lock import EnvLock, lock_name
from cutover.engine.notify import Webhook
from cutover.engine.stacks import StackAdapter
from cutover.engine.window import check_start, local, sleep_until
from cutover.engine.world import MergerContext, World, WorldFactory, empty
from cutover.errors import ConfigError, CutoverError, EngineError, JournalError, Location
from cutover.inventory.loader import ENVIRONMENTS
from cutover.journal import (
    RUN_FINAL,
    STEP_TRANSITIONS,
    Event,
    Journal,
    check_run_id,
    run_folder,
)
from cutover.plan import LoadedPlan, graph, load_plan
from cutover.plan.durations import format_duration
from cutover.plan.library import sources
from cutover.plan.loader import line_of
from cutover.plan.model import CheckStep, GateStep, PlaybookStep, StackStep, WaitStep
from cutover.probes import DnsQuery
from cutover.redact import Redactor

Mode = Literal["check", "rehearsal", "live"]
Reporter = Callable[..., None]
Decider = Callable[[], Literal["rollback", "hold"]]
LIVE_ENVIRONMENTS = ("production",)
# kinds that change nothing: safe to re-run when caught mid-flight
_HARMLESS = (CheckStep, GateStep, WaitStep)


def mode_for(env: str, check: bool) -> Mode:
    if check:
        return "check"
    return "live" if env in LIVE_ENVIRONMENTS else "rehearsal"


def new_run_id(env: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{env}-{secrets.token_hex(2)}"


def plan_digest(path: Path) -> str:
    """The run's plan identity: the plan file and the library plan it extends (a changed
    library is a changed plan). A plan that extends nothing hashes as it always did."""
    digest = hashlib.sha256(path.read_bytes())
    for library in sources(path)[1:]:
        digest.update(b"\0" + library.name.encode() + b"\0" + library.read_bytes())
    return digest.hexdigest()


def _plan_files(plan: LoadedPlan) -> dict[str, Path]:
    """The files a run keeps of its plan: the plan itself and the library plan it
    extends, as they were when it started."""
    kept = {"plan.yml": plan.path}
    for source in plan.files:
        if source != plan.path:
            kept[f"library-{source.name}"] = source
    return kept


@dataclass
class RunOptions:
    env: str
    check: bool = False
    auto_approve: bool = False
    max_parallel: int | None = None
    at: datetime | None = None
    webhook: str | None = None
    extravars: dict[str, Any] = field(default_factory=dict)
    run_id: str | None = None
    inject_failure: str | None = None  # rehearsals: this step fails after its action

    @property
    def mode(self) -> Mode:
        return mode_for(self.env, self.check)


@dataclass
class Outcome:
    run_id: str
    state: str
    steps: dict[str, dict[str, Any]]
    run_dir: Path


def _secrets(plan: LoadedPlan) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, ref in plan.model.secrets.items():
        value = os.environ.get(ref.env)
        if not value:
            raise ConfigError(
                f"secret '{name}' needs environment variable {ref.env}, which is not set",
                hint=f"export {ref.env}=... before running",
            )
        values[name] = value
    return values


# Variables that make playbooks fail on purpose: for rehearsals of a rollback only.
REHEARSAL_VARS = ("cutover_fail_after", "cutover_rehearse_fail_at")


def _refuse_rehearsal_vars(plan: LoadedPlan, options: RunOptions) -> None:
    for name in REHEARSAL_VARS:
        if name in options.extravars:
            raise ConfigError(
                f"-e {name} is for rehearsals only: in a live run it fails a step on purpose",
                hint="drop it; rehearse the rollback in the lab or staging",
            )
        if name in plan.model.vars:
            raise ConfigError(
                f"plan vars set {name}, which fails a step on purpose",
                where=plan.where_top("vars", name),
                hint="remove it: it is for rehearsals only (-e in the lab or staging)",
            )
        for sid, step in plan.steps.items():
            if name in getattr(step, "vars", {}):
                raise ConfigError(
                    f"step '{sid}' sets {name}, which fails a step on purpose",
                    where=plan.where(sid, "vars", name),
                    hint="remove it: it is for rehearsals only (-e in the lab or staging)",
                )


def _refuse_foreign_inventory(plan: LoadedPlan, options: RunOptions) -> None:
    """A merger's plan acts on the hosts of the environment it runs in, never on an
    inventory of its own choosing (`--env lab` must not reach production's hosts); a
    live run's hosts come from a merger's environment, never from a plan's file."""
    named: list[tuple[str | None, str]] = (
        [(None, plan.model.inventory)] if plan.model.inventory else []
    )
    named += [
        (sid, step.inventory)
        for sid, step in plan.steps.items()
        if isinstance(step, PlaybookStep) and step.inventory
    ]
    if not named or (plan.model.merger is None and options.mode != "live"):
        return
    where, path = named[0]
    location = (
        plan.where(where, "inventory")
        if where
        else Location(plan.path, line_of(plan.tree, ("inventory",)))
    )
    why = (
        f"the plan is merger {plan.model.merger}'s: it acts on the hosts of {options.env}"
        if plan.model.merger
        else "a live run acts on a merger's environment"
    )
    raise ConfigError(
        f"inventory {path!r} is not the environment's own ({why})",
        where=location,
        hint="remove inventory:" + ("" if plan.model.merger else " and name the merger"),
    )


def check_options(plan: LoadedPlan, options: RunOptions) -> None:
    """Refuse option combinations that make no sense for this plan (bad input: checked
    before anything is recorded or touched, also by ``rehearse`` before its lab)."""
    mode = options.mode
    if options.run_id is not None:
        check_run_id(options.run_id)
    if options.env not in ENVIRONMENTS:
        raise ConfigError(
            f"unknown environment {options.env!r}", hint=f"use one of {', '.join(ENVIRONMENTS)}"
        )
    if mode == "live":
        if plan.model.window is None:
            raise ConfigError(
                f"a live run in {options.env} needs a window in the plan",
                where=Location(plan.path),
                hint="add `window: {start, end, tz}` to the plan",
            )
        if options.auto_approve:
            raise ConfigError(
                "--auto-approve is for rehearsals only", hint="approve gates with `cutover approve`"
            )
    _refuse_foreign_inventory(plan, options)
    if mode == "live":
        _refuse_rehearsal_vars(plan, options)
    if options.inject_failure is not None:
        if mode == "live":
            raise ConfigError(
                "--inject-failure is for rehearsals only", hint="drop it for a live run"
            )
        if options.inject_failure not in plan.steps:
            raise ConfigError(
                f"--inject-failure names unknown step {options.inject_failure!r} of plan "
                f"{plan.path}",
                hint=f"use one of: {', '.join(plan.steps)}",
            )


def create_run(
    plan: LoadedPlan,
    runs_dir: Path,
    options: RunOptions,
    world: WorldFactory = empty,
    **kw: Any,
) -> Engine:
    """Check the run may start (mode, window, secrets), journal it, return its engine,
    which acts on the ``world`` its caller built (merger context, stack adapters)."""
    mode = options.mode
    check_options(plan, options)
    if mode == "live":
        assert plan.model.window is not None  # check_options
        check_start(plan.model.window, datetime.now(UTC), options.at)
    _secrets(plan)  # fail before anything is recorded
    if mode == "live":
        plan = plan.live()
    run_id = options.run_id or new_run_id(options.env)
    run_dir = run_folder(runs_dir, run_id)
    meta = {
        "run_id": run_id,
        "plan_path": str(plan.path.resolve()),
        "plan_sha256": plan_digest(plan.path),
        "plan_name": plan.name,
        "merger": plan.model.merger,
        "env": options.env,
        "mode": mode,
        "auto_approve": options.auto_approve,
        "max_parallel": options.max_parallel,
        "at": options.at.isoformat() if options.at else None,
        "webhook": options.webhook or (plan.model.notify.webhook if plan.model.notify else None),
        "extravars": options.extravars,
        "inject_failure": options.inject_failure,
        "steps": {sid: step.kind for sid, step in plan.steps.items()},
        "pid": os.getpid(),
    }
    journal = Journal.create(
        run_dir,
        meta,
        redactor=Redactor(_secrets(plan).values()),
        files=_plan_files(plan),  # the plan as run, for the record
    )
    return Engine(plan, journal, runs_dir=runs_dir, world=world, **kw)


def scrub_leftovers(run_dir: Path, redactor: Redactor) -> int:
    """What a killed playbook run left unmasked: its secret vars file (deleted when the
    run ends, unless the process was killed) and the events ansible-runner had not
    finished writing (masked in a ``finally`` that a SIGKILL skips). Returns how many
    files were cleaned."""
    steps = run_dir / "steps"
    if not steps.is_dir():
        return 0
    cleaned = 0
    for leftover in steps.rglob("env/extravars"):
        if leftover.is_file() and not leftover.is_symlink():
            leftover.unlink()
            cleaned += 1
    return cleaned + redactor.scrub_tree(steps)


def open_run(runs_dir: Path, run_id: str, world: WorldFactory = empty, **kw: Any) -> Engine:
    """The engine of an existing run (for resume and rollback), on the same plan."""
    journal = Journal.open(run_folder(runs_dir, run_id))
    meta = journal.meta()
    path = Path(meta["plan_path"])
    if not path.is_file() or plan_digest(path) != meta["plan_sha256"]:
        journal.close()
        raise EngineError(
            f"plan {path} changed (or vanished) since run {run_id} started",
            hint=f"restore it (and the library plan it extends, library-*.yml) from"
            f" {runs_dir / run_id} to resume or roll back",
        )
    plan = load_plan(path)
    if meta.get("mode") == "live":
        plan = plan.live()
    journal.redactor = Redactor(_secrets(plan).values())
    scrub_leftovers(journal.run_dir, journal.redactor)
    return Engine(plan, journal, runs_dir=runs_dir, world=world, **kw)


class Engine:
    def __init__(
        self,
        plan: LoadedPlan,
        journal: Journal,
        *,
        runs_dir: Path,
        report: Reporter | None = None,
        decide: Decider | None = None,
        settings: ConnectionSettings = FAST,
        world: WorldFactory = empty,
    ) -> None:
        self.plan = plan
        self.journal = journal
        self.runs_dir = runs_dir
        self.meta = journal.meta()
        self.run_id: str = self.meta["run_id"]
        self.env: str = self.meta["env"]
        self.mode: Mode = self.meta["mode"]
        # never in a live run, whatever its journal says (a resumed run included)
        self.auto_approve = bool(self.meta.get("auto_approve")) and self.mode != "live"
        self.settings = settings
        self._report = report or (lambda kind, **data: None)
        self._decide = decide or (lambda: "hold")
        self.stopping = threading.Event()  # start nothing new; gates and waits give up
        self.interrupted = threading.Event()
        self.cancel = threading.Event()  # cancel running playbooks too
        self.secret_vars = _secrets(plan)
        url = self.meta.get("webhook")
        self._webhook = Webhook(url) if url else None
        self._history = step_durations(runs_dir, plan.name) if self.mode != "check" else {}
        parallel = self.meta.get("max_parallel") or plan.model.policy.max_parallel
        self.max_parallel = max(1, int(parallel))
        self._world_factory = world
        self._world: World | None = None
        self._world_lock = threading.Lock()

    # --- services for step kinds -------------------------------------------------

    def world(self) -> World:
        """What this run acts on, built by the caller's factory once, on first need."""
        with self._world_lock:
            if self._world is None:
                self._world = self._world_factory(self.plan, self.env)
        return self._world

    def merger_context(self) -> MergerContext | None:
        return self.world().context

    def stack(self, name: str) -> StackAdapter:
        return self.world().stack(name)

    @property
    def check_mode(self) -> bool:
        return self.mode == "check"

    def now(self) -> datetime:
        return datetime.now(UTC)

    def report(self, kind: str, **data: Any) -> None:
        self._report(kind, run=self.run_id, **self.journal.redactor.data(data))

    def record(self, kind: str, step: str | None = None, **data: Any) -> Event:
        """Journal an event durably, then tell people, machines and the webhook."""
        event = self.journal.append(kind, step, **data)
        testhook.maybe_kill(kind, step)
        payload = {"run": self.run_id, "seq": event.seq, "ts": event.ts, **event.data}
        if step is not None:
            payload["step"] = step
        self._report(kind, **payload)
        changes_state = kind.startswith("run.") or kind in STEP_TRANSITIONS
        if self._webhook is not None and changes_state:
            self._webhook.send({"event": kind, **payload})
        return event

    def playbook(self, step: PlaybookStep, relative: str, action: str) -> PlaybookResult:
        record = self.journal.steps()[step.id]
        ident = f"{action}-{record.attempts}-{int(time.time() * 1000)}"
        context = self.merger_context()
        inventory = self.plan.inventory_for(step) or (
            context.ansible_inventory if context else None
        )
        extravars = {
            **(context.vars if context else {}),
            **self.plan.model.vars,
            **step.vars,
            **self.meta.get("extravars", {}),
            "cutover_run": self.run_id,
            "cutover_step": step.id,
            "cutover_action": action,
            "cutover_env": self.env,
            "cutover_run_dir": str(self.journal.run_dir),
        }

        def on_event(event: dict[str, Any]) -> None:
            data = event.get("event_data") or {}
            if event.get("event") in ("runner_on_ok", "runner_on_failed", "runner_on_unreachable"):
                self.report(
                    "task",
                    step=step.id,
                    action=action,
                    host=data.get("host"),
                    task=data.get("task"),
                    status=str(event.get("event")).removeprefix("runner_on_"),
                    changed=bool((data.get("res") or {}).get("changed")),
                )

        return run_playbook(
            self.plan.playbook_path(relative),
            private_data_dir=self.journal.run_dir / "steps" / step.id / ident,
            inventory=inventory,
            extravars=extravars,
            secret_vars=self.secret_vars,
            limit=step.limit,
            tags=step.tags,
            check=self.check_mode,
            settings=self.settings,
            timeout=self.plan.timeout(step),
            on_event=on_event,
            cancel=self.cancel.is_set,
            redactor=self.journal.redactor,
            ident=action,
        )

    # --- control from the CLI ----------------------------------------------------

    def interrupt(self) -> None:
        """Ctrl-C: the first asks (hold or roll back), the second cancels playbooks."""
        if self.interrupted.is_set():
            self.cancel.set()
        self.interrupted.set()
        self.stopping.set()

    # --- runs ----------------------------------------------------------------------

    def execute(self, *, assume: Mapping[str, str] | None = None) -> Outcome:
        """Run (or resume) forward; roll back on failure. Returns the final states."""
        state = self.journal.state()
        if state in RUN_FINAL:
            raise EngineError(
                f"run {self.run_id} is finished ({state})",
                hint="start a new run, or `cutover rollback` it",
            )
        if state == "rollback_failed":
            raise EngineError(
                f"run {self.run_id} failed to roll back",
                hint=f"fix the cause, then `cutover rollback {self.run_id}`",
            )
        self.journal.ensure_room()  # before the lock: a refusal leaves nothing to undo
        lock = self._lock()
        try:
            self._stop_orphans()
            if self._was_rolling_back(state):
                return self._finish(lock, self._rollback_all())
            if self.check_mode and self._failed_steps():  # killed before run.failed
                self.record("run.failed", reason="a step failed in check mode")
                return self._finish(lock, "failed")
            self._resolve_in_doubt(assume or {})
            if state in ("created", "waiting"):
                if not self._wait_for_start():
                    self.record("run.held", reason="interrupted before the start")
                    return self._finish(lock, "held")
                self.record("run.started", mode=self.mode, env=self.env)
            else:
                self.record("run.resumed", previous_state=state)
            outcome = self._forward()
            if outcome == "rollback":
                return self._finish(lock, self._rollback_all())
            if outcome == "failed":  # check mode: nothing to roll back
                self.record("run.failed", reason="a step failed in check mode")
                return self._finish(lock, "failed")
            if outcome == "hold":
                self.record("run.held", reason="held by the operator or the window policy")
                return self._finish(lock, "held")
            self.record("run.succeeded")
            return self._finish(lock, "succeeded")
        except BaseException:
            if lock is not None:
                lock.release(finished=False)
            raise

    def rollback(self) -> Outcome:
        """Roll back a finished or held run (`cutover rollback RUN`)."""
        state = self.journal.state()
        if state in ("rolled_back",):
            raise EngineError(f"run {self.run_id} is already rolled back")
        if self.check_mode:
            raise EngineError("a check run changed nothing: there is nothing to roll back")
        self.journal.ensure_room(f"`cutover rollback {self.run_id}`")
        lock = self._lock()
        try:
            self._stop_orphans()
            return self._finish(lock, self._rollback_all())
        except BaseException:
            if lock is not None:
                lock.release(finished=False)
            raise

    def outcome(self) -> Outcome:
        records = self.journal.steps()
        # a step whose action failed part way ends rolled back: that it failed is kept
        failed = {e.step for e in self.journal.events(kind="step.failed")}
        steps: dict[str, dict[str, Any]] = {}
        for sid, step in self.plan.steps.items():
            rec = records.get(sid)
            steps[sid] = {
                "kind": step.kind,
                "state": rec.state if rec else "pending",
                "failed": sid in failed and (rec is None or rec.state != "succeeded"),
                "attempts": rec.attempts if rec else 0,
                "seconds": rec.seconds if rec else None,
                "message": rec.message if rec else None,
                "owner": self.plan.owner(step),
            }
        return Outcome(self.run_id, self.journal.state(), steps, self.journal.run_dir)

    def close(self) -> None:
        if self._webhook is not None:
            self._webhook.close()
        self.journal.close()

    # --- internals -------------------------------------------------------------------

    def _lock(self) -> EnvLock | None:
        if self.check_mode:
            return None  # a check run changes nothing, so it need not own the environment
        lock = EnvLock(lock_name(self.env, self.plan.model.merger))
        lock.acquire(self.run_id, self.journal.run_dir)
        return lock

    def _finish(self, lock: EnvLock | None, state: str) -> Outcome:
        if lock is not None:
            lock.release(finished=state in RUN_FINAL)
        return self.outcome()

    def _stop_orphans(self) -> None:
        """Playbooks still running from a dead engine process of this run would run
        alongside the resumed steps: stop them first (we hold the run's lock, so no
        live engine owns them) and journal which, before any decision is taken."""
        if self.check_mode:
            return
        stopped = orphans.stop(self.journal.run_dir)
        if stopped:
            self.record(
                "run.orphans_stopped",
                playbooks=stopped,
                message="playbooks left running by the crashed engine process were killed",
            )

    def _failed_steps(self) -> list[str]:
        return [s for s, r in self.journal.steps().items() if r.state == "failed"]

    def _was_rolling_back(self, state: str) -> bool:
        """The stopped run had decided to roll back: a step failed (whether or not the
        decision was journaled before the kill), the operator or the window policy chose
        it, or the rollback had begun (also one `cutover rollback` started)."""
        if self.check_mode:
            return False  # nothing changed, nothing to roll back
        if state == "rolling_back" or self._failed_steps():
            return True
        if state != "stopping":
            return False
        stopping = self.journal.events(kind="run.stopping")
        return bool(stopping) and stopping[-1].data.get("decision") == "rollback"

    def _resolve_in_doubt(self, assume: Mapping[str, str]) -> None:
        unknown = [s for s in assume if s not in self.plan.steps]
        if unknown:
            raise EngineError(f"--assume names unknown step(s): {', '.join(unknown)}")
        # Decide for every in-flight step first and journal only when none is blocked: a
        # refused resume changes nothing, so the operator's next resume sees the same run.
        decisions: list[tuple[str, str, str]] = []  # (step, event kind, message)
        blocked: list[str] = []
        completed: list[str] = []  # asked to redo an action the journal knows completed
        for sid, rec in self.journal.steps().items():
            if rec.state not in ("running", "action_done") or sid not in self.plan.steps:
                continue
            step = self.plan.steps[sid]
            choice = assume.get(sid)
            if rec.action_done:
                # the action completed: the step re-runs only its verification, and only
                # an explicit reset could run the action again; a resume never does
                if choice == "redo":
                    completed.append(sid)
                continue
            if choice == "done":
                if isinstance(step, PlaybookStep | StackStep):
                    # the operator vouches for the action, not for its verification
                    decisions.append((sid, "step.action_succeeded", "action assumed done"))
                else:
                    decisions.append((sid, "step.succeeded", "assumed done"))
            elif choice == "redo" or step.idempotent or _changes_nothing(step):
                why = (
                    "operator"
                    if choice == "redo"
                    else "idempotent"
                    if step.idempotent
                    else "it changes nothing"
                )
                decisions.append((sid, "step.reset", f"in doubt after a crash; re-run ({why})"))
            else:
                blocked.append(sid)
        if completed:
            names = ", ".join(completed)
            raise EngineError(
                f"step(s) {names} completed their action before the run stopped (journaled); "
                "a resume only verifies them again and never repeats that action",
                hint=f"drop `--assume {completed[0]}=redo`; to undo the step, "
                f"`cutover rollback {self.run_id}`",
            )
        if blocked:
            names = ", ".join(blocked)
            raise EngineError(
                f"step(s) {names} were in flight when the run stopped and are not idempotent; "
                "check what they did",
                hint=f"then `cutover resume {self.run_id} --assume {blocked[0]}=done` "
                "(or =redo) for each",
            )
        for sid, kind, message in decisions:
            if kind == "step.reset":
                self.record(kind, sid, message=message)
            else:
                self.record(kind, sid, assumed_by="operator", message=message)

    def _wait_for_start(self) -> bool:
        window = self.plan.model.window
        at = self.meta.get("at")
        target = datetime.fromisoformat(at) if at else None
        if window is not None and self.mode == "live":
            target = check_start(window, self.now(), target)
        if target is None or target <= self.now():
            return True
        self.record("run.waiting", until=target.isoformat())
        return sleep_until(target, self.now(), self.stopping)

    def _remaining_path(self) -> tuple[float, list[str]]:
        records = self.journal.steps()
        needs = self.plan.needs
        weights = {
            sid: 0.0
            if records.get(sid) and records[sid].state == "succeeded"
            else self.plan.expected(step, self._history)
            for sid, step in self.plan.steps.items()
        }
        return graph.critical_path(needs, weights)

    def _window_overrun(self) -> str | None:
        window = self.plan.model.window
        if window is None or self.mode != "live":
            return None
        remaining, path = self._remaining_path()
        projected = self.now().timestamp() + remaining
        if projected <= window.ends.timestamp():
            return None
        finish = datetime.fromtimestamp(projected, UTC)
        return (
            f"projected finish {local(finish, window)} (remaining {format_duration(remaining)} "
            f"via {' -> '.join(path)}) is after the window end {local(window.ends, window)}"
        )

    def _capture_ttls(self, sid: str) -> None:
        """Before a TTL-lowering step starts, read and journal the TTL it will lower."""
        import dns.exception

        from cutover.probes import DnsProbe

        for wid, step in self.plan.steps.items():
            if not isinstance(step, WaitStep) or step.ttl_of is None:
                continue
            if self.plan.wait_after(step) != sid or self.journal.events(
                step=wid, kind="ttl.observed"
            ):
                continue
            query = step.ttl_of
            server = query.server
            context = self.merger_context()
            if server and context and server in {h.name for h in context.inventory.hosts}:
                server = str(context.inventory.host(server).address)  # a host of the merger
            probe = DnsProbe(dns=DnsQuery(name=query.name, type=query.type, server=server))
            try:
                ttl = _read_ttl(probe)
            except (dns.exception.DNSException, OSError) as exc:
                raise EngineError(
                    f"cannot read the TTL of {query.name} {query.type}: {exc}"
                ) from exc
            self.record("ttl.observed", wid, ttl=ttl, name=query.name, type=query.type)

    def _ready(self) -> list[str]:
        records = self.journal.steps()
        done = {s for s, r in records.items() if r.state == "succeeded"}
        return [
            sid
            for sid in self.plan.order()
            if sid not in done
            and (records.get(sid) is None or records[sid].state in ("pending", "action_done"))
            and all(dep in done for dep in self.plan.steps[sid].needs)
        ]

    def _forward(self) -> str:
        running: dict[Future[bool], str] = {}
        with ThreadPoolExecutor(self.max_parallel, thread_name_prefix="step") as pool:
            try:
                return self._forward_loop(pool, running)
            except BaseException:
                # e.g. the journal cannot be written: start nothing, and let waits and
                # gates in flight give up, so that leaving the pool does not hang
                self.stopping.set()
                raise

    def _forward_loop(self, pool: ThreadPoolExecutor, running: dict[Future[bool], str]) -> str:
        failure: str | None = None
        decision: str | None = None
        while True:
            if self.interrupted.is_set() and decision is None and failure is None:
                decision = self._decide()
                self.record("run.stopping", reason="interrupted", decision=decision)
            if failure is None and decision is None and not self.stopping.is_set():
                for sid in self._ready():
                    if len(running) >= self.max_parallel or sid in running.values():
                        continue
                    overrun = self._window_overrun()
                    if overrun:
                        decision = self.plan.model.policy.on_window_overrun
                        self.stopping.set()
                        self.record("run.stopping", reason=overrun, decision=decision)
                        break
                    step = self.plan.steps[sid]
                    # no step starts unless its whole story can be journaled
                    self.journal.ensure_room()
                    try:
                        self._capture_ttls(sid)
                    except CutoverError as exc:
                        self.record("step.failed", sid, phase="prepare", message=exc.one_line())
                        failure = sid
                        self.stopping.set()
                        break
                    record = self.journal.steps().get(sid)
                    if record is not None and record.action_done:
                        # resumed past its action: verify only, and stay action_done
                        self.record(
                            "step.verify_started",
                            sid,
                            step_kind=step.kind,
                            message="its action completed before the run stopped",
                        )
                    else:
                        self.record(
                            "step.started",
                            sid,
                            step_kind=step.kind,
                            owner=self.plan.owner(step),
                            approver=self.plan.approver(step),
                        )
                    running[pool.submit(self._run_step, sid)] = sid
            if not running:
                break
            finished, _ = wait(list(running), timeout=0.2, return_when=FIRST_COMPLETED)
            for future in finished:
                sid = running.pop(future)
                if not future.result() and self._state(sid) == "failed" and failure is None:
                    failure = sid
                    self.stopping.set()
                    self.record("run.stopping", reason=f"step {sid} failed", decision="rollback")
        if failure is not None:
            return "failed" if self.check_mode else "rollback"
        if decision is not None:
            return decision
        records = self.journal.steps()
        if all(records.get(s) and records[s].state == "succeeded" for s in self.plan.steps):
            return "succeeded"
        return "hold"

    def _state(self, sid: str) -> str:
        rec = self.journal.steps().get(sid)
        return rec.state if rec else "pending"

    def _run_step(self, sid: str) -> bool:
        try:
            ok = kinds.forward(self, sid)
        except JournalError:
            raise  # not the step's failure: the run stops with the step in doubt
        except CutoverError as exc:
            self.record("step.failed", sid, phase="action", message=exc.one_line())
            return False
        except Exception as exc:  # a bug in a step kind must still end the step in the journal
            self.record("step.failed", sid, phase="action", message=f"{type(exc).__name__}: {exc}")
            return False
        if ok and sid == self.meta.get("inject_failure"):
            # A rehearsal of the rollback: the step did its work, then "fails" verification.
            self.record(
                "step.failed", sid, phase="verify", message="injected failure (rehearsal)",
                action_done=True,
            )  # fmt: skip
            return False
        if ok:
            self.record("step.succeeded", sid)
        return ok

    def _rollback_all(self) -> str:
        self.record("run.rolling_back")
        records = self.journal.steps()
        needs = self.plan.needs
        completed = [
            sid
            for sid, rec in records.items()
            if sid in self.plan.steps
            and rec.action_done
            and self.plan.steps[sid].mutating
            and rec.state not in ("rolled_back", "kept")
        ]
        completed.sort(key=lambda s: records[s].done_seq or 0, reverse=True)
        kept: dict[str, str] = {}
        for sid in completed:
            reason = self.plan.steps[sid].point_of_no_return
            if reason:
                kept[sid] = reason
                for ancestor in graph.ancestors(needs, sid):
                    kept.setdefault(ancestor, f"a dependency of point of no return {sid}")
        # A failed rollback leaves its step applied, and with it everything that step
        # needs (undoing a dependency under a step still in place could break the
        # service, e.g. the merged server refusing an old domain the old servers still
        # relay to it). Steps independent of it are still rolled back: the run undoes
        # what it can, and the journal says which steps stay applied and why.
        failed: list[str] = []
        blocked: dict[str, str] = {}
        rolled_back: list[str] = []
        # Independent steps roll back side by side (up to max_parallel); a step only once
        # every completed step that needs it has finished its rollback, so the order is the
        # reverse of the dependencies. With max_parallel 1 it is newest first, one by one.
        waits_for = {
            sid: {d for d in completed if sid in graph.ancestors(needs, d)} for sid in completed
        }
        finished: set[str] = set()
        running: dict[Future[bool], str] = {}
        with ThreadPoolExecutor(self.max_parallel, thread_name_prefix="rollback") as pool:
            while len(finished) < len(completed):
                for sid in completed:
                    if (
                        sid in finished
                        or sid in running.values()
                        or not waits_for[sid] <= finished
                        or len(running) >= self.max_parallel
                    ):
                        continue
                    if sid in kept:
                        self.record("step.kept", sid, message=f"not rolled back: {kept[sid]}")
                        finished.add(sid)
                        continue
                    if sid in blocked:
                        self.record("step.rollback_blocked", sid, message=blocked[sid])
                        finished.add(sid)
                        continue
                    undone = records[sid].state == "rollback_action_done"
                    if undone:
                        # resumed past its rollback action: verify the rollback only
                        self.record(
                            "step.rollback_verify_started",
                            sid,
                            message="its rollback action completed before the run stopped",
                        )
                    else:
                        self.record("step.rollback_started", sid)
                    running[pool.submit(kinds.rollback, self, sid, action_done=undone)] = sid
                if not running:
                    continue  # kept or blocked steps finished: look again
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in done:
                    sid = running.pop(future)
                    finished.add(sid)
                    if not future.result():
                        failed.append(sid)
                        for ancestor in graph.ancestors(needs, sid):
                            blocked.setdefault(
                                ancestor,
                                f"not rolled back: {sid}, which needs it, failed to roll back",
                            )
                        continue
                    self.record("step.rolled_back", sid)
                    rolled_back.append(sid)
        if failed:
            self.record(
                "run.rollback_failed",
                step_failed=failed[0],
                rollback_failed=failed,
                not_rolled_back=[s for s in completed if s in blocked],
                rolled_back=rolled_back,
                kept=sorted(kept),
            )
            return "rollback_failed"
        self.record("run.rolled_back", kept=sorted(kept))
        return "rolled_back"


def _changes_nothing(step: Any) -> bool:
    """Checks, gates, waits and read-only playbooks: re-running one caught mid-flight
    cannot apply anything twice, so a resume re-runs it without asking the operator."""
    return isinstance(step, _HARMLESS) or (isinstance(step, PlaybookStep) and step.read_only)


def _read_ttl(probe: Any) -> int:
    import dns.resolver

    query = probe.dns
    resolver = dns.resolver.Resolver(configure=query.server is None)
    if query.server is not None:
        resolver.nameservers = [query.server]
        resolver.port = query.port
    resolver.lifetime = 10.0
    answer = resolver.resolve(query.name, query.type)
    return int(answer.rrset.ttl if answer.rrset is not None else 0)
