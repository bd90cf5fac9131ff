"""Benchmark (not a test): applying and verifying N record changes with the DNS cutover's
batched TSIG updates, against baselines measured in the same run on the same server.

For N in 100, 1,000 and 10,000 A records (under the target zone of a provisioned lab):
- ``tool``: the cutover's path: AXFR the zone, plan the changes, threshold check (forced:
  a benchmark changes far more than 30% of a tiny zone), batched update, verify by AXFR;
- ``bare``: the same changes as bare batched dynamic updates (``update.send`` only);
- ``per-record``: one update message per record;
- ``ansible``: per-record ``community.general.nsupdate`` tasks, on a sample (``--ansible-sample``)
  and reported per record (LAB-NOTES: about 0.25 s each).
The records are removed (batched) after each measurement. Traffic stays on the lab bridge.

    .venv/bin/python bench/dns_changes.py /tmp/dm-qnkt/quangngai-kontum [--sizes 100,1000,10000]
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

from cutover.cutovers.dns import safety
from cutover.cutovers.dns.plan import DnsPlan
from cutover.cutovers.dns.rrsets import Change, RRset, absolute, diff
from cutover.cutovers.dns.transfer import axfr
from cutover.cutovers.dns.update import Key, send, send_one_by_one
from cutover.inventory import load
from cutover.provision import env_dir
from cutover.provision.vars import CUTOVER_KEY

NSUPDATE = """\
- name: Per-record nsupdate (baseline)
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Replace one A record
      community.general.nsupdate:
        server: "{{ server }}"
        zone: "{{ zone }}"
        record: "{{ item }}"
        type: A
        value: 198.19.255.1
        ttl: 60
        key_name: cutover
        key_secret: "{{ key_secret }}"
        key_algorithm: hmac-sha256
        protocol: tcp
      loop: "{{ records }}"
      no_log: true
"""


def changes(zone: str, tag: str, n: int, delete: bool = False) -> list[Change]:
    return [
        Change(
            zone,
            absolute(f"{tag}-{i:05d}", zone),
            "A",
            None if delete else RRset(60, (f"198.19.{i // 250}.{i % 250 + 1}",)),
        )
        for i in range(n)
    ]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("merger_dir", type=Path)
    parser.add_argument("--env", default="lab")
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--ansible-sample", type=int, default=20)
    args = parser.parse_args()
    inv = load(args.merger_dir, args.env)
    plan = DnsPlan(inv)
    zone = plan.zone(inv.target.domain)
    server = zone.primary.address
    tsig = json.loads((env_dir(inv) / "secret-vars.json").read_text())["cutover_tsig"]
    key = Key(CUTOVER_KEY, tsig[CUTOVER_KEY])
    xfr = Key(zone.transfer_key, tsig[zone.transfer_key])
    results = []
    for n in [int(s) for s in args.sizes.split(",")]:
        row: dict[str, float | int] = {"n": n}
        # the tool: plan from AXFR, check, batched update, verify by AXFR
        tag = "b" + secrets.token_hex(3)
        started = time.monotonic()
        current = axfr(server, zone.name, xfr)
        todo = changes(zone.name, tag, n)
        safety.check(zone.name, current, todo, force=True)
        applied = send(server, zone.name, todo, key)
        after = axfr(server, zone.name, xfr)
        assert all(after.get(c.key) == c.new for c in todo), "not applied"
        row["tool_s"] = time.monotonic() - started
        row["messages"] = applied.messages
        send(server, zone.name, diff(zone.name, after, current), key)  # clean up
        # bare batched update of the same changes
        tag = "c" + secrets.token_hex(3)
        row["bare_s"] = send(server, zone.name, changes(zone.name, tag, n), key).seconds
        send(server, zone.name, changes(zone.name, tag, n, delete=True), key)
        # one update per record
        tag = "d" + secrets.token_hex(3)
        row["per_record_s"] = send_one_by_one(
            server, zone.name, changes(zone.name, tag, n), key
        ).seconds
        send(server, zone.name, changes(zone.name, tag, n, delete=True), key)
        results.append(row)
        print(json.dumps(row), flush=True)
    # per-record Ansible tasks, on a sample
    sample = args.ansible_sample
    with tempfile.TemporaryDirectory() as tmp:
        book = Path(tmp) / "nsupdate.yml"
        book.write_text(NSUPDATE)
        tag = "e" + secrets.token_hex(3)
        records = [f"{tag}-{i:05d}" for i in range(sample)]
        extra = Path(tmp) / "vars.json"
        fd = os.open(extra, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"server": server, "zone": zone.name, "records": records,
                       "key_secret": key.secret}, handle)  # fmt: skip
        playbook = Path(sys.executable).parent / "ansible-playbook"
        env = {**os.environ, "ANSIBLE_PIPELINING": "True", "ANSIBLE_GATHERING": "explicit"}
        started = time.monotonic()
        subprocess.run(
            [str(playbook), "-i", "localhost,", str(book), "-e", f"@{extra}",
             "-e", f"ansible_python_interpreter={sys.executable}"],
            check=True, capture_output=True, env=env,
        )  # fmt: skip
        per_task = (time.monotonic() - started) / sample
        send(server, zone.name, changes(zone.name, tag, sample, delete=True), key)
    print(json.dumps({"ansible_per_record_s": per_task, "sample": sample}))
    print("\n   N   tool(s)  bare(s)  tool/bare  per-record(s)  ansible est.(s)  messages")
    for r in results:
        print(
            f"{r['n']:>6} {r['tool_s']:8.2f} {r['bare_s']:8.2f} {r['tool_s'] / r['bare_s']:9.2f}"
            f" {r['per_record_s']:13.2f} {per_task * r['n']:15.0f} {r['messages']:9d}"
        )
    if len(results) >= 3:
        a, c = results[0], results[-1]
        print(f"growth {c['n'] // a['n']}x input: tool {c['tool_s'] / a['tool_s']:.1f}x, "
              f"bare {c['bare_s'] / a['bare_s']:.1f}x")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
