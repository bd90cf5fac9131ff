"""One run per merger environment at a time, with a lock that outlives a crash.

The lock file ``<locks dir>/<merger>.<env>.lock`` names the run that owns the
environment (a merger's lab and another merger's lab are different environments; a plan
without a merger locks ``<env>``). The locks dir is one fixed place per installation,
``$CUTOVER_LOCK_DIR`` or ``<state dir>/locks`` (a shared filesystem when several
operators' machines drive one site), never the runs folder of whoever started a run:
two operators in two directories must still exclude each other. The lock names the
owning run's folder, so its state can be read from anywhere.

Two layers: an ``flock`` says a process is executing the run right now (the kernel drops
it when the process dies, even on kill -9), and the file's content says which run owns
the environment until that run is finished. A crashed run therefore keeps the
environment (a half-done cutover must be resumed or rolled back, not raced by a new one),
and the error message says who holds it and what to do. The lock is broken only under
its flock, with the reason journaled in the owning run (``run.abandoned``).
"""

from __future__ import annotations

import fcntl
import getpass
import json
import os
import socket
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from cutover import paths
from cutover.errors import EngineError, JournalError
from cutover.journal import JOURNAL_FILE, RUN_FINAL, Journal, now_iso

LOCK_DIR_ENV = "CUTOVER_LOCK_DIR"
LIVE = ("production",)


def locks_dir() -> Path:
    env = os.environ.get(LOCK_DIR_ENV)
    return Path(env) if env else paths.state_dir() / "locks"


def lock_name(env: str, merger: str | None = None) -> str:
    return f"{merger}.{env}" if merger else env


def unlock_command(name: str) -> str:
    merger, _, env = name.rpartition(".")
    return f"cutover unlock {env}" + (f" --merger {merger}" if merger else "")


def lock_path(name: str) -> Path:
    return locks_dir() / f"{name}.lock"


def _parse(text: str, path: Path) -> dict[str, Any] | None:
    text = text.strip()
    if not text:
        return None
    try:
        info = json.loads(text)
    except json.JSONDecodeError:
        return {"run": None, "state": "unreadable lock file", "path": str(path)}
    return info if isinstance(info, dict) else {"run": None, "state": "unreadable lock file"}


def read_lock(name: str) -> dict[str, Any] | None:
    """Who holds ``name`` (run, its folder, pid, host, since), whether that process is
    alive, and the run's state; None when free."""
    path = lock_path(name)
    try:
        info = _parse(path.read_text(encoding="utf-8"), path)
    except FileNotFoundError:
        return None
    if info is None:
        return None
    info["executing"] = _flock_held(path)
    info["state"] = _run_state(info)
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


def _run_dir(info: dict[str, Any]) -> Path | None:
    run, folder = info.get("run"), info.get("run_dir")
    return Path(folder) if run and folder else None


def _run_state(info: dict[str, Any]) -> str:
    run_dir = _run_dir(info)
    if run_dir is None or not (run_dir / JOURNAL_FILE).is_file():
        return "missing"
    try:
        journal = Journal(run_dir, read_only=True)
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
    def __init__(self, name: str) -> None:
        self.name = name
        self.path = lock_path(name)
        self._handle: IO[str] | None = None

    def acquire(self, run_id: str, run_dir: Path) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = self.path.open("a+", encoding="utf-8")
        except OSError as exc:
            raise EngineError(
                f"cannot open the lock of environment {self.name} ({self.path}): {exc.strerror}",
                hint=f"make {self.path.parent} writable (with free space), then try again",
            ) from exc
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            info = read_lock(self.name) or {}
            raise EngineError(
                f"environment {self.name} is in use: {describe(info)} is executing",
                hint="wait for it, or stop it with Ctrl-C in its terminal",
            ) from None
        handle.seek(0)
        owner = _parse(handle.read(), self.path)
        mine = owner is not None and owner.get("run") == run_id
        if owner is not None and not mine:
            state = _run_state(owner)
            if state not in RUN_FINAL:
                fcntl.flock(handle, fcntl.LOCK_UN)
                handle.close()
                run = owner.get("run")
                missing = f" (its journal is not in {owner.get('run_dir')})"
                raise EngineError(
                    f"environment {self.name} is held by unfinished run {run} "
                    f"(state {state}, no process is executing it)"
                    + (missing if state == "missing" else ""),
                    hint=f"`cutover resume {run}` or `cutover rollback {run}`; "
                    f"if it is abandoned, `{unlock_command(self.name)} --force --reason ...`",
                )
        info = {
            "run": run_id,
            "run_dir": str(run_dir.resolve()),
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "user": getpass.getuser(),
            "since": now_iso(),
        }
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


@contextmanager
def _held(name: str) -> Iterator[IO[str]]:
    """The lock file, flocked: nothing can start or finish a run of it meanwhile."""
    path = lock_path(name)
    with path.open("r+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            info = read_lock(name) or {}
            raise EngineError(
                f"environment {name} is in use: {describe(info)} is executing",
                hint="stop that process first",
            ) from None
        try:
            yield handle
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def break_lock(
    name: str, *, env: str, reason: str | None, state: str | None
) -> dict[str, Any] | None:
    """Free ``name`` from an abandoned run: under the lock's flock (refused while a
    process executes the run), journaling ``run.abandoned`` with ``reason`` in the owning
    run first. In production, refused unless that run was rolled back, or the operator
    gives the reason and the abandoned run's state as it is (so nobody frees a live
    environment from a run they have not looked at)."""
    if read_lock(name) is None:
        return None
    with _held(name) as handle:
        handle.seek(0)
        info = _parse(handle.read(), lock_path(name))
        if info is None:
            return None
        actual = _run_state(info)
        info["state"] = actual
        if env in LIVE and actual != "rolled_back":
            if not reason or state != actual:
                raise EngineError(
                    f"environment {name} is held by run {info.get('run')} in state {actual}: "
                    "in production it is freed only with the reason and that state",
                    hint=f"`{unlock_command(name)} --force --reason WHY --state {actual}`",
                )
        elif not reason:
            raise EngineError(f"freeing environment {name} needs a reason", hint="add --reason WHY")
        run_dir = _run_dir(info)
        if run_dir is not None and actual not in ("missing", "unreadable"):
            journal = Journal(run_dir)
            try:
                journal.append(
                    "run.abandoned",
                    reason=reason,
                    state=actual,
                    by=getpass.getuser(),
                    host=socket.gethostname(),
                    lock=name,
                )
            finally:
                journal.close()
        handle.seek(0)
        handle.truncate()
        handle.flush()
        os.fsync(handle.fileno())
    return info
