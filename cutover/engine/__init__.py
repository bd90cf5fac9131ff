"""The cutover engine: scheduling, rollback, windows, gates, the environment lock."""

from cutover.engine.core import Engine, Outcome, RunOptions, create_run, mode_for, open_run

__all__ = ["Engine", "Outcome", "RunOptions", "create_run", "mode_for", "open_run"]
