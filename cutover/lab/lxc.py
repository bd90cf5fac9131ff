"""Lab hosts as LXC system containers cloned from the template.

A host is an overlay snapshot clone (``lxc-copy -s -B overlay``, about 0.01 s) of the
stopped template, with its network set in the LXC config (no DHCP in the lab). A marker
file written after the config (``cutover.json``) tells a finished container from a
half-made one: a container without a matching marker is destroyed and made again, so
every function here converges from whatever an interrupted run left behind.
"""

from __future__ import annotations

import hashlib
import json
import socket
import time
from dataclasses import asdict, dataclass
from functools import cache
from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path

import paramiko

from cutover.errors import LabError
from cutover.lab.keys import KeyPair, parse_public
from cutover.lab.proc import run

MARKER = "cutover.json"
HOST_KEY = "/etc/ssh/ssh_host_ed25519_key.pub"


@dataclass(frozen=True)
class HostSpec:
    """What one lab host must be. ``name`` is the container's name (unique per lab)."""

    lab: str
    name: str
    hostname: str
    address: IPv4Interface  # with the lab network's prefix length
    gateway: IPv4Address  # the bridge's address: the host, which forwards nothing
    bridge: str
    template: str


@dataclass(frozen=True)
class HostState:
    name: str
    address: str
    running: bool
    host_key: str  # OpenSSH public line of its ed25519 host key


@cache
def lxcpath() -> Path:
    return Path(run(["lxc-config", "lxc.lxcpath"]).stdout.strip())


def exists(name: str) -> bool:
    return (lxcpath() / name / "config").exists()


def running(name: str) -> bool:
    result = run(["lxc-info", "-s", "-H", "-n", name], check=False)
    return result.returncode == 0 and result.stdout.strip() == "RUNNING"


def marker(name: str) -> dict[str, str] | None:
    try:
        data: dict[str, str] = json.loads((lxcpath() / name / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return data


def spec_record(spec: HostSpec) -> dict[str, str]:
    return {k: str(v) for k, v in asdict(spec).items()}


def containers_of(lab: str) -> list[str]:
    """Every container of ``lab``, finished or half-made (by marker or by name prefix;
    lab names have no dash, so ``<lab>-`` cannot be another lab's prefix)."""
    found = []
    for path in sorted(lxcpath().iterdir()):
        mark = marker(path.name)
        if (mark is not None and mark.get("lab") == lab) or path.name.startswith(f"{lab}-"):
            found.append(path.name)
    return found


def _hwaddr(name: str) -> str:
    # Stable per container so that re-creating a host does not churn ARP caches.
    digest = hashlib.sha256(name.encode()).digest()
    return "00:16:3e:" + ":".join(f"{b:02x}" for b in digest[:3])


def _write_config(spec: HostSpec) -> None:
    path = lxcpath() / spec.name / "config"
    drop = ("lxc.net.", "lxc.apparmor.", "lxc.uts.name", "lxc.start.auto")
    kept = [line for line in path.read_text().splitlines() if not line.strip().startswith(drop)]
    kept += [
        "# cutover lab host: the address is set here; the template's eth0 is manual",
        f"lxc.uts.name = {spec.hostname}",
        "lxc.net.0.type = veth",
        f"lxc.net.0.link = {spec.bridge}",
        "lxc.net.0.flags = up",
        "lxc.net.0.name = eth0",
        f"lxc.net.0.hwaddr = {_hwaddr(spec.name)}",
        f"lxc.net.0.ipv4.address = {spec.address}",
        f"lxc.net.0.ipv4.gateway = {spec.gateway}",
        "lxc.apparmor.profile = unconfined",
        "lxc.start.auto = 0",
    ]
    path.write_text("\n".join(kept) + "\n")


def destroy(name: str) -> None:
    """Stop (hard: lab hosts hold nothing to flush) and destroy; absent is fine."""
    if not exists(name):
        if (lxcpath() / name).exists():  # a clone killed before its config was written
            run(["rm", "-rf", "--one-file-system", str(lxcpath() / name)])
        return
    if running(name):
        run(["lxc-stop", "-k", "-n", name], check=False)
    run(["lxc-destroy", "-f", "-n", name])


def stop(spec: HostSpec) -> None:
    """A clean shutdown (services flush their files), hard after 60 s."""
    if running(spec.name):
        run(["lxc-stop", "-n", spec.name, "-t", "60"], timeout=90)


def delta(name: str) -> Path:
    """The container's overlay upper layer: everything it changed on top of the template."""
    for line in (lxcpath() / name / "config").read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "lxc.rootfs.path" and value.strip().startswith("overlay:"):
            return Path(value.strip().rsplit(":", 1)[1])
    raise LabError(f"{name} is not an overlay clone of the template", hint="lab down, then up")


def replace_delta(spec: HostSpec, saved: Path) -> None:
    """The host made again from the template with ``saved`` as its upper layer (a copy:
    the saved layer stays as it is for the next restore)."""
    _clone(spec)
    upper = delta(spec.name)
    run(["rm", "-rf", "--one-file-system", str(upper)])
    copy_tree(saved, upper)


def copy_tree(src: Path, dst: Path) -> None:
    """``src`` copied to the new path ``dst`` as an overlay layer needs: whiteouts (0:0
    character devices), opaque-directory xattrs, owners, modes and hard links kept."""
    run(["cp", "-a", "--reflink=auto", str(src), str(dst)], timeout=900)


def _clone(spec: HostSpec) -> None:
    if exists(spec.name) or (lxcpath() / spec.name).exists():
        destroy(spec.name)
    run(["lxc-copy", "-n", spec.template, "-N", spec.name, "-s", "-B", "overlay"])
    _write_config(spec)
    (lxcpath() / spec.name / MARKER).write_text(json.dumps(spec_record(spec), indent=2) + "\n")


def _attach(name: str, script: str, input_text: str | None = None) -> str:
    result = run(
        ["lxc-attach", "-n", name, "--clear-env", "--", "/bin/sh", "-c", script],
        input_text=input_text,
        timeout=30,
    )
    return result.stdout


def _veth_on_bridge(spec: HostSpec) -> None:
    """Reattach a running host's veth if its bridge was removed and made again."""
    result = run(["lxc-info", "-n", spec.name, "-H"], check=False)
    for line in result.stdout.splitlines():
        if line.startswith("Link:"):
            veth = line.split(":", 1)[1].strip()
            master = Path(f"/sys/class/net/{veth}/master")
            if not master.exists() or master.resolve().name != spec.bridge:
                run(["ip", "link", "set", "dev", veth, "master", spec.bridge, "up"])


def ensure(spec: HostSpec, keys: KeyPair, timeout: float = 90) -> HostState:
    """Make the host exist, run, accept the lab key and answer SSH; return its identity."""
    if marker(spec.name) != spec_record(spec):
        _clone(spec)
    if running(spec.name):
        _veth_on_bridge(spec)
    else:
        run(["lxc-start", "-n", spec.name])
    _attach(
        spec.name,
        "umask 077; mkdir -p /root/.ssh; cat > /root/.ssh/authorized_keys",
        input_text=keys.public_line + "\n",
    )
    host_key = _wait_host_key(spec.name, timeout)
    _wait_ssh(spec, host_key, keys, timeout)
    return HostState(spec.name, str(spec.address.ip), True, host_key)


def _wait_host_key(name: str, timeout: float) -> str:
    # Read out of band, from the container itself: what we then trust over the network is
    # exactly what its first boot generated (no trust on first use).
    deadline = time.monotonic() + timeout
    while True:
        line = _attach(name, f"cat {HOST_KEY} 2>/dev/null || true").strip()
        if line.startswith("ssh-ed25519 "):
            return line
        if time.monotonic() > deadline:
            raise LabError(f"{name}: no SSH host key after {timeout:.0f} s", hint="see lxc-info")
        time.sleep(0.2)


def ssh_client(
    address: str, host_key: str, keys: KeyPair, timeout: float = 5
) -> paramiko.SSHClient:
    """A paramiko client to a lab host that rejects any host key but the known one."""
    client = paramiko.SSHClient()
    key = parse_public(host_key)
    client.get_host_keys().add(address, key.get_name(), key)
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(
        address,
        username="root",
        pkey=keys.pkey(),
        timeout=timeout,
        banner_timeout=timeout,
        auth_timeout=timeout,
        look_for_keys=False,
        allow_agent=False,
    )
    return client


def _wait_ssh(spec: HostSpec, host_key: str, keys: KeyPair, timeout: float) -> None:
    address = str(spec.address.ip)
    deadline = time.monotonic() + timeout
    while True:
        try:
            client = ssh_client(address, host_key, keys, timeout=3)
        except (OSError, paramiko.SSHException) as exc:
            if isinstance(exc, paramiko.BadHostKeyException):
                raise LabError(f"{spec.name}: SSH host key does not match its own") from exc
            if time.monotonic() > deadline:
                raise LabError(
                    f"{spec.name}: SSH on {address} not reachable after {timeout:.0f} s: {exc}"
                ) from exc
            time.sleep(0.2)
            continue
        client.close()
        return


def state(name: str) -> HostState | None:
    mark = marker(name)
    if mark is None:
        return None
    is_running = running(name)
    key = ""
    if is_running:
        key = _attach(name, f"cat {HOST_KEY} 2>/dev/null || true").strip()
    return HostState(name, mark["address"].split("/")[0], is_running, key)


def port_open(address: str, port: int = 22, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False
