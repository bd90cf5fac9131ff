"""The run journal: every state change, durably, before the engine acts on it.

One SQLite database per run (``<runs dir>/<run id>/journal.sqlite``) in WAL mode with
``synchronous=FULL``, so an event that ``append`` returned survives kill -9 and power loss.
``events`` is append-only (triggers refuse UPDATE and DELETE); ``steps`` and ``meta``
hold state derived from the events, updated in the same transaction. Other processes
(``cutover approve``, ``cutover show``) open the same file concurrently.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cutover.errors import ConfigError, JournalError
from cutover.redact import Redactor

JOURNAL_FILE = "journal.sqlite"
# A run id names a folder and reaches playbooks (and their hosts' file names): a plain
# name, never a path or shell text.
RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
RUNS_DIR_ENV = "CUTOVER_RUNS_DIR"
# Room the engine wants on the runs filesystem before it starts anything: a step's
# ansible-runner artifacts take megabytes, and the journal must still be able to record
# the step's end and any rollback after them. Below this the engine refuses to act.
MIN_FREE_BYTES = 16 * 1024 * 1024


def check_run_id(run_id: str) -> str:
    """``run_id``, or ConfigError when it is not a plain name."""
    if not RUN_ID.match(run_id) or ".." in run_id:
        raise ConfigError(
            f"run id {run_id!r} is not a plain name",
            hint="use letters, digits, '.', '_' and '-', at most 100, first a letter or digit",
        )
    return run_id


def run_folder(runs_dir: Path, run_id: str) -> Path:
    """The folder of run ``run_id``; ConfigError when the id is not a plain name."""
    return runs_dir / check_run_id(run_id)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ts TEXT NOT NULL,
    step TEXT,
    kind TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS steps (
    step TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    started TEXT,
    finished TEXT,
    action_done INTEGER NOT NULL DEFAULT 0,
    done_seq INTEGER,
    message TEXT,
    result TEXT
);
"""

# event kind -> the step state it leads to (other step events are facts, not transitions)
STEP_TRANSITIONS = {
    "step.started": "running",
    "step.action_succeeded": "action_done",
    # A resume re-runs only the verification of a step whose action completed. The step
    # stays action_done through it: a kill during that verification must not make the
    # completed action look in doubt (and so run twice on `--assume STEP=redo`).
    "step.verify_started": "action_done",
    "step.succeeded": "succeeded",
    "step.failed": "failed",
    "step.rollback_started": "rolling_back",
    # the same for rollbacks: a completed rollback action is never run again by a resume
    "step.rollback_action_succeeded": "rollback_action_done",
    "step.rollback_verify_started": "rollback_action_done",
    "step.rolled_back": "rolled_back",
    "step.rollback_failed": "rollback_failed",
    # not attempted: a step that needs it failed to roll back (a later rollback retries it)
    "step.rollback_blocked": "rollback_blocked",
    "step.kept": "kept",
    "step.reset": "pending",
}
RUN_TRANSITIONS = {
    "run.created": "created",
    "run.waiting": "waiting",
    "run.started": "running",
    "run.resumed": "running",
    "run.stopping": "stopping",
    "run.rolling_back": "rolling_back",
    "run.succeeded": "succeeded",
    "run.rolled_back": "rolled_back",
    "run.rollback_failed": "rollback_failed",
    "run.held": "held",
    "run.failed": "failed",
}
# states after which the run holds nothing: its environment lock can go
RUN_FINAL = {"succeeded", "rolled_back", "failed"}


def _fix(directory: Path, cause: str, then: str) -> str:
    """How to get out of a journal write failure, from its cause (SQLite or OS text)."""
    lowered = cause.lower()
    if "full" in lowered or "no space" in lowered:
        what = f"free space on the filesystem of {directory}"
    elif "read-only" in lowered or "readonly" in lowered or "permission" in lowered:
        what = f"make {directory} writable"
    else:
        what = f"check that {directory} is writable and has free space"
    return f"{what}, then {then}"


def check_room(
    directory: Path, then: str, *, journal: Path | None = None, need: int = MIN_FREE_BYTES
) -> None:
    """Refuse (JournalError) unless ``directory`` (or its nearest existing ancestor) is
    writable with ``need`` bytes free: the engine acts only when it can record."""
    name = f"journal {journal}" if journal is not None else f"journal folder {directory}"
    probe = directory
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        stat = os.statvfs(probe)
    except OSError as exc:
        raise JournalError(
            f"cannot check the {name}: {exc.strerror}",
            hint=_fix(directory, str(exc), then),
        ) from exc
    if stat.f_flag & os.ST_RDONLY or not os.access(probe, os.W_OK):
        raise JournalError(
            f"the {name} is not writable (read-only filesystem?): the engine will not act "
            "unrecorded",
            hint=_fix(directory, "read-only", then),
        )
    free = stat.f_bavail * stat.f_frsize
    if free < need:
        raise JournalError(
            f"only {free // 1024} KiB free for the {name} (the engine needs "
            f"{need // (1024 * 1024)} MiB free to record what it does)",
            hint=_fix(directory, "no space", then),
        )


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def runs_dir(option: Path | None = None) -> Path:
    """Where runs live: the option, else $CUTOVER_RUNS_DIR, else ``.runs`` here."""
    if option is not None:
        return option
    env = os.environ.get(RUNS_DIR_ENV)
    return Path(env) if env else Path.cwd() / ".runs"


@dataclass(frozen=True)
class Event:
    seq: int
    ts: str
    step: str | None
    kind: str
    data: dict[str, Any]


@dataclass(frozen=True)
class StepRecord:
    step: str
    state: str
    attempts: int
    started: str | None
    finished: str | None
    action_done: bool
    done_seq: int | None
    message: str | None
    result: dict[str, Any] | None

    @property
    def seconds(self) -> float | None:
        if not self.started or not self.finished:
            return None
        start = datetime.fromisoformat(self.started)
        return (datetime.fromisoformat(self.finished) - start).total_seconds()


class Journal:
    """One run's journal. Thread-safe within a process; safe across processes."""

    def __init__(
        self, run_dir: Path, *, redactor: Redactor | None = None, read_only: bool = False
    ) -> None:
        self.run_dir = run_dir
        self.path = run_dir / JOURNAL_FILE
        self.redactor = redactor or Redactor()
        self._lock = threading.Lock()
        try:
            if read_only:
                # another run's journal, only looked at: never written, never migrated
                self._db = sqlite3.connect(
                    f"{self.path.resolve().as_uri()}?mode=ro",
                    uri=True,
                    timeout=30,
                    isolation_level=None,
                    check_same_thread=False,
                )
                self._db.execute("SELECT count(*) FROM meta").fetchone()  # is it a journal?
            else:
                self._db = sqlite3.connect(
                    self.path, timeout=30, isolation_level=None, check_same_thread=False
                )
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=FULL")
                self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            self._db_close_quietly()
            raise JournalError(
                f"cannot open journal {self.path}: {exc}",
                hint=_fix(run_dir, str(exc), self.resume_hint),
            ) from exc

    @property
    def resume_hint(self) -> str:
        return f"`cutover resume {self.run_dir.name}`"

    def _db_close_quietly(self) -> None:
        db = getattr(self, "_db", None)
        if db is not None:
            db.close()

    def write_error(self, exc: sqlite3.Error) -> JournalError:
        """The one-line error of a failed journal write, with the way out."""
        return JournalError(
            f"cannot write journal {self.path}: {exc}",
            hint=_fix(self.run_dir, str(exc), self.resume_hint),
        )

    def ensure_room(self, then: str | None = None) -> None:
        """Refuse to start anything unless the journal's folder can take what follows;
        ``then`` is what to do once it can (default: resume the run)."""
        check_room(self.run_dir, then or self.resume_hint, journal=self.path)

    @classmethod
    def create(
        cls,
        run_dir: Path,
        meta: dict[str, Any],
        *,
        redactor: Redactor | None = None,
        files: Mapping[str, Path] | None = None,
    ) -> Journal:
        """A new run's journal with ``meta`` and its ``run.created`` event, and copies of
        ``files`` (name in the run folder -> source) beside it.

        Everything is written in a staging folder (``.<run id>.creating``) that is renamed
        to the run folder at the end: an engine killed while creating leaves either no
        run or a whole one, never a journal without its meta that could be neither
        resumed nor created again."""
        if run_dir.exists():
            raise JournalError(f"run {run_dir.name} already exists", hint="choose another --run-id")
        again = "start the run again"
        check_room(run_dir.parent, again, journal=run_dir / JOURNAL_FILE)
        staging = run_dir.parent / f".{run_dir.name}.creating"
        try:
            if staging.exists():  # a creation of this id killed before it was published
                shutil.rmtree(staging)
            staging.mkdir(parents=True)
        except OSError as exc:
            raise JournalError(
                f"cannot create the run folder {staging}: {exc.strerror}",
                hint=_fix(run_dir.parent, str(exc), again),
            ) from exc
        try:
            journal = cls(staging, redactor=redactor)
            try:
                with journal._transaction() as db:
                    try:
                        for key, value in meta.items():
                            db.execute(
                                "INSERT INTO meta(key, value) VALUES (?, ?)",
                                (key, json.dumps(value)),
                            )
                    except sqlite3.Error as exc:
                        raise journal.write_error(exc) from exc
                journal.append("run.created", **meta)
            finally:
                journal.close()
            for name, source in (files or {}).items():
                try:
                    shutil.copyfile(source, staging / name)
                except OSError as exc:
                    raise JournalError(
                        f"cannot keep a copy of {source} in {run_dir}: {exc.strerror}"
                    ) from exc
            try:
                staging.rename(run_dir)  # the run appears whole, or not at all
            except OSError as exc:
                raise JournalError(
                    f"cannot create the run folder {run_dir}: {exc.strerror}"
                ) from exc
        except JournalError as exc:
            # A run that could not even be recorded never existed: leave no half journal
            # behind for `history` or a later run with the same id to trip over.
            shutil.rmtree(staging, ignore_errors=True)
            raise JournalError(exc.message, hint=_fix(run_dir.parent, exc.message, again)) from exc
        return cls(run_dir, redactor=redactor)

    @classmethod
    def open(
        cls, run_dir: Path, *, redactor: Redactor | None = None, read_only: bool = False
    ) -> Journal:
        if not (run_dir / JOURNAL_FILE).is_file():
            raise JournalError(
                f"no run {run_dir.name} in {run_dir.parent}",
                hint="see `cutover history`, or pass --runs-dir",
            )
        return cls(run_dir, redactor=redactor, read_only=read_only)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- writing ---------------------------------------------------------------

    @staticmethod
    def _begin(db: sqlite3.Connection) -> None:
        db.execute("BEGIN IMMEDIATE")

    def _transaction(self) -> _Tx:
        return _Tx(self)

    def append(self, kind: str, step: str | None = None, **data: Any) -> Event:
        """Record one event (and its derived state) durably; returns it once on disk."""
        clean = self.redactor.data(data)
        ts = now_iso()
        body = json.dumps(clean, default=str, ensure_ascii=False)
        with self._transaction() as db:
            try:
                cursor = db.execute(
                    "INSERT INTO events(ts, step, kind, data) VALUES (?, ?, ?, ?)",
                    (ts, step, kind, body),
                )
                seq = int(cursor.lastrowid or 0)
                if step is not None and kind in STEP_TRANSITIONS:
                    self._derive_step(db, seq, ts, step, kind, clean)
                if kind in RUN_TRANSITIONS:
                    db.execute(
                        "INSERT OR REPLACE INTO meta(key, value) VALUES ('state', ?)",
                        (json.dumps(RUN_TRANSITIONS[kind]),),
                    )
            except sqlite3.Error as exc:  # e.g. a full disk while spilling pages
                raise self.write_error(exc) from exc
        return Event(seq, ts, step, kind, clean)

    @staticmethod
    def _derive_step(
        db: sqlite3.Connection, seq: int, ts: str, step: str, kind: str, data: dict[str, Any]
    ) -> None:
        state = STEP_TRANSITIONS[kind]
        db.execute("INSERT OR IGNORE INTO steps(step, state) VALUES (?, 'pending')", (step,))
        message = data.get("message")
        if kind == "step.started":
            db.execute(
                "UPDATE steps SET state=?, attempts=attempts+1, started=COALESCE(started, ?),"
                " finished=NULL, message=NULL WHERE step=?",
                (state, ts, step),
            )
        elif kind in ("step.action_succeeded", "step.succeeded"):
            result = json.dumps(data.get("result")) if "result" in data else None
            db.execute(
                "UPDATE steps SET state=?, action_done=1, done_seq=COALESCE(done_seq, ?),"
                " result=COALESCE(?, result), finished=CASE WHEN ?='succeeded' THEN ?"
                " ELSE finished END WHERE step=?",
                (state, seq, result, state, ts, step),
            )
        elif kind == "step.failed":
            db.execute(
                "UPDATE steps SET state=?, finished=?, message=?,"
                " action_done=action_done OR ? WHERE step=?",
                (state, ts, message, int(bool(data.get("action_done"))), step),
            )
        elif kind == "step.rolled_back":
            db.execute(
                "UPDATE steps SET state=?, action_done=0, message=? WHERE step=?",
                (state, message, step),
            )
        elif kind == "step.reset":
            db.execute(
                "UPDATE steps SET state=?, action_done=0, done_seq=NULL, started=NULL,"
                " finished=NULL, message=? WHERE step=?",
                (state, message, step),
            )
        else:
            db.execute(
                "UPDATE steps SET state=?, message=COALESCE(?, message) WHERE step=?",
                (state, message, step),
            )

    # --- reading ---------------------------------------------------------------

    def meta(self) -> dict[str, Any]:
        with self._lock:
            rows = self._db.execute("SELECT key, value FROM meta").fetchall()
        return {key: json.loads(value) for key, value in rows}

    def state(self) -> str:
        return str(self.meta().get("state", "created"))

    def steps(self) -> dict[str, StepRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT step, state, attempts, started, finished, action_done, done_seq,"
                " message, result FROM steps"
            ).fetchall()
        return {
            row[0]: StepRecord(
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                bool(row[5]),
                row[6],
                row[7],
                json.loads(row[8]) if row[8] else None,
            )
            for row in rows
        }

    def events(self, *, step: str | None = None, kind: str | None = None) -> list[Event]:
        query = "SELECT seq, ts, step, kind, data FROM events WHERE 1=1"
        args: list[Any] = []
        if step is not None:
            query += " AND step=?"
            args.append(step)
        if kind is not None:
            query += " AND kind=?"
            args.append(kind)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY seq", args).fetchall()
        return [Event(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]


class _Tx:
    """BEGIN IMMEDIATE ... COMMIT under the process lock; COMMIT is the durability point."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def __enter__(self) -> sqlite3.Connection:
        self.journal._lock.acquire()
        try:
            self.journal._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            self.journal._lock.release()
            raise self.journal.write_error(exc) from exc
        return self.journal._db

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        db = self.journal._db
        try:
            if exc_type is None:
                db.execute("COMMIT")
            elif db.in_transaction:
                db.execute("ROLLBACK")
        except sqlite3.Error as error:
            # A failed COMMIT (disk full) may leave the transaction open: end it, so the
            # next append starts clean once there is room again.
            if db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
            raise self.journal.write_error(error) from error
        finally:
            self.journal._lock.release()


def list_runs(
    root: Path, skipped: list[str] | None = None
) -> Iterator[tuple[Path, dict[str, Any]]]:
    """(run dir, meta) of every readable run under ``root``, oldest first, each opened
    read-only. A run that cannot be read (a damaged or foreign file) is left out, and
    named with its reason in ``skipped``: one bad folder must not hide all the others,
    nor block a rollback during an incident."""
    if not root.is_dir():
        return
    # a dot folder is a run still being created (or one whose creation was killed)
    runs = (p for p in root.iterdir() if not p.name.startswith("."))
    for run_dir in sorted(p for p in runs if (p / JOURNAL_FILE).is_file()):
        try:
            journal = Journal(run_dir, read_only=True)
        except JournalError as exc:
            if skipped is not None:
                skipped.append(f"{run_dir}: {exc.message}")
            continue
        try:
            meta = journal.meta()
        except (sqlite3.Error, ValueError) as exc:
            if skipped is not None:
                skipped.append(f"{run_dir}: unreadable journal: {exc}")
            continue
        finally:
            journal.close()
        yield run_dir, meta
