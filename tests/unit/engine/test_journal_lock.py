"""The journal is append-only and durable-by-configuration; the lock names its holder."""

from __future__ import annotations

import sqlite3

import pytest

from cutover.engine.lock import EnvLock, read_lock
from cutover.errors import EngineError
from cutover.journal import Journal
from cutover.redact import MASK, Redactor


def test_journal_derives_states_and_refuses_rewrites(tmp_path) -> None:
    journal = Journal.create(tmp_path / "r1", {"run_id": "r1", "env": "lab", "steps": {}})
    journal.append("step.started", "a")
    journal.append("step.action_succeeded", "a")
    assert journal.steps()["a"].state == "action_done"
    journal.append("step.succeeded", "a")
    assert journal.steps()["a"].state == "succeeded"
    db = sqlite3.connect(journal.path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM events")
    db.close()
    journal.close()


def test_journal_masks_secrets(tmp_path) -> None:
    redactor = Redactor(["hunter2-key"])
    journal = Journal.create(tmp_path / "r1", {"run_id": "r1"}, redactor=redactor)
    journal.append("step.failed", "a", message="auth with hunter2-key failed", password="x1")
    event = journal.events(step="a")[0]
    assert event.data == {"message": f"auth with {MASK} failed", "password": MASK}
    journal.close()
    assert b"hunter2-key" not in (tmp_path / "r1" / "journal.sqlite").read_bytes()


def test_lock_refuses_a_second_run_and_says_who_holds_it(tmp_path) -> None:
    Journal.create(tmp_path / "r1", {"run_id": "r1"}).close()
    first = EnvLock("staging")
    first.acquire("r1", tmp_path / "r1")
    with pytest.raises(EngineError, match="in use: run r1"):
        EnvLock("staging").acquire("r2", tmp_path / "r2")
    info = read_lock("staging")
    assert info is not None and info["run"] == "r1" and info["executing"]
    first.release(finished=True)
    assert read_lock("staging") is None
