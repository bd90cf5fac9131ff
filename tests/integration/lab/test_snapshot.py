"""Lab snapshots end to end on a real provisioned lab: saved after provisioning, restored
in place of a lab that changed since (hosts, their identity and the secrets back as they
were, as-is verification passing), refused when an input changed (and nothing touched),
kept by ``lab down`` and removed by ``lab down --purge``.

The module has a cache folder of its own, so it provisions and saves every time: it is
the test of that path (the other suites restore what an earlier run saved)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from labkit import CutoverLab, needs_lab

pytestmark = [pytest.mark.integration, pytest.mark.snapshot, pytest.mark.timeout(1200)]


@pytest.fixture(scope="module")
def slab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CutoverLab]:
    reason = needs_lab()
    if reason:  # not a skip: CI must have every component its tests need
        pytest.fail(reason)
    tmp = tmp_path_factory.mktemp("snap")
    lab = CutoverLab(tmp, ["quangngai", "kontum"], prefix="sn")
    lab.env["CUTOVER_CACHE"] = str(tmp / "cache")
    try:
        yield lab
    finally:
        lab.cleanup()


def secrets_file(lab: CutoverLab) -> Path:
    return lab.state / "provision" / f"{lab.dir.name}-lab" / "secrets.json"


def host_keys(lab: CutoverLab) -> list[str]:
    known = lab.state / "labs" / lab.lab / "known_hosts"
    return sorted(line.split(" ", 1)[1] for line in known.read_text().splitlines())


def test_provisioned_then_restored_in_place_of_a_changed_lab(slab: CutoverLab) -> None:
    first = slab.json("lab", "up", str(slab.dir), "--provisioned")
    assert first["how"] == "provisioned", first  # an empty cache: nothing to restore
    meta = json.loads((Path(slab.env["CUTOVER_CACHE"]) / "lab-snapshots" / slab.lab /
                       "provisioned" / "meta.json").read_text())  # fmt: skip
    assert sorted(meta["hosts"]) == sorted(["infra", "quangngai", "kontum", "merged"])
    assert set(meta["parts"]) == {"template", "inventory", "roles", "code", "environment"}
    keys = host_keys(slab)
    secrets = secrets_file(slab).read_bytes()

    # Change the lab the way a failed rehearsal might: a stopped MTA, a stray file, lost
    # secrets on the controller.
    kontum = f"{slab.lab}-kontum"
    assert slab.attach(kontum, "touch /root/after-snapshot; systemctl stop postfix").returncode == 0
    secrets_file(slab).unlink()
    verify = ("verify", str(slab.dir), "--env", "lab", "--state", "as-is")
    assert slab.cli(*verify, check=False).returncode != 0

    second = slab.json("lab", "up", str(slab.dir), "--from", "provisioned")
    assert second["how"] == "restored", second
    assert slab.attach(kontum, "test -e /root/after-snapshot").returncode == 1
    assert host_keys(slab) == keys  # the same hosts, not new ones trusted anew
    assert secrets_file(slab).read_bytes() == secrets
    report = slab.verify_as_is()
    assert report["ok"], [c for c in report["checks"] if not c["ok"]]


def test_a_changed_input_is_refused_and_nothing_is_touched(slab: CutoverLab) -> None:
    kontum = f"{slab.lab}-kontum"
    assert slab.attach(kontum, "touch /root/still-here").returncode == 0
    merger = slab.dir / "merger.yml"
    original = merger.read_text()
    merger.write_text(original + "# an edit after the snapshot\n")
    try:
        result = slab.cli("lab", "up", str(slab.dir), "--from", "provisioned", check=False)
    finally:
        merger.write_text(original)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert "changed: inventory" in lines[0] and "Traceback" not in result.stderr, lines
    assert slab.attach(kontum, "test -e /root/still-here").returncode == 0


def test_down_keeps_snapshots_and_purge_removes_them(slab: CutoverLab) -> None:
    slab.cli("lab", "down", str(slab.dir))
    assert not slab.containers()
    again = slab.json("lab", "up", str(slab.dir), "--provisioned")
    assert again["how"] == "restored", again
    report = slab.verify_as_is()
    assert report["ok"], [c for c in report["checks"] if not c["ok"]]

    slab.cli("lab", "down", str(slab.dir), "--purge")
    assert not (Path(slab.env["CUTOVER_CACHE"]) / "lab-snapshots" / slab.lab).exists()
    result = slab.cli("lab", "up", str(slab.dir), "--from", "provisioned", check=False)
    assert result.returncode == 1 and "has no snapshot 'provisioned'" in result.stderr
