"""A merger made by `cutover init` alone rehearses clean (issue 18, part 3): the command
writes Tuyen Quang + Ha Giang from the project's table of provinces into an empty
inventories folder, and `cutover rehearse` runs its whole plan on its own lab (its own
name and /24; the zone TTL and the restore delay cut to seconds as for every rehearsal
test): 0 failed probes, every probe message in its home mailbox exactly once, and the
merged verification passing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from labkit import ROOT, CutoverLab, assert_clean, needs_lab, rehearse

pytestmark = [pytest.mark.integration, pytest.mark.discover, pytest.mark.timeout(2700)]


def test_a_merger_made_by_init_alone_rehearses_clean(tmp_path: Path) -> None:
    reason = needs_lab()
    if reason:  # not a skip: CI must have every component its tests need
        pytest.fail(reason)
    inventories = tmp_path / "inventories"
    inventories.mkdir()
    init = subprocess.run(
        [sys.executable, "-m", "cutover.cli", "--json", "init", "tuyenquang-hagiang",
         "--target", "tuyenquang", "--absorb", "hagiang", "--inventories", str(inventories)],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert init.returncode == 0, init.stderr
    assert len(list((inventories / "tuyenquang-hagiang").rglob("*.yml"))) == 5
    lab = CutoverLab(tmp_path, copy="tuyenquang-hagiang", prefix="i", inventories=inventories)
    lab.shorten_waits()
    try:
        run = rehearse(lab)
        assert_clean(run, "succeeded")
    finally:
        lab.cleanup()
