"""Benchmark (not a test): applying and verifying N record changes with the DNS cutover's
batched TSIG updates, against baselines measured in the same run on the same server.

For N in 100, 1,000 and 10,000 A records (under the target zone of a provisioned lab):
- ``run``: the path the DNS steps take since session 3: the zone read as the run's
  snapshot plus an IXFR since its serial (``confirm.since``, what ``Context.current``
  does), plan, threshold check (forced: a benchmark changes far more than 30% of a tiny
  zone), batched update, read back by IXFR and compared in full with the expected zone.
  The snapshot is taken before the timer starts (in a run it is the ``dns.snapshot``
  step, once), and 10 records are changed after it, untimed, as an earlier step would;
- ``tool``: the same, the zone read by a full AXFR (the path of session 2);
- ``tool-axfr``: the same, verified by a second full AXFR instead;
- ``before``: the path before issue 10: ``tool-axfr`` with both transfers read through a
  ``dns.zone.Zone`` (as ``transfer.axfr`` did);
- ``bare``: the same changes as bare batched dynamic updates (``update.send`` only);
- ``per-record``: one update message per record;
- ``ansible``: per-record ``community.general.nsupdate`` tasks, on a sample (``--ansible-sample``)
  and reported per record (LAB-NOTES: about 0.25 s each).
``--zone-size M`` first fills the zone with M A RRsets (removed at the end), so that the
transfers cost what they would in a large zone. Each size is measured ``--rounds`` times,
the variants interleaved; medians are printed.
The records are removed (batched) after each measurement. Traffic stays on the lab bridge.

    .venv/bin/python bench/dns_changes.py /tmp/dm-qnkt/quangngai-kontum [--sizes 100,1000,10000] \\
        [--rounds 3] [--no-per-record] [--ansible-sample 0] [--zone-size 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dns.query
import dns.zone

from cutover.cutovers.dns import safety
from cutover.cutovers.dns.confirm import send_confirmed, since
from cutover.cutovers.dns.plan import DnsPlan
from cutover.cutovers.dns.rrsets import Change, RRset, Zone, absolute, diff, from_dnszone
from cutover.cutovers.dns.transfer import axfr
from cutover.cutovers.dns.update import TSIG_ALGORITHM, Key, send, send_one_by_one
from cutover.inventory import load
from cutover.inventory.naming import CUTOVER_KEY
from cutover.secretstore import env_dir

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


def axfr_via_dnszone(server: str, zone: str, key: Key) -> Zone:
    """The transfer as it was before issue 10: a ``dns.zone.Zone`` built from the AXFR,
    then converted to plain data (the baseline for the path before)."""
    xfr = dns.query.xfr(
        server, zone, timeout=30, lifetime=30, relativize=False,
        keyring=key.keyring(), keyname=key.name, keyalgorithm=TSIG_ALGORITHM,
    )  # fmt: skip
    return from_dnszone(dns.zone.from_xfr(xfr, relativize=False, check_origin=True))


def measure(
    server: str, zone: str, key: Key, xfr: Key, n: int, *, per_record: bool
) -> dict[str, float | int | str]:
    row: dict[str, float | int | str] = {"n": n}
    # the run's path: snapshot (untimed) and an earlier step's 10 changes (untimed), then
    # the zone read as snapshot + IXFR, plan, check, batched update, IXFR read-back
    snap = axfr(server, zone, xfr)
    earlier = changes(zone, "a" + secrets.token_hex(3), 10)
    send(server, zone, earlier, key)
    tag = "r" + secrets.token_hex(3)
    started = time.monotonic()
    current, how = since(server, zone, snap, xfr)
    row["read_s"] = time.monotonic() - started
    row["read_as"] = how
    todo = changes(zone, tag, n)
    safety.check(zone, current, todo, force=True)
    applied = send_confirmed(server, zone, todo, key, current, xfr)
    row["run_s"] = time.monotonic() - started
    row["run_transfer"] = applied.transfer
    send(server, zone, changes(zone, tag, n, delete=True), key)  # clean up
    send(server, zone, [Change(c.zone, c.name, c.type, None) for c in earlier], key)
    # the tool: plan from AXFR, check, batched update, read back by IXFR and compare
    tag = "b" + secrets.token_hex(3)
    started = time.monotonic()
    current = axfr(server, zone, xfr)
    row["axfr_s"] = time.monotonic() - started
    todo = changes(zone, tag, n)
    safety.check(zone, current, todo, force=True)
    applied = send_confirmed(server, zone, todo, key, current, xfr)
    row["tool_s"] = time.monotonic() - started
    row["confirm_s"] = applied.confirm_seconds
    row["messages"] = applied.messages
    row["transfer"] = applied.transfer
    send(server, zone, changes(zone, tag, n, delete=True), key)  # clean up
    # verified by a second AXFR (read into plain data as ``transfer.axfr`` does now), and
    # the path before issue 10: the same with both transfers read through ``dns.zone``
    for field, read in (("tool_axfr_s", axfr), ("before_s", axfr_via_dnszone)):
        tag = "f" + secrets.token_hex(3)
        started = time.monotonic()
        current = read(server, zone, xfr)
        todo = changes(zone, tag, n)
        safety.check(zone, current, todo, force=True)
        send(server, zone, todo, key)
        after = read(server, zone, xfr)
        assert all(after.get(c.key) == c.new for c in todo), "not applied"
        row[field] = time.monotonic() - started
        send(server, zone, diff(zone, after, current), key)  # clean up
    # bare batched update of the same changes
    tag = "c" + secrets.token_hex(3)
    row["bare_s"] = send(server, zone, changes(zone, tag, n), key).seconds
    send(server, zone, changes(zone, tag, n, delete=True), key)
    if per_record:  # one update per record
        tag = "d" + secrets.token_hex(3)
        row["per_record_s"] = send_one_by_one(server, zone, changes(zone, tag, n), key).seconds
        send(server, zone, changes(zone, tag, n, delete=True), key)
    return row


def ansible_per_record(server: str, zone: str, key: Key, sample: int) -> float:
    """Seconds per record of per-record ``community.general.nsupdate`` tasks (0: skipped)."""
    if sample <= 0:
        return 0.0
    with tempfile.TemporaryDirectory() as tmp:
        book = Path(tmp) / "nsupdate.yml"
        book.write_text(NSUPDATE)
        tag = "e" + secrets.token_hex(3)
        records = [f"{tag}-{i:05d}" for i in range(sample)]
        extra = Path(tmp) / "vars.json"
        fd = os.open(extra, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"server": server, "zone": zone, "records": records,
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
        send(server, zone, changes(zone, tag, sample, delete=True), key)
    return per_task


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("merger_dir", type=Path)
    parser.add_argument("--env", default="lab")
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--ansible-sample", type=int, default=20, help="0: skip")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--no-per-record", dest="per_record", action="store_false")
    parser.add_argument(
        "--zone-size", type=int, default=0, help="first fill the zone with this many A RRsets"
    )
    args = parser.parse_args()
    inv = load(args.merger_dir, args.env)
    plan = DnsPlan(inv)
    zone = plan.zone(inv.target.domain)
    server = zone.primary.address
    tsig = json.loads((env_dir(inv) / "secret-vars.json").read_text())["cutover_tsig"]
    key = Key(CUTOVER_KEY, tsig[CUTOVER_KEY])
    xfr = Key(zone.transfer_key, tsig[zone.transfer_key])
    # filler records make the zone as large as a big province zone, so the transfers cost
    # what they would there; removed at the end
    filler = changes(zone.name, "z" + secrets.token_hex(3), args.zone_size)
    if filler:
        send(server, zone.name, filler, key)
    try:
        results = run_sizes(args, server, zone.name, key, xfr)
    finally:
        if filler:
            send(server, zone.name, [Change(c.zone, c.name, c.type, None) for c in filler], key)
    return report(args, server, zone.name, key, results)


def run_sizes(
    args: argparse.Namespace, server: str, zone_name: str, key: Key, xfr: Key
) -> list[dict[str, float | int | str]]:
    results = []
    for n in [int(s) for s in args.sizes.split(",")]:
        runs: list[dict[str, float | int | str]] = []
        for _ in range(args.rounds):
            runs.append(measure(server, zone_name, key, xfr, n, per_record=args.per_record))
            print(json.dumps(runs[-1]), flush=True)
        row: dict[str, float | int | str] = {"n": n, "messages": runs[0]["messages"]}
        row["transfer"] = str(runs[0]["transfer"])
        row["read_as"] = str(runs[0]["read_as"])
        for field in runs[0]:
            if field.endswith("_s"):
                row[field] = statistics.median(float(r[field]) for r in runs)
        results.append(row)
    return results


def report(
    args: argparse.Namespace,
    server: str,
    zone_name: str,
    key: Key,
    results: list[dict[str, float | int | str]],
) -> int:
    # per-record Ansible tasks, on a sample
    per_task = ansible_per_record(server, zone_name, key, args.ansible_sample)
    print(json.dumps({"ansible_per_record_s": per_task, "sample": args.ansible_sample}))
    print(
        "\n     N   run(s) run/bare  read(s) read as  tool(s) tool/bare  axfr-verify(s) axfr/bare"
        "  before(s) before/bare  bare(s)  confirm(s)  read back  per-record(s)"
        "  ansible est.(s)  messages"
    )
    for r in results:
        bare = float(r["bare_s"])
        per_rec = f"{float(r['per_record_s']):13.2f}" if "per_record_s" in r else f"{'-':>13}"
        est = f"{per_task * int(r['n']):15.0f}" if per_task else f"{'-':>15}"
        print(
            f"{r['n']:>6} {r['run_s']:8.3f} {float(r['run_s']) / bare:7.2f}x"
            f" {r['read_s']:8.3f} {r['read_as']:>7}"
            f" {r['tool_s']:8.3f} {float(r['tool_s']) / bare:8.2f}x"
            f" {r['tool_axfr_s']:14.3f} {float(r['tool_axfr_s']) / bare:8.2f}x"
            f" {r['before_s']:9.3f} {float(r['before_s']) / bare:10.2f}x {bare:8.3f}"
            f" {r['confirm_s']:11.3f} {r['transfer']:>10} {per_rec} {est} {r['messages']:9d}"
        )
    if len(results) >= 3:
        a, c = results[0], results[-1]
        print(f"growth {int(c['n']) // int(a['n'])}x input: "
              f"run {float(c['run_s']) / float(a['run_s']):.1f}x, "
              f"tool {float(c['tool_s']) / float(a['tool_s']):.1f}x, "
              f"bare {float(c['bare_s']) / float(a['bare_s']):.1f}x")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
