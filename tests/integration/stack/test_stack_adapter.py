"""The engine's `stack` step adapter on a real stack: read, check, update, restore
(including a secret, which travels only in its encrypted form)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cutover.stack import find_engine, open_stack
from cutover.stack.adapter import PulumiAdapter

pytestmark = pytest.mark.integration

OLD, NEW = "first-secret-value", "a-longer-second-secret-value"


@pytest.fixture
def home(marker_project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    engine = find_engine()  # found before the home moves away from the repo's .tools
    monkeypatch.setenv("PATH", engine.path_env())
    monkeypatch.setenv("CUTOVER_HOME", str(marker_project))
    return marker_project


def test_adapter_updates_and_restores_exactly(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "marker.txt"
    stack = open_stack("adapt")
    stack.set_config({"marker:path": str(target), "marker:token": OLD}, secret={"marker:token"})
    stack.up()
    assert target.read_text() == f"token-length={len(OLD)}"

    adapter = PulumiAdapter()
    previous = adapter.read_config("adapt", ["marker:token", "marker:absent"])
    assert previous["marker:absent"] is None
    assert str(previous["marker:token"]).startswith("secure:")
    assert OLD not in str(previous["marker:token"])

    config_file = home / "Pulumi.adapt.yaml"
    before = config_file.read_bytes()
    adapter.update("adapt", {"marker:token": NEW}, check=True)
    assert config_file.read_bytes() == before, "check mode changed the stack config"
    assert target.read_text() == f"token-length={len(OLD)}"

    adapter.update("adapt", {"marker:token": NEW}, check=False)
    assert target.read_text() == f"token-length={len(NEW)}"

    adapter.update("adapt", previous, check=False)  # what a rollback does
    assert target.read_text() == f"token-length={len(OLD)}"
    assert open_stack("adapt", create=False).get_config()["marker:token"].value == OLD

    stack.destroy(remove=True)
    assert not target.exists()


def test_a_stack_file_of_another_state_folder_is_named(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pulumi keeps a stack's settings (with its passphrase's salt) beside the program: a
    stack of the same name under another state folder cannot read them, and the error
    says which file and why, not just "incorrect passphrase"."""
    from cutover.errors import StackError

    first = open_stack("twin")
    first.set_config(
        {"marker:path": str(tmp_path / "m"), "marker:token": OLD}, secret={"marker:token"}
    )
    assert "encryptionsalt" in (home / "Pulumi.twin.yaml").read_text()
    monkeypatch.setenv("CUTOVER_STATE_DIR", str(tmp_path / "other-state"))
    with pytest.raises(StackError) as info:
        open_stack("twin").set_config({"marker:path": str(tmp_path / "n")})
    assert "Pulumi.twin.yaml was written for stack 'twin' under another state folder" in str(
        info.value.message
    )
    assert info.value.hint and "CUTOVER_STATE_DIR" in info.value.hint
