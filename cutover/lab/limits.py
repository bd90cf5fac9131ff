"""Kernel limits the lab needs on the host machine.

Every container's systemd (and its services) opens inotify instances, all counted against
root on the host: the default 128 instances is exhausted by about 15 containers and the
next one's init exits at once. The lab raises the limit (never lowers it)."""

from __future__ import annotations

from pathlib import Path

from cutover.errors import LabError

WANTED = {
    Path("/proc/sys/fs/inotify/max_user_instances"): 8192,
    Path("/proc/sys/fs/inotify/max_user_watches"): 524288,
}


def ensure() -> dict[str, int]:
    """Raise each limit to at least its wanted value; returns those it changed."""
    changed = {}
    for path, wanted in WANTED.items():
        try:
            current = int(path.read_text())
            if current < wanted:
                path.write_text(f"{wanted}\n")
                changed[path.name] = wanted
        except OSError as exc:
            raise LabError(
                f"cannot raise {path.name} to {wanted}: {exc}",
                hint=f"run as root, or set it yourself: sysctl -w fs.inotify.{path.name}={wanted}",
            ) from exc
    return changed
