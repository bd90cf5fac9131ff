"""Provision a merger environment: the as-is provinces and the merged target, by Ansible.

``provision(inv)`` builds the variables from the inventory (already validated when it was
loaded, so a bad inventory never gets here), makes sure the secrets exist, and runs
``playbooks/provision.yml`` through ansible-runner. Nothing here prints: progress goes to
``on_event`` (raw ansible-runner events).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cutover import paths
from cutover import secretstore as secretlib
from cutover.ansible.runner import ConnectionSettings, PlaybookResult, run_playbook
from cutover.errors import ConfigError, Location
from cutover.inventory import Inventory
from cutover.lab.paths import lab_dir
from cutover.provision import vars as varslib
from cutover.redact import Redactor
from cutover.secretstore import env_dir

PLAYBOOK = "provision.yml"
EventHandler = Callable[[dict[str, Any]], None]
# Beyond the runner's fast defaults: plain output in the artifacts, no argument echo, no
# syslog on the targets (provisioning logs every secret-bearing task's arguments there).
PROVISION_ENV = {
    "ANSIBLE_TRANSPORT": "ssh",
    "ANSIBLE_NOCOLOR": "True",
    "ANSIBLE_DISPLAY_ARGS_TO_STDOUT": "False",
    "ANSIBLE_NO_TARGET_SYSLOG": "True",
}


def ansible_inventory(inv: Inventory) -> Path:
    """The Ansible inventory of the environment's hosts: the lab's export, or (staging,
    production) the one exported from the Pulumi stack into ``.state/inventories/``."""
    if inv.environment == "lab":
        path = lab_dir(inv.env.network.lab or "") / "inventory.yml"
        hint = f"run `cutover lab up {inv.name}` first"
    else:
        path = paths.exported_inventory(inv.name, inv.environment)
        hint = f"`cutover stack up {inv.name} --env {inv.environment}` writes it"
    if not path.is_file():
        raise ConfigError("no Ansible inventory for these hosts", where=Location(path), hint=hint)
    return path


@dataclass(frozen=True)
class Prepared:
    public: dict[str, Any]
    secret_vars: Path
    secrets: secretlib.Secrets
    inventory: Path


def prepare(inv: Inventory) -> Prepared:
    """Variables and secrets for a run; touches no host."""
    directory = env_dir(inv)
    sec = secretlib.load(directory / "secrets.json")
    pki = directory / "pki"
    pki.mkdir(exist_ok=True, mode=0o700)
    public, secret = varslib.build(inv, sec, str(pki))
    sec.save()
    secret_vars = directory / "secret-vars.json"
    secretlib.write_private(secret_vars, json.dumps(secret, sort_keys=True) + "\n")
    public["cutover_secret_vars"] = str(secret_vars)
    # Data a cutover run fetches that holds credentials (e.g. Prosody's stored SCRAM keys)
    # stays here, 0700 next to the secrets, never in the run's folder, which is shared
    # and archived; the playbooks file it under <private>/<run id>/.
    private = directory / "private"
    private.mkdir(exist_ok=True, mode=0o700)
    public["cutover_private_dir"] = str(private)
    return Prepared(public, secret_vars, sec, ansible_inventory(inv))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def hosts_provisioned(inv: Inventory) -> tuple[str, ...] | None:
    """The hosts provisioning may touch; None: all (the lab, which builds the twin of the
    as-is provinces too). Elsewhere only the merged province's own hosts: a province's
    as-is servers are changed by cutover steps alone, at their touch points."""
    if inv.environment == "lab":
        return None
    return tuple(h.name for h in inv.built)


def provision(
    inv: Inventory, *, check: bool = False, on_event: EventHandler | None = None
) -> PlaybookResult:
    """Run the provisioning playbook through the project's runner: its own private data
    dir under ``runs/``, every secret of the run masked in events and artifacts."""
    prepared = prepare(inv)
    ident = time.strftime("%Y%m%dT%H%M%S") + ("-check" if check else "")
    data_dir = env_dir(inv) / "runs" / ident
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    secret = json.loads(prepared.secret_vars.read_text(encoding="utf-8"))
    only = hosts_provisioned(inv)
    return run_playbook(
        paths.project_root() / "playbooks" / PLAYBOOK,
        private_data_dir=data_dir,
        inventory=prepared.inventory,
        extravars=prepared.public,
        limit=None if only is None else ":".join(("localhost", *only)),
        check=check,
        diff=check,
        settings=ConnectionSettings(forks=max(5, len(inv.hosts) + 1)),
        envvars={**PROVISION_ENV, "ANSIBLE_LOCAL_TEMP": str(data_dir / "tmp")},
        on_event=on_event,
        redactor=Redactor(_strings(secret)),
        ident=ident,
    )
