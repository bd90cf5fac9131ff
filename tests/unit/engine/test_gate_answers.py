"""A gate is answered only while it waits, only by its approver, and the answer says
where it came from; `deny` fails the gate."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cutover import cli
from cutover.engine.core import Engine, RunOptions, create_run
from cutover.engine.gates import answer
from cutover.errors import EngineError
from cutover.journal import Journal
from cutover.plan import load_plan

pytestmark = pytest.mark.security

PLAYBOOKS = Path(__file__).resolve().parents[3] / "playbooks" / "cutover"
APPROVER = "Phạm Văn Dũng (Giám đốc Sở KH&CN)"


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Engine, Path, dict[str, object]]]:
    plan = tmp_path / "plan.yml"
    plan.write_text(
        f"name: t\nplaybook_dir: {PLAYBOOKS}\ndefaults: {{owner: A, approver: B}}\nsteps:\n"
        f'  - {{id: go, kind: gate, approver: "{APPROVER}", timeout: 2m}}\n'
        "  - {id: w, kind: wait, duration: 1s, needs: [go]}\n",
        encoding="utf-8",
    )
    runs = tmp_path / "runs"
    engine = create_run(load_plan(plan), runs, RunOptions(env="staging", run_id="r1"))
    result: dict[str, object] = {}
    try:
        yield engine, runs, result
    finally:
        engine.stopping.set()  # a test that failed half-way leaves no waiting gate behind
        thread = result.get("thread")
        if isinstance(thread, threading.Thread):
            thread.join(30)
        engine.close()


def start(engine: Engine, result: dict[str, object]) -> threading.Thread:
    thread = threading.Thread(target=lambda: result.update(outcome=engine.execute()))
    result["thread"] = thread
    thread.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if engine.journal.events(step="go", kind="gate.waiting"):
            return thread
        time.sleep(0.05)
    raise AssertionError("the gate never waited")


def test_a_gate_cannot_be_pre_approved(running: tuple[Engine, Path, dict[str, object]]) -> None:
    engine, runs, result = running
    with pytest.raises(EngineError, match="not waiting for an answer"):
        answer(runs, "r1", "go", APPROVER)
    thread = start(engine, result)
    time.sleep(1)
    assert engine.journal.steps()["go"].state == "running"  # the early answer did nothing
    answer(runs, "r1", "go", APPROVER)
    thread.join(60)
    assert result["outcome"].state == "succeeded"  # type: ignore[attr-defined]


def test_only_the_approver_answers_and_the_origin_is_kept(
    running: tuple[Engine, Path, dict[str, object]],
) -> None:
    engine, runs, result = running
    thread = start(engine, result)
    for wrong in ("Nguyễn Văn B", None, "Giám đốc Sở KH&CN"):
        with pytest.raises(EngineError, match="answered by its approver"):
            answer(runs, "r1", "go", wrong)
    assert answer(runs, "r1", "go", "  phạm văn  DŨNG ") == "  phạm văn  DŨNG "
    thread.join(60)
    assert result["outcome"].state == "succeeded"  # type: ignore[attr-defined]
    journal = Journal.open(runs / "r1", read_only=True)
    approved = journal.events(step="go", kind="gate.approved")
    journal.close()
    assert len(approved) == 1 and approved[0].data["os_user"] and approved[0].data["host"]
    with pytest.raises(EngineError):
        answer(runs, "r1", "go", APPROVER)  # finished: nothing waits any more


def test_deny_fails_the_gate(
    running: tuple[Engine, Path, dict[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    engine, runs, result = running
    thread = start(engine, result)
    code = cli.main(
        [
            "deny",
            "r1",
            "go",
            "--by",
            APPROVER,
            "--reason",
            "mail not ready",
            "--runs-dir",
            str(runs),
        ]
    )
    assert code == 0, capsys.readouterr().err
    thread.join(60)
    outcome = result["outcome"]
    assert outcome.state != "succeeded"  # type: ignore[attr-defined]
    assert engine.journal.steps()["go"].state == "failed"
    assert "mail not ready" in (engine.journal.steps()["go"].message or "")
