"""An engine killed (SIGKILL) while it creates a run's journal leaves either no run or a
whole one: never a journal without its meta, which `cutover history` would trip over and
which could be neither resumed nor created again.

A child process creates runs back to back with ``Journal.create`` (the call ``cutover
run`` makes, with the plan copied in); the test kills it at seeded random moments, many
times, and then opens everything it left."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cutover.journal import Journal, JournalError, list_runs

pytestmark = pytest.mark.integration

KILLS = 40
CREATOR = """\
import sys
from pathlib import Path
from cutover.journal import Journal
runs, plan = Path(sys.argv[1]), Path(sys.argv[2])
print("ready", flush=True)
for i in range(1_000_000):
    run = runs / f"run-{i:06d}"
    if run.exists():
        continue
    Journal.create(run, {"run_id": run.name, "steps": {}}, files={"plan.yml": plan}).close()
"""


def test_killed_creation_leaves_no_run_or_a_whole_one(tmp_path: Path) -> None:
    seed = int(os.environ.get("CUTOVER_FAULT_SEED", random.randrange(1 << 30)))
    print(f"create-kill seed {seed} (CUTOVER_FAULT_SEED={seed} repeats the kill points)")
    rng = random.Random(seed)
    runs = tmp_path / "runs"
    runs.mkdir()
    plan = tmp_path / "plan.yml"
    plan.write_text("name: the plan as run\n" * 50)
    for _ in range(KILLS):
        child = subprocess.Popen(
            [sys.executable, "-c", CREATOR, str(runs), str(plan)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0.0, 0.05))
        child.send_signal(signal.SIGKILL)
        child.wait()
    published = sorted(p for p in runs.iterdir() if not p.name.startswith("."))
    assert published, "no run was created between the kills: the test proves nothing"
    listed = [run_dir for run_dir, _ in list_runs(runs)]
    assert listed == published  # every run folder is a whole run
    for run_dir in published:
        journal = Journal.open(run_dir)
        try:
            assert journal.meta()["run_id"] == run_dir.name
            assert [e.kind for e in journal.events()][:1] == ["run.created"]
        finally:
            journal.close()
        assert (run_dir / "plan.yml").read_text() == plan.read_text()
        with pytest.raises(JournalError, match="already exists"):
            Journal.create(run_dir, {"run_id": run_dir.name})
    # the id a kill interrupted can be created again, and its leftovers go
    leftovers = [p for p in runs.iterdir() if p.name.startswith(".")]
    for staging in leftovers:
        run_id = staging.name.removeprefix(".").removesuffix(".creating")
        Journal.create(runs / run_id, {"run_id": run_id}).close()
        assert not staging.exists()
    print(f"{KILLS} kills: {len(published)} whole runs, {len(leftovers)} interrupted creations")
