"""Running the host's tools (lxc-*, ip) with errors that say what failed."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

from cutover.errors import LabError


def run(
    argv: Sequence[str], *, check: bool = True, input_text: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(
            list(argv),
            input=input_text,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
    except FileNotFoundError as exc:
        raise LabError(f"{argv[0]} is not installed", hint="run `make setup`") from exc
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"{' '.join(argv)} did not finish within {timeout:.0f} s") from exc
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise LabError(
            f"{' '.join(argv)} failed (exit {result.returncode})"
            + (f": {detail[-1]}" if detail else "")
        )
    return result
