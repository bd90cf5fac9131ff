"""What a lab snapshot is keyed by, and what a restore refuses before anything changes.

No lab here: the key is computed from real inventory and project files (copied to a
temporary folder where a test changes them), and the refusals come from
``snapshot.restorer`` before it is handed to ``lab.up``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cutover.errors import LabError
from cutover.inventory import load
from cutover.lab import snapshot

pytestmark = pytest.mark.snapshot

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = "cutover-tmpl-test"


@pytest.fixture
def merger(tmp_path: Path) -> Path:
    dst = tmp_path / "a" / "quangngai-kontum"
    shutil.copytree(ROOT / "inventories/quangngai-kontum", dst)
    return dst


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache"
    monkeypatch.setenv("CUTOVER_CACHE", str(path))
    return path


def key(merger_dir: Path) -> snapshot.Key:
    return snapshot.key_of(load(merger_dir, "lab"), TEMPLATE)


def test_the_same_files_in_another_folder_are_the_same_lab(merger: Path, tmp_path: Path) -> None:
    other = tmp_path / "b" / "quangngai-kontum"
    shutil.copytree(merger, other)
    assert key(merger) == key(other)


def test_a_changed_record_changes_the_inventory_part_only(merger: Path) -> None:
    before = key(merger)
    path = merger / "merger.yml"
    path.write_text(path.read_text().replace("zones:", "zones:\n", 1) + "\n# one more line\n")
    after = key(merger)
    assert after.digest != before.digest
    assert [n for n in before.parts if before.parts[n] != after.parts[n]] == ["inventory"]


def test_plans_do_not_shape_the_provisioned_lab(merger: Path) -> None:
    before = key(merger)
    for plan in (merger / "plans").glob("*.yml"):
        plan.write_text(plan.read_text() + "# edited\n")
    assert key(merger) == before


def test_the_template_roles_and_code_are_parts_of_the_key(
    merger: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inv = load(merger, "lab")
    root = tmp_path / "root"
    for rel in ("playbooks", "cutover/provision", "cutover/inventory", "cutover/ansible"):
        shutil.copytree(ROOT / rel, root / rel, ignore=shutil.ignore_patterns("__pycache__"))
    for rel in ("cutover/lab/lxc.py", "cutover/secretstore.py", "requirements.lock"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, root / rel)
    monkeypatch.setattr(snapshot, "PROJECT_ROOT", root)
    base = snapshot.key_of(inv, TEMPLATE)
    assert base == snapshot.key_of(inv, TEMPLATE)  # stable
    assert snapshot.key_of(inv, "cutover-tmpl-other").parts["template"] != base.parts["template"]

    role = root / "playbooks/roles/mail/tasks/main.yml"
    role.write_text(role.read_text() + "\n")
    roles = snapshot.key_of(inv, TEMPLATE)
    assert [n for n in base.parts if base.parts[n] != roles.parts[n]] == ["roles"]

    code = root / "cutover/secretstore.py"
    code.write_text(code.read_text() + "\n")
    coded = snapshot.key_of(inv, TEMPLATE)
    assert [n for n in roles.parts if roles.parts[n] != coded.parts[n]] == ["code"]

    # a cutover playbook is not provisioning: it does not shape the provisioned lab
    play = root / "playbooks/cutover/mail-final.yml"
    play.write_text(play.read_text() + "\n")
    assert snapshot.key_of(inv, TEMPLATE).parts["roles"] == coded.parts["roles"]


def _fake_snapshot(cache: Path, lab: str, name: str, key: snapshot.Key, hosts: list[str]) -> None:
    path = cache / "lab-snapshots" / lab / name
    (path / "hosts").mkdir(parents=True)
    (path / "state").mkdir()
    meta = {"lab": lab, "key": key.digest, "parts": key.parts, "created": "then",
            "hosts": hosts, "seconds": 1.0}  # fmt: skip
    (path / "meta.json").write_text(json.dumps(meta))


def test_restore_is_refused_without_a_snapshot(merger: Path, cache: Path) -> None:
    inv = load(merger, "lab")
    with pytest.raises(LabError, match="has no snapshot 'provisioned'"):
        snapshot.restorer(inv)
    assert not cache.exists() or not any(cache.rglob("meta.json"))


def test_restore_is_refused_when_an_input_changed(
    merger: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inv = load(merger, "lab")
    lab = inv.env.network.lab or ""
    monkeypatch.setattr(snapshot.template, "name", lambda: TEMPLATE)
    current = snapshot.key_of(inv)
    stale = snapshot.Key("0" * 64, {**current.parts, "roles": "an older one"})
    _fake_snapshot(cache, lab, "provisioned", stale, [h.name for h in inv.hosts])
    found, changed = snapshot.usable(inv)
    assert found is not None and changed == ["roles"]
    with pytest.raises(LabError, match=r"taken from other inputs \(changed: roles\)"):
        snapshot.restorer(inv)

    _fake_snapshot(cache, lab, "fresh", current, [h.name for h in inv.hosts])
    assert snapshot.usable(inv, "fresh")[1] == []
    snapshot.restorer(inv, "fresh")  # a matching key is accepted (nothing is run yet)
    assert [s.name for s in snapshot.listing(lab)] == ["fresh", "provisioned"]
    assert snapshot.purge(lab) == 2
    assert snapshot.listing(lab) == []


def test_a_half_saved_snapshot_is_not_a_snapshot(merger: Path, cache: Path) -> None:
    inv = load(merger, "lab")
    lab = inv.env.network.lab or ""
    (cache / "lab-snapshots" / lab / ".provisioned.partial" / "hosts").mkdir(parents=True)
    (cache / "lab-snapshots" / lab / "provisioned" / "hosts").mkdir(parents=True)  # no meta
    assert snapshot.find(lab) is None
    assert snapshot.listing(lab) == []


@pytest.mark.parametrize("name", ["../up", "", "-x", "a b", "snap/1"])
def test_a_snapshot_name_is_a_plain_name(merger: Path, cache: Path, name: str) -> None:
    with pytest.raises(LabError, match="is not a plain name"):
        snapshot.restorer(load(merger, "lab"), name)
