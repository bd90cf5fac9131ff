"""Test hook: ``CUTOVER_TEST_KILL_AT=<step-id>:<phase>`` makes the engine SIGKILL itself
right after journaling that point, to prove crash recovery at every step boundary.

Phases: ``started`` (journaled, action not yet invoked), ``action-done`` (forward action
finished, verification not yet run), ``verify-started`` (a resume verifying a step whose
action had completed), ``succeeded``, ``rollback-started``, ``rollback-action-done``,
``rollback-verify-started`` and ``rolled-back``.
Only the integration tests set it; it costs one dictionary lookup per event otherwise.
"""

from __future__ import annotations

import os
import signal

ENV = "CUTOVER_TEST_KILL_AT"
PHASES = {
    "step.started": "started",
    "step.action_succeeded": "action-done",
    "step.verify_started": "verify-started",
    "step.succeeded": "succeeded",
    "step.rollback_started": "rollback-started",
    "step.rollback_action_succeeded": "rollback-action-done",
    "step.rollback_verify_started": "rollback-verify-started",
    "step.rolled_back": "rolled-back",
}


def maybe_kill(kind: str, step: str | None) -> None:
    target = os.environ.get(ENV)
    if target and step is not None and kind in PHASES and target == f"{step}:{PHASES[kind]}":
        os.kill(os.getpid(), signal.SIGKILL)
