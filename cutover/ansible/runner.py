"""A reusable wrapper around ``ansible_runner.run`` for one playbook invocation.

The project's one runner: the cutover engine and provisioning use it. It gives each
invocation its own private data dir (so artifacts are kept per step), fast connection
defaults, events and status through callbacks, cancellation, and secret redaction of
everything written.

Fast defaults (measured in ``bench/engine_overhead.py``, see LAB-NOTES.md): pipelining on
(one SSH round trip per task instead of several), fact gathering only where a play asks
for it (``gathering = explicit``; facts cost about 0.8 s per host), and more forks than
Ansible's 5 so a task runs on all hosts of a small site at once.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import ansible_runner

from cutover.ansible import varsfile
from cutover.errors import PlaybookError
from cutover.redact import Redactor

EventHandler = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class ConnectionSettings:
    """How Ansible reaches hosts; the defaults are the fast ones."""

    pipelining: bool = True
    gathering: Literal["explicit", "implicit", "smart"] = "explicit"
    forks: int = 20
    control_persist: str = "60s"

    def envvars(self) -> dict[str, str]:
        return {
            "ANSIBLE_PIPELINING": str(self.pipelining),
            "ANSIBLE_GATHERING": self.gathering,
            "ANSIBLE_SSH_ARGS": f"-o ControlMaster=auto -o ControlPersist={self.control_persist}",
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_LOCALHOST_WARNING": "False",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False",
        }


FAST = ConnectionSettings()
# Ansible's own defaults, for comparison in benchmarks
ANSIBLE_DEFAULTS = ConnectionSettings(pipelining=False, gathering="implicit", forks=5)


@dataclass
class PlaybookResult:
    status: str  # successful, failed, timeout, canceled
    rc: int
    artifact_dir: Path
    failures: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    # what the play reported with set_stats (per_host: false), e.g. an old TTL it lowered
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "successful" and self.rc == 0

    def total(self, key: str) -> int:
        """``key`` (changed, ok, failures...) summed over the hosts."""
        return sum((self.stats.get(key) or {}).values())

    def failed_hosts(self) -> list[str]:
        bad = {**(self.stats.get("failures") or {}), **(self.stats.get("dark") or {})}
        return sorted(h for h, n in bad.items() if n)

    def summary(self) -> str:
        if self.ok:
            return "successful"
        detail = "; ".join(self.failures[:3]) or f"rc={self.rc}"
        return f"{self.status}: {detail}"


def _search_path() -> str:
    """PATH for Ansible: ansible-playbook from PATH, else the one installed beside this
    interpreter (a venv used without activation)."""
    path = os.environ.get("PATH", os.defpath)
    if shutil.which("ansible-playbook"):
        return path
    beside = Path(sys.executable).parent
    if (beside / "ansible-playbook").is_file():
        return f"{beside}{os.pathsep}{path}"
    raise PlaybookError("ansible-playbook not found", hint="run `make setup` or activate .venv")


def _failure_text(event: Mapping[str, Any]) -> str | None:
    data = event.get("event_data") or {}
    if event.get("event") == "runner_on_unreachable":
        res = data.get("res") or {}
        return f"{data.get('host')}: unreachable: {res.get('msg', '')}".strip()
    if event.get("event") == "runner_on_failed" and not data.get("ignore_errors"):
        res = data.get("res") or {}
        msg = res.get("msg") or ""
        stderr = str(res.get("stderr") or "").strip()
        # A command's own last line says more than Ansible's "non-zero return code" (our
        # controller-side commands print their one-line error there: cutovers/_cli.py).
        if stderr and (not msg or msg == "non-zero return code"):
            msg = stderr.splitlines()[-1]
        return f"{data.get('host')}: {data.get('task')}: {msg}".strip()
    return None


def run_playbook(
    playbook: Path,
    *,
    private_data_dir: Path,
    inventory: Path | str | Mapping[str, Any] | None = None,
    extravars: Mapping[str, Any] | None = None,
    secret_vars: Mapping[str, str] | None = None,
    limit: str | None = None,
    tags: Sequence[str] = (),
    check: bool = False,
    diff: bool = False,
    settings: ConnectionSettings = FAST,
    envvars: Mapping[str, str] | None = None,
    timeout: float | None = None,
    on_event: EventHandler | None = None,
    on_status: Callable[[str], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    redactor: Redactor | None = None,
    ident: str = "run",
) -> PlaybookResult:
    """Run ``playbook`` once; returns its result. PlaybookError if it cannot start.

    ``secret_vars`` reach Ansible through a 0600 extra-vars file that is deleted when the
    run ends; their values are masked in events and in every artifact file.
    """
    playbook = playbook.resolve()
    if not playbook.is_file():
        raise PlaybookError(f"playbook {playbook} not found")
    redactor = redactor or Redactor()
    for value in (secret_vars or {}).values():
        redactor.add(value)
    private_data_dir.mkdir(parents=True, exist_ok=True)
    secrets_file = private_data_dir / "env" / "extravars"
    if secret_vars:
        varsfile.write(secrets_file, secret_vars, private=True)
    failures: list[str] = []
    facts: dict[str, Any] = {}

    def event_handler(event: dict[str, Any]) -> bool:
        # mask in place: ansible-runner writes this very dict to job_events/ afterwards
        masked = redactor.data(event)
        event.clear()
        event.update(masked)
        text = _failure_text(event)
        if text:
            failures.append(text)
        if event.get("event") == "playbook_on_stats":
            facts.update((event.get("event_data") or {}).get("artifact_data") or {})
        if on_event is not None:
            on_event(event)
        return True

    def status_handler(data: dict[str, Any], runner_config: Any = None) -> None:
        if on_status is not None:
            on_status(str(data.get("status")))

    kwargs: dict[str, Any] = {
        "private_data_dir": str(private_data_dir),
        "project_dir": str(playbook.parent),
        "playbook": playbook.name,
        "ident": ident,
        "quiet": True,
        "suppress_env_files": True,  # env/ would otherwise hold extra vars in clear text
        # Host keys are always checked, whatever the operator's environment or a caller
        # says: an inherited ANSIBLE_HOST_KEY_CHECKING=False would silently trust any host.
        "envvars": {
            "PATH": _search_path(),
            **settings.envvars(),
            **(envvars or {}),
            "ANSIBLE_HOST_KEY_CHECKING": "True",
        },
        "forks": settings.forks,
        "event_handler": event_handler,
        "status_handler": status_handler,
        "cancel_callback": cancel or (lambda: False),
    }
    if inventory is not None:
        kwargs["inventory"] = dict(inventory) if isinstance(inventory, Mapping) else str(inventory)
    cmdline: list[str] = []
    if extravars:
        # In a file (``-e @file``), never inline: a merger's variables (pages, accounts)
        # exceed the kernel's argument size. They are public; secrets use secret_vars.
        # Every string in it is !unsafe: inventory text is data, never a template.
        vars_file = varsfile.write(private_data_dir / "extravars.yml", extravars)
        cmdline.append(f"-e @{shlex.quote(str(vars_file))}")
    if limit:
        kwargs["limit"] = limit
    if tags:
        kwargs["tags"] = ",".join(tags)
    if check:
        cmdline.append("--check")
    if diff:
        cmdline.append("--diff")
    if cmdline:
        kwargs["cmdline"] = " ".join(cmdline)
    if timeout:
        kwargs["timeout"] = max(1, int(timeout))
    started = time.monotonic()
    try:
        runner = ansible_runner.run(**kwargs)
    except Exception as exc:  # ansible-runner raises bare exceptions for bad setups
        raise PlaybookError(f"cannot run {playbook.name}: {exc}") from exc
    finally:
        secrets_file.unlink(missing_ok=True)
        redactor.scrub_tree(private_data_dir)
    artifact_dir = Path(runner.config.artifact_dir)
    return PlaybookResult(
        status=str(runner.status),
        rc=int(runner.rc if runner.rc is not None else -1),
        artifact_dir=artifact_dir,
        failures=failures,
        stats=dict(runner.stats or {}),
        seconds=time.monotonic() - started,
        facts=facts,
    )
