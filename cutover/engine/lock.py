"""One run per environment at a time, with a lock that outlives a crash.

The lock file ``<runs dir>/locks/<merger>.<env>.lock`` names the run that owns the
environment (a merger's lab and another merger's lab are different environments; a plan
without a merger locks ``<env>``).
Two layers: an ``flock`` says a process is executing the run right now (the kernel drops
it when the process dies, even on kill -9), and the file's content says which run owns
the environment until that run is finished. A crashed run therefore keeps the
environment (a half-done cutover must be resumed or rolled back, not raced by a new one),
and the error message says who holds it and what to do.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sqlite3
from pathlib import Path
from typing import Any

from cutover.errors import EngineError, JournalError
from cutover.journal import JOURNAL_FILE, RUN_FINAL, Journal, now_iso


def lock_name(env: str, merger: str | None = None) -> str:
    return f"{merger}.{env}" if merger else env


def unlock_command(name: str) -> str:
    merger, _, env = name.rpartition(".")
    return f"cutover unlock {env}" + (f" --merger {merger}" if merger else "")


def lock_path(runs_dir: Path, env: str) -> Path:
    return runs_dir / "locks" / f"{env}.lock"


def read_lock(runs_dir: Path, env: str) -> dict[str, Any] | None:
    """Who holds ``env`` (run, pid, host, since), whether that process is alive, and the
    run's state; None when free."""
    path = lock_path(runs_dir, env)
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if not text:
        return None
    try:
        info: dict[str, Any] = json.loads(text)
    except json.JSONDecodeError:
        return {"run": None, "state": "unreadable lock file", "path": str(path)}
    info["executing"] = _flock_held(path)
    info["state"] = _run_state(runs_dir, str(info.get("run")))
    info["path"] = str(path)
    return info


def _flock_held(path: Path) -> bool:
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def _run_state(runs_dir: Path, run_id: str) -> str:
    if not (runs_dir / run_id / JOURNAL_FILE).is_file():
        return "missing"
    try:
        journal = Journal(runs_dir / run_id, read_only=True)
        try:
            return journal.state()
        finally:
            journal.close()
    except (JournalError, sqlite3.Error, ValueError):
        return "unreadable"  # not finished as far as anyone can tell: the lock holds


def describe(info: dict[str, Any]) -> str:
    who = f"run {info.get('run')} (pid {info.get('pid')} on {info.get('host')}"
    who += f", since {info.get('since')}, state {info.get('state')})"
    return who


class EnvLock:
    def __init__(self, runs_dir: Path, env: str) -> None:
        self.runs_dir = runs_dir
        self.env = env
        self.path = lock_path(runs_dir, env)
        self._handle: Any = None

    def acquire(self, run_id: str) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = self.path.open("a+", encoding="utf-8")
        except OSError as exc:
            raise EngineError(
                f"cannot open the lock of environment {self.env} ({self.path}): {exc.strerror}",
                hint=f"make {self.path.parent} writable (with free space), then try again",
            ) from exc
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            info = read_lock(self.runs_dir, self.env) or {}
            raise EngineError(
                f"environment {self.env} is in use: {describe(info)} is executing",
                hint="wait for it, or stop it with Ctrl-C in its terminal",
            ) from None
        handle.seek(0)
        text = handle.read().strip()
        owner = json.loads(text).get("run") if text.startswith("{") else None
        if owner and owner != run_id:
            state = _run_state(self.runs_dir, owner)
            if state not in RUN_FINAL and state != "missing":
                fcntl.flock(handle, fcntl.LOCK_UN)
                handle.close()
                raise EngineError(
                    f"environment {self.env} is held by unfinished run {owner} "
                    f"(state {state}, no process is executing it)",
                    hint=f"`cutover resume {owner}` or `cutover rollback {owner}`; "
                    f"if it is abandoned, `{unlock_command(self.env)}`",
                )
        info = {"run": run_id, "pid": os.getpid(), "host": socket.gethostname(), "since": now_iso()}
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(info))
        handle.flush()
        os.fsync(handle.fileno())
        self._handle = handle

    def release(self, *, finished: bool) -> None:
        """Stop executing; if the run is ``finished`` the environment is free again."""
        if self._handle is None:
            return
        if finished:
            self._handle.seek(0)
            self._handle.truncate()
            self._handle.flush()
            os.fsync(self._handle.fileno())
        fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()
        self._handle = None


def break_lock(runs_dir: Path, env: str) -> dict[str, Any] | None:
    """Free ``env`` from an abandoned run (refused while a process executes it)."""
    info = read_lock(runs_dir, env)
    if info is None:
        return None
    if info.get("executing"):
        raise EngineError(
            f"environment {env} is in use: {describe(info)} is executing",
            hint="stop that process first",
        )
    lock_path(runs_dir, env).write_text("", encoding="utf-8")
    return info
