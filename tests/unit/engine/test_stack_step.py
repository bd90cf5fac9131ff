"""`stack` steps through the StackAdapter protocol, with a small in-test implementation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from cutover.engine import RunOptions, create_run
from cutover.engine.stacks import ConfigValue
from cutover.engine.world import World
from cutover.plan import load_plan


class MemoryStack:
    """Config held in a dict; every update is recorded."""

    def __init__(self) -> None:
        self.config: dict[str, ConfigValue] = {"cutover:compute": "lab"}
        self.updates: list[tuple[dict[str, ConfigValue], bool]] = []

    def read_config(self, stack: str, keys: Sequence[str]) -> dict[str, ConfigValue]:
        return {key: self.config.get(key) for key in keys}

    def update(self, stack: str, config: Mapping[str, ConfigValue], *, check: bool) -> None:
        self.updates.append((dict(config), check))
        if check:
            return
        for key, value in config.items():
            if value is None:
                self.config.pop(key, None)
            else:
                self.config[key] = value


@pytest.fixture
def memory_stack():
    return MemoryStack()


def write_plan(tmp_path: Path, probe: str) -> Path:
    path = tmp_path / "plan.yml"
    path.write_text(
        f"""\
defaults: {{owner: A, approver: B}}
steps:
  - id: switch
    kind: stack
    adapter: memory
    stack: production
    config: {{cutover:compute: openstack, cutover:merger: quangngai-kontum}}
    rollback: previous-config
  - id: probe
    kind: check
    needs: [switch]
    probes: [{{command: ["{probe}"]}}]
""",
        encoding="utf-8",
    )
    return path


def run(tmp_path: Path, probe: str, stack: MemoryStack, *, check: bool = False) -> str:
    plan = load_plan(write_plan(tmp_path, probe))
    world = World(stacks={"memory": lambda: stack})
    engine = create_run(
        plan, tmp_path / "runs", RunOptions(env="lab", check=check), lambda plan, env: world
    )
    try:
        return engine.execute().state
    finally:
        engine.close()


def test_stack_step_applies_config(tmp_path, memory_stack) -> None:
    assert run(tmp_path, "true", memory_stack) == "succeeded"
    assert memory_stack.config == {
        "cutover:compute": "openstack",
        "cutover:merger": "quangngai-kontum",
    }


def test_stack_rollback_restores_the_previous_config(tmp_path, memory_stack) -> None:
    assert run(tmp_path, "false", memory_stack) == "rolled_back"
    assert memory_stack.config == {"cutover:compute": "lab"}  # the unset key is removed again
    assert memory_stack.updates[-1] == (
        {"cutover:compute": "lab", "cutover:merger": None},
        False,
    )


def test_stack_check_mode_only_previews(tmp_path, memory_stack) -> None:
    assert run(tmp_path, "true", memory_stack, check=True) == "succeeded"
    assert memory_stack.config == {"cutover:compute": "lab"}
    assert [check for _, check in memory_stack.updates] == [True]


def test_missing_adapter_fails_the_step_with_a_clear_message(tmp_path) -> None:
    plan = load_plan(write_plan(tmp_path, "true"))
    engine = create_run(plan, tmp_path / "runs", RunOptions(env="lab"))
    try:
        outcome = engine.execute()
    finally:
        engine.close()
    assert outcome.state == "rolled_back"
    assert "no stack adapter 'memory' is available" in outcome.steps["switch"]["message"]
