"""Stack operations over the Automation API, with Pulumi's typed errors mapped to
:class:`~cutover.errors.StackError` messages a platform engineer can act on."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from pulumi import automation as auto

from cutover.errors import StackError
from cutover.paths import project_root
from cutover.stack.engine import Engine, find_engine
from cutover.stack.events import Listener, forwarder
from cutover.stack.settings import StackSettings

Program = Callable[[], None]


@dataclass(frozen=True)
class ChangeSummary:
    """Resource operations an operation did (or a preview would do), by kind."""

    changes: dict[str, int]

    @property
    def changed(self) -> bool:
        return any(count for op, count in self.changes.items() if op != "same")

    def __str__(self) -> str:
        parts = [f"{count} {op}" for op, count in sorted(self.changes.items()) if count]
        return ", ".join(parts) or "no resources"


def _last_error_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for line in reversed(lines):
        if line.startswith("error:"):
            return line.removeprefix("error:").strip()
    return lines[-1] if lines else "unknown error"


@contextmanager
def _mapped_errors(stack: str, work_dir: Path, backend: str) -> Iterator[None]:
    try:
        yield
    except auto.ConcurrentUpdateError as exc:
        raise StackError(
            f"stack {stack!r} is being updated by another process",
            hint="wait for it to finish; if that process died, remove its lock under "
            f"{backend}/.pulumi/locks after making sure nothing runs",
        ) from exc
    except auto.CompilationError as exc:
        raise StackError(
            f"the stack program in {work_dir} failed to load: {_last_error_line(str(exc))}",
            hint="fix the program; run with --debug for the full Pulumi output",
        ) from exc
    except auto.StackNotFoundError as exc:
        raise StackError(
            f"stack {stack!r} does not exist in {backend}",
            hint="create it with `cutover stack up` (or check PULUMI_BACKEND_URL)",
        ) from exc
    except auto.InlineSourceRuntimeError as exc:
        raise StackError(
            f"the stack program of {stack!r} raised an error: {_last_error_line(str(exc))}",
            hint="run with --debug for the full Pulumi output",
        ) from exc
    except auto.CommandError as exc:
        config = work_dir / f"Pulumi.{stack}.yaml"
        if "incorrect passphrase" in str(exc) and config.exists():
            # Pulumi keeps a stack's settings, and the salt of its passphrase, beside the
            # program: a stack of the same name made under another state folder left it
            raise StackError(
                f"{config} was written for stack {stack!r} under another state folder "
                "(another passphrase)",
                hint="use that state folder (CUTOVER_STATE_DIR), or remove the file if that "
                "stack is gone",
            ) from exc
        raise StackError(
            f"pulumi failed on stack {stack!r}: {_last_error_line(str(exc))}",
            hint="run with --debug for the full Pulumi output",
        ) from exc


def _summary(changes: Mapping[Any, int] | None) -> ChangeSummary:
    # keys are str or the automation API's OpType (a str enum): both print as the op
    return ChangeSummary({str(k): int(v) for k, v in (changes or {}).items()})


class StackHandle:
    """One selected (or created) stack. Operations block; progress goes to ``listener``."""

    def __init__(
        self, stack: auto.Stack, settings: StackSettings, work_dir: Path, engine: Engine
    ) -> None:
        self._stack = stack
        self.settings = settings
        self.work_dir = work_dir
        self.engine = engine

    @property
    def name(self) -> str:
        return str(self._stack.name)

    def _errors(self) -> Any:
        return _mapped_errors(self.name, self.work_dir, self.settings.backend_url)

    def set_config(
        self, values: Mapping[str, Any], *, secret: frozenset[str] = frozenset()
    ) -> None:
        """Set config keys (``ns:key``); keys in ``secret`` are stored encrypted."""
        with self._errors():
            self._stack.set_all_config(
                {
                    key: auto.ConfigValue(value=str(value), secret=key in secret)
                    for key, value in values.items()
                }
            )

    def get_config(self) -> dict[str, auto.ConfigValue]:
        with self._errors():
            return dict(self._stack.get_all_config())

    def remove_config(self, keys: list[str]) -> None:
        with self._errors():
            self._stack.remove_all_config(keys)

    def preview(self, listener: Listener | None = None) -> ChangeSummary:
        with self._errors():
            result = self._stack.preview(on_event=forwarder(listener), color="never")
        return _summary(result.change_summary)

    def up(self, listener: Listener | None = None) -> ChangeSummary:
        with self._errors():
            result = self._stack.up(on_event=forwarder(listener), color="never")
        return _summary(result.summary.resource_changes)

    def refresh(self, listener: Listener | None = None) -> ChangeSummary:
        with self._errors():
            result = self._stack.refresh(on_event=forwarder(listener), color="never")
        return _summary(result.summary.resource_changes)

    def destroy(self, listener: Listener | None = None, *, remove: bool = False) -> ChangeSummary:
        with self._errors():
            result = self._stack.destroy(on_event=forwarder(listener), color="never")
            if remove:
                self._stack.workspace.remove_stack(self.name)
        return _summary(result.summary.resource_changes)

    def clear_stale_locks(self) -> int:
        """Remove this stack's update locks from a file backend; returns how many.

        A killed engine leaves its lock behind and the file backend cannot tell a dead
        holder from a live one. Call this only when the caller knows no other update of
        this stack runs (the lab does, holding its own lock)."""
        parsed = urlparse(self.settings.backend_url)
        if parsed.scheme != "file":
            return 0
        project = self._stack.workspace.project_settings().name
        locks = Path(unquote(parsed.path)) / ".pulumi" / "locks"
        stale = list(locks.glob(f"**/{project}/{self.name}/*.json"))
        for lock in stale:
            lock.unlink(missing_ok=True)
        return len(stale)

    def outputs(self) -> dict[str, Any]:
        with self._errors():
            return {key: out.value for key, out in self._stack.outputs().items()}


_STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def open_stack(
    stack_name: str,
    *,
    work_dir: Path | None = None,
    program: Program | None = None,
    project_name: str | None = None,
    create: bool = True,
    env: Mapping[str, str] | None = None,
) -> StackHandle:
    """Select (or create) a stack of the project in ``work_dir`` (default: the repo root,
    whose Pulumi.yaml runs ``stacks/``), or of an inline ``program``."""
    if not _STACK_NAME.match(stack_name):
        raise StackError(
            f"invalid stack name {stack_name!r}",
            hint="use letters, digits, '-', '_' or '.'",
        )
    engine = find_engine()
    settings = StackSettings.from_environment()
    work_dir = (work_dir or project_root()).resolve()
    env_vars = {**settings.env, "PATH": engine.path_env(), **(env or {})}
    opts = auto.LocalWorkspaceOptions(
        work_dir=str(work_dir) if program is None else None,
        program=program,
        env_vars=env_vars,
        secrets_provider=settings.secrets_provider,
        pulumi_command=auto.PulumiCommand(root=str(engine.bin_dir.parent)),
        project_settings=(
            auto.ProjectSettings(name=project_name, runtime="python")
            if program is not None and project_name
            else None
        ),
    )
    with _mapped_errors(stack_name, work_dir, settings.backend_url):
        if program is not None:
            name = project_name or "inline"
            if create:
                stack = auto.create_or_select_stack(stack_name, name, program, opts=opts)
            else:
                stack = auto.select_stack(stack_name, name, program, opts=opts)
        elif create:
            stack = auto.create_or_select_stack(stack_name, work_dir=str(work_dir), opts=opts)
        else:
            stack = auto.select_stack(stack_name, work_dir=str(work_dir), opts=opts)
    return StackHandle(stack, settings, work_dir, engine)
