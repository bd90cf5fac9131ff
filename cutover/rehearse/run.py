"""``cutover rehearse``: a whole cutover of a merger on its lab twin, measured.

Lab up and provisioned (restored from its snapshot when the key matches), verified
as-is; start continuous probes, run the merger's plan with gates auto-approved, verify
the end state, stop the probes, account for every probe message, and write the report
into the run's folder. Progress goes to ``report(kind, **data)``; nothing here prints."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cutover import runworld, verify
from cutover.engine.core import RunOptions, check_options, create_run
from cutover.engine.history import step_durations
from cutover.engine.lock import describe, lock_name, read_lock, unlock_command
from cutover.errors import ConfigError, CutoverError, Location
from cutover.inventory import find_merger_dir, load
from cutover.journal import RUN_FINAL, Journal, runs_dir
from cutover.lab import lab as lablib
from cutover.plan import graph
from cutover.plan.validate import LoadedPlan, load_plan
from cutover.rehearse import labstate
from cutover.rehearse.accounting import account
from cutover.rehearse.probes import Prober
from cutover.report import Rehearsal, steps_from_journal, write
from cutover.report.window import production_window
from cutover.stack import lab as stack_lab

Report = Callable[..., None]


class RehearsalError(CutoverError):
    """The rehearsal could not reach the point of running the plan."""


@dataclass
class Options:
    merger: str
    plan: Path | None = None
    inject_failure: str | None = None
    keep: bool = False
    lang: str = "vi"
    runs: Path | None = None
    probe_rate_hz: float = 4.0
    settle_s: float = 5.0  # mail in flight when the plan ends gets this long to land
    snapshots: bool = True  # restore the provisioned lab when its key matches; save it


@dataclass
class Result:
    rehearsal: Rehearsal
    html: Path
    json: Path
    verified: bool
    lab: labstate.How  # the provisioned lab restored from its snapshot, or provisioned


def plan_for(merger_dir: Path, given: Path | None) -> LoadedPlan:
    path = given or merger_dir / "plans" / "cutover.yml"
    if not path.is_file():
        raise ConfigError(
            "the merger has no cutover plan",
            where=Location(path),
            hint="write one, or pass --plan PATH",
        )
    return load_plan(path)


def _step_info(plan: LoadedPlan, history: dict[str, float]) -> dict[str, dict[str, Any]]:
    """Per step: kind, owner, approver and the seconds planned before this run (from
    earlier rehearsals where there are any, else estimates and timeouts)."""
    return {
        sid: {
            "kind": step.kind,
            "owner": plan.owner(step),
            "approver": plan.approver(step),
            "planned_s": plan.expected(step, history),
        }
        for sid, step in plan.steps.items()
    }


def _check_free(name: str) -> None:
    """Refuse before the lab is touched when another run holds it: rebuilding and
    provisioning a lab under a half-done run would only end in the engine's refusal."""
    held = read_lock(name)
    if held is None or (not held.get("executing") and held.get("state") in RUN_FINAL):
        return
    run = held.get("run")
    raise RehearsalError(
        f"the lab is in use: {describe(held)}",
        hint="wait for it"
        if held.get("executing")
        else f"`cutover resume {run}` or `cutover rollback {run}`; if abandoned, "
        f"`{unlock_command(name)} --force --reason WHY`",
    )


def rehearse(options: Options, report: Report) -> Result:
    merger_dir = find_merger_dir(options.merger)
    inv = load(merger_dir, "lab")
    plan = plan_for(merger_dir, options.plan)  # bad input stops here, before the lab
    # ... and so do bad options: a typo in --inject-failure must not cost a lab bring-up
    check_options(
        plan, RunOptions(env="lab", auto_approve=True, inject_failure=options.inject_failure)
    )
    _check_free(lock_name("lab", plan.model.merger))

    report("phase", name="lab")
    try:
        applier = lablib.hosts_applier(inv, stack_lab)
        lab_how = labstate.provisioned(inv, report, applier, snapshots=options.snapshots)

        history = step_durations(runs_dir(options.runs), plan.name)
        ctx = verify.context(inv)
        prober = Prober(ctx, rate_hz=options.probe_rate_hz)
        t0 = time.monotonic()
        started_at = datetime.now(UTC)
        prober.start(t0)
        report("phase", name="plan")
        engine = create_run(
            plan,
            runs_dir(options.runs),
            RunOptions(env="lab", auto_approve=True, inject_failure=options.inject_failure),
            runworld.factory(inv),
            report=report,
        )
        try:
            outcome = engine.execute()
        finally:
            engine.close()
        end_state = "merged" if outcome.state == "succeeded" else "as-is"
        report("phase", name=f"verify-{end_state}")
        verified = (
            labstate.verify_state(inv, end_state, report) if end_state in verify.STATES else True
        )
        time.sleep(options.settle_s)
        series = prober.stop()
        wall = time.monotonic() - t0
        report("phase", name="accounting")
        messages = account(ctx, prober.sent, merged=outcome.state == "succeeded")
    finally:
        if not options.keep:
            report("phase", name="lab-down")
            lablib.teardown(inv, stack_lab, report)

    run_dir = outcome.run_dir
    journal = Journal.open(run_dir)
    try:
        durations = {s: r.seconds for s, r in journal.steps().items() if r.seconds is not None}
    finally:
        journal.close()
    steps, rollbacks = steps_from_journal(run_dir, _step_info(plan, history), started_at)
    critical_s, _ = graph.critical_path(plan.needs, durations)
    # this run's journal is among the runs now: the prediction uses its step times too
    predicted = production_window(plan, runs_dir(options.runs))
    rehearsal = Rehearsal(
        merger=inv.name,
        env="lab",
        run_id=outcome.run_id,
        state=outcome.state,
        started_at=started_at.astimezone().isoformat(timespec="seconds"),
        wall_s=wall,
        critical_path_s=critical_s,
        steps=steps,
        probes=series,
        rollbacks=rollbacks,
        messages=messages,
        injected_failure=options.inject_failure,
        prediction=None if predicted is None else predicted.to_dict(),
        prediction_lines=[] if predicted is None else predicted.arithmetic(),
    )
    html_path, json_path = write(rehearsal, run_dir, options.lang)
    return Result(rehearsal, html_path, json_path, verified, lab_how)
