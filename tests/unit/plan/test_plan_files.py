"""Plan files: every malformed fixture is refused with its file, line and message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cutover import cli
from cutover.errors import ConfigError
from cutover.plan import json_schema, load_plan

FIXTURES = Path(__file__).parent / "fixtures"
BAD = sorted((FIXTURES / "bad").glob("*.yml"))
EXPECT = re.compile(r"^# expect: line (\d+): (.+)$")


def expectation(path: Path) -> tuple[int, str]:
    match = EXPECT.match(path.read_text(encoding="utf-8").splitlines()[0])
    assert match, f"{path.name} lacks its '# expect: line N: message' header"
    return int(match.group(1)), match.group(2)


def test_there_are_at_least_thirty_bad_plans() -> None:
    assert len(BAD) >= 30


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_plan_is_rejected_with_line_and_message(path: Path) -> None:
    line, fragment = expectation(path)
    with pytest.raises(ConfigError) as caught:
        load_plan(path)
    error = caught.value
    assert error.where is not None and error.where.path == path
    assert error.where.line == line, error.one_line()
    assert fragment in error.one_line(), error.one_line()
    assert error.hint, f"no fix hint: {error.one_line()}"


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_plan_cli_prints_one_line_without_traceback(path: Path, capsys) -> None:
    line, _ = expectation(path)
    code = cli.main(["plan", "validate", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    assert err.strip().splitlines() == [err.strip()]
    assert err.startswith(f"error: {path}:{line}: ")


def test_good_plan_loads_with_effective_settings() -> None:
    plan = load_plan(FIXTURES / "good" / "full.yml")
    assert next(iter(plan.steps)) == "dns.lower-ttl"
    step = plan.steps["mail.switch-mx"]
    assert plan.owner(step) == "Nguyen Van A (So KHCN Quang Ngai)"
    assert plan.order().index("go-no-go") > plan.order().index("mail.presync")
    total, path = plan.critical_path()
    assert path == [
        "dns.lower-ttl",
        "dns.wait-old-ttl",
        "go-no-go",
        "mail.switch-mx",
        "mail.probe",
        "decommission-kontum",
    ]
    assert total == 120 + 3600 + 600 + 300 + 300 + 600


def test_history_replaces_estimates_in_the_critical_path() -> None:
    plan = load_plan(FIXTURES / "good" / "full.yml")
    total, path = plan.critical_path({"mail.presync": 3 * 3600})
    assert path[0] == "mail.presync"
    assert total == 3 * 3600 + 600 + 300 + 300 + 600


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_plan(tmp_path / "nope.yml")


def test_schema_lists_every_step_kind() -> None:
    schema = json_schema()
    text = str(schema)
    for kind in ("playbook", "stack", "check", "gate", "wait"):
        assert f"'{kind}'" in text
    assert schema["required"] == ["steps"]


def test_schema_validates_the_good_plan() -> None:
    import jsonschema
    import yaml

    data = yaml.safe_load((FIXTURES / "good" / "full.yml").read_text())
    data["window"] = {k: str(v) for k, v in data["window"].items()}
    jsonschema.validate(data, json_schema())
