"""Benchmark (not a test): engine overhead per step vs calling ansible-runner directly.

Runs the same trivial playbook N times through ``ansible_runner.run`` directly and as a
chain of N steps through the engine (journal, events, redaction, artifacts), in the same
process, alternating rounds so machine load hits both alike. Then compares connection
settings (the engine's fast defaults vs Ansible's defaults) on a play that does not say
whether to gather facts.

    .venv/bin/python bench/engine_overhead.py [--steps 8]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import ansible_runner

from cutover.ansible.runner import ANSIBLE_DEFAULTS, FAST, ConnectionSettings, run_playbook
from cutover.engine import RunOptions, create_run
from cutover.plan import load_plan

PLAYBOOK = """\
- name: Trivial step
  hosts: localhost
  connection: local
  gather_facts: {gather}
  tasks:
    - name: Touch a file
      ansible.builtin.command: "true"
      changed_when: false
"""


def direct(root: Path, playbook: Path, n: int) -> float:
    start = time.perf_counter()
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    for i in range(n):
        pdd = root / f"direct-{time.monotonic_ns()}-{i}"
        pdd.mkdir()
        r = ansible_runner.run(
            private_data_dir=str(pdd),
            project_dir=str(playbook.parent),
            playbook=playbook.name,
            quiet=True,
            forks=FAST.forks,
            envvars={"PATH": path, **FAST.envvars()},
        )
        assert r.status == "successful"
    return (time.perf_counter() - start) / n


def engine(root: Path, playbook: Path, n: int, tag: str) -> float:
    steps = "".join(
        f"  - id: s{i}\n    kind: playbook\n    playbook: {playbook.name}\n"
        f"    read_only: true\n" + (f"    needs: [s{i - 1}]\n" if i else "")
        for i in range(n)
    )
    plan_path = root / f"plan-{tag}.yml"
    plan_path.write_text(
        f"playbook_dir: {playbook.parent}\ndefaults: {{owner: a, approver: b}}\nsteps:\n{steps}"
    )
    plan = load_plan(plan_path)
    start = time.perf_counter()
    eng = create_run(plan, root / "runs", RunOptions(env=f"bench-{tag}", run_id=f"run-{tag}"))
    outcome = eng.execute()
    eng.close()
    assert outcome.state == "succeeded", outcome
    return (time.perf_counter() - start) / n


def settings(root: Path, playbook: Path, n: int, chosen: ConnectionSettings, tag: str) -> float:
    start = time.perf_counter()
    for i in range(n):
        result = run_playbook(
            playbook, private_data_dir=root / f"{tag}-{i}", settings=chosen, ident="b"
        )
        assert result.ok, result.summary()
    return (time.perf_counter() - start) / n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        playbook = root / "pb" / "trivial.yml"
        playbook.parent.mkdir()
        playbook.write_text(PLAYBOOK.format(gather="false"))
        asked = root / "pb" / "facts-default.yml"
        # no gather_facts key: Ansible's default gathers, the engine's `explicit` does not
        asked.write_text(PLAYBOOK.replace("  gather_facts: {gather}\n", ""))
        direct(root, playbook, 1)  # warm caches (Python imports, ansible collections)
        d_times, e_times = [], []
        for r in range(args.rounds):
            d_times.append(direct(root, playbook, args.steps))
            e_times.append(engine(root, playbook, args.steps, f"r{r}"))
        d, e = statistics.median(d_times), statistics.median(e_times)
        print(f"steps per round: {args.steps}, rounds: {args.rounds} (medians)")
        print(f"ansible_runner.run directly : {d:.3f} s/step")
        print(f"through the engine          : {e:.3f} s/step")
        print(f"engine overhead             : {e - d:+.3f} s/step, ratio {e / d:.3f}x")
        fast = settings(root, asked, args.steps, FAST, "fast")
        slow = settings(root, asked, args.steps, ANSIBLE_DEFAULTS, "defaults")
        print("connection settings, play without gather_facts (local connection):")
        print(f"  engine defaults (pipelining, gathering=explicit, forks=20): {fast:.3f} s/run")
        print(f"  Ansible defaults (no pipelining, implicit gathering, forks=5): {slow:.3f} s/run")
        print(f"  ratio {slow / fast:.2f}x")


if __name__ == "__main__":
    main()
