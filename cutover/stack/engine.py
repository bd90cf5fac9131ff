"""Find the Pulumi engine: the one set up in ``.tools/bin`` or a new enough one on PATH."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cutover.errors import SetupError
from cutover.paths import tools_bin

# The release the project is built and tested with; the Python SDK is pinned to the same.
PULUMI_VERSION = "3.259.0"

DYNAMIC_PROVIDER = "pulumi-resource-pulumi-python"


def parse_version(text: str) -> tuple[int, int, int] | None:
    match = re.search(r"v?(\d+)\.(\d+)\.(\d+)", text)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def engine_version(binary: Path) -> tuple[int, int, int] | None:
    try:
        out = subprocess.run(
            [str(binary), "version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return None
    return parse_version(out.stdout)


@dataclass(frozen=True)
class Engine:
    """A usable engine: the folder holding ``pulumi`` (and its language host) and the
    folder holding the dynamic-provider shim; both go first on the engine's PATH."""

    pulumi: Path
    version: tuple[int, int, int]

    @property
    def bin_dir(self) -> Path:
        return self.pulumi.parent

    def path_env(self) -> str:
        dirs = [str(self.bin_dir), str(tools_bin()), os.environ.get("PATH", "")]
        return os.pathsep.join(dict.fromkeys(d for d in dirs if d))


def find_engine() -> Engine:
    """The engine to use, or a SetupError that says how to get one."""
    pinned = parse_version(PULUMI_VERSION)
    assert pinned is not None
    candidates = [tools_bin() / "pulumi"]
    on_path = shutil.which("pulumi")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.exists():
            found = engine_version(candidate)
            if found and found >= pinned:
                return Engine(candidate, found)
    raise SetupError(
        f"no Pulumi engine {PULUMI_VERSION} or newer was found in {tools_bin()} or on PATH",
        hint="run scripts/setup.sh (it builds the engine) or install the Pulumi CLI",
    )
