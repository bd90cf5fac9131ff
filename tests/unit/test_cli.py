"""The command-line surface: help, version, one-line errors, debug tracebacks."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer

from cutover import __version__, cli
from cutover.errors import ConfigError, Location


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cutover.cli", *args], capture_output=True, text=True, check=False
    )


def test_help_lists_global_options() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for option in ("--version", "--debug", "--json"):
        assert option in result.stdout


def test_version_prints_package_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"cutover {__version__}"


def test_unknown_command_is_a_usage_error() -> None:
    result = run_cli("no-such-command")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


@pytest.fixture
def failing_command():
    @cli.app.command("boom-test")
    def boom() -> None:
        raise ConfigError(
            "step 'x' needs unknown step 'y'",
            where=Location(__import__("pathlib").Path("plan.yml"), 7),
            hint="add step 'y' or remove it from needs",
        )

    yield
    cli.app.registered_commands = [c for c in cli.app.registered_commands if c.name != "boom-test"]


def test_error_is_one_line_with_file_and_line(failing_command, capsys) -> None:
    code = cli.main(["boom-test"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().splitlines() == [
        "error: plan.yml:7: step 'x' needs unknown step 'y' (add step 'y' or remove it from needs)"
    ]


def test_debug_shows_traceback(failing_command, capsys) -> None:
    code = cli.main(["--debug", "boom-test"])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" in err
    assert err.strip().splitlines()[-1].startswith("error: plan.yml:7:")


def test_typer_app_has_no_pretty_exceptions() -> None:
    assert isinstance(cli.app, typer.Typer)
    assert cli.app.pretty_exceptions_enable is False
