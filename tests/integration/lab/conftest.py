"""A small test lab of its own: unique lab name, bridge and /24 in 198.19.0.0/16, its own
state folder, so two runs never share containers. Torn down at the end, whatever happens."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from labkit import free_net, needs_lab

ROOT = Path(__file__).resolve().parents[3]

MERGER = """\
---
merger: {name}
title: "Test lab: Hau Giang and Soc Trang into Can Tho"
target: cantho
parent_zone: gov.vn
provinces:
  - {{id: cantho, name: "Cần Thơ", domain: cantho.gov.vn, slug: can-tho, code: ct}}
  - {{id: haugiang, name: "Hậu Giang", domain: haugiang.gov.vn, slug: hau-giang, code: hg}}
  - {{id: soctrang, name: "Sóc Trăng", domain: soctrang.gov.vn, slug: soc-trang, code: st}}
zones:
  - {{name: cantho.gov.vn, province: cantho, ns: [cantho]}}
  - {{name: haugiang.gov.vn, province: haugiang, ns: [haugiang]}}
  - {{name: soctrang.gov.vn, province: soctrang, ns: [soctrang]}}
portal:
  sections: [tin-tuc]
"""
ENV = """\
---
environment: lab
compute: lab
network: {{cidr: {net}.0/24, gateway: {net}.1, bridge: cutlab-{lab}, lab: {lab}}}
hosts:
  - {{name: infra, fqdn: ns.lab.gov.vn, owner: shared, services: [parent_dns, resolver],
     address: {net}.2}}
{hosts}
"""
ALL = "[dns, mail, portal, video]"


class TestLab:
    def __init__(self, tmp: Path) -> None:
        self.lab = "t" + secrets.token_hex(3)
        self.bridge = f"cutlab-{self.lab}"
        self.net = free_net("198.19", 20, 220)
        self.merger = f"test-{self.lab}"
        self.dir = tmp / self.merger
        (self.dir / "lab").mkdir(parents=True)
        (self.dir / "merger.yml").write_text(MERGER.format(name=self.merger))
        owners = ["cantho", "haugiang", "soctrang", "merged"]
        hosts = "\n".join(
            f"  - {{name: {o}, fqdn: srv.{o}.lab.vn, owner: {o}, services: {ALL}, "
            f"address: {self.net}.{10 + i}}}"
            for i, o in enumerate(owners)
        )
        (self.dir / "lab" / "inventory.yml").write_text(
            ENV.format(net=self.net, lab=self.lab, hosts=hosts)
        )
        self.hosts = ["infra", *owners]
        self.state = tmp / "state"
        self.env = dict(os.environ, CUTOVER_STATE_DIR=str(self.state))
        self.labdir = self.state / "labs" / self.lab

    def cli(self, *args: str, check: bool = True, **kw) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "cutover.cli", *args],
            capture_output=True, text=True, env=kw.pop("env", self.env), cwd=ROOT, **kw,
        )  # fmt: skip
        if check:
            assert result.returncode == 0, result.stderr + result.stdout
        return result

    def containers(self) -> list[str]:
        out = subprocess.run(["lxc-ls", "-1"], capture_output=True, text=True).stdout.split()
        return [c for c in out if c.startswith(f"{self.lab}-")]

    def cleanup(self) -> None:
        self.cli("lab", "down", str(self.dir), check=False)
        for name in self.containers():  # belt and braces: never leave a container behind
            subprocess.run(["lxc-stop", "-k", "-n", name], capture_output=True)
            subprocess.run(["lxc-destroy", "-f", "-n", name], capture_output=True)
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)


@pytest.fixture(scope="module")
def test_lab(tmp_path_factory):
    reason = needs_lab()
    if reason:  # not a skip: CI must have every component its tests need
        pytest.fail(reason)
    lab = TestLab(tmp_path_factory.mktemp("lab"))
    yield lab
    lab.cleanup()
