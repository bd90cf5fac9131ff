"""The window predicted for production: the production TTL (an hour) for the TTL wait,
not the lab's seconds; rehearsed step times, scaled by volume where the step says so;
the measured rollback time; and the arithmetic shown in the report and by `plan show`.
The rehearsal histories are real journals written by the engine's Journal."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cutover import journal as journal_module
from cutover.cutovers.dns.plan import moving_ttl
from cutover.inventory import load
from cutover.journal import Journal
from cutover.plan.predict import predict, target_of
from cutover.plan.validate import load_plan
from cutover.report import Rehearsal, html
from cutover.report.window import predict_window

pytestmark = pytest.mark.snapshot

ROOT = Path(__file__).resolve().parents[3]
MERGER = ROOT / "inventories/quangngai-kontum"
PLAN = MERGER / "plans/cutover.yml"

# What a lab rehearsal measured (the lab's TTL wait is seconds, its mailboxes a handful).
LAB = {
    "dns.snapshot": 2.0,
    "dns.lower-ttl": 6.0,
    "dns.wait-old-ttl": 30.0,
    "dns.move-zones": 12.0,
    "mail.presync": 20.0,
    "mail.final-sync": 15.0,
    "dns.switch-mx": 8.0,
}
UNDO = {"dns.switch-mx": 9.0, "mail.final-sync": 4.0, "mail.accept-old-domains": 3.0}


def test_production_waits_its_own_ttl_and_counts_the_rollback() -> None:
    plan = load_plan(PLAN)
    prod, lab = load(MERGER, "production"), load(MERGER, "lab")
    target = target_of(plan, prod, lab, moving_ttl(prod))
    assert target.ttls["dns.wait-old-ttl"] == 3600  # production's zone TTL, an hour
    p = predict(plan, target, LAB, UNDO)

    terms = {t.step: t for t in p.terms}
    wait = terms["dns.wait-old-ttl"]
    assert wait.seconds == 3600 and "production" in wait.basis  # never the lab's 30 s
    assert p.forward_s >= 3600
    mailboxes = len(prod.mailboxes) / len(lab.mailboxes)
    final = p.cost("mail.final-sync")
    assert final.seconds == pytest.approx(15.0 * mailboxes)
    assert f"{len(prod.mailboxes)}/{len(lab.mailboxes)} mailboxes" in final.basis
    assert p.cost("dns.move-zones").seconds == 12.0  # rehearsed, not scaled

    undo = {t.step: t for t in p.undo_terms}
    mx = undo["dns.switch-mx"]
    assert mx.seconds == 9.0 and "rehearsed rollback" in mx.basis
    assert undo["dns.move-zones"].basis.startswith("not rolled back")  # its forward time
    assert undo["dns.move-zones"].seconds == 12.0
    assert p.undo_s == pytest.approx(sum(t.seconds for t in p.undo_terms))
    assert p.window_s == pytest.approx((p.forward_s + p.undo_s) * (1 + p.margin))
    assert p.arithmetic()[-1].startswith("window = (")

    # The report's suggested window is the prediction, with its arithmetic.
    report = Rehearsal("quangngai-kontum", "lab", "r1", "succeeded", "2025-06-28T22:00:00+07:00",
                       wall_s=400.0, critical_path_s=380.0, prediction=p.to_dict(),
                       prediction_lines=p.arithmetic())  # fmt: skip
    assert report.suggested_window_s == pytest.approx(p.window_s)
    assert report.suggested_window_s > 3600 + p.undo_s
    page = html(report, "en")
    assert (
        "predicted for production" in page and "TTL of the records that move in production" in page
    )


def _journal(runs: Path, plan: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run folder written by the real Journal, on a clock that the test moves: each step
    of LAB succeeds in its seconds, then each of UNDO is rolled back in its seconds."""
    clock = [datetime(2025, 6, 28, 15, 0, tzinfo=UTC)]
    monkeypatch.setattr(journal_module, "now_iso", lambda: clock[0].isoformat())
    journal = Journal.create(runs / "r1", {"run_id": "r1", "plan_name": plan, "steps": {}})
    try:
        for sid, seconds in LAB.items():
            journal.append("step.started", sid)
            clock[0] += timedelta(seconds=seconds)
            journal.append("step.succeeded", sid)
        for sid, seconds in UNDO.items():
            journal.append("step.rollback_started", sid)
            clock[0] += timedelta(seconds=seconds)
            journal.append("step.rolled_back", sid)
    finally:
        journal.close()


def test_plan_show_predicts_from_the_rehearsals_on_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = tmp_path / "runs"
    plan = load_plan(PLAN)
    _journal(runs, plan.name, monkeypatch)
    monkeypatch.undo()
    p = predict_window(plan, "production", runs)
    assert {t.step: t.seconds for t in p.undo_terms}["dns.switch-mx"] == 9.0
    result = subprocess.run(
        [sys.executable, "-m", "cutover.cli", "--json", "plan", "show",
         str(PLAN), "--env", "production", "--runs-dir", str(runs)],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout[result.stdout.index("{") :])
    assert data["prediction"]["window_s"] == pytest.approx(round(p.window_s, 1))
    waits = [t for t in data["prediction"]["terms"] if t["step"] == "dns.wait-old-ttl"]
    assert waits and waits[0]["seconds"] == 3600

    bad = subprocess.run(
        [sys.executable, "-m", "cutover.cli", "plan", "show", str(PLAN),
         "--env", "nowhere"],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert bad.returncode != 0 and "has no environment 'nowhere'" in bad.stderr
    assert "Traceback" not in bad.stderr
