"""A run of a plan that extends the library keeps both files as they were at its start
(the digest that covers both is tested with the library: tests/unit/plan)."""

from __future__ import annotations

from pathlib import Path

from cutover.engine.core import RunOptions, create_run
from cutover.plan import load_plan

LIBRARY = Path(__file__).resolve().parents[3] / "cutover" / "plans"


def test_a_run_keeps_its_plan_and_the_library_plan_it_extends(tmp_path: Path) -> None:
    plan = tmp_path / "portal-video.yml"
    plan.write_text(
        "extends: portal-video\nname: t\ndefaults: {owner: A, approver: B}\n", encoding="utf-8"
    )
    runs = tmp_path / "runs"
    create_run(load_plan(plan), runs, RunOptions(env="lab", run_id="r1")).close()
    assert (runs / "r1" / "plan.yml").read_bytes() == plan.read_bytes()
    kept = runs / "r1" / "library-portal-video.yml"
    assert kept.read_bytes() == (LIBRARY / "portal-video.yml").read_bytes()
