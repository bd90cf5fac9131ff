"""The engine SIGKILLed at random points of a full lab rehearsal, many times: every
resume completes, no step's forward action completes twice, no message is lost.

The whole plan (plans/cutover.yml: DNS, mail, portal, video) runs on the shared lab as
``cutover run`` in its own process group, while the rehearsal probes (DNS, HTTPS, SMTP,
IMAP, XMPP) run in this process across every kill. When the journal reaches a random
number of events (seeded; the seed is printed, CUTOVER_FAULT_SEED=<seed> repeats it) the
whole group is SIGKILLed (mid-playbook, as a rule: the journal is polled), then the run is
resumed as an operator would: ``cutover resume RUN``. Event counts, not seconds: a run's
length varies with the machine's load, and kill points in seconds fell past the end of a
fast run (five runs of 2026-12-02 saw 0 to 2 of 6 timed kills land).

What the engine does with a step caught mid-flight (cutover/engine/core.py,
``_resolve_in_doubt``): a step whose forward action had completed (journaled
``step.action_succeeded``) re-runs only its verification; a step that changes nothing
(check, gate, wait, read-only playbook) or is marked ``idempotent`` is reset and re-run;
any other step is *not* re-run: the resume is refused, naming the step and the
``--assume STEP=done|redo`` choice. This test asserts that refusal, then answers as the
operator of this lab: ``redo``, because the killed group took the playbook with it and
the cutover playbooks converge on their target state (DNS changes are computed against
the live zones, routing tables are rewritten whole, dsync is one-way, backups are taken
once per run).

Besides the random kills, one fixed sequence is always in: the engine kills itself
(CUTOVER_TEST_KILL_AT) right after ``portal.switch``'s forward action is journaled, and
the resumed engine again as it starts that step's re-verification, the sequence that once
made the action run twice (issue "Exactly once"). The seed, every kill point and every
operator answer are in each failure message.

Afterwards: the run succeeded; by the journal, each step succeeded once and each
playbook's forward action completed once (``step.action_succeeded``), and a step was
re-run only after a reset the rules allow; by the side effects, each step has exactly one
successful forward playbook run in its artifacts and no DNS change was sent twice (every
step verified its own end state); every probe message is in its new home mailbox.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import signal
import subprocess
import time
from collections import Counter

import pytest
from labfaults import FaultLab, action_dirs, changes_nothing, step_events

from cutover.journal import JOURNAL_FILE
from cutover.plan.model import PlaybookStep
from cutover.rehearse.accounting import account

# a whole plan with six kills and resumes on a shared 2-core machine:
# above the suite's default timeout
pytestmark = [pytest.mark.integration, pytest.mark.exactly_once, pytest.mark.timeout(3000)]

RUN = "kill-resume"
LOG = "kill-resume.log"
KILLS = 6
# Kill points in journal events, uniform over about the events of a whole run (each step
# journals at least its start and end): kills land from the first steps to the last.
RUN_TIMEOUT_S = 2400.0
# the fixed sequence: each engine process carries the next hook until it fires
HOOKS = ["portal.switch:action-done", "portal.switch:verify-started"]


def _seed() -> int:
    given = os.environ.get("CUTOVER_FAULT_SEED")
    return int(given) if given else secrets.randbits(32)


def _in_doubt_not_rerunnable(lab: FaultLab) -> list[str]:
    """Steps the engine will refuse to re-run: in flight at the kill, action not
    completed, neither idempotent nor changing nothing."""
    plan = lab.loaded("cutover.yml")
    journal = lab.journal(RUN)
    if journal is None:
        return []
    try:
        records = journal.steps()
    finally:
        journal.close()
    return [
        sid
        for sid, rec in records.items()
        if rec.state == "running"
        and not plan.steps[sid].idempotent
        and not changes_nothing(plan.steps[sid])
    ]


def _journaled(lab: FaultLab) -> bool:
    """The run's journal exists (without opening it: a poll must not leak connections)."""
    return (lab.run_dir(RUN) / JOURNAL_FILE).is_file()


def _event_count(lab: FaultLab) -> int:
    journal = lab.journal(RUN)
    assert journal is not None
    try:
        # the engine first stops playbooks the killed process left running (journaled)
        return sum(1 for e in journal.events() if e.kind != "run.orphans_stopped")
    finally:
        journal.close()


def _hook(hooks: list[str]) -> dict[str, str]:
    return {"CUTOVER_TEST_KILL_AT": hooks[0]} if hooks else {}


def _resume(
    lab: FaultLab, decisions: list[tuple[str, str]], hooks: list[str]
) -> subprocess.Popen[bytes]:
    if not _journaled(lab):  # killed before the run was even journaled: start again
        return _start(lab, hooks)
    assume: list[str] = []
    blocked = _in_doubt_not_rerunnable(lab)
    if blocked:
        before = _event_count(lab)
        refused = lab.kit.cli("resume", RUN, check=False)
        assert refused.returncode == 1, refused.stdout[-2000:]
        assert _event_count(lab) == before  # a refused resume journals nothing
        for sid in blocked:
            assert sid in refused.stderr and f"--assume {blocked[0]}=done" in refused.stderr, (
                refused.stderr
            )
            assume += ["--assume", f"{sid}=redo"]
            decisions.append((sid, "redo"))
    return lab.spawn("resume", RUN, *assume, log=LOG, env=_hook(hooks))


def _start(lab: FaultLab, hooks: list[str]) -> subprocess.Popen[bytes]:
    plan = str(lab.plan("cutover.yml"))
    return lab.spawn(
        "run", plan, "--env", "lab", "--auto-approve", "--run-id", RUN, log=LOG, env=_hook(hooks)
    )


def _reached(lab: FaultLab, proc: subprocess.Popen[bytes], target: int, deadline: float) -> bool:
    """Poll until the run's journal holds ``target`` events and one more than when the
    poll began, so that each process lives to journal something (True), or the engine
    process ends first (False)."""
    start: int | None = None
    while time.monotonic() < deadline and proc.poll() is None:
        if _journaled(lab):
            count = _event_count(lab)
            start = count if start is None else start
            if count >= target and count > start:
                return proc.poll() is None
        time.sleep(0.2)
    return False


def _in_flight(lab: FaultLab) -> list[str]:
    journal = lab.journal(RUN)
    if journal is None:
        return []
    try:
        return [s for s, r in journal.steps().items() if r.state in ("running", "action_done")]
    finally:
        journal.close()


def test_killed_engine_resumes_to_success_with_each_action_once(fault_lab: FaultLab) -> None:
    lab = fault_lab
    seed = _seed()
    rng = random.Random(seed)
    print(f"kill-resume seed {seed} (CUTOVER_FAULT_SEED={seed} repeats the kill points)")
    kills: list[tuple[str, list[str]]] = []  # (journal event or hook point, in flight)
    decisions: list[tuple[str, str]] = []
    hooks = list(HOOKS)
    prober = lab.prober()
    prober.start()
    try:
        steps = lab.loaded("cutover.yml").steps
        events = 2 + sum(3 if isinstance(s, PlaybookStep) else 2 for s in steps.values())
        targets = sorted(rng.sample(range(2, events), KILLS))
        proc = _start(lab, hooks)
        deadline = time.monotonic() + RUN_TIMEOUT_S
        random_kills = 0
        while time.monotonic() < deadline:
            if random_kills < KILLS and _reached(lab, proc, targets[random_kills], deadline):
                running = _in_flight(lab)
                lab.kill(proc)
                random_kills += 1
                kills.append((f"event {targets[random_kills - 1]}", running))
                proc = _resume(lab, decisions, hooks)
                continue
            if proc.poll() is None:
                proc.wait(timeout=max(1.0, deadline - time.monotonic()))
            if proc.returncode == -signal.SIGKILL and hooks:  # the engine killed itself
                kills.append((hooks.pop(0), _in_flight(lab)))
                proc = _resume(lab, decisions, hooks)
                continue
            break
        time.sleep(10)  # the last probe messages land
    finally:
        prober.stop()
        for running in lab.procs:
            lab.kill(running)
    where = (
        f"seed {seed} (CUTOVER_FAULT_SEED={seed} repeats it); kills (journal event or "
        f"hook point, steps in flight): {kills}; operator: {decisions}"
    )
    print(where)
    assert kills, "the run ended before the first kill"
    assert hooks == [], f"the fixed sequence did not happen: {hooks} left; {where}"
    output = lab.output(LOG)
    assert proc.returncode == 0, f"{output[-4000:]}\n{where}"

    plan = lab.loaded("cutover.yml")
    journal = lab.journal(RUN)
    assert journal is not None
    try:
        assert journal.state() == "succeeded", where
        steps = journal.steps()
        succeeded = step_events(journal, "step.succeeded")
        completed = step_events(journal, "step.action_succeeded")
        started = step_events(journal, "step.started")
        resets = journal.events(kind="step.reset")
    finally:
        journal.close()
    assert {s: r.state for s, r in steps.items()} == dict.fromkeys(plan.steps, "succeeded"), where
    assert succeeded == dict.fromkeys(plan.steps, 1), where
    playbooks = [s for s, step in plan.steps.items() if isinstance(step, PlaybookStep)]
    twice = {s: n for s in playbooks if (n := completed.get(s, 0)) != 1}
    assert twice == {}, f"forward actions completed (want 1 each): {twice}; {where}"
    # a step started again only after a reset its kind, its plan or the operator allows
    redone = {s for s, _ in decisions}
    reset_count = Counter(e.step for e in resets)
    for event in resets:
        step = plan.steps[str(event.step)]
        allowed = step.idempotent or changes_nothing(step) or event.step in redone
        assert allowed, (event.step, event.data, where)
    for sid, step in plan.steps.items():
        if not isinstance(step, PlaybookStep):
            continue
        runs = list(action_dirs(lab.run_dir(RUN), sid))
        successful = [pdd for pdd, status in runs if status == "successful"]
        # side effects: one forward playbook run completed; any other was killed mid-way
        assert len(successful) == 1, (sid, runs, where)
        assert len(runs) <= 1 + reset_count[sid], (sid, runs, where)
        in_flight = sum(1 for k in kills if sid in k[1])
        assert started[sid] <= 1 + reset_count[sid] + in_flight, (sid, where)
    changes = lab.run_dir(RUN) / "dns" / "changes.jsonl"
    sent = Counter(
        (c["why"], c["server"], c["change"])
        for c in map(json.loads, changes.read_text().splitlines())
    )
    assert [c for c, n in sent.items() if n > 1] == [], where  # no DNS change applied twice

    messages = account(lab.context(), prober.sent, merged=True)
    print(
        f"kill-resume: {len(kills)} kills, {messages.sent} probe messages, "
        f"lost {len(messages.lost)}, duplicated {len(messages.duplicated)}"
    )
    assert messages.sent > 0
    assert messages.lost == [], (messages.lost, where)
