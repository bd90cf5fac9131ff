"""Playbooks left running by an engine process that died.

ansible-runner starts ansible-playbook through pexpect, in a session of its own, so a
SIGKILL of the engine (an OOM kill, a killed terminal) does not reach it: the playbook
of an in-flight step keeps running, orphaned, and a resume that re-runs the step would
run it twice at once. Before a resume or a rollback acts, the engine (holding the run's
lock, so no live engine owns these) stops every playbook still running from the run's
folder, and journals which."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path
from typing import Any

_PROC = Path("/proc")


def _cmdline(pid_dir: Path) -> list[str]:
    try:
        raw = (pid_dir / "cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def find(run_dir: Path) -> list[dict[str, Any]]:
    """Process groups running a playbook of this run: leader pid, step, command."""
    # the folder as the engine named it and as resolved: either may be in a command line
    markers = {str(path / "steps") + os.sep for path in (run_dir.absolute(), run_dir.resolve())}
    found: list[dict[str, Any]] = []
    if not _PROC.is_dir():
        return found
    for entry in _PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        args = _cmdline(entry)
        hit = next(((a, m) for a in args for m in markers if m in a), None)
        if hit is None:
            continue
        where, steps = hit
        pid = int(entry.name)
        try:
            if os.getpgid(pid) != pid:
                continue  # a fork of a playbook: it goes with its group's leader
        except ProcessLookupError:
            continue
        step = where.split(steps, 1)[1].split(os.sep, 1)[0].lstrip("@")
        found.append({"pid": pid, "step": step, "command": " ".join(args)[:300]})
    return found


def stop(run_dir: Path) -> list[dict[str, Any]]:
    """SIGKILL every orphaned playbook process group of this run; what was stopped."""
    orphans = find(run_dir)
    for orphan in orphans:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(orphan["pid"], signal.SIGKILL)
    return orphans
