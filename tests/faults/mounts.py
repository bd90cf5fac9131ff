"""Real filesystems for fault tests: a small tmpfs that can be filled, and a bind mount
that can be switched read-only. The tests run as root; every mount is undone in teardown
(lazily if a process still holds it), so a failed test leaves no mount behind."""

from __future__ import annotations

import errno
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BALLAST = "ballast"


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, text=True)


def _umount(target: Path) -> None:
    if subprocess.run(["umount", str(target)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(target)], capture_output=True)


@contextmanager
def tmpfs(target: Path, size_mib: int) -> Iterator[Path]:
    """A tmpfs of ``size_mib`` at ``target``: a filesystem that really fills up."""
    target.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size_mib}m,mode=0755", "tmpfs", str(target))
    try:
        yield target
    finally:
        _umount(target)


@contextmanager
def bind(source: Path, target: Path) -> Iterator[Path]:
    """``source`` bound at ``target``; :func:`read_only` flips it (root ignores chmod)."""
    source.mkdir(parents=True, exist_ok=True)
    target.mkdir(parents=True, exist_ok=True)
    _mount("--bind", str(source), str(target))
    try:
        yield target
    finally:
        _umount(target)


def read_only(target: Path, on: bool = True) -> None:
    _mount("-o", f"remount,{'ro' if on else 'rw'},bind", str(target))


def fill(root: Path) -> Path:
    """Write a ballast file until the filesystem says ENOSPC; returns it (delete to free)."""
    path = root / BALLAST
    chunk = b"\0" * (1 << 16)
    try:
        with path.open("ab") as handle:
            while True:
                handle.write(chunk)
                handle.flush()
    except OSError as exc:
        assert exc.errno == errno.ENOSPC, exc
    # the last partial blocks: byte by byte is too slow, 512 is small enough
    try:
        with path.open("ab") as handle:
            while True:
                handle.write(chunk[:512])
                handle.flush()
    except OSError as exc:
        assert exc.errno == errno.ENOSPC, exc
    return path
