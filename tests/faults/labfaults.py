"""The fault tests' lab: a generated two-province merger (labkit) whose plans wait
seconds instead of minutes, and the faults themselves: the engine run as a process
group that can be SIGKILLed, a host's container stopped, and a network partition
between two hosts (nftables rules in the old host's network namespace).

Everything a test starts is tracked here and undone by ``cleanup()`` (processes
killed, partitions healed, containers restarted, the lab torn down), even after a
failure."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from labkit import ROOT, CutoverLab, needs_lab, with_restore_delay

from cutover.inventory import Inventory, load
from cutover.journal import JOURNAL_FILE, Journal
from cutover.plan import LoadedPlan, load_plan
from cutover.plan.model import CheckStep, GateStep, PlaybookStep, WaitStep
from cutover.rehearse.probes import Prober
from cutover.verify import Context, context

# The generated zones' TTL: dns.wait-old-ttl waits out the TTL that dns.lower-ttl reports
# having lowered (TTL-aware, as in production), in seconds rather than the lab's two minutes.
ZONE_TTL = 30
# The lowered TTL (also the DNS and mail settle delays of the rollbacks) and the agreed
# delay before the TTLs go back up: seconds, so a whole plan with faults fits in CI.
LOW_TTL = 10
RESTORE_DELAY = "20s"
PARTITION_TABLE = "fkpartition"


class FaultLab:
    def __init__(self, tmp: Path) -> None:
        reason = needs_lab() or (None if shutil.which("nft") else "nft is missing (make setup)")
        if reason:  # not a skip: CI must have every component its tests need
            pytest.fail(reason)
        self.tmp = tmp
        self.kit = CutoverLab(tmp, ["quangngai", "kontum"], prefix="fk", zone_ttl=ZONE_TTL)
        for plan in (self.kit.dir / "plans").glob("*.yml"):
            text = plan.read_text()
            text = re.sub(r"dns_low_ttl: \d+", f"dns_low_ttl: {LOW_TTL}", text)
            plan.write_text(with_restore_delay(text, RESTORE_DELAY))
        self.procs: list[subprocess.Popen[bytes]] = []
        self.partitions: list[str] = []  # containers holding a partition table
        self.stopped: list[str] = []  # containers a test stopped

    # --- the lab -----------------------------------------------------------------------

    def up(self) -> None:
        self.kit.up_and_provision()

    def cleanup(self) -> None:
        for proc in self.procs:
            self.kill(proc)
        for name in list(self.partitions):
            self.heal(name)
        self.kit.cleanup()

    def finish(self, run: str) -> None:
        """After a test, whatever happened: nothing of it still running, no partition, no
        host down, and its run not holding the lab (rolled back if it did not end), so
        the next test starts from the as-is lab."""
        for proc in self.procs:
            self.kill(proc)
        self.procs.clear()
        for name in list(self.partitions):
            self.heal(name)
        self.start_hosts()
        journal = self.journal(run)
        if journal is None:
            return
        try:
            state = journal.state()
        finally:
            journal.close()
        if state not in ("succeeded", "rolled_back", "failed"):
            self.kit.cli("rollback", run, check=False)
            merger = ("--merger", self.kit.dir.name)
            why = ("--reason", "fault test cleanup")
            self.kit.cli("unlock", "lab", *merger, "--force", *why, check=False)

    def plan(self, name: str) -> Path:
        return self.kit.dir / "plans" / name

    def loaded(self, name: str) -> LoadedPlan:
        return load_plan(self.plan(name))

    def inventory(self) -> Inventory:
        return load(self.kit.dir, "lab")

    def context(self) -> Context:
        return context(self.inventory())

    def prober(self) -> Prober:
        # 2 Hz per service: continuous, but light on a shared 2-core CI machine
        return Prober(self.context(), rate_hz=2.0, max_seconds=3600)

    def address(self, host: str) -> str:
        return str(self.inventory().host(host).address)

    def container(self, host: str) -> str:
        return f"{self.kit.lab}-{host}"

    def verify(self, state: str, settle_s: float = 90.0) -> dict[str, Any]:
        """``cutover verify`` until it passes or ``settle_s`` is over (secondaries and
        restarted services take a moment), the last report."""
        deadline = time.monotonic() + settle_s
        while True:
            report = self.kit.json(
                "verify", str(self.kit.dir), "--env", "lab", "--state", state, check=False
            )
            if report.get("ok") or time.monotonic() > deadline:
                return report
            time.sleep(5)

    # --- the engine as a process group ---------------------------------------------------

    def spawn(
        self, *args: str, log: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """``cutover ARGS`` in its own process group (so a kill takes its playbooks with
        it), output appended to ``log`` in the lab's tmp folder; ``env`` adds variables."""
        with (self.tmp / log).open("ab") as out:
            out.write(f"\n$ cutover {' '.join(args)}\n".encode())
            out.flush()
            proc = subprocess.Popen(
                [sys.executable, "-m", "cutover.cli", *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**self.kit.env, **(env or {})},
                cwd=ROOT,
                start_new_session=True,
            )
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def output(self, log: str) -> str:
        return (self.tmp / log).read_text(errors="replace")

    def run_dir(self, run: str) -> Path:
        return self.kit.runs / run

    def journal(self, run: str) -> Journal | None:
        if not (self.run_dir(run) / JOURNAL_FILE).is_file():
            return None
        return Journal.open(self.run_dir(run))

    def watch(
        self,
        run: str,
        proc: subprocess.Popen[bytes],
        until: Callable[[Journal], bool],
        timeout: float,
    ) -> bool:
        """Poll the run's journal until ``until`` holds; False if the process ended (or
        ``timeout`` passed) first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            journal = self.journal(run)
            if journal is not None:
                try:
                    if until(journal):
                        return True
                finally:
                    journal.close()
            if proc.poll() is not None:
                return False
            time.sleep(0.3)
        return False

    # --- faults ---------------------------------------------------------------------------

    def _pid(self, name: str) -> str:
        out = subprocess.run(
            ["lxc-info", "-n", name, "-p", "-H"], capture_output=True, text=True, check=True
        )
        return out.stdout.strip()

    def partition(self, host: str, peer: str) -> None:
        """Drop every packet between ``host`` and ``peer`` (silently, like a failed link):
        an nftables table in ``host``'s network namespace, filtering both directions."""
        name = self.container(host)
        ruleset = (
            f"table inet {PARTITION_TABLE} {{\n"
            f"  chain out {{ type filter hook output priority 0; ip daddr {peer} drop; }}\n"
            f"  chain in {{ type filter hook input priority 0; ip saddr {peer} drop; }}\n"
            "}\n"
        )
        self.partitions.append(name)
        subprocess.run(
            ["nsenter", "-t", self._pid(name), "-n", "nft", "-f", "-"],
            input=ruleset, text=True, check=True, capture_output=True,
        )  # fmt: skip

    def heal(self, name: str) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            subprocess.run(
                ["nsenter", "-t", self._pid(name), "-n",
                 "nft", "delete", "table", "inet", PARTITION_TABLE],
                check=True, capture_output=True,
            )  # fmt: skip
        self.partitions.remove(name)

    def reaches(self, host: str, address: str, port: int) -> bool:
        """Whether ``host`` can open a TCP connection to ``address``:``port`` (from its
        own network namespace, as its services would)."""
        probe = (
            "import socket,sys\n"
            f"s=socket.socket();s.settimeout(3)\n"
            f"sys.exit(s.connect_ex(({address!r},{port})))\n"
        )
        result = subprocess.run(
            ["nsenter", "-t", self._pid(self.container(host)), "-n", sys.executable, "-c", probe],
            capture_output=True,
        )
        return result.returncode == 0

    def stop_host(self, host: str) -> None:
        name = self.container(host)
        self.stopped.append(name)
        subprocess.run(["lxc-stop", "-k", "-n", name], check=True, capture_output=True)

    def start_hosts(self) -> None:
        """Start the stopped containers again and wait for their SSH."""
        for name in list(self.stopped):
            subprocess.run(["lxc-start", "-n", name], check=True, capture_output=True)
            self.stopped.remove(name)
            address = self.address(name.removeprefix(f"{self.kit.lab}-"))
            for port in (22, 53, 25):  # SSH, then the DNS and mail a rollback talks to
                _wait_port(address, port, 120)


def _wait_port(address: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError), socket.create_connection((address, port), 3):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{address}:{port} did not come back in {timeout:.0f}s")
        time.sleep(1)


def changes_nothing(step: Any) -> bool:
    """The engine's rule (cutover/engine/core.py): re-run without asking after a crash."""
    if isinstance(step, CheckStep | GateStep | WaitStep):
        return True
    return isinstance(step, PlaybookStep) and step.read_only


def step_events(journal: Journal, kind: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for event in journal.events(kind=kind):
        if event.step is not None:
            counts[event.step] = counts.get(event.step, 0) + 1
    return counts


def action_dirs(run_dir: Path, step: str) -> Iterator[tuple[Path, str]]:
    """Each forward-action playbook run of ``step`` (ansible-runner's private data dir)
    and its final status ("" when it never finished: killed)."""
    for pdd in sorted((run_dir / "steps" / step).glob("action-*")):
        status = pdd / "artifacts" / "action" / "status"
        yield pdd, status.read_text().strip() if status.is_file() else ""
