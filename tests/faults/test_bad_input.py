"""Bad input corpus: every malformed merger.yml, lab/inventory.yml, plan and option
combination under ``bad_input/`` (plus the plan fixtures of tests/unit/plan/fixtures/bad)
is refused by the real `cutover` command with exit 2 and one line naming the file (and
line) with a fix, no traceback, and changes nothing on a real, provisioned lab.

Each fixture's first line says what is expected: ``# expect: <file>[:<line>]: <text>``
(``-`` when no file is involved); an optional ``# command:`` line names the command for
inventory files (default ``provision``), an optional ``# env:`` line their environment
(default ``lab``: the fixture replaces ``<env>/inventory.yml``), an optional
``# transform:`` line how its text becomes bytes (``cp1258``, ``utf16``, ``pad-5mb``);
``@LONG@`` is a 20,000-character word and ``@ESC@`` a raw escape character. Inventory and plan
fixtures are templates of the test lab's own files (``@MERGER@``, ``@NET@``, ``@LAB@``,
``@PLAYBOOKS@``), so that, were validation ever skipped, they would act on that very lab,
and the fingerprint would see it.

Every case is one ``cutover`` process with a time limit of its own (a case that outlives
it is a failure naming the case: bad input must be refused at once, before anything
reaches a host); four run at a time.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import dns.resolver
import pytest
import yaml
from labkit import CutoverLab, needs_lab

pytestmark = [pytest.mark.integration, pytest.mark.security]

HERE = Path(__file__).parent / "bad_input"
ROOT = Path(__file__).resolve().parents[2]
PLAN_FIXTURES = ROOT / "tests/unit/plan/fixtures/bad"
EXPECT = re.compile(r"^# expect: (\S+?)(?::(\d+))?: (.+)$")
COMMAND = re.compile(r"^# command: (.+)$", re.M)
ENV = re.compile(r"^# env: (\S+)$", re.M)
TRANSFORM = re.compile(r"^# transform: (\S+)$", re.M)
LONG = "x" * 20_000  # @LONG@: a line longer than the loader reads
CASE_SECONDS = 60  # one short process; minutes mean it is doing something real
PARALLEL = 4  # cases at once: each mostly waits for its imports on a loaded machine
# what a container's services are: their configuration, zones, tables, mailboxes, rooms
TREES = "/etc/bind /var/lib/bind /var/cache/bind /etc/postfix /etc/nginx /etc/prosody "
TREES += "/var/lib/prosody /var/vmail /var/mail /srv /var/www /etc/dovecot"


@dataclass(frozen=True)
class Case:
    name: str
    args: list[str]
    where: str  # the file the error must name ("-": none)
    line: int | None
    fragment: str


def _corpus_files() -> list[Path]:
    return sorted(HERE.glob("*/*.yml")) + sorted(PLAN_FIXTURES.glob("*.yml"))


def test_corpus_has_at_least_a_hundred_and_ten_cases_of_each_origin() -> None:
    mine = sorted(HERE.glob("*/*.yml"))
    assert len(mine) >= 110  # 72 of shapes and references, then 40+ of hostile input
    assert {p.parent.name for p in mine} == {"merger", "inventory", "options", "plans"}
    for path in mine:
        assert EXPECT.match(path.read_text().splitlines()[0]), path


def _encode(text: str, transform: str | None) -> bytes:
    """The bytes of a fixture as a careless export would write them."""
    if transform is None:
        return text.encode("utf-8")
    if transform == "cp1258":  # Windows-1258 spells Vietnamese with combining marks
        return unicodedata.normalize("NFD", text).encode("cp1258")
    if transform == "utf16":
        return text.encode("utf-16")
    if transform == "pad-5mb":  # a valid file, grown past the size limit by comments
        return text.encode("utf-8") + b"# padding\n" * (5 * 1024 * 1024 // 10)
    raise AssertionError(f"unknown transform {transform}")


def _write(path: Path, text: str) -> None:
    match = TRANSFORM.search(text)
    path.write_bytes(_encode(text, match.group(1) if match else None))


def _fill(text: str, lab: CutoverLab, extra: dict[str, str]) -> str:
    values = {
        "@LONG@": LONG,
        "@ESC@": "\x1b",  # a raw escape character, as a terminal capture would leave it
        "@MERGER_DIR@": str(lab.dir),
        "@MERGER@": lab.dir.name,
        "@NET@": lab.net,
        "@LAB@": lab.lab,
        "@PLAYBOOKS@": str(ROOT / "playbooks/cutover"),
        "@PLAN@": str(lab.plan),
        "@RUNS@": str(lab.runs),
        **extra,
    }
    for key, value in values.items():
        text = text.replace(key, value)
    return text


def build_case(path: Path, lab: CutoverLab, work: Path) -> Case:
    """Materialise one fixture against the lab: a copy of the lab's merger folder with
    one file replaced, a plan file, or the option list."""
    text = path.read_text(encoding="utf-8")
    header = text.splitlines()[0]
    if path.parent == PLAN_FIXTURES:  # the unit fixtures: "# expect: line N: text"
        match = re.match(r"^# expect: line (\d+): (.+)$", header)
        assert match, path
        return Case(
            f"unit-plan-{path.stem}",
            ["run", str(path), "--env", "lab", "--auto-approve"],
            str(path),
            int(match.group(1)),
            match.group(2),
        )
    match = EXPECT.match(header)
    assert match, path
    where, line, fragment = match.group(1), match.group(2), match.group(3)
    kind = path.parent.name
    name = f"{kind}-{path.stem}"
    if kind == "options":
        args = [_fill(str(a), lab, {}) for a in yaml.safe_load(text)["args"]]
        return Case(name, args, _fill(where, lab, {}), int(line) if line else None, fragment)
    if kind == "plans":
        target = work / name / "plan.yml"
        target.parent.mkdir(parents=True)
        _write(target, _fill(text, lab, {}))
        args = ["run", str(target), "--env", "lab", "--auto-approve"]
        return Case(name, args, str(target), int(line) if line else None, fragment)
    merger = work / name / lab.dir.name  # the folder must carry the merger's name
    shutil.copytree(lab.dir, merger)
    env = ENV.search(text)
    env_name = env.group(1) if env else "lab"
    relative = "merger.yml" if kind == "merger" else f"{env_name}/inventory.yml"
    (merger / relative).parent.mkdir(exist_ok=True)
    _write(merger / relative, _fill(text, lab, {}))
    command = COMMAND.search(text)
    verb = command.group(1).split() if command else ["provision"]
    args = [*verb, str(merger)] + (["--env", env_name] if verb == ["provision"] else [])
    # the error may rightly cite the other file of the pair (a renamed province's hosts)
    return Case(name, args, str(merger / where), int(line) if line else None, fragment)


def fingerprint(lab: CutoverLab) -> dict[str, object]:
    """What the lab is: every container's service trees (checksums), the SOA serial of
    every zone at every DNS host, the run and state folders, the Pulumi stack's
    resources."""
    from cutover.inventory import load

    inv = load(lab.dir, "lab")
    state: dict[str, object] = {}
    for name in sorted(lab.containers()):
        script = (
            f"for d in {TREES}; do [ -d $d ] && find $d -type f -print0; done"
            " | sort -z | xargs -0 -r sha256sum"
        )
        out = subprocess.run(
            ["lxc-attach", "-n", name, "--", "sh", "-c", script],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
        # BIND rewrites its managed-keys and statistics on its own; they are not data
        lines = [x for x in out.splitlines() if "managed-keys" not in x and ".mkeys" not in x]
        state[f"files {name}"] = hashlib.sha256("\n".join(lines).encode()).hexdigest()
        state[f"count {name}"] = len(lines)
    for zone in inv.merger.zones:
        for host in inv.hosts:
            if "dns" not in [str(s) for s in host.services]:
                continue
            resolver = dns.resolver.Resolver(configure=False)
            resolver.nameservers = [str(host.address)]
            resolver.lifetime = 10
            try:
                answer = resolver.resolve(zone.name, "SOA")
                state[f"soa {zone.name} @{host.name}"] = answer.rrset[0].serial  # type: ignore[index]
            except dns.exception.DNSException as exc:
                state[f"soa {zone.name} @{host.name}"] = type(exc).__name__
    state["runs"] = _tree(lab.runs)
    state["state"] = _tree(lab.state)
    stacks = [p for p in (lab.state / "pulumi").rglob("*.json") if "/stacks/" in str(p)]
    urns: list[str] = []
    for path in stacks:
        data = json.loads(path.read_text())
        urns += [r["urn"] for r in (data.get("checkpoint", {}).get("latest") or {}).get(
            "resources", []
        )]  # fmt: skip
    state["stack"] = sorted(urns)
    return state


def _tree(root: Path) -> list[tuple[str, str]]:
    if not root.exists():
        return []
    out: list[tuple[str, str]] = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            out.append((str(path.relative_to(root)), digest))
        elif path.is_dir():
            out.append((str(path.relative_to(root)), "dir"))
    return out


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CutoverLab]:
    reason = needs_lab()
    if reason:
        pytest.fail(reason)
    kit = CutoverLab(tmp_path_factory.mktemp("bad-input"), ["quangngai", "kontum"], prefix="bi")
    try:
        kit.up_and_provision()
        yield kit
    finally:
        kit.cleanup()


def run_case(case: Case, lab: CutoverLab) -> tuple[Case, subprocess.CompletedProcess[str] | None]:
    """The case's process and what it printed; None when it outlived CASE_SECONDS (it is
    killed: subprocess.run kills the child on timeout)."""
    env = dict(lab.env, COLUMNS="200")
    try:
        result = subprocess.run(
            [sys.executable, "-m", "cutover.cli", *case.args],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=CASE_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return case, None
    return case, result


def problems(case: Case, result: subprocess.CompletedProcess[str] | None) -> list[str]:
    if result is None:
        return [f"{case.name}: still running after {CASE_SECONDS} s: {' '.join(case.args)}"]
    why: list[str] = []
    err = result.stderr.strip()
    if result.returncode != 2:
        why.append(f"exit {result.returncode}")
    if "Traceback" in result.stderr:
        why.append("traceback")
    if len(err.splitlines()) != 1:
        why.append(f"{len(err.splitlines())} lines on stderr")
    if not err.startswith("error: "):
        why.append("no 'error: ' prefix")
    if case.where != "-":
        place = f"{case.where}:{case.line}" if case.line else case.where
        if place not in err:
            why.append(f"does not name {place}")
    if case.fragment not in err:
        why.append(f"lacks {case.fragment!r}")
    if not (err.endswith(")") and " (" in err):
        why.append("no fix hint in parentheses")
    return [f"{case.name}: {', '.join(why)}\n    {err[:400]}"] if why else []


# Lab up and provisioning (the fixture) take minutes on a loaded machine, and count
# against pytest's limit: a hung case is caught by CASE_SECONDS, this is only the backstop.
@pytest.mark.timeout(1800)
def test_bad_input_is_refused_clearly_and_changes_nothing(lab: CutoverLab, tmp_path: Path) -> None:
    cases = [build_case(p, lab, tmp_path) for p in _corpus_files()]
    assert len({c.name for c in cases}) == len(cases)
    before = fingerprint(lab)
    with ThreadPoolExecutor(PARALLEL) as pool:
        results = list(pool.map(lambda c: run_case(c, lab), cases))
    failures = [line for case, result in results for line in problems(case, result)]
    assert not failures, f"{len(failures)} of {len(cases)} cases:\n" + "\n".join(failures)
    after = fingerprint(lab)
    changed = {k: (before.get(k), after.get(k)) for k in before.keys() | after.keys()}
    changed = {k: v for k, v in changed.items() if v[0] != v[1]}
    assert not changed, changed
    assert os.environ.get("CUTOVER_RUNS_DIR") != str(lab.runs)  # the lab's own, not ours
