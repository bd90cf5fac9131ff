"""Text from plans and inventories reaches the terminal as it is: never rich markup."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cutover import cli
from cutover.output import markup

pytestmark = pytest.mark.security

FIXTURES = Path(__file__).parent / "plan" / "fixtures"
OWNER = "[/b]Ông [red]Tư[/red] \\"


@pytest.fixture
def odd_plan(tmp_path: Path) -> Path:
    folder = tmp_path / "[red]plans"
    folder.mkdir()
    shutil.copytree(FIXTURES / "playbooks", folder / "[b]playbooks")
    text = (FIXTURES / "good" / "full.yml").read_text(encoding="utf-8")
    text = text.replace("playbook_dir: ../playbooks", "playbook_dir: '[b]playbooks'")
    text = text.replace('"Nguyen Van A (So KHCN Quang Ngai)"', '"[/b]Ông [red]Tư[/red] \\\\"')
    plan = folder / "[bold]plan.yml"
    plan.write_text(text, encoding="utf-8")
    return plan


def test_plan_show_prints_owners_literally(
    odd_plan: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # one table row per line: the owner unwrapped
    code = cli.main(["plan", "show", str(odd_plan)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert OWNER in out


def test_plan_check_prints_the_file_name_literally(
    odd_plan: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["plan", "validate", str(odd_plan)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert f"{odd_plan}: ok" in captured.out


def test_markup_escapes_values() -> None:
    text = markup("[green]ok {step}[/green]", step="[/green][red]x")
    assert text.plain == "ok [/green][red]x"
    assert {span.style for span in text.spans} == {"green"}
