"""Benchmark (not a test): is the window spent moving data? For each step that runs after
the go/no-go gate (waits and gates left out), its wall time (from the journal), the time
of its data-moving commands (from its ansible-runner events: mail syncs, DNS updates,
reloads of nginx, Postfix, Prosody and the DNS servers, a mail phase's switch with the
delivery of the mail it releases), and the ratio. Target: each within 3x of its
data-moving commands, or under 10 s of overhead.

A data-moving command is a task whose result has a command line (``command``/``shell``)
naming one of MOVERS, or a task that runs one of the cutover's own data commands
(``python -m cutover.cutovers...``: zone changes, mailbox accounting, content sync).
Commands that run in parallel on several hosts count once, by the span from the first one
started to the last one ended (what the step waits for).

    .venv/bin/python bench/window.py RUN_DIR [--gate go-no-go]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path

from cutover.journal import Journal
from cutover.plan import graph, load_plan

MOVERS = re.compile(
    r"\b(doveadm|dsync|nsupdate|rndc|knotc|pdns_control|pdnsutil|postfix|postmap|postqueue|"
    r"nginx|apache2ctl|prosodyctl|ejabberdctl|rsync|cutover\.cutovers\.\w+|"
    # the switch point of a mail phase: Postfix reload, queue flush, the held mail's delivery
    r"cutover-mail-routes apply)\b"
)
RESULT_EVENTS = ("runner_on_ok", "runner_on_failed")


def _delta(text: str) -> float:
    h, m, s = text.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def moving_spans(artifacts: Path) -> list[tuple[datetime, datetime, str]]:
    """(start, end, task) of every data-moving command in one playbook run's events."""
    spans = []
    for path in sorted(artifacts.glob("*/job_events/*.json")):
        event = json.loads(path.read_text())
        if event.get("event") not in RESULT_EVENTS:
            continue
        data = event.get("event_data", {})
        res = data.get("res") or {}
        cmd = res.get("cmd")
        line = " ".join(cmd) if isinstance(cmd, list) else str(cmd or "")
        if not line or not MOVERS.search(line) or "delta" not in res:
            continue
        end = datetime.fromisoformat(res["end"]) if res.get("end") else None
        start = datetime.fromisoformat(res["start"]) if res.get("start") else None
        if start is None or end is None:
            end = datetime.fromisoformat(event["created"])
            start = end - timedelta(seconds=_delta(res["delta"]))
        spans.append((start, end, str(data.get("task", ""))))
    return spans


def merged_seconds(spans: list[tuple[datetime, datetime, str]]) -> float:
    """Seconds covered by the union of the spans (parallel hosts count once)."""
    total = 0.0
    current: tuple[datetime, datetime] | None = None
    for start, end, _ in sorted(spans):
        if current is None or start > current[1]:
            if current is not None:
                total += (current[1] - current[0]).total_seconds()
            current = (start, end)
        else:
            current = (current[0], max(current[1], end))
    if current is not None:
        total += (current[1] - current[0]).total_seconds()
    return total


def after_gate(run: Path, gate: str) -> list[str]:
    """The steps that need the gate, directly or through another step, in plan order
    (from the copy of the plan the run keeps, composed with the library it extends)."""
    needs = {sid: list(step.needs) for sid, step in load_plan(run / "plan.yml").steps.items()}
    order = graph.topo_order(needs)
    later: set[str] = set()
    for sid in order:
        if gate in needs.get(sid, []) or later.intersection(needs.get(sid, [])):
            later.add(sid)
    return [s for s in order if s in later]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--gate", default="go-no-go")
    args = parser.parse_args()
    journal = Journal.open(args.run)
    try:
        records = journal.steps()
        kinds = journal.meta().get("steps", {})
    finally:
        journal.close()
    rows = []
    for sid in after_gate(args.run, args.gate):
        record = records.get(sid)
        # waits and gates move nothing by design: their time is the plan's, not overhead
        if record is None or record.seconds is None or kinds.get(sid) in ("wait", "gate"):
            continue
        spans = [s for a in sorted((args.run / "steps" / sid).glob("*/artifacts"))
                 for s in moving_spans(a)]  # fmt: skip
        moving = merged_seconds(spans)
        overhead = record.seconds - moving
        ratio = record.seconds / moving if moving else None
        ok = (ratio is not None and ratio <= 3) or overhead < 10
        rows.append((sid, record.seconds, moving, ratio, overhead, ok, len(spans)))
    print(f"{'step':28} {'wall s':>8} {'moving s':>9} {'ratio':>6} {'overhead s':>10}  target")
    for sid, wall, moving, ratio, overhead, ok, n in rows:
        r = f"{ratio:.2f}" if ratio is not None else "-"
        print(f"{sid:28} {wall:8.1f} {moving:9.1f} {r:>6} {overhead:10.1f}  "
              f"{'met' if ok else 'MISSED'} ({n} commands)")  # fmt: skip
    return 0 if all(row[5] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
