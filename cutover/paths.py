"""Where the project keeps things on disk.

The project root holds Pulumi.yaml, playbooks/ and inventories/. State that must never be
committed (generated keys, passphrases, the local Pulumi backend) lives under ``.state/``;
built tools under ``.tools/``. Both are git-ignored, and both can be moved by environment
for a real site.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def project_root() -> Path:
    """The checkout this package runs from, or ``$CUTOVER_HOME``."""
    env = os.environ.get("CUTOVER_HOME")
    return Path(env).resolve() if env else PACKAGE_DIR.parent


def state_dir() -> Path:
    """Secrets and local state: ``$CUTOVER_STATE_DIR`` or ``<root>/.state`` (mode 0700)."""
    env = os.environ.get("CUTOVER_STATE_DIR")
    path = Path(env) if env else project_root() / ".state"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """The machine's cache of heavy artifacts, shared by every checkout (the Pulumi build,
    the Python packages, lab snapshots): ``$CUTOVER_CACHE``, else
    ``$XDG_CACHE_HOME/province-cutover`` (``~/.cache``), as scripts/setup.sh has it."""
    env = os.environ.get("CUTOVER_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "province-cutover"


def tools_bin() -> Path:
    """Executables set up by ``scripts/setup.sh`` (the Pulumi engine and its plugins)."""
    return project_root() / ".tools" / "bin"


def exported_inventory(merger: str, env: str) -> Path:
    """Where ``cutover stack up`` writes the Ansible inventory of a staging or production
    stack (and its ``.known_hosts`` beside it), which provisioning and runs read."""
    folder = state_dir() / "inventories"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / f"{merger}-{env}.yml"
