"""The Pulumi layer's own logic: version pins, state settings, summaries."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from cutover.paths import project_root
from cutover.stack import PULUMI_VERSION, ChangeSummary, StackSettings
from cutover.stack.engine import parse_version
from cutover.stack.workspace import _last_error_line


def test_engine_and_sdk_pins_agree() -> None:
    root = project_root()
    assert (root / "tools/pulumi/VERSION").read_text().strip() == PULUMI_VERSION
    assert f"pulumi=={PULUMI_VERSION}\n" in (root / "requirements.lock").read_text()
    assert f"v{PULUMI_VERSION}" in (root / "tools/pulumi/engine/go.mod").read_text()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("v3.259.0\n", (3, 259, 0)), ("3.300.1-dev.0", (3, 300, 1)), ("garbage", None)],
)
def test_parse_version(text: str, expected: tuple[int, int, int] | None) -> None:
    assert parse_version(text) == expected


def test_default_settings_generate_a_private_passphrase_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUTOVER_STATE_DIR", str(tmp_path))
    for var in ("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"):
        monkeypatch.delenv(var, raising=False)
    first = StackSettings.from_environment()
    second = StackSettings.from_environment()
    passphrase = Path(first.env["PULUMI_CONFIG_PASSPHRASE_FILE"])
    assert first.backend_url == (tmp_path / "pulumi").as_uri()
    assert first.secrets_provider == "passphrase"
    assert stat.S_IMODE(passphrase.stat().st_mode) == 0o600
    assert len(passphrase.read_text()) >= 32
    assert second.env == first.env and passphrase.read_text() == passphrase.read_text()


def test_real_site_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUTOVER_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("PULUMI_BACKEND_URL", "s3://state?endpoint=minio.example:9000")
    monkeypatch.setenv("CUTOVER_SECRETS_PROVIDER", "hashivault://cutover")
    settings = StackSettings.from_environment()
    assert settings.backend_url.startswith("s3://")
    assert settings.secrets_provider == "hashivault://cutover"
    assert "PULUMI_CONFIG_PASSPHRASE_FILE" not in settings.env
    assert not (tmp_path / "pulumi-passphrase").exists()


def test_change_summary() -> None:
    assert not ChangeSummary({"same": 3}).changed
    assert ChangeSummary({"same": 1, "update": 1}).changed
    assert str(ChangeSummary({"create": 2, "same": 0})) == "2 create"


def test_last_error_line_prefers_pulumi_error_lines() -> None:
    text = "Previewing update\n  noise\nerror: program failed: boom\n\n"
    assert _last_error_line(text) == "program failed: boom"
    assert _last_error_line("just this") == "just this"
