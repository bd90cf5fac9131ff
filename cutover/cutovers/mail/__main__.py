"""``python -m cutover.cutovers.mail ACTION --merger-dir D --env E --run-dir R
--secret-vars S [--phase P] [--direction to-merged|back] [--parallel N] [--wait S]``."""

from __future__ import annotations

import argparse
from pathlib import Path

from cutover.cutovers import _cli
from cutover.cutovers.mail.actions import ACTIONS, Context, run
from cutover.errors import CutoverError
from cutover.inventory import load


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cutover.cutovers.mail")
    parser.add_argument("action", choices=sorted(ACTIONS))
    parser.add_argument("--merger-dir", required=True, type=Path)
    parser.add_argument("--env", required=True)
    parser.add_argument("--run-dir", required=True, type=Path)
    parser.add_argument("--secret-vars", required=True, type=Path)
    parser.add_argument("--phase", default="as-is")
    parser.add_argument("--direction", default="to-merged")
    parser.add_argument("--parallel", type=int, default=8)
    parser.add_argument("--wait", type=float, default=60.0)
    args = parser.parse_args(argv)
    try:
        ctx = Context(
            load(args.merger_dir, args.env),
            args.run_dir,
            args.secret_vars,
            phase=args.phase,
            direction=args.direction,
            parallel=args.parallel,
            wait=args.wait,
        )
        result = run(args.action, ctx)
    except CutoverError as exc:
        return _cli.fail(exc, action=args.action)
    return _cli.done(result)


if __name__ == "__main__":
    _cli.main(main)
