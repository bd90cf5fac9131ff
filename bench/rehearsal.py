"""Benchmark (not a test): a rehearsal's wall time against its critical-path lower bound.

Runs ``cutover rehearse MERGER [ARGS]`` (lab up, provision, probes, the whole plan, end
verification, accounting, lab down) or reads an existing run folder (``--run-dir``), then
prints from the run's ``report.json``:
- the plan's wall time (first step start to last step end, rollbacks included) and the
  report's ``wall_s`` (probes started to probes stopped: the plan, the end verification
  and the settling time);
- the critical-path lower bound as the report computes it (the longest chain of the
  steps' actual durations along ``needs``), and both ratios to it;
- probe samples and failures, probe messages sent, found, lost and duplicated.
When the rehearsal ends without a report, the run's journal says why (failed steps and
their messages). ``--append FILE`` adds the Markdown row to FILE.

    CUTOVER_STATE_DIR=/tmp/bench-rehearsal/state CUTOVER_RUNS_DIR=/tmp/bench-rehearsal/runs \\
      nice -n 5 .venv/bin/python bench/rehearsal.py cantho-haugiang-soctrang [-- --lang en]
    .venv/bin/python bench/rehearsal.py --run-dir /tmp/bench-rehearsal/runs/<run>
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cutover.journal import Journal, list_runs, runs_dir  # noqa: E402


def rehearse(merger: str, extra: list[str]) -> tuple[int, float, dict[str, Any] | None, str]:
    """Run the rehearsal; its exit code, wall seconds, the CLI's JSON result (if any) and
    the tail of its output."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join(
        [str(ROOT / ".tools/bin"), str(Path(sys.executable).parent), env.get("PATH", "")]
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "cutover.cli", "--json", "rehearse", merger, *extra],
        capture_output=True, text=True, env=env, cwd=ROOT,
    )  # fmt: skip
    seconds = time.monotonic() - started
    out = done.stdout
    result = None
    # --json prints one object per event and the result last (pretty-printed)
    start = out.rfind("\n{\n") + 1 if "\n{\n" in out else out.find("{\n")
    if start >= 0:
        try:
            result = json.JSONDecoder().raw_decode(out[start:])[0]
        except ValueError:
            result = None
    return done.returncode, seconds, result, (done.stderr or out)[-2000:]  # stderr: the error


def newest_run(since: float) -> Path | None:
    """The run folder created last, after ``since`` (epoch seconds)."""
    found = [(p.stat().st_mtime, p) for p, _ in list_runs(runs_dir(None))]
    found = [(t, p) for t, p in found if t >= since]
    return max(found)[1] if found else None


def journal_failures(run_dir: Path) -> tuple[str, list[str]]:
    """The run's state and its failed steps with their messages."""
    journal = Journal.open(run_dir)
    try:
        state = journal.state()
        failed = [
            f"{r.step}: {r.state}: {(r.message or '')[:300]}"
            for r in journal.steps().values()
            if r.state not in ("succeeded", "pending", "skipped", "rolled_back")
        ]
    finally:
        journal.close()
    return state, failed


def figures(report: dict[str, Any]) -> dict[str, Any]:
    steps = [s for s in report["steps"] if s["start_s"] is not None]
    starts = [s["start_s"] for s in steps]
    ends = [e for s in steps for e in (s["end_s"], s["rollback_end_s"]) if e is not None]
    plan_wall = max(ends) - min(starts) if steps and ends else 0.0
    critical = float(report["critical_path_s"])
    messages = report["messages"]
    samples = sum(len(p["samples"]) for p in report["probes"])
    return {
        "run": report["run_id"],
        "merger": report["merger"],
        "state": report["state"],
        "injected_failure": report.get("injected_failure"),
        "plan_wall_s": round(plan_wall, 1),
        "report_wall_s": round(float(report["wall_s"]), 1),
        "critical_path_s": round(critical, 1),
        "plan_ratio": round(plan_wall / critical, 2) if critical else None,
        "report_ratio": round(float(report["wall_s"]) / critical, 2) if critical else None,
        "probe_samples": samples,
        "failed_probes": report["failed_probes"],
        "messages_sent": messages["sent"],
        "messages_found": messages["found"],
        "messages_lost": len(messages["lost"]),
        "messages_duplicated": len(messages["duplicated"]),
    }


def row(f: dict[str, Any], total_s: float | None) -> str:
    total = f"{total_s:.0f} s" if total_s is not None else "-"
    return (
        f"| {f['merger']} | {f['state']} | {f['plan_wall_s']} s | {f['report_wall_s']} s "
        f"| {f['critical_path_s']} s | {f['plan_ratio']}x | {f['report_ratio']}x "
        f"| {f['failed_probes']} of {f['probe_samples']} | {f['messages_sent']} / "
        f"{f['messages_lost']} / {f['messages_duplicated']} | {total} |"
    )


HEADER = (
    "| merger | state | plan wall | report wall | critical path | plan/cp | report/cp "
    "| failed probes | messages sent / lost / duplicated | whole command |\n"
    "|---|---|---|---|---|---|---|---|---|---|"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("merger", nargs="?", help="rehearse this merger")
    parser.add_argument("--run-dir", type=Path, help="read this run instead of rehearsing")
    parser.add_argument("--append", type=Path, help="append the Markdown row to this file")
    parser.add_argument("extra", nargs=argparse.REMAINDER, help="-- then rehearse options")
    args = parser.parse_args()
    extra = [a for a in args.extra if a != "--"]
    total_s: float | None = None
    run_dir = args.run_dir
    if run_dir is None:
        if not args.merger:
            parser.error("give a MERGER to rehearse or --run-dir")
        since = time.time()
        rc, total_s, result, tail = rehearse(args.merger, extra)
        print(f"cutover rehearse {args.merger}: exit {rc} after {total_s:.0f} s")
        if rc != 0:  # the CLI's one-line reason (it names verification, probes, messages)
            print("its error: " + (tail.strip().splitlines() or ["(none)"])[-1])
        if result and result.get("json"):
            print(f"end-state verification passed: {result.get('verified')}")
            run_dir = Path(result["json"]).parent
        else:
            run_dir = newest_run(since)
            print("no report from the rehearsal; its output ends with:\n" + tail)
        if run_dir is None:
            print("no run folder either: the rehearsal stopped before the plan started")
            return 1
    print(f"run folder: {run_dir}")
    report_path = run_dir / "report.json"
    if not report_path.is_file():
        state, failed = journal_failures(run_dir)
        print(f"no report.json; the journal says the run is {state}")
        for line in failed:
            print("  " + line)
        return 1
    f = figures(json.loads(report_path.read_text()))
    state, failed = journal_failures(run_dir)
    print(json.dumps(f, indent=2))
    for line in failed:
        print("  failed step " + line)
    print(HEADER)
    print(row(f, total_s))
    if args.append:
        with args.append.open("a") as handle:
            handle.write(row(f, total_s) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
