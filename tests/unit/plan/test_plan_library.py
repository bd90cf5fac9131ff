"""The mergers' plans extend the standard library (cutover/plans/): composed, each has the
step graph it had when it was written out in full (fixtures/graphs/, dumped from the
full plans before they were shrunk), owners and approvers included. The one documented
difference: the TTL wait names no record (`ttl_of`); it takes the TTL that the step
lowering the TTLs reports.

Regenerate the fixtures (only when a change of graph is meant):
    python -m tests.unit.plan.test_plan_library
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cutover.plan import LoadedPlan, load_plan
from cutover.plan.model import WaitStep

ROOT = Path(__file__).resolve().parents[3]
GRAPHS = Path(__file__).parent / "fixtures" / "graphs"
MERGERS = ("quangngai-kontum", "cantho-haugiang-soctrang")
PLANS = ("cutover", "dns-mail", "portal-video")
CASES = [(m, p) for m in MERGERS for p in PLANS]
STEP_FIELDS = (
    "kind", "needs", "playbook", "verify", "rollback", "verify_rollback", "vars", "limit",
    "tags", "inventory", "idempotent", "read_only", "rehearsal_only", "point_of_no_return",
    "scales_with", "estimate", "timeout", "retries", "retry_delay", "message", "duration",
    "until", "after", "ttl",
)  # fmt: skip


def plan_file(merger: str, plan: str) -> Path:
    return ROOT / "inventories" / merger / "plans" / f"{plan}.yml"


def graph(plan: LoadedPlan) -> dict[str, Any]:
    """What a run does and who answers for it; descriptions (prose) are left out."""
    steps: dict[str, Any] = {}
    for sid, step in plan.steps.items():
        fields = {name: getattr(step, name) for name in STEP_FIELDS if hasattr(step, name)}
        fields["owner"] = plan.owner(step)
        fields["approver"] = plan.approver(step)
        fields["playbook_paths"] = {
            name: str(plan.playbook_path(fields[name]).relative_to(ROOT))
            for name in ("playbook", "verify", "rollback", "verify_rollback")
            if fields.get(name)
        }
        steps[sid] = fields
    model = plan.model
    return {
        "name": plan.name,
        "merger": model.merger,
        "window": None if model.window is None else model.window.model_dump(mode="json"),
        "policy": model.policy.model_dump(mode="json"),
        "defaults": {"timeout": model.defaults.timeout, "retries": model.defaults.retries},
        "vars": model.vars,
        "inventory": model.inventory,
        "order": plan.order(),
        "steps": steps,
    }


@pytest.mark.parametrize(("merger", "name"), CASES, ids=[f"{m}-{p}" for m, p in CASES])
def test_composed_plan_has_the_graph_of_the_full_plan(merger: str, name: str) -> None:
    plan = load_plan(plan_file(merger, name))
    expected = json.loads((GRAPHS / f"{merger}-{name}.json").read_text(encoding="utf-8"))
    got = json.loads(json.dumps(graph(plan)))
    assert got == expected


@pytest.mark.parametrize(("merger", "name"), CASES, ids=[f"{m}-{p}" for m, p in CASES])
def test_the_ttl_wait_takes_the_ttl_its_after_step_reports(merger: str, name: str) -> None:
    plan = load_plan(plan_file(merger, name))
    wait = plan.steps.get("dns.wait-old-ttl")
    if name == "portal-video":
        assert wait is None
        return
    assert isinstance(wait, WaitStep)
    assert wait.until == "ttl-expired" and wait.after == "dns.lower-ttl"
    assert wait.ttl is None and wait.ttl_of is None


@pytest.mark.parametrize(("merger", "name"), CASES, ids=[f"{m}-{p}" for m, p in CASES])
def test_a_merger_plan_states_only_its_own_facts(merger: str, name: str) -> None:
    lines = plan_file(merger, name).read_text(encoding="utf-8").splitlines()
    assert len(lines) < 60


def main() -> None:
    GRAPHS.mkdir(parents=True, exist_ok=True)
    for merger, name in CASES:
        data = graph(load_plan(plan_file(merger, name)))
        text = json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
        (GRAPHS / f"{merger}-{name}.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
