"""The lab twin end to end: up, SSH with strict host keys, Ansible ping, idempotent
second up, kill halfway then converge, and down leaving nothing behind.

The tests share one small lab (see conftest.py) and run in file order."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import paramiko
import pytest

pytestmark = pytest.mark.integration


def ansible_ping(lab) -> dict[str, str]:
    """``ansible all -m ping`` with strict host-key checking: host -> ok or the failure."""
    env = dict(lab.env, ANSIBLE_HOST_KEY_CHECKING="True")
    venv = Path(os.sys.executable).parent
    result = subprocess.run(
        [venv / "ansible", "-i", lab.labdir / "inventory.yml", "all", "-m", "ping", "-o"],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    outcome = {}
    for line in result.stdout.splitlines():
        host, _, rest = line.partition(" | ")
        outcome[host] = "ok" if rest.startswith("SUCCESS") and '"pong"' in rest else rest
    return outcome


def test_up_creates_every_host(test_lab):
    result = test_lab.cli("--json", "lab", "up", str(test_lab.dir))
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith('{"')]
    assert sum(e.get("event") == "host.ready" for e in events) == len(test_lab.hosts)
    assert sorted(test_lab.containers()) == sorted(f"{test_lab.lab}-{h}" for h in test_lab.hosts)
    key = test_lab.labdir / "id_ed25519"
    assert key.stat().st_mode & 0o777 == 0o600
    assert Path("/proc/sys/net/ipv4/ip_forward").read_text().strip() == "0"


def test_ssh_with_strict_host_keys(test_lab):
    known = test_lab.labdir / "known_hosts"
    pkey = paramiko.Ed25519Key.from_private_key_file(str(test_lab.labdir / "id_ed25519"))
    keys = set()
    for i, _ in enumerate(test_lab.hosts):
        address = f"{test_lab.net}.{2 if i == 0 else 9 + i}"
        client = paramiko.SSHClient()
        client.load_host_keys(str(known))
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        client.connect(address, username="root", pkey=pkey, look_for_keys=False, allow_agent=False)
        _, stdout, _ = client.exec_command("cat /etc/machine-id")
        keys.add(stdout.read().strip())
        client.close()
    assert len(keys) == len(test_lab.hosts), "every host has its own machine-id"
    # A wrong known key is refused: strictness is real, not a pass-through.
    wrong = paramiko.SSHClient()
    wrong.get_host_keys().add(f"{test_lab.net}.2", "ssh-ed25519", pkey)
    wrong.set_missing_host_key_policy(paramiko.RejectPolicy())
    with pytest.raises(paramiko.BadHostKeyException):
        wrong.connect(f"{test_lab.net}.2", username="root", pkey=pkey, look_for_keys=False,
                      allow_agent=False)  # fmt: skip
    # OpenSSH with the same file and strict checking.
    ssh = subprocess.run(
        ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
         "-o", f"UserKnownHostsFile={known}", "-o", "GlobalKnownHostsFile=/dev/null",
         "-i", str(test_lab.labdir / "id_ed25519"), f"root@{test_lab.net}.10",
         "systemctl is-system-running"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert ssh.stdout.strip() in ("running", "degraded"), ssh.stderr


def test_ansible_ping_every_host_strict(test_lab):
    assert ansible_ping(test_lab) == dict.fromkeys(test_lab.hosts, "ok")


def test_second_up_is_idempotent(test_lab):
    known = (test_lab.labdir / "known_hosts").read_text()
    before = {
        c: Path(f"/var/lib/lxc/{c}/cutover.json").stat().st_mtime for c in test_lab.containers()
    }
    test_lab.cli("lab", "up", str(test_lab.dir))
    assert (test_lab.labdir / "known_hosts").read_text() == known
    after = {
        c: Path(f"/var/lib/lxc/{c}/cutover.json").stat().st_mtime for c in test_lab.containers()
    }
    assert before == after, "no host was re-created"
    status = json.loads(test_lab.cli("--json", "lab", "status", str(test_lab.dir)).stdout)
    assert {row["state"] for row in status} == {"running"}


def test_killed_up_then_converges(test_lab):
    test_lab.cli("lab", "down", str(test_lab.dir))
    # A leftover of the wrong kind where the bridge goes, as a crashed run might leave.
    subprocess.run(
        ["ip", "link", "add", test_lab.bridge, "type", "veth", "peer", "name", f"p{test_lab.lab}"],
        check=True,
    )
    proc = subprocess.Popen(
        [os.sys.executable, "-m", "cutover.cli", "lab", "up", str(test_lab.dir)],
        env=test_lab.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not test_lab.containers() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    test_lab.cli("lab", "up", str(test_lab.dir))
    assert ansible_ping(test_lab) == dict.fromkeys(test_lab.hosts, "ok")


def test_down_leaves_nothing(test_lab):
    test_lab.cli("lab", "down", str(test_lab.dir))
    assert test_lab.containers() == []
    assert subprocess.run(["ip", "link", "show", test_lab.bridge], capture_output=True).returncode
    assert test_lab.lab not in Path("/proc/mounts").read_text()
    assert not test_lab.labdir.exists()
    test_lab.cli("lab", "down", str(test_lab.dir))  # down of nothing is fine too
