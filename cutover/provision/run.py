"""A minimal, private call to ``ansible_runner.run`` for provisioning.

Another module (``cutover/ansible/runner.py``) will be the project's general wrapper; this
one does only what provisioning needs so it can be swapped for it: a private data dir per
run under ``.state/runs/``, fast and strict Ansible defaults, events to a callback, and
the run's status, rc and per-host stats back. It never prints.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cutover.ansible import varsfile
from cutover.errors import PlaybookError

EventHandler = Callable[[dict[str, Any]], None]

# Fast, strict defaults (see LAB-NOTES: pipelining saves a quarter of each task; facts
# are gathered only by the plays that need them).
ENV_DEFAULTS = {
    "ANSIBLE_PIPELINING": "True",
    "ANSIBLE_HOST_KEY_CHECKING": "True",
    "ANSIBLE_TRANSPORT": "ssh",
    "ANSIBLE_GATHERING": "explicit",
    "ANSIBLE_RETRY_FILES_ENABLED": "False",
    "ANSIBLE_NOCOLOR": "True",
    "ANSIBLE_SSH_ARGS": "-o ControlMaster=auto -o ControlPersist=60s",
    "ANSIBLE_DISPLAY_ARGS_TO_STDOUT": "False",
    "ANSIBLE_NO_TARGET_SYSLOG": "True",
}


@dataclass
class RunResult:
    status: str
    rc: int
    seconds: float
    artifacts: Path
    stats: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "successful" and self.rc == 0

    def total(self, key: str) -> int:
        return sum(self.stats.get(key, {}).values())

    def failed_hosts(self) -> list[str]:
        bad = {**self.stats.get("failures", {}), **self.stats.get("dark", {})}
        return sorted(h for h, n in bad.items() if n)


def run_playbook(
    playbook: Path,
    inventory: Path,
    extravars: Mapping[str, Any],
    data_dir: Path,
    *,
    check: bool = False,
    forks: int = 20,
    on_event: EventHandler | None = None,
) -> RunResult:
    import ansible_runner  # slow to import: only when a run is wanted

    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    ident = time.strftime("%Y%m%dT%H%M%S") + ("-check" if check else "")
    env = {**ENV_DEFAULTS, "ANSIBLE_FORKS": str(forks)}  # host keys checked: see ENV_DEFAULTS
    env["ANSIBLE_LOCAL_TEMP"] = str(data_dir / "tmp")
    # The ansible-playbook of this interpreter's environment, whatever PATH says.
    venv_bin = Path(sys.executable).parent
    env["PATH"] = f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}"
    # Variables go in a file of their own (``-e @file``): inline they can exceed the
    # kernel's argument size, and runner's env/extravars would outlive the run.
    # Every string in it is !unsafe: inventory text is data, never a template.
    vars_file = varsfile.write(data_dir / f"vars-{ident}.yml", extravars)
    cmdline = f"-e @{vars_file}" + (" --check --diff" if check else "")
    started = time.monotonic()

    def handler(event: dict[str, Any]) -> bool:
        if on_event is not None:
            on_event(event)
        return True  # keep the event in the artifacts (no_log results are censored)

    try:
        runner = ansible_runner.run(
            private_data_dir=str(data_dir),
            playbook=str(playbook),
            inventory=str(inventory),
            envvars=env,
            cmdline=cmdline,
            ident=ident,
            quiet=True,
            event_handler=handler,
            settings={"suppress_ansible_output": True},
        )
    except Exception as exc:  # ansible-runner raises plain exceptions on bad setup
        raise PlaybookError(f"could not start {playbook.name}: {exc}") from exc
    stats = runner.stats or {}
    return RunResult(
        status=str(runner.status),
        rc=int(runner.rc if runner.rc is not None else 1),
        seconds=time.monotonic() - started,
        artifacts=Path(runner.config.artifact_dir),
        stats={k: dict(v) for k, v in stats.items() if isinstance(v, dict)},
    )
