"""One unreadable journal beside the real ones hides nothing and blocks nothing: history,
plan show, show of another run and a new run all go on (with a warning where shown)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cutover import cli
from cutover.engine.core import RunOptions, create_run
from cutover.journal import Journal, list_runs
from cutover.plan import load_plan

pytestmark = pytest.mark.security

PLAYBOOKS = Path(__file__).resolve().parents[3] / "playbooks" / "cutover"


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    good = Journal.create(root / "good", {"run_id": "good", "env": "lab", "plan_name": "t"})
    good.close()
    (root / "garbage").mkdir()
    (root / "garbage" / "journal.sqlite").write_bytes(b"not a journal at all\n" * 50)
    (root / "empty").mkdir()
    (root / "empty" / "journal.sqlite").write_bytes(b"")
    return root


def test_list_runs_skips_and_names_the_unreadable(runs: Path) -> None:
    skipped: list[str] = []
    assert [d.name for d, _ in list_runs(runs, skipped)] == ["good"]
    assert [s.split(":")[0] for s in skipped] == [str(runs / "empty"), str(runs / "garbage")]
    # looked at, never written: the empty file did not become a journal
    assert (runs / "empty" / "journal.sqlite").read_bytes() == b""
    assert (runs / "garbage" / "journal.sqlite").read_bytes().startswith(b"not a journal")


def test_history_and_show_go_on(runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["history", "--runs-dir", str(runs)]) == 0
    captured = capsys.readouterr()
    assert "good" in captured.out and "warning: skipped" in captured.err
    assert cli.main(["show", "good", "--runs-dir", str(runs)]) == 0


def test_a_new_run_and_plan_show_are_not_blocked(runs: Path, tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.yml"
    plan_file.write_text(
        f"name: t\nplaybook_dir: {PLAYBOOKS}\ndefaults: {{owner: A, approver: B}}\n"
        "steps:\n  - {id: a, kind: wait, duration: 1s}\n",
        encoding="utf-8",
    )
    assert cli.main(["plan", "show", str(plan_file), "--runs-dir", str(runs)]) == 0
    engine = create_run(load_plan(plan_file), runs, RunOptions(env="lab", run_id="new"))
    engine.journal.close()
    assert (runs / "new" / "journal.sqlite").is_file()
