"""The lab's own SSH key pair and the known_hosts file built from the hosts' real keys."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cutover.errors import LabError


@dataclass(frozen=True)
class KeyPair:
    private: Path
    public_line: str  # "ssh-ed25519 AAAA... comment"

    def pkey(self) -> paramiko.PKey:
        return paramiko.Ed25519Key.from_private_key_file(str(self.private))


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` readable by its owner only, never visible half-written."""
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    tmp.replace(path)


def ensure_keypair(directory: Path, comment: str) -> KeyPair:
    """The lab's key pair in ``directory`` (mode 0700), made if missing or incomplete."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    directory.chmod(0o700)
    private, public = directory / "id_ed25519", directory / "id_ed25519.pub"
    if not (private.exists() and public.exists()):
        key = Ed25519PrivateKey.generate()
        pub = key.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        # Public first: a half-made pair (killed here) lacks the private key and is redone.
        public.write_text(f"{pub.decode()} {comment}\n")
        _write_private(
            private,
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.OpenSSH,
                serialization.NoEncryption(),
            ),
        )
    private.chmod(0o600)
    return KeyPair(private, public.read_text().strip())


def parse_public(line: str) -> paramiko.PKey:
    """A host key from its OpenSSH public line ("ssh-ed25519 AAAA... [comment]")."""
    try:
        key_type, data = line.split()[:2]
        return paramiko.PKey.from_type_string(key_type, base64.b64decode(data))
    except Exception as exc:  # paramiko raises several types for bad key data
        raise LabError(f"cannot read SSH host key {line[:40]!r}") from exc


def write_known_hosts(path: Path, entries: Iterable[tuple[list[str], str]]) -> None:
    """``entries``: (names and addresses, public key line) per host."""
    lines = [f"{','.join(names)} {' '.join(key.split()[:2])}\n" for names, key in entries]
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(lines))
    tmp.replace(path)
