"""Labs of their own for integration tests: a copy of a merger's inventory (or a generated
small merger) with a unique lab name, bridge, /24 and state and runs folders, so a test
never touches a developer's lab or another test's. Torn down with ``cleanup()``.

Addresses: generated mergers take a /24 in 198.18.64-250 (``net=``), copies of a real
merger keep their host numbers on a fresh /24 of the same range."""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

PROVINCES = {
    "quangngai": ("Quảng Ngãi", "quangngai.gov.vn", "quang-ngai", "qn"),
    "kontum": ("Kon Tum", "kontum.gov.vn", "kon-tum", "kt"),
    "haugiang": ("Hậu Giang", "haugiang.gov.vn", "hau-giang", "hg"),
}


def needs_lab() -> str | None:
    """Why the lab cannot run here, or None. Tests fail (not skip) on a reason."""
    if os.geteuid() != 0:
        return "the lab needs root"
    if shutil.which("lxc-copy") is None:
        return "LXC is not installed (make setup)"
    name = subprocess.run(
        [ROOT / "scripts/lab-template.sh", "--print-name"], capture_output=True, text=True
    ).stdout.strip()
    if not Path(f"/var/lib/lxc/{name}/.cutover-ready").exists():
        return "the lab template is not built (make setup)"
    return None


def _nets_in_use() -> set[str]:
    out = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True)
    return {m.group(1) for m in re.finditer(r"inet (\d+\.\d+\.\d+)\.\d+/", out.stdout)}


def free_net(prefix: str = "198.18", low: int = 64, high: int = 250) -> str:
    """A random /24 of ``prefix``.low-high that no interface here uses: labs of one test
    session (a package-scoped lab stays up while other modules make theirs) and of
    concurrent sessions must not pick the same range."""
    used = _nets_in_use()
    free = [f"{prefix}.{n}" for n in range(low, high) if f"{prefix}.{n}" not in used]
    return free[secrets.randbelow(len(free))]


def _lab_name_and_net(
    prefix: str, ids: list[str] | None, copy: str | None, zone_ttl: int | None
) -> tuple[str, str]:
    """The same lab name and /24 for the same test lab on every run, so the snapshot of its
    provisioned state (keyed by the inventory, which holds both) is reused by the next
    run on this machine; a random name and range when another session has that lab up."""
    digest = hashlib.sha256(repr((prefix, ids, copy, zone_ttl)).encode()).hexdigest()
    lab = prefix + digest[:6]
    net = f"198.18.{64 + int(digest[6:10], 16) % (250 - 64)}"
    taken = Path(f"/sys/class/net/cutlab-{lab}").exists() or net in _nets_in_use()
    if taken:
        return prefix + secrets.token_hex(3), free_net()
    return lab, net


def merger_yaml(name: str, ids: list[str]) -> str:
    """A small merger: one host per province serving every service."""
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


def env_yaml(net: str, lab: str, ids: list[str], zone_ttl: int | None = None) -> str:
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
    ttl = f"zone_ttl: {zone_ttl}\n" if zone_ttl else ""
    return (
        f"---\nenvironment: lab\ncompute: lab\n{ttl}"
        f"network: {{cidr: {net}.0/24, gateway: {net}.1, bridge: cutlab-{lab}, lab: {lab}}}\n"
        "hosts:\n" + "\n".join(hosts) + "\n"
        "generate: {seed: 7, mailboxes_per_province: 3, pages_per_section: 3,"
        " accounts_per_province: 2}\n"
    )


def _portable_plan(text: str, merger: str | None = None) -> str:
    """A plan that runs from anywhere at any time: absolute playbook folder, no window.
    With ``merger`` (a generated small merger) host names of the real merger's plans
    (``server: ns1-kontum``) name the province's one host (``kontum``)."""
    if merger is not None:
        text = re.sub(r"(?m)^merger: .*$", f"merger: {merger}", text)
        text = re.sub(r"\bserver: ns\d-([a-z]+)\b", r"server: \1", text)
    text = re.sub(r"playbook_dir: .*", f"playbook_dir: {ROOT / 'playbooks/cutover'}", text)
    return re.sub(r"window: .*\n", "", text)


def with_restore_delay(text: str, restore: str) -> str:
    """A merger's plan whose library plan has the agreed restore delay (cutover, dns-mail)
    overriding it: the library's is production-like, the lab's is seconds."""
    if not re.search(r"(?m)^extends: (cutover|dns-mail)\s*$", text):
        return text
    assert not re.search(r"(?m)^steps:", text), "the plan has steps: add the override there"
    return text + f"steps:\n  - id: dns.wait-restore\n    duration: {restore}\n"


# What the mail sync opens: the endpoint (its service, password, userdb, tunnel user with the
# forwards' authorized_keys) and each old server's forward, client password and key. The
# script prints each that is still there.
DSYNC_LEFTOVERS = r"""
for f in /etc/dovecot/cutover-dsync /etc/dovecot/cutover-dsync-client.conf \
         /var/lib/cutover-dsync /var/lib/cutover-dsync-tunnel \
         /etc/systemd/system/cutover-dsync.service; do
  [ -e "$f" ] && echo "file $f"
done
getent passwd cutover-dsync >/dev/null && echo "user cutover-dsync"
for u in cutover-dsync.service cutover-dsync-tunnel.service; do
  systemctl is-active -q "$u" && echo "active $u"
done
ss -Htln 'sport = :12345' | grep -q . && echo "listening :12345"
true
"""


class CutoverLab:
    """A lab of its own. ``ids``: a generated small merger of those provinces (plans
    taken from quangngai-kontum); ``copy``: a copy of that merger's inventory (from
    ``inventories``, the project's by default).
    ``zone_ttl``: the generated lab's zone TTL (default the merger's hour), so that a
    whole cutover plan waits out the old TTL in seconds."""

    def __init__(
        self,
        tmp: Path,
        ids: list[str] | None = None,
        *,
        copy: str | None = None,
        inventories: Path = ROOT / "inventories",
        prefix: str = "v",
        zone_ttl: int | None = None,
    ) -> None:
        self.lab, self.net = _lab_name_and_net(prefix, ids, copy, zone_ttl)
        self.bridge = f"cutlab-{self.lab}"
        if copy is not None:
            self.dir = tmp / copy
            self._copy(inventories / copy)
        else:
            assert ids
            self.ids = ids
            self.dir = tmp / f"test-{self.lab}"
            (self.dir / "lab").mkdir(parents=True)
            (self.dir / "plans").mkdir()
            (self.dir / "merger.yml").write_text(merger_yaml(self.dir.name, ids))
            (self.dir / "lab" / "inventory.yml").write_text(
                env_yaml(self.net, self.lab, ids, zone_ttl)
            )
            for src in (ROOT / "inventories/quangngai-kontum/plans").glob("*.yml"):
                plan = _portable_plan(src.read_text(), self.dir.name)
                (self.dir / "plans" / src.name).write_text(plan)
        self.plan = self.dir / "plans" / "portal-video.yml"
        self.state = tmp / "state"
        self.runs = tmp / "runs"
        self.env = dict(
            os.environ, CUTOVER_STATE_DIR=str(self.state), CUTOVER_RUNS_DIR=str(self.runs)
        )
        self.env["PATH"] = f"{ROOT / '.tools/bin'}{os.pathsep}{self.env['PATH']}"

    def _copy(self, src: Path) -> None:
        shutil.copytree(src, self.dir)
        for plan in (self.dir / "plans").glob("*.yml"):
            plan.write_text(_portable_plan(plan.read_text()))
        lab_inv = self.dir / "lab" / "inventory.yml"
        text = lab_inv.read_text()
        old_net = re.search(r"cidr: (\d+\.\d+\.\d+)\.0/24", text)
        assert old_net, "the lab inventory has no /24"
        text = text.replace(old_net.group(1) + ".", self.net + ".")
        text = re.sub(r"bridge: \S+", f"bridge: {self.bridge}", text)
        text = re.sub(r"(?m)^(\s+)lab: \S+", rf"\g<1>lab: {self.lab}", text)
        lab_inv.write_text(text)

    def shorten_waits(self, zone_ttl: int = 30, low_ttl: int = 20, restore: str = "20s") -> None:
        """Lab zone TTL, lowered TTL and the restore delay cut down, so the plan's waits
        take seconds; every step still runs as in the real plan."""
        lab_inv = self.dir / "lab" / "inventory.yml"
        text = re.sub(r"(?m)^zone_ttl: \d+", f"zone_ttl: {zone_ttl}", lab_inv.read_text())
        lab_inv.write_text(text)
        for plan in (self.dir / "plans").glob("*.yml"):
            text = re.sub(r"dns_low_ttl: \d+", f"dns_low_ttl: {low_ttl}", plan.read_text())
            plan.write_text(with_restore_delay(text, restore))

    def cli(self, *args: str, check: bool = True, **kw) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "cutover.cli", *args],
            capture_output=True, text=True, env=self.env, cwd=ROOT, **kw,
        )  # fmt: skip
        if check:
            assert result.returncode == 0, result.stderr[-3000:] + result.stdout[-5000:]
        return result

    def json(self, *args: str, check: bool = True) -> dict:
        out = self.cli("--json", *args, check=check).stdout
        start = out.rindex("\n{\n") + 1 if "\n{\n" in out else out.index("{\n")
        return json.JSONDecoder().raw_decode(out[start:])[0]

    def verify_as_is(self) -> dict:
        return self.json("verify", str(self.dir), "--env", "lab", "--state", "as-is", check=False)

    def up_and_provision(self) -> None:
        """Lab up, provisioned (restored from its snapshot when the inputs match), and its
        as-is verification passing."""
        self.cli("lab", "up", str(self.dir), "--provisioned")
        report = self.verify_as_is()
        assert report["ok"], [c for c in report["checks"] if not c["ok"]]

    def containers(self) -> list[str]:
        out = subprocess.run(["lxc-ls", "-1"], capture_output=True, text=True).stdout.split()
        return [c for c in out if c.startswith(f"{self.lab}-")]

    def attach(self, container: str, script: str) -> subprocess.CompletedProcess[str]:
        """``script`` run by sh inside one of the lab's containers."""
        return subprocess.run(
            ["lxc-attach", "-n", container, "--", "sh", "-c", script],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    def dsync_leftovers(self, container: str) -> list[str]:
        """What of the mail sync's endpoint is still there in ``container`` ([]: nothing)."""
        out = self.attach(container, DSYNC_LEFTOVERS)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip().splitlines()

    def cleanup(self) -> None:
        self.cli("lab", "down", str(self.dir), check=False)
        for name in self.containers():  # never leave a container behind
            subprocess.run(["lxc-stop", "-k", "-n", name], capture_output=True)
            subprocess.run(["lxc-destroy", "-f", "-n", name], capture_output=True)
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)


def rehearse(lab: CutoverLab, *args: str) -> dict[str, Any]:
    summary = lab.json("rehearse", str(lab.dir), "--keep", "--lang", "en", *args, check=False)
    report = json.loads(Path(summary["json"]).read_text())
    failed = [
        (s["service"], x["t_s"], x["detail"])
        for s in report["probes"]
        for x in s["samples"]
        if not x["ok"]
    ]
    print(
        f"{summary['run']}: {summary['state']}, wall {summary['wall_s']} s, critical path "
        f"{summary['critical_path_s']} s, {summary['messages_sent']} messages, "
        f"{len(failed)} failed probes {failed[:5]}"
    )
    return {"summary": summary, "report": report, "failed": failed}


def assert_clean(run: dict[str, Any], state: str) -> None:
    summary, report = run["summary"], run["report"]
    assert summary["state"] == state, summary
    assert summary["verified"], summary
    assert not run["failed"], run["failed"][:10]
    messages = report["messages"]
    assert messages["sent"] > 100, messages["sent"]  # the stream really flowed
    assert not messages["lost"], messages["lost"][:10]
    assert not messages["duplicated"], messages["duplicated"][:10]
    assert messages["found"] == messages["sent"]
    assert {s["service"] for s in report["probes"]} == {"dns", "https", "smtp", "imap", "xmpp"}
