"""``python -m cutover.cutovers.dns ACTION --merger-dir D --env E --run-dir R
--secret-vars S [--services mail,portal,video] [--force] [--low-ttl N] [--wait S]``.

Run by the DNS cutover playbooks on the controller. Reads the TSIG keys from the secret
variables file (never from the command line, never printed); prints one JSON object; exits
1 with ``{"ok": false, "error": ...}`` when the action fails.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cutover.cutovers import _cli
from cutover.cutovers.dns.actions import ACTIONS, Context, Options, run, services
from cutover.errors import CutoverError
from cutover.inventory import load


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cutover.cutovers.dns")
    parser.add_argument("action", choices=sorted(ACTIONS))
    parser.add_argument("--merger-dir", required=True, type=Path)
    parser.add_argument("--env", required=True)
    parser.add_argument("--run-dir", required=True, type=Path)
    parser.add_argument("--secret-vars", required=True, type=Path)
    parser.add_argument("--services", action="append", default=[])
    parser.add_argument("--force", default="false")
    parser.add_argument("--max-share", type=float, default=0.3)
    parser.add_argument("--low-ttl", type=int, default=60)
    parser.add_argument("--wait", type=float, default=0.0)
    args = parser.parse_args(argv)
    try:
        inv = load(args.merger_dir, args.env)
        tsig = json.loads(args.secret_vars.read_text())["cutover_tsig"]
        options = Options(
            services=services(args.services),
            force=str(args.force).lower() in ("1", "true", "yes"),
            max_share=args.max_share,
            low_ttl=args.low_ttl,
            wait=args.wait,
        )
        result = run(args.action, Context(inv, args.run_dir, tsig, options))
    except CutoverError as exc:
        return _cli.fail(exc, action=args.action)
    return _cli.done(result)


if __name__ == "__main__":
    _cli.main(main)
