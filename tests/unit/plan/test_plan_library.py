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

from cutover import cli
from cutover.engine.core import plan_digest
from cutover.errors import ConfigError
from cutover.plan import LoadedPlan, library, load_plan
from cutover.plan.model import PlaybookStep, WaitStep

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


LIBRARY = """\
playbook_dir: ../playbooks
vars: {a: 1, b: 2}
steps:
  - id: x.first
    kind: playbook
    playbook: ok.yml
    rollback: ok.yml
    vars: {stage: one, keep: yes}
  - id: x.second
    kind: playbook
    needs: [x.first]
    playbook: {second}
    rollback: ok.yml
"""


def library_at(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, second: str = "ok.yml") -> Path:
    """A library of one plan ('std') next to the fixtures' playbooks, and a merger plan
    extending it; returns the merger plan's file."""
    lib = tmp_path / "plans"
    lib.mkdir()
    (tmp_path / "playbooks").mkdir()
    for name in ("ok.yml",):
        (tmp_path / "playbooks" / name).write_text("- hosts: all\n  tasks: []\n")
    (lib / "std.yml").write_text(LIBRARY.replace("{second}", second), encoding="utf-8")
    monkeypatch.setattr(library, "LIBRARY_DIR", lib)
    merger = tmp_path / "merger.yml"
    merger.write_text(
        "extends: std\n"
        "defaults: {owner: A, approver: B}\n"
        "owners: {x.second: C}\n"
        "vars: {b: 3}\n"
        "steps:\n"
        "  - id: x.first\n"
        "    vars: {stage: two}\n",
        encoding="utf-8",
    )
    return merger


def test_overrides_merge_vars_and_people_by_step_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = load_plan(library_at(tmp_path, monkeypatch))
    first, second = plan.steps["x.first"], plan.steps["x.second"]
    assert isinstance(first, PlaybookStep) and first.vars == {"stage": "two", "keep": True}
    assert plan.model.vars == {"a": 1, "b": 3}
    assert (plan.owner(first), plan.owner(second)) == ("A", "C")
    assert plan.playbook_path("ok.yml") == tmp_path / "playbooks" / "ok.yml"
    assert plan.where("x.first", "vars") == type(plan.where("x.first"))(plan.path, 7)
    assert plan.where("x.second", "owner").line == 3
    assert plan.where("x.second", "playbook").path == tmp_path / "plans" / "std.yml"


def test_a_fault_in_a_library_step_points_at_the_library_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    merger = library_at(tmp_path, monkeypatch, second="missing.yml")
    with pytest.raises(ConfigError, match=r"'missing\.yml' not found") as caught:
        load_plan(merger)
    assert caught.value.where is not None
    assert caught.value.where.path == tmp_path / "plans" / "std.yml"
    assert caught.value.where.line == 12


def test_a_library_step_names_no_people(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    merger = library_at(tmp_path, monkeypatch)
    std = tmp_path / "plans" / "std.yml"
    std.write_text(
        std.read_text().replace("    kind: playbook\n", "    kind: playbook\n    owner: Z\n", 1)
    )
    with pytest.raises(ConfigError, match="names its owner") as caught:
        load_plan(merger)
    assert caught.value.where == type(caught.value.where)(std, 6)


def test_the_run_identity_covers_the_library(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    merger = library_at(tmp_path, monkeypatch)
    before = plan_digest(merger)
    std = tmp_path / "plans" / "std.yml"
    std.write_text(std.read_text().replace("vars: {a: 1", "vars: {a: 9"))
    assert plan_digest(merger) != before


def test_plan_show_shows_the_composed_plan(capsys: pytest.CaptureFixture[str]) -> None:
    path = plan_file("quangngai-kontum", "portal-video")
    assert cli.main(["--json", "plan", "show", str(path)]) == 0
    out = capsys.readouterr().out
    data = json.loads(out[out.index("{") :])
    owners = {row["id"]: row["owner"] for row in data["steps"]}
    assert owners["portal.switch"] == "Trần Thị B (Trung tâm CNTT-TT Quảng Ngãi)"
    assert owners["portal.sync"] == "Nguyễn Văn C (Trung tâm CNTT-TT Quảng Ngãi)"
    assert len(data["steps"]) == 6


def main() -> None:
    GRAPHS.mkdir(parents=True, exist_ok=True)
    for merger, name in CASES:
        data = graph(load_plan(plan_file(merger, name)))
        text = json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
        (GRAPHS / f"{merger}-{name}.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
