"""A real Pulumi engine, language host and dynamic provider against the file backend:
preview, up, refresh (no changes), destroy, with a secret stored encrypted."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from cutover.errors import StackError
from cutover.paths import project_root
from cutover.stack import PULUMI_VERSION, find_engine, open_stack

pytestmark = pytest.mark.integration

HERE = Path(__file__).parent
TOKEN = "lab-secret-6d1f0b2a"  # a test value, not a real secret


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # Own state folder: own backend and passphrase; nothing shared with a real lab.
    monkeypatch.setenv("CUTOVER_STATE_DIR", str(tmp_path / "state"))
    for var in ("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"):
        monkeypatch.delenv(var, raising=False)
    work = tmp_path / "project"
    work.mkdir()
    shutil.copy(HERE / "project" / "__main__.py", work / "__main__.py")
    venv = project_root() / ".venv"
    (work / "Pulumi.yaml").write_text(
        "name: cutover-marker\n"
        "runtime:\n  name: python\n  options:\n    toolchain: pip\n"
        f"    virtualenv: {venv}\n"
    )
    return work


def test_engine_is_the_pinned_release() -> None:
    engine = find_engine()
    assert engine.version >= tuple(int(x) for x in PULUMI_VERSION.split("."))
    out = subprocess.run([engine.pulumi, "version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip().lstrip("v") == ".".join(map(str, engine.version))


def test_preview_up_refresh_destroy(project: Path, tmp_path: Path) -> None:
    target = tmp_path / "marker.txt"
    stack = open_stack("itest", work_dir=project)
    stack.set_config(
        {"marker:path": str(target), "marker:token": TOKEN}, secret=frozenset({"marker:token"})
    )

    stack_file = (project / "Pulumi.itest.yaml").read_text()
    assert "secure:" in stack_file and TOKEN not in stack_file
    assert stack.get_config()["marker:token"].value == TOKEN

    events: list[tuple[str, dict]] = []
    planned = stack.preview(lambda kind, data: events.append((kind, data)))
    assert planned.changes.get("create", 0) >= 1
    assert not target.exists(), "preview must change nothing"

    applied = stack.up(lambda kind, data: events.append((kind, data)))
    assert applied.changes.get("create", 0) >= 1
    assert target.read_text() == f"token-length={len(TOKEN)}"
    assert stack.outputs()["path"] == str(target)
    assert any(k == "resource.done" and d["name"] == "marker" for k, d in events)

    refreshed = stack.refresh()
    assert not refreshed.changed, f"refresh found drift: {refreshed}"
    assert not stack.preview().changed

    # Drift is real: the provider's read sees a changed file and the next up repairs it.
    target.write_text("tampered")
    stack.refresh()
    assert stack.preview().changes.get("update", 0) == 1
    stack.up()
    assert target.read_text() == f"token-length={len(TOKEN)}"

    destroyed = stack.destroy(remove=True)
    assert destroyed.changes.get("delete", 0) >= 1
    assert not target.exists()
    with pytest.raises(StackError, match="does not exist"):
        open_stack("itest", work_dir=project, create=False)

    state = tmp_path / "state"
    leaked = [p for p in state.rglob("*") if p.is_file() and TOKEN.encode() in p.read_bytes()]
    assert not leaked, f"secret written in clear to {leaked}"


def test_pulumi_cli_by_hand(project: Path, tmp_path: Path) -> None:
    """The same project previews with the plain CLI: this needs the language host."""
    engine = find_engine()
    env = {
        **os.environ,
        "PATH": engine.path_env(),
        "PULUMI_BACKEND_URL": (tmp_path / "state").as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": "by-hand",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
    }
    (tmp_path / "state").mkdir(exist_ok=True)

    def pulumi(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [engine.pulumi, *args, "--non-interactive"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    assert pulumi("stack", "init", "byhand").returncode == 0
    assert pulumi("config", "set", "marker:path", str(tmp_path / "m2.txt")).returncode == 0
    assert pulumi("config", "set", "--secret", "marker:token", TOKEN).returncode == 0
    result = pulumi("preview")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "create" in result.stdout
    assert not (tmp_path / "m2.txt").exists()


def test_compilation_error_is_one_clear_message(project: Path) -> None:
    (project / "__main__.py").write_text("def broken(:\n")
    stack = open_stack("broken", work_dir=project)
    with pytest.raises(StackError, match=r"stack 'broken'|failed to load|raised an error"):
        stack.preview()


def test_pulumi_preview_by_hand_in_repo_root(tmp_path: Path) -> None:
    """`pulumi preview` in the repository root runs the project's own program."""
    engine = find_engine()
    root = project_root()
    stack = f"itest-byhand-{os.getpid()}"
    env = {
        **os.environ,
        "PATH": engine.path_env(),
        "PULUMI_BACKEND_URL": tmp_path.as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": "by-hand",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
    }

    def pulumi(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [engine.pulumi, *args, "--non-interactive", "--stack", stack],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    subprocess.run(
        [engine.pulumi, "stack", "init", stack, "--non-interactive"],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
    )
    try:
        assert pulumi("config", "set", "cutover:merger", "quangngai-kontum").returncode == 0
        result = pulumi("preview")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "cutover-" in result.stdout
    finally:
        (root / f"Pulumi.{stack}.yaml").unlink(missing_ok=True)
