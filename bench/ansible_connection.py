"""Benchmark (not a test): Ansible connection settings for the cutover playbooks.

On a lab of its own (a generated two-province merger: lab name ``ba...``, a random /24 in
198.18.64-250, state and runs under ``/tmp/bench-ansible``; up, provisioned and verified
as-is), runs real cutover playbooks through the project's runner
(``cutover.ansible.runner.run_playbook``, with the variables and inventory the engine
gives a step) under three connection settings, interleaved round by round:

- ``ssh``: the project's defaults (OpenSSH, ControlMaster=auto, ControlPersist=60s,
  pipelining on);
- ``ssh-no-pipelining``: the same without pipelining (several SSH round trips per task);
- ``paramiko``: Ansible's paramiko connection (pipelining on; no connection outlives a
  playbook run, it has no ControlPersist);
- ``mitogen``: Mitogen's ``mitogen_linear`` strategy over OpenSSH (installed by this script
  into the machine's cache, never into the project's environment; ``BENCH_MITOGEN=0``
  leaves it out).

The playbooks, none of which changes what the lab serves:
- ``dns-snapshot`` (local control: ``connection: local``, AXFR of every zone into a fresh
  run folder; the connection setting should not matter);
- ``mail-routes-asis`` (real run: computes the as-is Postfix tables, writes them on every
  mail host, reloads only when one changed, flushes the queues; idempotent on an as-is lab);
- ``portal-sync`` (real run: tar, fetch and unarchive of each former province's pages to
  the merged portal; idempotent, moves files through the connection);
- ``provision --check`` (check mode: every provisioning role on every host, changing
  nothing).
Every setting keeps strict host-key checking against the lab's own known_hosts (OpenSSH
through the inventory's ssh args; paramiko reads ``~/.ssh/known_hosts``, so every run gets
a private HOME holding a copy of the lab's file). The lab is torn down at the end, also on
failure (``--keep`` leaves it up, ``--reuse ROOT`` runs on a lab kept earlier).

    nice -n 5 .venv/bin/python bench/ansible_connection.py [--rounds 3] [--plays a,b]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from labkit import CutoverLab  # noqa: E402

from cutover.ansible.runner import FAST, ConnectionSettings, run_playbook  # noqa: E402
from cutover.paths import cache_dir  # noqa: E402

BASE = Path(tempfile.gettempdir()) / "bench-ansible"  # /tmp/bench-ansible


@dataclass(frozen=True)
class Setting:
    name: str
    settings: ConnectionSettings
    env: dict[str, str]


MITOGEN = "0.3.54"  # supports ansible-core 2.19 (no upper bound in its loaders)


def mitogen_env() -> dict[str, str]:
    """Mitogen's strategy for Ansible, installed once into the machine's cache (never into
    the project's environment: it is measured here, not used)."""
    cache = cache_dir()
    target = cache / f"mitogen-{MITOGEN}"
    if not (target / "ansible_mitogen").is_dir():
        uv = next((cache).glob("uv-*/bin/uv"))
        subprocess.run([str(uv), "pip", "install", "-q", "--target", str(target),
                        f"mitogen=={MITOGEN}", "--python", sys.executable], check=True)  # fmt: skip
    return {
        "ANSIBLE_TRANSPORT": "ssh",
        "ANSIBLE_STRATEGY": "mitogen_linear",
        "ANSIBLE_STRATEGY_PLUGINS": str(target / "ansible_mitogen/plugins/strategy"),
        "PYTHONPATH": str(target),
    }


SETTINGS = [
    Setting("ssh", FAST, {"ANSIBLE_TRANSPORT": "ssh"}),
    Setting("ssh-no-pipelining", replace(FAST, pipelining=False), {"ANSIBLE_TRANSPORT": "ssh"}),
    # record_host_keys off: a benchmark never writes to a known_hosts file
    Setting(
        "paramiko",
        FAST,
        {"ANSIBLE_TRANSPORT": "paramiko", "ANSIBLE_PARAMIKO_RECORD_HOST_KEYS": "False"},
    ),
]
if os.environ.get("BENCH_MITOGEN", "1") != "0":
    SETTINGS.append(Setting("mitogen", FAST, mitogen_env()))


@dataclass(frozen=True)
class Play:
    name: str
    path: Path
    check: bool


PLAYS = [
    Play("dns-snapshot", ROOT / "playbooks/cutover/dns-snapshot.yml", False),
    Play("mail-routes-asis", ROOT / "playbooks/cutover/mail-routes-asis.yml", False),
    Play("portal-sync", ROOT / "playbooks/cutover/portal-sync.yml", False),
    Play("provision --check", ROOT / "playbooks/provision.yml", True),
]


class Bench:
    def __init__(self, lab: CutoverLab, work: Path) -> None:
        from cutover.inventory import load
        from cutover.runworld import merger_context

        self.work = work
        self.context = merger_context(load(lab.dir, "lab"))
        self.home = work / "home"
        ssh = self.home / ".ssh"
        ssh.mkdir(parents=True, mode=0o700)
        known = Path(self.context.ansible_inventory).parent / "known_hosts"
        shutil.copyfile(known, ssh / "known_hosts")
        (ssh / "known_hosts").chmod(0o600)
        self.count = 0

    def run(self, play: Play, setting: Setting) -> dict[str, Any]:
        self.count += 1
        run_dir = self.work / "runs" / f"{self.count:03d}-{setting.name}"
        run_dir.mkdir(parents=True)
        # what the engine gives a playbook step (cutover/engine/core.py, Engine.playbook)
        extravars = {
            **self.context.vars,
            "cutover_run": f"bench{self.count:03d}",
            "cutover_step": play.name,
            "cutover_action": "forward",
            "cutover_env": "lab",
            "cutover_run_dir": str(run_dir),
        }
        env = {**setting.env, "HOME": str(self.home), "ANSIBLE_HOST_KEY_CHECKING": "True"}
        started = time.perf_counter()
        result = run_playbook(
            play.path,
            private_data_dir=run_dir / "pdd",
            inventory=self.context.ansible_inventory,
            extravars=extravars,
            check=play.check,
            settings=setting.settings,
            envvars=env,
            ident="bench",
        )
        seconds = time.perf_counter() - started
        if not result.ok:
            raise SystemExit(f"{play.name} with {setting.name}: {result.summary()}")
        changed = sum((result.stats.get("changed") or {}).values())
        return {"play": play.name, "setting": setting.name, "s": seconds, "changed": changed}


def report(rows: list[dict[str, Any]], plays: list[Play], rounds: int) -> None:
    names = [s.name for s in SETTINGS]
    print(f"\nrounds: {rounds} (interleaved); seconds per playbook run, median (min)")
    print("| playbook | " + " | ".join(names) + " | "
          + " | ".join(f"{n}/ssh" for n in names[1:]) + " |")  # fmt: skip
    print("|---|" + "---|" * (len(names) + 2))
    for play in plays:
        cells, med = [], {}
        for name in names:
            times = [r["s"] for r in rows if r["play"] == play.name and r["setting"] == name]
            med[name] = statistics.median(times)
            cells.append(f"{med[name]:.2f} ({min(times):.2f})")
        ratios = [med[n] / med["ssh"] for n in names[1:]]
        print(f"| {play.name} | " + " | ".join(cells) + " | "
              + " | ".join(f"{r:.2f}x" for r in ratios) + " |")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--plays", default=",".join(p.name for p in PLAYS))
    parser.add_argument("--keep", action="store_true", help="leave the lab up")
    parser.add_argument("--reuse", type=Path, help="the folder of a lab kept with --keep")
    parser.add_argument("--from-log", type=Path, help="summarize the JSON lines of a run's output")
    args = parser.parse_args()
    plays = [p for p in PLAYS if p.name in args.plays.split(",")]
    if args.from_log:  # a run stopped early still has one JSON line per playbook run
        lines = [ln for ln in args.from_log.read_text().splitlines() if ln.startswith("{")]
        rows = [r for r in map(json.loads, lines) if not r.get("warmup")]
        rounds = len(rows) // (len(plays) * len(SETTINGS))  # rows come round by round
        if not rounds:
            print("no complete round in the log")
            return 1
        report(rows[: rounds * len(plays) * len(SETTINGS)], plays, rounds)
        return 0
    BASE.mkdir(exist_ok=True)
    root = args.reuse or Path(tempfile.mkdtemp(prefix="lab-", dir=BASE))
    lab = CutoverLab(root, ["quangngai", "kontum"], prefix="ba")
    if args.reuse:  # the kept lab's own names, not the fresh ones CutoverLab drew
        shutil.rmtree(lab.dir)
        lab.lab = (root / "lab-name").read_text().strip()
        lab.dir, lab.bridge = root / f"test-{lab.lab}", f"cutlab-{lab.lab}"
        lab.net = "(kept lab)"
    else:
        (root / "lab-name").write_text(lab.lab + "\n")
    # this process loads the merger's context itself: same state folder as the lab's CLI
    os.environ.update(CUTOVER_STATE_DIR=str(lab.state), CUTOVER_RUNS_DIR=str(lab.runs))
    print(f"lab {lab.lab} on {lab.net}.0/24, folder {root}".replace("(kept lab).0/24", "its /24"))
    try:
        if not args.reuse:
            started = time.monotonic()
            lab.up_and_provision()
            print(f"lab up and provisioned in {time.monotonic() - started:.0f} s", flush=True)
        if args.rounds:
            bench = Bench(lab, Path(tempfile.mkdtemp(prefix="work-", dir=root)))
            for play in plays:  # warm-up, not timed: first-run changes, caches, masters
                for setting in SETTINGS:
                    print(json.dumps({"warmup": True, **bench.run(play, setting)}), flush=True)
            rows = []
            for _ in range(args.rounds):
                for play in plays:
                    for setting in SETTINGS:
                        rows.append(bench.run(play, setting))
                        print(json.dumps(rows[-1]), flush=True)
            report(rows, plays, args.rounds)
    finally:
        if args.keep:
            print(f"lab kept: --reuse {root}")
        else:
            lab.cleanup()
            print(f"lab {lab.lab} down; containers left: {len(lab.containers())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
