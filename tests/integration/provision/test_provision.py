"""Provision a small lab of its own end to end: lab up, provision, as-is verification with
real clients, a second provision that changes nothing, check mode, and no secret in the
ansible-runner artifacts. The lab uses its own name, bridge and a /24 in 198.18.64-250
(the real mergers use 198.18.1 and 198.18.2; other tests use 198.19/16)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from cutover.cutovers.dns.rrsets import Change

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
from labkit import free_net, needs_lab  # noqa: E402

MERGER = """\
---
merger: {name}
title: "Test: Kon Tum into Quang Ngai"
target: quangngai
parent_zone: gov.vn
provinces:
  - {{id: quangngai, name: "Quảng Ngãi", domain: quangngai.gov.vn, slug: quang-ngai, code: qn}}
  - {{id: kontum, name: "Kon Tum", domain: kontum.gov.vn, slug: kon-tum, code: kt}}
zones:
  - name: quangngai.gov.vn
    province: quangngai
    ns: [quangngai]
    records:
      - {{name: "@", type: MX, value: "10 srv.quangngai.gov.vn."}}
      - {{name: www, type: CNAME, value: srv.quangngai.gov.vn.}}
      - {{name: _xmpp-client._tcp, type: SRV, value: "5 0 5222 srv.quangngai.gov.vn."}}
  - name: kontum.gov.vn
    province: kontum
    ns: [kontum]
    records:
      - {{name: "@", type: MX, value: "10 srv.kontum.gov.vn."}}
      - {{name: www, type: CNAME, value: srv.kontum.gov.vn.}}
      - {{name: _xmpp-client._tcp, type: SRV, value: "5 0 5222 srv.kontum.gov.vn."}}
mail:
  mailboxes:
    - {{address: probe@quangngai.gov.vn, name: "Probe QN"}}
    - {{address: probe@kontum.gov.vn, name: "Probe KT"}}
portal:
  sections: [tin-tuc]
video:
  rooms:
    - {{province: quangngai, name: giao-ban, title: "Giao ban"}}
    - {{province: kontum, name: giao-ban, title: "Giao ban"}}
"""
ENV = """\
---
environment: lab
compute: lab
network: {{cidr: {net}.0/24, gateway: {net}.1, bridge: cutlab-{lab}, lab: {lab}}}
hosts:
  - {{name: infra, fqdn: ns.lab.gov.vn, owner: shared, services: [parent_dns, resolver],
     address: {net}.2}}
  - {{name: quangngai, fqdn: srv.quangngai.gov.vn, owner: quangngai, services: {all},
     address: {net}.10}}
  - {{name: kontum, fqdn: srv.kontum.gov.vn, owner: kontum, services: {all},
     address: {net}.11}}
  - {{name: merged, fqdn: srv.ttdl.quangngai.gov.vn, owner: merged, services: {all},
     address: {net}.12}}
generate: {{seed: 7, mailboxes_per_province: 4, pages_per_section: 2,
            accounts_per_province: 2}}
"""


class ProvisionLab:
    def __init__(self, tmp: Path) -> None:
        self.lab = "p" + secrets.token_hex(3)
        self.net = free_net()
        self.dir = tmp / f"test-{self.lab}"
        (self.dir / "lab").mkdir(parents=True)
        (self.dir / "merger.yml").write_text(MERGER.format(name=self.dir.name))
        (self.dir / "lab" / "inventory.yml").write_text(
            ENV.format(net=self.net, lab=self.lab, all="[dns, mail, portal, video]")
        )
        self.state = tmp / "state"
        self.env = dict(os.environ, CUTOVER_STATE_DIR=str(self.state))
        self.env["PATH"] = f"{ROOT / '.tools/bin'}{os.pathsep}{self.env['PATH']}"

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "cutover.cli", *args],
            capture_output=True, text=True, env=self.env, cwd=ROOT,
        )  # fmt: skip
        if check:
            assert result.returncode == 0, result.stderr + result.stdout[-3000:]
        return result

    def json(self, *args: str) -> dict:
        out = self.cli("--json", *args).stdout
        start = out.rindex("\n{\n") + 1 if "\n{\n" in out else out.index("{\n")
        return json.JSONDecoder().raw_decode(out[start:])[0]

    def cleanup(self) -> None:
        self.cli("lab", "down", str(self.dir), check=False)
        for name in subprocess.run(["lxc-ls", "-1"], capture_output=True, text=True).stdout.split():
            if name.startswith(f"{self.lab}-"):
                subprocess.run(["lxc-destroy", "-f", "-n", name], capture_output=True)
        subprocess.run(["ip", "link", "del", f"cutlab-{self.lab}"], capture_output=True)


@pytest.fixture(scope="module")
def plab(tmp_path_factory):
    reason = needs_lab()
    if reason:  # not a skip: CI must have every component its tests need
        pytest.fail(reason)
    lab = ProvisionLab(tmp_path_factory.mktemp("prov"))
    lab.cli("lab", "up", str(lab.dir))
    yield lab
    lab.cleanup()


def test_provision_then_verify_as_is(plab):
    first = plab.json("provision", str(plab.dir), "--env", "lab")
    assert first["status"] == "successful" and first["changed"] > 0
    report = plab.json("verify", str(plab.dir), "--env", "lab", "--state", "as-is")
    failed = [c for c in report["checks"] if not c["ok"]]
    assert report["ok"], failed
    services = {c["service"] for c in report["checks"]}
    assert services == {"dns", "mail", "portal", "video"}


def test_second_provision_changes_nothing(plab):
    again = plab.json("provision", str(plab.dir), "--env", "lab")
    assert again["status"] == "successful"
    assert again["changed"] == 0, again["changed_by_host"]


def test_check_mode_reports_no_change(plab):
    check = plab.json("provision", str(plab.dir), "--env", "lab", "--check")
    assert check["check"] is True and check["changed"] == 0, check["changed_by_host"]


def test_no_secret_in_artifacts_or_logs(plab):
    env_dir = plab.state / "provision" / f"{plab.dir.name}-lab"
    data = json.loads((env_dir / "secrets.json").read_text())
    assert oct((env_dir / "secrets.json").stat().st_mode & 0o777) == "0o600"
    values = list(data["tsig"].values())
    values += [b["password"] for b in data["mail"].values()]
    values += [b["hash"].removeprefix("{SSHA512}") for b in data["mail"].values()]
    values += [a["password"] for a in data["xmpp"].values()]
    values += [a["stored_key"] for a in data["xmpp"].values()]
    ca_key = (env_dir / "pki" / "ca.key").read_text().splitlines()[1]
    values.append(ca_key)
    runs = env_dir / "runs"
    leaks = []
    for path in runs.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            leaks += [f"{path.relative_to(runs)}" for v in values if v in text]
    assert not leaks, sorted(set(leaks))[:10]


def test_zone_read_as_snapshot_plus_ixfr_equals_an_axfr(plab, tmp_path, monkeypatch):
    """The DNS steps plan from the run's snapshot plus an IXFR since its serial: on the
    real BIND primary, after updates made since the snapshot, that read equals a full
    AXFR; a snapshot the server's journal does not fit falls back to the AXFR."""
    import dataclasses

    from cutover.cutovers.dns.actions import Context, Options, snapshot
    from cutover.cutovers.dns.rrsets import RRset, absolute, to_plain
    from cutover.cutovers.dns.update import send
    from cutover.inventory import load
    from cutover.secretstore import env_dir

    monkeypatch.setenv("CUTOVER_STATE_DIR", str(plab.state))
    inv = load(plab.dir, "lab")
    tsig = json.loads((env_dir(inv) / "secret-vars.json").read_text())["cutover_tsig"]
    ctx = Context(inv, tmp_path / "run", tsig, Options())
    snapshot(ctx)
    zone = ctx.plan.zone(inv.target.domain)
    server = zone.primary.address
    added = [
        Change(zone.name, absolute(f"ixfr-{i}", zone.name), "A", RRset(60, (f"198.19.0.{i}",)))
        for i in range(1, 6)
    ]
    key = ctx.key("cutover")
    send(server, zone.name, added, key)
    try:
        fresh = Context(inv, ctx.run_dir, tsig, Options())
        read = fresh.current(server, zone)
        assert fresh.report["read"][f"{zone.name}@{server}"] == "ixfr"
        assert read == fresh.transfer(server, zone)
        assert all(read[c.key] == c.new for c in added)
        # a snapshot with a serial beyond the server's: its IXFR answer does not fit
        snap = fresh.snapshot(zone.name)
        soa_key = (absolute("@", zone.name), "SOA")
        fields = snap[soa_key].values[0].split()
        fields[2] = str(int(fields[2]) + 1000)
        snap[soa_key] = dataclasses.replace(snap[soa_key], values=(" ".join(fields),))
        (ctx.snapshot_dir / f"{zone.name}.json").write_text(json.dumps(to_plain(snap)))
        stale = Context(inv, ctx.run_dir, tsig, Options())
        assert stale.current(server, zone) == stale.transfer(server, zone)
        assert stale.report["read"][f"{zone.name}@{server}"] == "axfr"
    finally:
        send(server, zone.name, [dataclasses.replace(c, new=None) for c in added], key)
