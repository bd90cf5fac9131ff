"""What a SIGKILL leaves in a run's folder is cleaned when the run is resumed: the secret
vars file of the killed playbook and its unmasked partial events."""

from __future__ import annotations

from pathlib import Path

import pytest

from cutover.engine.core import RunOptions, create_run, open_run
from cutover.plan import load_plan

pytestmark = pytest.mark.security

PLAYBOOKS = Path(__file__).resolve().parents[3] / "playbooks" / "cutover"
SECRET = "s3cr3t-tsig-value-for-the-test"


def test_resume_deletes_and_masks_what_a_kill_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_TSIG", SECRET)
    plan = tmp_path / "plan.yml"
    plan.write_text(
        f"name: t\nplaybook_dir: {PLAYBOOKS}\ndefaults: {{owner: A, approver: B}}\n"
        "secrets: {tsig_key: {env: TEST_TSIG}}\n"
        "steps:\n  - {id: a, kind: wait, duration: 1s}\n",
        encoding="utf-8",
    )
    runs = tmp_path / "runs"
    create_run(load_plan(plan), runs, RunOptions(env="lab", run_id="k1")).close()
    step = runs / "k1" / "steps" / "a" / "action-1-0"
    (step / "env").mkdir(parents=True)
    (step / "env" / "extravars").write_text(f'!unsafe "tsig_key": !unsafe "{SECRET}"\n')
    events = step / "artifacts" / "run" / "job_events"
    events.mkdir(parents=True)
    (events / "7-abc-partial.json").write_text(f'{{"stdout": "key {SECRET}"}}')
    open_run(runs, "k1").close()
    assert not (step / "env" / "extravars").exists()
    assert SECRET not in (events / "7-abc-partial.json").read_text()
    assert not [
        p for p in (runs / "k1").rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()
    ]
