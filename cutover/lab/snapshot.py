"""Saved provisioned labs: a lab's hosts and provisioning state, restored in seconds.

A snapshot holds, per host, the overlay delta of its stopped container (what provisioning
wrote on top of the template) and, beside them, the controller-side state that goes with
those hosts (the environment's secrets and CA, whose derived values the hosts hold). It
is keyed by the digest of everything that shaped it: the template, the merger's
inventory, the provisioning playbook and roles, the code that builds their variables and
secrets, and the locked Python environment. A snapshot whose key no longer matches is
never restored: the lab is provisioned again instead.

Snapshots live in the machine's cache (``$CUTOVER_CACHE``, else
``~/.cache/province-cutover``), outside any checkout, so a clean clone on the same
machine reuses them; one folder per lab name, never shared between two labs (the lab's
lock is held while one is taken or restored), removed by ``lab down --purge``. The folder
is 0700: it holds the lab's secrets, like the state folder.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cutover.errors import LabError
from cutover.inventory import Inventory
from cutover.lab import lxc, template
from cutover.lab.keys import ensure_keypair
from cutover.lab.lab import LabSpec, Report, locked, spec_of
from cutover.lab.lxc import HostSpec
from cutover.lab.paths import PROJECT_ROOT, lab_dir
from cutover.paths import cache_dir

DEFAULT = "provisioned"
META = "meta.json"
# Per-run folders of the provisioning state: artifacts and fetched credentials of past
# runs, not part of what the hosts were provisioned with.
_STATE_SKIPPED = ("runs", "private")
# What shapes a provisioned host besides the inventory and the template (paths from the
# project root; folders are hashed file by file).
_SHAPING = {
    "roles": ("playbooks/provision.yml", "playbooks/roles"),
    "code": (
        "cutover/provision",
        "cutover/inventory",
        "cutover/ansible",
        "cutover/lab/lxc.py",
        "cutover/secretstore.py",
    ),
    "environment": ("requirements.lock",),
}


@dataclass(frozen=True)
class Key:
    digest: str
    parts: dict[str, str]  # input -> its digest, to say which input changed

    @property
    def short(self) -> str:
        return self.digest[:12]


@dataclass(frozen=True)
class Snapshot:
    lab: str
    name: str
    path: Path
    key: str
    parts: dict[str, str]
    created: str
    hosts: tuple[str, ...]
    seconds: float  # how long taking it took

    def changed(self, key: Key) -> list[str]:
        """The inputs that differ from ``key`` ([] when it matches)."""
        names = sorted(set(self.parts) | set(key.parts))
        return [n for n in names if self.parts.get(n) != key.parts.get(n)]


def store(lab: str) -> Path:
    return cache_dir() / "lab-snapshots" / lab


def _files(paths: Iterable[Path]) -> Iterable[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts
            )
        elif path.is_file():
            yield path


def _digest(paths: Iterable[Path], root: Path) -> str:
    h = hashlib.sha256()
    for path in _files(paths):
        h.update(str(path.relative_to(root)).encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def key_of(inv: Inventory, template_name: str | None = None) -> Key:
    merger_dir = Path(inv.merger_dir)
    parts = {
        "template": template_name or template.name(),
        # the inventory by content, not by path: a copy of a merger in another folder
        # with the same files is the same lab
        "inventory": _digest([merger_dir / "merger.yml", merger_dir / inv.environment], merger_dir),
    }
    for name, rels in _SHAPING.items():
        parts[name] = _digest([PROJECT_ROOT / r for r in rels], PROJECT_ROOT)
    whole = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    return Key(whole, parts)


def find(lab: str, name: str = DEFAULT) -> Snapshot | None:
    path = store(lab) / name
    try:
        meta: dict[str, Any] = json.loads((path / META).read_text())
    except (OSError, ValueError):
        return None  # absent, or a save that never finished (it writes META last)
    return Snapshot(
        lab=meta["lab"],
        name=name,
        path=path,
        key=meta["key"],
        parts=meta["parts"],
        created=meta["created"],
        hosts=tuple(meta["hosts"]),
        seconds=meta.get("seconds", 0.0),
    )


def listing(lab: str) -> list[Snapshot]:
    base = store(lab)
    if not base.is_dir():
        return []
    found = (find(lab, p.name) for p in sorted(base.iterdir()) if p.is_dir())
    return [s for s in found if s is not None]


def _check_name(name: str) -> None:
    if not name or not all(c.isalnum() or c in "-_" for c in name) or name[0] in "-_":
        raise LabError(
            f"snapshot name {name!r} is not a plain name",
            hint="use letters, digits, '-' and '_' (e.g. provisioned)",
        )


def _remove(path: Path) -> None:
    if path.exists():
        shutil.rmtree(path)


def _save_state(state: Path | None, dst: Path) -> None:
    dst.mkdir(mode=0o700)
    if state is None or not state.is_dir():
        return
    for item in sorted(state.iterdir()):
        if item.name in _STATE_SKIPPED:
            continue
        if item.is_dir():
            lxc.copy_tree(item, dst / item.name)
        else:
            shutil.copy2(item, dst / item.name)


def _restore_state(src: Path, state: Path | None) -> None:
    if state is None:
        return
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    for item in sorted(src.iterdir()):
        target = state / item.name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        if item.is_dir():
            lxc.copy_tree(item, target)
        else:
            shutil.copy2(item, target)


def _each(fn: Callable[[HostSpec], object], hosts: Iterable[HostSpec]) -> None:
    specs = list(hosts)
    with ThreadPoolExecutor(max_workers=min(8, max(1, len(specs)))) as pool:
        for _ in pool.map(fn, specs):
            pass


def save(
    inv: Inventory, name: str = DEFAULT, state: Path | None = None, report: Report | None = None
) -> Snapshot:
    """Stop the lab's hosts, keep their deltas and ``state``, start them again. The lab
    must be up and its hosts as the inventory says (any earlier snapshot of that name is
    replaced only once the new one is complete)."""
    _check_name(name)
    started = time.monotonic()
    spec = spec_of(inv, template.name())
    key = key_of(inv, spec.hosts[0].template if spec.hosts else None)
    with locked(spec.lab):
        missing = [h.hostname for h in spec.hosts if lxc.marker(h.name) != lxc.spec_record(h)]
        if missing:
            raise LabError(
                f"lab {spec.lab} is not up as its inventory says (hosts {', '.join(missing)})",
                hint=f"run `cutover lab up {inv.name}` and provision it first",
            )
        base = store(spec.lab)
        base.mkdir(parents=True, exist_ok=True, mode=0o700)
        base.parent.chmod(0o700)
        partial = base / f".{name}.partial"
        _remove(partial)
        (partial / "hosts").mkdir(parents=True, mode=0o700)
        _each(lxc.stop, spec.hosts)
        try:
            _each(lambda h: lxc.copy_tree(lxc.delta(h.name), partial / "hosts" / h.hostname),
                  spec.hosts)  # fmt: skip
            _save_state(state, partial / "state")
        finally:
            keys = ensure_keypair(lab_dir(spec.lab), comment=f"cutover-lab-{spec.lab}")
            _each(lambda h: lxc.ensure(h, keys), spec.hosts)
        seconds = round(time.monotonic() - started, 1)
        meta = {
            "lab": spec.lab,
            "merger": inv.name,
            "environment": inv.environment,
            "key": key.digest,
            "parts": key.parts,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "hosts": [h.hostname for h in spec.hosts],
            "seconds": seconds,
        }
        (partial / META).write_text(json.dumps(meta, indent=2) + "\n")
        final = base / name
        old = base / f".{name}.old"
        _remove(old)
        if final.exists():
            final.rename(old)
        partial.rename(final)
        _remove(old)
    if report is not None:
        report("snapshot.saved", lab=spec.lab, name=name, key=key.short, seconds=seconds)
    found = find(spec.lab, name)
    assert found is not None
    return found


def usable(inv: Inventory, name: str = DEFAULT) -> tuple[Snapshot | None, list[str]]:
    """The snapshot ``name`` of this lab and the inputs that changed since it was taken
    (``(None, [])`` when there is none)."""
    lab = inv.env.network.lab or ""
    found = find(lab, name)
    if found is None:
        return None, []
    return found, found.changed(key_of(inv))


def restorer(
    inv: Inventory, name: str = DEFAULT, state: Path | None = None
) -> Callable[[LabSpec], None]:
    """What ``lab.up`` calls (under the lab's lock, after the bridge) to put the hosts of
    snapshot ``name`` in place of the lab's, and its state in ``state``. Refuses here,
    before anything changes, when there is no such snapshot or its key does not match."""
    _check_name(name)
    found, changed = usable(inv, name)
    lab = inv.env.network.lab or ""
    if found is None:
        have = ", ".join(s.name for s in listing(lab)) or "none"
        raise LabError(
            f"lab {lab} has no snapshot {name!r} (it has: {have})",
            hint=f"provision it and run `cutover lab snapshot {inv.name} {name}`",
        )
    if changed:
        raise LabError(
            f"snapshot {name!r} of lab {lab} was taken from other inputs "
            f"(changed: {', '.join(changed)})",
            hint=f"provision the lab and take it again: `cutover lab snapshot {inv.name} {name}`",
        )

    def restore(spec: LabSpec) -> None:
        wanted = {h.hostname for h in spec.hosts}
        if wanted != set(found.hosts):
            raise LabError(f"snapshot {name!r} holds other hosts than lab {lab}")
        _each(lambda h: lxc.replace_delta(h, found.path / "hosts" / h.hostname), spec.hosts)
        _restore_state(found.path / "state", state)

    return restore


def purge(lab: str) -> int:
    """Remove every snapshot of ``lab``; returns how many there were."""
    count = len(listing(lab))
    _remove(store(lab))
    return count


def remove(lab: str, name: str = DEFAULT) -> None:
    _check_name(name)
    _remove(store(lab) / name)
