"""A live run cannot be rehearsed on by mistake: rehearsal hooks are not in its graph and
the variables that fail steps on purpose are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from cutover.engine.core import RunOptions, check_options
from cutover.errors import ConfigError
from cutover.plan import load_plan

pytestmark = pytest.mark.security

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = sorted((ROOT / "inventories").glob("*/plans/*.yml"))
PLAYBOOKS = ROOT / "playbooks" / "cutover"
WINDOW = '{start: "2025-06-28T22:00", end: "2025-06-29T04:00", tz: Asia/Ho_Chi_Minh}'


def write(tmp_path: Path, steps: str, top: str = "") -> Path:
    path = tmp_path / "plan.yml"
    path.write_text(
        f"name: t\nplaybook_dir: {PLAYBOOKS}\nwindow: {WINDOW}\n{top}"
        "defaults: {owner: Tester, approver: Lead}\nsteps:\n" + steps,
        encoding="utf-8",
    )
    return path


STEPS = """\
  - {id: a, kind: wait, duration: 1s}
  - {id: hook, kind: playbook, needs: [a], playbook: rehearsal-fail.yml, read_only: true,
     rehearsal_only: true, vars: {rehearsal_point: a}}
  - {id: b, kind: wait, duration: 1s, needs: [hook]}
  - {id: c, kind: wait, duration: 1s, needs: [hook, a, b]}
"""


def test_a_live_plan_has_no_rehearsal_steps_and_keeps_the_order(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, STEPS))
    live = plan.live()
    assert list(live.steps) == ["a", "b", "c"]
    assert live.needs == {"a": [], "b": ["a"], "c": ["a", "b"]}
    assert list(plan.steps) == ["a", "hook", "b", "c"]  # the plan itself is unchanged


@pytest.mark.parametrize("path", SHIPPED, ids=[f"{p.parent.parent.name}-{p.stem}" for p in SHIPPED])
def test_shipped_plans_have_no_hook_in_a_live_run(path: Path) -> None:
    plan = load_plan(path)
    live = plan.live()
    assert not [s for s in live.steps if s.startswith("rehearsal.")]
    for step in live.steps.values():
        assert set(step.needs) <= set(live.steps)


@pytest.mark.parametrize("name", ["cutover_fail_after", "cutover_rehearse_fail_at"])
def test_failure_variables_are_refused_in_production_only(tmp_path: Path, name: str) -> None:
    plan = load_plan(write(tmp_path, STEPS))
    with pytest.raises(ConfigError, match=f"-e {name} is for rehearsals only"):
        check_options(plan, RunOptions(env="production", extravars={name: "a"}))
    for env in ("lab", "staging"):
        check_options(plan, RunOptions(env=env, extravars={name: "a"}))


def test_failure_variables_in_the_plan_are_refused_with_their_line(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, STEPS, top="vars: {cutover_fail_after: a}\n"))
    with pytest.raises(ConfigError) as caught:
        check_options(plan, RunOptions(env="production"))
    assert caught.value.where is not None and caught.value.where.line == 4
    steps = STEPS + "  - {id: d, kind: playbook, playbook: rehearsal-fail.yml, read_only: true,\n"
    steps += "     vars: {rehearsal_point: a, cutover_rehearse_fail_at: d}}\n"
    plan = load_plan(write(tmp_path, steps))
    with pytest.raises(ConfigError, match="step 'd' sets cutover_rehearse_fail_at"):
        check_options(plan, RunOptions(env="production"))


def test_a_rehearsal_only_step_may_not_change_anything(tmp_path: Path) -> None:
    steps = STEPS.replace(
        "read_only: true,\n     rehearsal_only", "rollback: ok.yml,\n     rehearsal_only"
    )
    with pytest.raises(ConfigError, match="rehearsal-only step 'hook' changes things"):
        load_plan(write(tmp_path, steps))


def test_a_mergers_plan_acts_on_its_environments_hosts_only(tmp_path: Path) -> None:
    hosts = tmp_path / "prod-hosts.yml"
    hosts.write_text("all: {}\n", encoding="utf-8")
    plan = load_plan(
        write(tmp_path, STEPS, top=f"merger: quangngai-kontum\ninventory: {hosts.name}\n")
    )
    for env in ("lab", "staging", "production"):
        with pytest.raises(ConfigError, match="is not the environment's own") as caught:
            check_options(plan, RunOptions(env=env, auto_approve=env != "production"))
        assert caught.value.where is not None and caught.value.where.line == 5
    plain = load_plan(write(tmp_path, STEPS, top=f"inventory: {hosts.name}\n"))
    check_options(plain, RunOptions(env="lab"))  # a test plan of its own hosts
    with pytest.raises(ConfigError, match="a live run acts on a merger's environment"):
        check_options(plain, RunOptions(env="production"))
