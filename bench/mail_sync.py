"""Benchmark (not a test): the mail cutover's sync against pulling the mailboxes over IMAP
(issue 7), both measured back to back in one run on one lab.

For each size N (default 10, 100 and 1,000 mailboxes of 20 messages, on the former
province's server):
- ``ours``: the project's path, the real ``playbooks/cutover/mail-presync.yml`` run by
  ``cutover run`` (a one-step plan of this merger): the controller plans the commands
  (``cutover.cutovers.mail.plan.sync_plan``, guarded by ``dsync.assert_safe``), the
  merged server runs the dsync endpoint, the old server runs ``cutover-dsync-run``
  (``doveadm sync -1 -F CHUNK tcp:MERGED``, ``mail_parallel`` at once). Reported twice:
  the sync commands on the host (the seconds ``cutover-dsync-run`` reports) and the whole
  ``cutover run`` (engine, Ansible, endpoint setup included);
- ``imapc``: on the merged server, one mailbox after another,
  ``doveadm backup -R -u NEW imapc:`` logging in to the old server's IMAP (STARTTLS, as its
  Dovecot refuses plain-text logins without TLS) with the mailbox's lab password. Its
  destinations are mailboxes of their own (``imapc-<local>@<target domain>``) so both
  copies exist side by side and each delta starts from its own full copy.
Then one new message lands in every old mailbox and both run again: the final delta sync,
the cost inside the cutover window. Every copy is checked by counting messages. The old
Maildirs are indexed by Dovecot before each measurement, as mailboxes in use are.

The lab is this benchmark's own (``bmmail``, 198.18.231.0/24 on ``cutlab-bmmail``, state
and runs under /tmp/bench-mail) and is taken down at the end, also on failure, unless
``--keep`` (a kept lab is reused by the next run). Bench mailboxes and their lab-only
password are made at run time inside the containers; the password is never printed.

    sudo nice -n 5 .venv/bin/python bench/mail_sync.py [--sizes 10,100,1000] [--messages 20]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import itertools
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "integration"))

# after the path change above: the tests' lab kit and the project's own mail code
import labkit  # noqa: E402

from cutover.cutovers.mail import dsync  # noqa: E402
from cutover.cutovers.mail.plan import maildir  # noqa: E402
from cutover.cutovers.mail.routing import mappings  # noqa: E402
from cutover.inventory import load  # noqa: E402

BASE = Path("/tmp/bench-mail")  # noqa: S108 -- root-only lab state
LAB = "bmmail"
NET = "198.18.231"
MERGER = "bench-mail"
PROVINCES = ["quangngai", "kontum"]
OLD_HOST, MERGED_HOST = "kontum", "merged"
OLD_PASSDB = "/etc/dovecot/cutover-users"  # the mail role's passwd-file
IMAPC_CONF = "/etc/dovecot/bench-imapc.conf"
RUN_TASK = "Run the dsync commands for this server's mailboxes."

PLAN = """\
# The mail sync of bench/mail_sync.py: pre-sync, then the same playbook as the delta.
---
version: 1
name: bench-mail-sync
merger: {merger}
description: Every mailbox of the old servers synced to the merged one (dsync, one-way).
defaults: {{owner: "bench/mail_sync.py", approver: "bench/mail_sync.py"}}
playbook_dir: {playbooks}
vars:
  mail_parallel: {parallel}
steps:
  - id: mail.presync
    kind: playbook
    description: Every mailbox copied to the merged server (dsync, one-way); repeatable.
    idempotent: true
    playbook: mail-presync.yml
    rollback: mail-presync-rollback.yml
"""

# Runs inside the old server: N Maildirs of M messages (about 2 KB, each with its own
# Message-ID) written as a delivery agent would, into new/, owned by vmail.
WRITE_MAIL = r"""
import json, os, sys, time
spec = json.load(sys.stdin)
body = ("Kính gửi các đồng chí,\n\nVăn phòng UBND tỉnh thông báo lịch giao ban tuần, "
        "đề nghị các đơn vị chuẩn bị báo cáo tiến độ chuyển đổi số.\n\n") * 8
written = 0
for addr, maildir in spec["boxes"]:
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(maildir, sub), exist_ok=True)
    for n in range(spec["first"], spec["first"] + spec["count"]):
        msg = (f"From: Van phong <vanphong@{addr.split('@')[1]}>\nTo: <{addr}>\n"
               f"Subject: Thong bao so {n}\nDate: Mon, 30 Jun 2025 08:00:00 +0700\n"
               f"Message-ID: <{spec['tag']}.{n}.{addr}>\nMIME-Version: 1.0\n"
               "Content-Type: text/plain; charset=utf-8\n\n" + body).encode()
        name = f"{1751328000 + n}.M{n}P{os.getpid()}.bench{spec['tag']},S={len(msg)}"
        with open(os.path.join(maildir, "new", name), "wb") as f:
            f.write(msg)
        written += 1
for top in {m.split("/Maildir")[0].rsplit("/", 1)[0] for _, m in spec["boxes"]}:
    for dirpath, _, files in os.walk(top):
        os.chown(dirpath, 5000, 5000)
        for f in files:
            os.chown(os.path.join(dirpath, f), 5000, 5000)
print(json.dumps({"written": written}))
"""

# Runs inside a mail server: replace this benchmark's lines of a passwd-file.
SET_USERS = r"""
import json, os, sys
spec = json.load(sys.stdin)
path = spec["path"]
keep = [l for l in open(path).read().splitlines()
        if l and not l.startswith(tuple(spec["drop_prefixes"]))]
with open(path, "w") as f:
    f.write("\n".join(keep + spec["lines"]) + "\n")
"""

# Runs inside the merged server: the imapc client settings with the lab password (0600).
SET_IMAPC = r"""
import json, os, sys
spec = json.load(sys.stdin)
fd = os.open(spec["path"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as f:
    f.write("!include /etc/dovecot/dovecot.conf\n"
            f"imapc_host = {spec['host']}\nimapc_port = 143\nimapc_ssl = starttls\n"
            # lab only: the old server's certificate names its host name, not the address
            "imapc_ssl_verify = no\n"
            f"imapc_password = {spec['password']}\n")
"""

# Runs inside the merged server: the baseline, one mailbox after another.
RUN_SERIAL = r"""
import json, subprocess, sys, time
commands = json.load(sys.stdin)
started = time.monotonic()
errors = []
for argv in commands:
    p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if p.returncode:
        errors.append(p.stderr.decode(errors="replace")[-500:])
print(json.dumps({"seconds": time.monotonic() - started, "failed": len(errors),
                  "errors": errors[:3]}))
"""

# Runs inside the old server: Dovecot indexes the new Maildirs (moves new/ to cur/, writes
# its uidlist and index), as it has for mailboxes in use, whose messages arrived by LMTP
# and were read over IMAP. Otherwise whichever sync comes first would pay that one-time
# scan for both.
INDEX = r"""
import json, os, subprocess, sys, tempfile
with tempfile.NamedTemporaryFile("w", suffix=".users") as f:
    f.write("\n".join(json.load(sys.stdin)) + "\n")
    f.flush()
    subprocess.run(["doveadm", "force-resync", "-F", f.name, "INBOX"], check=True)
"""

# Runs inside a mail server: remove the mailboxes a kept lab has from an earlier run.
CLEAN = r"""
import glob, json, shutil, sys
for pattern in json.load(sys.stdin):
    for path in glob.glob(pattern):
        shutil.rmtree(path)
"""

# Runs inside a mail server: messages in each Maildir (cur/ and new/).
COUNT = r"""
import json, os, sys
out = {}
for d in json.load(sys.stdin):
    n = 0
    for sub in ("cur", "new"):
        try:
            n += len(os.listdir(os.path.join(d, sub)))
        except FileNotFoundError:
            pass
    out[d] = n
print(json.dumps(out))
"""


def ssha512(password: str) -> str:
    """The hash form the mail role gives Dovecot's passwd-file."""
    salt = secrets.token_bytes(8)
    digest = hashlib.sha512(password.encode() + salt).digest()
    return "{SSHA512}" + base64.b64encode(digest + salt).decode()


class Lab:
    """This benchmark's lab: a generated two-province merger, one host each plus merged."""

    def __init__(self, parallel: int) -> None:
        self.dir = BASE / MERGER
        self.base_merger = ""
        self.env = dict(
            os.environ,
            CUTOVER_STATE_DIR=str(BASE / "state"),
            CUTOVER_RUNS_DIR=str(BASE / "runs"),
            PATH=f"{ROOT / '.tools/bin'}{os.pathsep}{os.environ['PATH']}",
        )
        self.parallel = parallel
        self.plan = self.dir / "plans" / "bench-sync.yml"

    def write(self) -> None:
        (self.dir / "lab").mkdir(parents=True, exist_ok=True)
        (self.dir / "plans").mkdir(exist_ok=True)
        self.base_merger = labkit.merger_yaml(MERGER, PROVINCES)
        (self.dir / "merger.yml").write_text(self.base_merger)
        # no generated mailboxes: the benchmark's own are the only large ones
        env = labkit.env_yaml(NET, LAB, PROVINCES).replace(
            "mailboxes_per_province: 3", "mailboxes_per_province: 0"
        )
        (self.dir / "lab" / "inventory.yml").write_text(env)
        self.plan.write_text(
            PLAN.format(
                merger=MERGER, playbooks=ROOT / "playbooks" / "cutover", parallel=self.parallel
            )
        )

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "cutover.cli", *args],
            capture_output=True, text=True, env=self.env, cwd=ROOT,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"cutover {' '.join(args)}: {result.stderr[-2000:]}")
        return result

    def up(self) -> None:
        self.write()
        ready = BASE / "provisioned"
        names = subprocess.run(["lxc-ls", "-1"], capture_output=True, text=True).stdout.split()
        if ready.is_file() and f"{LAB}-{MERGED_HOST}" in names:
            return  # kept by an earlier run with --keep: provisioning again takes minutes
        self.cli("lab", "up", str(self.dir))
        self.cli("provision", str(self.dir), "--env", "lab")
        ready.touch()

    def down(self) -> None:
        (BASE / "provisioned").unlink(missing_ok=True)
        subprocess.run(
            [sys.executable, "-m", "cutover.cli", "lab", "down", str(self.dir)],
            capture_output=True, env=self.env, cwd=ROOT,
        )  # fmt: skip
        names = subprocess.run(["lxc-ls", "-1"], capture_output=True, text=True).stdout.split()
        for name in names:  # never leave a container behind
            if name.startswith(f"{LAB}-"):
                subprocess.run(["lxc-stop", "-k", "-n", name], capture_output=True)
                subprocess.run(["lxc-destroy", "-f", "-n", name], capture_output=True)
        subprocess.run(["ip", "link", "del", f"cutlab-{LAB}"], capture_output=True)

    def on(self, host: str, script: str, payload: Any) -> Any:
        """Run a Python snippet inside a host with JSON on stdin; its JSON answer."""
        result = subprocess.run(
            ["lxc-attach", "-n", f"{LAB}-{host}", "--", "python3", "-c", script],
            input=json.dumps(payload), capture_output=True, text=True,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"on {host}: {result.stderr[-2000:]}")
        return json.loads(result.stdout) if result.stdout.strip() else None

    def set_mailboxes(self, addresses: list[str]) -> None:
        """The merger's inventory lists the bench mailboxes, so the cutover plans them."""
        lines = [f'    - {{address: {a}, name: "Bench {a.split("@")[0]}"}}' for a in addresses]
        head, _, tail = self.base_merger.partition("  mailboxes:\n")
        text = head + "  mailboxes:\n" + "\n".join(lines) + "\n" + tail
        (self.dir / "merger.yml").write_text(text)

    def sync_ours(self) -> dict[str, Any]:
        """The project's sync: the mail-presync playbook through `cutover run`."""
        before = set((BASE / "runs").glob("*")) if (BASE / "runs").is_dir() else set()
        started = time.monotonic()
        self.cli("run", str(self.plan), "--env", "lab", "--auto-approve")
        wall = time.monotonic() - started
        runs = [p for p in (BASE / "runs").glob("*") if p.is_dir() and p not in before]
        report = None
        for event in sorted(runs[0].rglob("job_events/*.json")):
            data = json.loads(event.read_text()).get("event_data") or {}
            if data.get("task") == RUN_TASK and data.get("host") == OLD_HOST and "res" in data:
                report = json.loads(data["res"]["stdout"])
        if report is None or not report["ok"]:
            raise RuntimeError(f"the dsync run on {OLD_HOST} did not succeed: {report}")
        return {"wall": wall, "commands": report["seconds"], "report": report}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mailboxes", type=int, help="one size only (instead of --sizes)")
    parser.add_argument("--sizes", default="10,100,1000", help="mailbox counts, ascending")
    parser.add_argument("--messages", type=int, default=20, help="messages per mailbox")
    parser.add_argument("--parallel", type=int, default=8, help="mail_parallel of the plan")
    parser.add_argument("--keep", action="store_true", help="leave the lab up (and reuse it)")
    args = parser.parse_args()
    sizes = [args.mailboxes] if args.mailboxes else [int(s) for s in args.sizes.split(",")]
    if os.geteuid() != 0 or shutil.which("lxc-attach") is None:
        print("needs root and LXC (make setup)", file=sys.stderr)
        return 2
    lab = Lab(args.parallel)
    rows: list[dict[str, Any]] = []
    try:
        lab.up()
        inv = load(lab.dir, "lab")
        old_addr = str(next(h.address for h in inv.hosts if h.name == OLD_HOST))
        old_domain = next(p.domain for p in inv.merger.provinces if p.id == OLD_HOST)
        # one lab-only password for the bench mailboxes of this run; never printed
        password = secrets.token_urlsafe(24)
        lab.on(MERGED_HOST, SET_IMAPC, {"path": IMAPC_CONF, "host": old_addr, "password": password})
        for n in sizes:
            rows.append(measure(lab, n, args.messages, old_domain, password))
            print(json.dumps(rows[-1]), flush=True)
    finally:
        if not args.keep:
            lab.down()
    print_table(rows, args)
    return 0


def measure(lab: Lab, n: int, messages: int, old_domain: str, password: str) -> dict[str, Any]:
    tag = f"bm{n}x"
    olds = [f"{tag}{i:04d}@{old_domain}" for i in range(n)]
    lab.set_mailboxes(olds)
    inv = load(lab.dir, "lab")
    # the new addresses as the cutover maps them (collisions resolved by the inventory)
    new_of = {m.old: m.new for m in mappings(inv) if m.old in set(olds)}
    base_of = {o: f"imapc-{new_of[o]}" for o in olds}
    hashed = ssha512(password)
    lab.on(OLD_HOST, SET_USERS, {
        "path": OLD_PASSDB, "drop_prefixes": [tag],
        "lines": [f"{o}:{hashed}::::::" for o in olds],
    })  # fmt: skip
    # the baseline's destinations must exist for the merged server's static userdb
    lab.on(MERGED_HOST, SET_USERS, {
        "path": OLD_PASSDB, "drop_prefixes": [f"imapc-{tag}"],
        "lines": [f"{b}:{hashed}::::::" for b in base_of.values()],
    })  # fmt: skip
    boxes = [[o, maildir(o)] for o in olds]
    lab.on(OLD_HOST, CLEAN, [f"/var/vmail/{old_domain}/{tag}*"])
    lab.on(MERGED_HOST, CLEAN, [f"/var/vmail/*/{tag}*", f"/var/vmail/*/imapc-{tag}*"])
    lab.on(OLD_HOST, WRITE_MAIL, {"boxes": boxes, "first": 1, "count": messages, "tag": tag})
    lab.on(OLD_HOST, INDEX, olds)
    baseline = []
    for old in olds:
        argv = ["doveadm", "-c", IMAPC_CONF, "-o", f"imapc_user={old}",
                "backup", "-R", "-u", base_of[old], "imapc:"]  # fmt: skip
        dsync.assert_safe(argv, "merged")  # backup only towards the merged server
        baseline.append(argv)
    ours_dirs = [maildir(new_of[o]) for o in olds]
    base_dirs = [maildir(base_of[o]) for o in olds]
    row: dict[str, Any] = {"mailboxes": n, "messages": n * messages}

    def check(dirs: list[str], want: int, what: str) -> None:
        counts = lab.on(MERGED_HOST, COUNT, dirs)
        wrong = {d: c for d, c in counts.items() if c != want}
        if wrong:
            raise RuntimeError(f"{what}: {len(wrong)} mailboxes without {want} messages")

    def measure(phase: str, label: str, want: int) -> None:
        """Ours, then the imapc baseline, back to back; both copies counted."""
        ours = lab.sync_ours()
        row[f"{phase}_ours_s"] = ours["commands"]
        row[f"{phase}_ours_run_s"] = ours["wall"]
        base = lab.on(MERGED_HOST, RUN_SERIAL, baseline)
        if base["failed"]:
            raise RuntimeError(f"imapc baseline: {base['failed']} failed: {base['errors']}")
        row[f"{phase}_imapc_s"] = base["seconds"]
        check(ours_dirs, want, f"ours {label}")
        check(base_dirs, want, f"imapc {label}")

    measure("presync", "pre-sync", messages)
    # one new message per mailbox: what the final sync inside the window must carry
    lab.on(OLD_HOST, WRITE_MAIL, {"boxes": boxes, "first": messages + 1, "count": 1, "tag": tag})
    lab.on(OLD_HOST, INDEX, olds)
    measure("delta", "delta", messages + 1)
    row["presync_ratio"] = row["presync_imapc_s"] / row["presync_ours_s"]
    row["delta_ratio"] = row["delta_imapc_s"] / row["delta_ours_s"]
    return row


def print_table(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    if not rows:
        return
    print(
        "\n| mailboxes | messages | ours pre-sync s (run) | imapc s | ratio "
        "| ours delta s (run) | imapc delta s | ratio |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['mailboxes']:,} | {r['messages']:,} "
            f"| {r['presync_ours_s']:.2f} ({r['presync_ours_run_s']:.1f}) "
            f"| {r['presync_imapc_s']:.2f} | {r['presync_ratio']:.1f}x "
            f"| {r['delta_ours_s']:.2f} ({r['delta_ours_run_s']:.1f}) "
            f"| {r['delta_imapc_s']:.2f} | {r['delta_ratio']:.1f}x |"
        )
    if len(rows) >= 2:
        for a, b in itertools.pairwise(rows):
            k = b["mailboxes"] / a["mailboxes"]
            print(
                f"growth {a['mailboxes']:,} -> {b['mailboxes']:,} ({k:.0f}x input): "
                + ", ".join(
                    f"{key} {b[key] / a[key]:.1f}x"
                    for key in (
                        "presync_ours_s",
                        "presync_imapc_s",
                        "delta_ours_s",
                        "delta_imapc_s",
                    )
                )
            )
    print(f"(messages per mailbox {args.messages}, mail_parallel {args.parallel})")


if __name__ == "__main__":
    sys.exit(main())
