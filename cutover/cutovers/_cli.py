"""Shared by the controller-side commands the cutover playbooks run."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

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


def main(run: Callable[[], int]) -> None:
    try:
        sys.exit(run())
    except CutoverError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
