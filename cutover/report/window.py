"""The window a plan needs in a real environment, predicted from its rehearsals: what
``cutover plan show PLAN --env ENV`` prints and the rehearsal report shows."""

from __future__ import annotations

from pathlib import Path

from cutover.cutovers.dns.plan import moving_ttl
from cutover.engine.history import rollback_durations, step_durations
from cutover.errors import ConfigError, Location
from cutover.inventory import find_merger_dir, load
from cutover.plan.predict import Prediction, predict, target_of
from cutover.plan.validate import LoadedPlan

REHEARSED_IN = "lab"


def merger_dir_of(plan: LoadedPlan) -> Path:
    """The merger folder the plan lives in (``<merger>/plans/x.yml``), else by its name."""
    beside = plan.path.parent.parent
    if (beside / "merger.yml").is_file():
        return beside
    if plan.model.merger is None:
        raise ConfigError(
            "the plan names no merger, so there is no environment to predict for",
            where=Location(plan.path),
            hint="add `merger: NAME` to the plan",
        )
    return find_merger_dir(plan.model.merger)


def environments(merger_dir: Path) -> list[str]:
    return sorted(p.parent.name for p in merger_dir.glob("*/inventory.yml"))


def predict_window(
    plan: LoadedPlan, env: str, runs: Path, skipped: list[str] | None = None
) -> Prediction:
    """``env``'s TTLs and volumes, and the plan's rehearsed step and rollback times."""
    merger_dir = merger_dir_of(plan)
    if env not in environments(merger_dir):
        raise ConfigError(
            f"merger {merger_dir.name} has no environment {env!r}",
            where=Location(merger_dir),
            hint=f"one of: {', '.join(environments(merger_dir))}",
        )
    target = load(merger_dir, env)
    rehearsed = load(merger_dir, REHEARSED_IN) if env != REHEARSED_IN else target
    return predict(
        plan,
        target_of(plan, target, rehearsed, moving_ttl(target)),
        step_durations(runs, plan.name, skipped),
        rollback_durations(runs, plan.name, skipped),
    )


def production_window(plan: LoadedPlan, runs: Path) -> Prediction | None:
    """The prediction for the environment the real cutover runs in: production, else
    staging; None for a merger that has neither."""
    envs = environments(merger_dir_of(plan))
    for env in ("production", "staging"):
        if env in envs:
            return predict_window(plan, env, runs)
    return None
