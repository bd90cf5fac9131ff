"""The portal and video cutovers end to end on small labs of their own: a two-province
and a three-province merger (two former provinces into one target). For each: lab up,
provision, the plan forward with every verification passing while a client keeps
requesting an old portal name (zero failed requests during the switch), the run rolled
back to a passing as-is verification, then a rehearsal with an injected failure that
rolls back on its own to a passing as-is verification.

Each lab has its own name, bridge and a /24 in 198.18.64-250 and is removed at the end.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests/integration/lab"))
from conftest import needs_lab  # noqa: E402

PROVINCES = {
    "quangngai": ("Quảng Ngãi", "quangngai.gov.vn", "quang-ngai", "qn"),
    "kontum": ("Kon Tum", "kontum.gov.vn", "kon-tum", "kt"),
    "haugiang": ("Hậu Giang", "haugiang.gov.vn", "hau-giang", "hg"),
}
PLAN = ROOT / "inventories/quangngai-kontum/plans/portal-video.yml"


def merger_yaml(name: str, ids: list[str]) -> str:
    lines = [
        "---",
        f"merger: {name}",
        'title: "Test merger"',
        f"target: {ids[0]}",
        "parent_zone: gov.vn",
        "provinces:",
    ]
    for pid in ids:
        title, domain, slug, code = PROVINCES[pid]
        lines.append(
            f'  - {{id: {pid}, name: "{title}", domain: {domain}, slug: {slug}, code: {code}}}'
        )
    lines.append("zones:")
    for pid in ids:
        domain = PROVINCES[pid][1]
        lines += [
            f"  - name: {domain}",
            f"    province: {pid}",
            f"    ns: [{pid}]",
            "    records:",
            f'      - {{name: "@", type: MX, value: "10 srv.{domain}."}}',
            f"      - {{name: www, type: CNAME, value: srv.{domain}.}}",
            f'      - {{name: _xmpp-client._tcp, type: SRV, value: "5 0 5222 srv.{domain}."}}',
            f"      - {{name: meet, type: CNAME, value: srv.{domain}.}}",
        ]
    lines += ["mail:", "  mailboxes:"]
    lines += [f'    - {{address: probe@{PROVINCES[p][1]}, name: "Probe {p}"}}' for p in ids]
    lines += ["portal:", "  sections: [tin-tuc]", "  url_map:"]
    for pid in ids[1:]:
        lines += [
            f"    - from: https://{PROVINCES[pid][1]}/Pages/home.aspx",
            f"      to: https://{PROVINCES[ids[0]][1]}/{PROVINCES[pid][2]}/",
        ]
    lines += ["video:", "  rooms:"]
    lines += [
        f'    - {{province: {p}, name: giao-ban, title: "Giao ban {PROVINCES[p][0]}"}}' for p in ids
    ]
    return "\n".join(lines) + "\n"


def env_yaml(net: str, lab: str, ids: list[str]) -> str:
    hosts = [
        "  - {name: infra, fqdn: ns.lab.gov.vn, owner: shared, "
        f"services: [parent_dns, resolver], address: {net}.2}}"
    ]
    for i, pid in enumerate(ids):
        hosts.append(
            f"  - {{name: {pid}, fqdn: srv.{PROVINCES[pid][1]}, owner: {pid}, "
            f"services: [dns, mail, portal, video], address: {net}.{10 + i}}}"
        )
    hosts.append(
        f"  - {{name: merged, fqdn: srv.ttdl.{PROVINCES[ids[0]][1]}, owner: merged, "
        f"services: [dns, mail, portal, video], address: {net}.20}}"
    )
    return (
        f"---\nenvironment: lab\ncompute: lab\n"
        f"network: {{cidr: {net}.0/24, gateway: {net}.1, bridge: cutlab-{lab}, lab: {lab}}}\n"
        "hosts:\n" + "\n".join(hosts) + "\n"
        "generate: {seed: 7, mailboxes_per_province: 3, pages_per_section: 3,"
        " accounts_per_province: 2}\n"
    )


class CutoverLab:
    def __init__(self, tmp: Path, ids: list[str]) -> None:
        self.ids = ids
        self.lab = "v" + secrets.token_hex(3)
        self.net = f"198.18.{secrets.randbelow(186) + 64}"
        self.dir = tmp / f"test-{self.lab}"
        (self.dir / "lab").mkdir(parents=True)
        (self.dir / "plans").mkdir()
        (self.dir / "merger.yml").write_text(merger_yaml(self.dir.name, ids))
        (self.dir / "lab" / "inventory.yml").write_text(env_yaml(self.net, self.lab, ids))
        plan = PLAN.read_text().replace("merger: quangngai-kontum", f"merger: {self.dir.name}")
        plan = re.sub(r"playbook_dir: .*", f"playbook_dir: {ROOT / 'playbooks/cutover'}", plan)
        plan = re.sub(r"window: .*\n", "", plan)  # a rehearsal at any time
        self.plan = self.dir / "plans" / "portal-video.yml"
        self.plan.write_text(plan)
        self.env = dict(
            os.environ, CUTOVER_STATE_DIR=str(tmp / "state"), CUTOVER_RUNS_DIR=str(tmp / "runs")
        )
        self.env["PATH"] = f"{ROOT / '.tools/bin'}{os.pathsep}{self.env['PATH']}"

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "cutover.cli", *args],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=ROOT,
        )
        if check:
            assert result.returncode == 0, result.stderr[-3000:] + result.stdout[-5000:]
        return result

    def json(self, *args: str, check: bool = True) -> dict:
        out = self.cli("--json", *args, check=check).stdout
        start = out.rindex("\n{\n") + 1 if "\n{\n" in out else out.index("{\n")
        return json.JSONDecoder().raw_decode(out[start:])[0]

    def verify_as_is(self) -> dict:
        return self.json("verify", str(self.dir), "--env", "lab", "--state", "as-is", check=False)

    def cleanup(self) -> None:
        self.cli("lab", "down", str(self.dir), check=False)
        for name in subprocess.run(["lxc-ls", "-1"], capture_output=True, text=True).stdout.split():
            if name.startswith(f"{self.lab}-"):
                subprocess.run(["lxc-destroy", "-f", "-n", name], capture_output=True)
        subprocess.run(["ip", "link", "del", f"cutlab-{self.lab}"], capture_output=True)


MERGERS = [["quangngai", "kontum"], ["quangngai", "kontum", "haugiang"]]


@pytest.fixture(scope="module", params=MERGERS, ids=["two-provinces", "three-provinces"])
def clab(request, tmp_path_factory):
    reason = needs_lab()
    if reason:  # not a skip: CI must have every component its tests need
        pytest.fail(reason)
    lab = CutoverLab(tmp_path_factory.mktemp("pv"), request.param)
    try:
        lab.cli("lab", "up", str(lab.dir))
        lab.cli("provision", str(lab.dir), "--env", "lab")
        report = lab.verify_as_is()
        assert report["ok"], [c for c in report["checks"] if not c["ok"]]
        yield lab
    finally:
        lab.cleanup()


def hammer(lab: CutoverLab):
    """A client requesting the first former province's portal through its old address."""
    from cutover.cutovers.portal.probe import Hammer
    from cutover.inventory import load
    from cutover.verify import context

    os.environ["CUTOVER_STATE_DIR"] = lab.env["CUTOVER_STATE_DIR"]
    inv = load(lab.dir, "lab")
    old = inv.former[0]
    address = str(next(h for h in inv.hosts if h.owner == old.id).address)
    return Hammer(
        address, old.domain, "/tin-tuc/", context(inv).tls(), max_requests=100_000, max_seconds=900
    )


def test_forward_verifies_with_zero_failed_requests_then_rolls_back(clab):
    client = hammer(clab)
    client.start()
    run = clab.json("run", str(clab.plan), "--env", "lab", "--auto-approve", check=False)
    probe = client.finish()
    assert run["state"] == "succeeded", run
    assert probe.requests > 50 and probe.failures == 0, (probe.errors[:5], probe.statuses)
    print(
        f"client during the run: {probe.requests} requests, {probe.failures} failed, "
        f"{probe.retried} retried, {dict(probe.statuses)}"
    )
    assert set(probe.statuses) == {200, 301}  # it saw both sides of the switch
    # the migrated data covers every former province, not one
    from cutover.inventory import load

    inv = load(clab.dir, "lab")
    assert len(inv.former) == len(clab.ids) - 1
    back = clab.json("rollback", run["run"], check=False)
    assert back["state"] == "rolled_back", back
    report = clab.verify_as_is()
    assert report["ok"], [c for c in report["checks"] if not c["ok"]]


@pytest.mark.parametrize("step", ["portal.switch", "video.switch"])
def test_injected_failure_rolls_back_to_a_passing_as_is(clab, step):
    run = clab.json(
        "run",
        str(clab.plan),
        "--env",
        "lab",
        "--auto-approve",
        "-e",
        f"cutover_rehearse_fail_at={step}",
        check=False,
    )
    assert run["state"] == "rolled_back", run
    report = clab.verify_as_is()
    assert report["ok"], [c for c in report["checks"] if not c["ok"]]
