"""Exactly once under any sequence of kills, by exhaustion.

The real engine and journal run a small plan with one step of every kind (a stack step, a
playbook with verification and rollback, a check, a gate, a wait, a last playbook with a
rollback) whose playbooks and stack are fakes keeping score in a ``World``. A *kill point*
is every journal event the engine writes and every fake action that has taken effect but
not yet returned (the playbook finished; the engine died before it could journal so).

A kill at a point leaves exactly two things behind: the journal as written up to that
point, and the world as changed up to it. So instead of killing a process once per point
and replaying it, the harness copies both at every point of one engine process (a copy is
a kill there) and goes on; each copy is then resumed by a fresh engine, as an operator
would, and its points copied again, up to three kills. Copies that equal one already
explored in everything a resume reads (step states, the facts the engine looks up, the
world) are explored once. When a resume refuses to re-run a step in doubt, every answer an
operator may truthfully give is explored: ``redo`` always (the operator does not know),
``done`` when the step's action did take effect.

Every ending asserts: each forward action completed at most once, plus once per ``redo``
given while the journal did not know the action done; each rollback action at most once,
plus once per kill between its effect and its journal event (nobody can know that one);
the run ends exactly as the same run without kills (run state, step states, what is
applied); the journal was never refused; a refused resume journaled nothing. Both
outcomes are explored: the run succeeds, or the last step fails its verification and
everything is rolled back. ``max_parallel`` is 1 so a process's points are one sequence.
"""

from __future__ import annotations

import copy
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cutover.engine import RunOptions, core, create_run, open_run, testhook
from cutover.engine.stacks import ConfigValue
from cutover.engine.world import World as RunWorld
from cutover.errors import EngineError, JournalError
from cutover.journal import Journal
from cutover.plan import load_plan
from cutover.plan.model import PlaybookStep

pytestmark = pytest.mark.exactly_once

MAX_KILLS = 3
RUN_ID = "k"
FORWARD_CONFIG: dict[str, ConfigValue] = {"cutover:compute": "openstack"}
PLAN = """\
defaults: {owner: A, approver: B}
policy: {max_parallel: 1}
steps:
  - id: net
    kind: stack
    adapter: exactly-once
    stack: net
    config: {cutover:compute: openstack}
    rollback: previous-config
  - id: switch
    kind: playbook
    needs: [net]
    playbook: forward.yml
    verify: verify.yml
    rollback: back.yml
    verify_rollback: verify-back.yml
  - id: probe
    kind: check
    needs: [switch]
    probes: [{command: ["true"]}]
  - id: approve
    kind: gate
    needs: [probe]
  - id: settle
    kind: wait
    needs: [approve]
    duration: 0.001
  - id: final
    kind: playbook
    needs: [settle]
    playbook: forward.yml
    verify: verify.yml
    rollback: back.yml
"""
# events besides the step states that a resumed engine reads (steps.py, core.py)
FACTS = ("step.prepared", "gate.approved", "ttl.observed", "step.action_succeeded", "run.stopping")
_APPEND = Journal.append


@dataclass
class World:
    """What the fake actions did, across every engine process of one run."""

    fail_verify: str | None  # this step's verification fails
    config: dict[str, ConfigValue] = field(default_factory=lambda: {"cutover:compute": "lab"})
    applied: set[str] = field(default_factory=set)
    completed: Counter[tuple[str, str]] = field(default_factory=Counter)
    redo: Counter[str] = field(default_factory=Counter)  # operator answers that may repeat
    unjournaled: Counter[tuple[str, str]] = field(default_factory=Counter)  # kills after effect
    kills: list[str] = field(default_factory=list)  # "point N (kind step)" of each kill
    answers: list[str] = field(default_factory=list)  # "after kill K: STEP=ANSWER"

    def allowed(self, step: str, action: str) -> int:
        """How often that action may have completed by now."""
        return 1 + (self.redo[step] if action == "action" else self.unjournaled[(step, action)])

    def slack(self) -> dict[tuple[str, str], int]:
        """Completions still allowed per action: all the invariant needs of the past."""
        keys = set(self.completed) | {(s, "action") for s in self.redo} | set(self.unjournaled)
        return {k: self.allowed(*k) - self.completed[k] for k in keys}

    def killed(self, point: int, kind: str, step: str | None, action: str | None) -> World:
        """This world as a kill at that point leaves it."""
        dead = copy.deepcopy(self)
        dead.kills.append(f"point {point} ({kind}{f' {step}' if step else ''})")
        if action is not None and step is not None:
            dead.unjournaled[(step, action)] += 1
        return dead


@dataclass
class FakeResult:
    ok: bool

    def summary(self) -> str:
        return "ok" if self.ok else "failed (fake)"


class WorldStack:
    def __init__(self, harness: Harness) -> None:
        self.harness = harness

    def read_config(self, stack: str, keys: Sequence[str]) -> dict[str, ConfigValue]:
        return {key: self.harness.world.config.get(key) for key in keys}

    def update(self, stack: str, config: Mapping[str, ConfigValue], *, check: bool) -> None:
        forward = dict(config) == FORWARD_CONFIG
        self.harness.world.config.update(config)
        self.harness.act(stack, "action" if forward else "rollback")


@dataclass(frozen=True)
class Final:
    run: str
    steps: tuple[tuple[str, str], ...]
    applied: frozenset[str]
    config: tuple[tuple[str, ConfigValue], ...]


@dataclass
class Pending:
    """A state some kill sequence leaves: the runs folder copy, the world, kills left."""

    runs: Path | None
    world: World
    kills_left: int


def _read(journal: Journal) -> tuple[str, dict[str, tuple[str, bool, int | None]], list[Any]]:
    steps = {s: (r.state, r.action_done, r.done_seq) for s, r in journal.steps().items()}
    return journal.state(), steps, [(e.step, e.kind) for e in journal.events()]


class Harness:
    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch, fail_verify: str | None):
        self.root = root
        self.plan_path = root / "plan" / "plan.yml"
        self.plan_path.parent.mkdir(parents=True)
        self.plan_path.write_text(PLAN, encoding="utf-8")
        for name in ("forward.yml", "verify.yml", "back.yml", "verify-back.yml"):
            (self.plan_path.parent / name).write_text("- hosts: []\n", encoding="utf-8")
        self.runs = root / "runs"
        # the environment lock belongs to the world that is copied at each kill point
        monkeypatch.setenv("CUTOVER_LOCK_DIR", str(self.runs / ".locks"))
        self.world = World(fail_verify)
        self.kills_left = 0  # of the process now running: copy its points while > 0
        self.points = 0
        self.journal: Journal | None = None  # the one the running engine writes
        self.work: list[Pending] = []
        self.seen: set[Any] = set()
        self.finals: dict[Final, list[str]] = {}
        self.processes = 0

        def playbook(engine: Any, step: PlaybookStep, relative: str, action: str) -> FakeResult:
            return FakeResult(self.act(step.id, action))

        def append(journal: Journal, kind: str, step: str | None = None, **data: Any) -> Any:
            self.journal = journal
            return _APPEND(journal, kind, step, **data)

        plan = load_plan(self.plan_path)  # validated once: it is the same file every time
        monkeypatch.setattr(core, "load_plan", lambda path: plan)
        monkeypatch.setattr(core.Engine, "playbook", playbook)
        monkeypatch.setattr(Journal, "append", append)
        monkeypatch.setattr(testhook, "maybe_kill", lambda kind, step: self.point(kind, step))
        stack = RunWorld(stacks={"exactly-once": lambda: WorldStack(self)})
        self.world_of = lambda plan, env: stack

    # --- the fakes and the kill points ------------------------------------------------------

    def act(self, step: str, action: str) -> bool:
        """A fake action or verification of ``step``; True when it passes."""
        world, ok = self.world, True
        if action in ("action", "rollback"):
            world.completed[(step, action)] += 1
            (world.applied.add if action == "action" else world.applied.discard)(step)
        elif action == "verify":
            ok = step in world.applied and step != world.fail_verify
        elif action == "verify-rollback":
            ok = step not in world.applied
        effect = action if action in ("action", "rollback") else None
        self.point(f"{action}-playbook", step, effect)
        return ok

    def point(self, kind: str, step: str | None, action: str | None = None) -> None:
        """A kill point: keep what a kill here would leave, once per distinct state."""
        self.points += 1
        if self.kills_left == 0 or self.journal is None:
            return
        dead = self.world.killed(self.points, kind, step, action)
        key = self.key(_read(self.journal), dead, self.kills_left - 1)
        if key in self.seen:
            return
        self.seen.add(key)
        copied = self.root / "kills" / str(len(self.seen))
        shutil.copytree(self.runs, copied, ignore=shutil.ignore_patterns("*-shm"))
        self.work.append(Pending(copied, dead, self.kills_left - 1))

    @staticmethod
    def key(read: tuple[str, dict[str, Any], list[Any]], world: World, kills_left: int) -> Any:
        """Everything a resume's future depends on: equal keys, equal futures."""
        state, steps, events = read
        order = sorted((seq, s) for s, (_, _, seq) in steps.items() if seq is not None)
        return (
            kills_left,
            state,
            tuple(sorted((s, st, done) for s, (st, done, _) in steps.items())),
            tuple(s for _, s in order),  # rollbacks go newest first
            frozenset(e for e in events if e[1] in FACTS),
            frozenset(world.applied),
            tuple(sorted(world.config.items())),
            tuple(sorted(world.slack().items())),
        )

    # --- engine processes -----------------------------------------------------------------

    def process(self, assume: Mapping[str, str]) -> str | list[str]:
        """Start or resume the run in a fresh engine: "finished", or the steps it refused
        to re-run (in doubt: the operator must answer)."""
        self.points, self.journal = 0, None
        self.processes += 1
        try:
            if not (self.runs / RUN_ID).exists():
                options = RunOptions(env="lab", auto_approve=True, run_id=RUN_ID)
                engine = create_run(
                    core.load_plan(self.plan_path), self.runs, options, self.world_of
                )
            else:
                engine = open_run(self.runs, RUN_ID, self.world_of)
            try:
                engine.execute(assume=assume)
            finally:
                engine.close()
        except JournalError as exc:
            raise AssertionError(f"journal refused after {self.world.kills}: {exc}") from exc
        except EngineError as exc:
            refused = re.match(r"step\(s\) (.+) were in flight when the run stopped", exc.message)
            if refused:
                return refused.group(1).split(", ")
            if re.match(r"run \S+ is finished", exc.message):
                return "finished"  # killed after its last event: nothing left to do
            raise AssertionError(f"resume refused after {self.world.kills}: {exc}") from exc
        return "finished"

    def read(self) -> tuple[str, dict[str, Any], list[Any]]:
        journal = Journal.open(self.runs / RUN_ID)
        try:
            return _read(journal)
        finally:
            journal.close()

    def restore(self, pending: Pending) -> None:
        shutil.rmtree(self.runs, ignore_errors=True)
        if pending.runs is not None:
            shutil.copytree(pending.runs, self.runs)
        self.world = copy.deepcopy(pending.world)
        self.kills_left = pending.kills_left

    def journaled_done(self, sid: str) -> bool:
        """The journal knows the step's forward action completed (since its last reset)."""
        kinds = [k for s, k in self.read()[2] if s == sid]
        done = [i for i, k in enumerate(kinds) if k == "step.action_succeeded"]
        undone = [i for i, k in enumerate(kinds) if k in ("step.reset", "step.rolled_back")]
        return bool(done) and done[-1] > max(undone, default=-1)

    def answers(self, blocked: list[str]) -> list[dict[str, str]]:
        """Every truthful set of answers for the steps a resume refused to re-run."""
        choices: list[dict[str, str]] = [{}]
        for sid in blocked:
            answers = ["redo", "done"] if sid in self.world.applied else ["redo"]
            choices = [{**c, sid: a} for c in choices for a in answers]
        return choices

    def explore(self, kills: int) -> None:
        """Every sequence of up to ``kills`` kills, from a run not yet started."""
        self.work = [Pending(None, copy.deepcopy(self.world), kills)]
        while self.work:
            pending = self.work.pop()
            self.restore(pending)
            before = self.read()[2] if pending.runs is not None else None
            outcome = self.process({})
            if outcome == "finished":
                self.check_final()
                continue
            assert isinstance(outcome, list)
            assert self.read()[2] == before, f"a refused resume journaled: {self.world.kills}"
            for answers in self.answers(outcome):
                self.restore(pending)
                for sid, answer in answers.items():
                    self.world.answers.append(f"after kill {len(self.world.kills)}: {sid}={answer}")
                    if answer == "redo" and not self.journaled_done(sid):
                        self.world.redo[sid] += 1  # may run the action again: not known done
                again = self.process(answers)
                assert again == "finished", f"refused again ({answers}): {self.world.kills}"
                self.check_final()

    def check_final(self) -> None:
        w = self.world
        state, steps, _ = self.read()
        where = f"kills {w.kills}, answers {w.answers}"
        for (sid, action), count in w.completed.items():
            assert count <= w.allowed(sid, action), f"{sid} {action} done {count} times; {where}"
        final = Final(
            state,
            tuple(sorted((s, st) for s, (st, _, _) in steps.items())),
            frozenset(w.applied),
            tuple(sorted(w.config.items())),
        )
        self.finals.setdefault(final, []).append(where)


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    # a RAM folder when there is one: the journal syncs every event, of thousands of runs
    shm = Path("/dev/shm")
    folder = Path(tempfile.mkdtemp(dir=shm)) if shm.is_dir() else tmp_path
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("fail_verify", [None, "final"], ids=["succeeds", "rolls-back"])
def test_every_kill_sequence_ends_as_without_kills_with_each_action_once(
    root: Path, monkeypatch: pytest.MonkeyPatch, fail_verify: str | None
) -> None:
    reference = Harness(root / "reference", monkeypatch, fail_verify)
    reference.explore(0)
    [expected] = reference.finals
    assert expected.run == ("succeeded" if fail_verify is None else "rolled_back")
    points = reference.points

    harness = Harness(root / "killed", monkeypatch, fail_verify)
    harness.explore(MAX_KILLS)
    assert len(harness.seen) > points  # every point of the run was a kill, and more
    wrong = {final: wheres for final, wheres in harness.finals.items() if final != expected}
    assert not wrong, f"want {expected}, got {next(iter(wrong))}: {next(iter(wrong.values()))[0]}"
    endings = sum(map(len, harness.finals.values()))
    print(
        f"{len(harness.seen)} distinct kill states, {harness.processes} engine processes, "
        f"{endings} endings, {points} points without kills"
    )
