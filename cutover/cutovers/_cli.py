"""The one boundary of the controller-side commands the cutover playbooks run
(``python -m cutover.cutovers.{dns,mail,portal,video}``).

Each prints one JSON object on stdout. Exit 0: done (for ``verify``, every check passed);
exit 1: it failed, and stdout is ``{"ok": false, "error": "<one line>"}`` (``verify``:
``{"ok": false, "checks": [...]}``) with the same line on stderr, which Ansible shows as
the task's error; exit 2: the playbook called it wrongly (argparse's usage error)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cutover.errors import CutoverError
from cutover.inventory import Inventory, load
from cutover.verify import Check, context


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("command")
    p.add_argument("--merger-dir", required=True, type=Path)
    p.add_argument("--env", required=True)
    return p


def inventory(args: argparse.Namespace) -> Inventory:
    return load(args.merger_dir, args.env)


def verify(inv: Inventory, check: Callable[..., list[Check]]) -> int:
    """Print the checks as JSON; exit 1 if any failed (the playbook task then fails)."""
    checks = check(context(inv))
    ok = bool(checks) and all(c.ok for c in checks)
    print(json.dumps({"ok": ok, "checks": [c.__dict__ for c in checks]}, ensure_ascii=False))
    return 0 if ok else 1


def done(result: Any) -> int:
    """Report a command's result the boundary's way (one JSON object); exit code 0."""
    print(json.dumps(result, ensure_ascii=False))
    return 0


def fail(exc: CutoverError, **context: str) -> int:
    """Report ``exc`` the boundary's way; the exit code to return."""
    line = exc.one_line()
    print(json.dumps({**context, "ok": False, "error": line}, ensure_ascii=False))
    print(f"error: {line}", file=sys.stderr)
    return 1


def main(run: Callable[[], int]) -> None:
    try:
        code = run()
    except CutoverError as exc:
        code = fail(exc)
    sys.exit(code)
