"""Benchmark ``cutover lab up``: cold (no containers) and warm (all there) for N hosts.

    .venv/bin/python bench/lab_up.py --hosts 10 [--engine pulumi|direct] [--runs 1]

Uses its own lab (random name, a /24 in 198.19.0.0/16, its own state folder) and takes
it down at the end. Targets (issue 4): warm <= 30 s and cold <= 3 min for 10 hosts. The
template is assumed built (``make setup``); its cold build is measured by setup itself.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MERGER = """---
merger: {name}
title: "Benchmark lab"
target: cantho
parent_zone: gov.vn
provinces:
  - {{id: cantho, name: "Cần Thơ", domain: cantho.gov.vn, slug: can-tho, code: ct}}
  - {{id: haugiang, name: "Hậu Giang", domain: haugiang.gov.vn, slug: hau-giang, code: hg}}
zones:
  - {{name: cantho.gov.vn, province: cantho, ns: [h1]}}
  - {{name: haugiang.gov.vn, province: haugiang, ns: [h2]}}
portal:
  sections: [tin-tuc]
"""


def write_lab(base: Path, hosts: int) -> tuple[Path, str, str]:
    lab = "b" + secrets.token_hex(3)
    net = f"198.19.{secrets.randbelow(200) + 20}"
    d = base / f"bench-{lab}"
    (d / "lab").mkdir(parents=True)
    (d / "merger.yml").write_text(MERGER.format(name=d.name))
    owners = ["cantho", "haugiang", "merged", "shared"]
    services = {"shared": "[parent_dns, resolver]"}
    lines = []
    for i in range(hosts):
        owner = owners[i % len(owners)]
        svc = services.get(owner, "[dns, mail, portal, video]")
        lines.append(
            f"  - {{name: h{i + 1}, fqdn: h{i + 1}.bench.lab.vn, owner: {owner}, "
            f"services: {svc}, address: {net}.{10 + i}}}"
        )
    (d / "lab" / "inventory.yml").write_text(
        "---\nenvironment: lab\ncompute: lab\n"
        f"network: {{cidr: {net}.0/24, gateway: {net}.1, bridge: cutlab-{lab}, lab: {lab}}}\n"
        "hosts:\n" + "\n".join(lines) + "\n"
    )
    return d, lab, net


def timed(cmd: list[str], env: dict[str, str]) -> float:
    started = time.monotonic()
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        raise SystemExit(f"{cmd[-2]} failed: {result.stderr.strip()}")
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--engine", choices=["pulumi", "direct"], default="pulumi")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    if args.hosts < 4:
        parser.error("--hosts must be at least 4 (every owner needs its services)")
    with tempfile.TemporaryDirectory(prefix="cutover-bench-") as tmp:
        merger_dir, _, _ = write_lab(Path(tmp), args.hosts)
        env = dict(os.environ, CUTOVER_STATE_DIR=str(Path(tmp) / "state"))
        if args.engine == "direct":
            env["CUTOVER_LAB_ENGINE"] = "direct"
        cli = [sys.executable, "-m", "cutover.cli", "lab"]
        results: dict[str, list[float]] = {"cold": [], "warm": []}
        try:
            for _ in range(args.runs):
                results["cold"].append(timed([*cli, "up", str(merger_dir)], env))
                results["warm"].append(timed([*cli, "up", str(merger_dir)], env))
                down = timed([*cli, "down", str(merger_dir)], env)
        finally:
            subprocess.run([*cli, "down", str(merger_dir)], env=env, capture_output=True)
        best = {k: min(v) for k, v in results.items()}
        report = {
            "hosts": args.hosts,
            "engine": args.engine,
            "cold_s": round(best["cold"], 2),
            "warm_s": round(best["warm"], 2),
            "down_s": round(down, 2),
            "warm_over_cold": round(best["warm"] / best["cold"], 3),
            "cold_target_met": best["cold"] <= 180,
            "warm_target_met": best["warm"] <= 30,
        }
        print(json.dumps(report))
        return 0 if report["cold_target_met"] and report["warm_target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
