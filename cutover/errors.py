"""The project's error types: one per layer, all printed as one line by the CLI.

Every layer raises its own subclass of :class:`CutoverError`, chained with ``from`` to the
low-level cause, so that ``--debug`` shows the whole story and the default shows one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class CutoverError(Exception):
    """Base of every error a user may see. ``hint`` says how to fix it."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


@dataclass(frozen=True)
class Location:
    """Where in a user's file a problem is."""

    path: Path
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else str(self.path)


class ConfigError(CutoverError):
    """Bad input: a plan, an inventory, an option. Nothing has been changed."""

    def __init__(
        self, message: str, *, where: Location | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.where = where

    def one_line(self) -> str:
        text = super().one_line()
        return f"{self.where}: {text}" if self.where else text


class SetupError(CutoverError):
    """A required tool or component is missing or unusable."""


class StackError(CutoverError):
    """A Pulumi stack operation failed."""


class LabError(CutoverError):
    """The lab (containers, bridge, template) could not be brought to the wanted state."""


class PlaybookError(CutoverError):
    """An Ansible playbook run failed or could not start."""


class EngineError(CutoverError):
    """The cutover engine refused or failed to run a plan."""


class JournalError(EngineError):
    """The journal cannot be written or read: the engine refuses to act unrecorded."""


class AuditError(CutoverError):
    """An audit found what must not be there (a secret in a run's files)."""
