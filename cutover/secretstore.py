"""Secrets of one merger environment: TSIG keys, mailbox and XMPP passwords.

Generated on first provision into ``.state/provision/<merger>-<env>/secrets.json`` (mode
0600, git-ignored, never printed) and kept: a second provision reuses them, so it changes
nothing. Hosts only ever receive derived values (password hashes, SCRAM keys); the plain
passwords stay on the controller for the verifier's real clients. The lab CA key is made
by Ansible (community.crypto) next to this file, in ``pki/``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cutover import paths
from cutover.inventory import Inventory

SCRAM_ITERATIONS = 10_000  # Prosody 0.12's default: a login never rewrites the account file


def ssha512(password: str, salt: bytes | None = None) -> str:
    """Dovecot's ``{SSHA512}``: base64(sha512(password + salt) + salt)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.sha512(password.encode() + salt).digest()
    return "{SSHA512}" + base64.b64encode(digest + salt).decode()


def scram_sha1(password: str, salt: str, iterations: int = SCRAM_ITERATIONS) -> dict[str, Any]:
    """What Prosody's mod_auth_internal_hashed stores: hex stored_key and server_key."""
    salted = hashlib.pbkdf2_hmac("sha1", password.encode(), salt.encode(), iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha1).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha1).digest()
    return {
        "salt": salt,
        "iteration_count": iterations,
        "stored_key": hashlib.sha1(client_key).hexdigest(),  # noqa: S324 -- SCRAM-SHA-1 is SHA-1
        "server_key": server_key.hex(),
    }


def _password() -> str:
    return secrets.token_urlsafe(18)


def env_dir(inv: Inventory) -> Path:
    """``.state/provision/<merger>-<env>/``: secrets.json, pki/, secret-vars.json, runs/,
    private/ (what cutover runs fetch that holds credentials, per run)."""
    path = paths.state_dir() / "provision" / f"{inv.name}-{inv.environment}"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


@dataclass
class Secrets:
    path: Path
    data: dict[str, Any]

    def tsig(self, name: str) -> str:
        keys = self.data.setdefault("tsig", {})
        if name not in keys:
            keys[name] = base64.b64encode(secrets.token_bytes(32)).decode()  # hmac-sha256
        return str(keys[name])

    def mailbox(self, address: str) -> dict[str, str]:
        boxes = self.data.setdefault("mail", {})
        if address not in boxes:
            password = _password()
            boxes[address] = {"password": password, "hash": ssha512(password)}
        return dict(boxes[address])

    def xmpp(self, jid: str) -> dict[str, Any]:
        accounts = self.data.setdefault("xmpp", {})
        if jid not in accounts:
            password = _password()
            salt = secrets.token_hex(16)
            accounts[jid] = {"password": password, **scram_sha1(password, salt)}
        return dict(accounts[jid])

    def values(self) -> Iterable[str]:
        """Every secret string (for tests: none may appear in logs or artifacts)."""
        yield from self.data.get("tsig", {}).values()
        for box in self.data.get("mail", {}).values():
            yield box["password"]
            yield box["hash"]
        for account in self.data.get("xmpp", {}).values():
            yield account["password"]
            yield account["stored_key"]
            yield account["server_key"]

    def save(self) -> None:
        write_private(self.path, json.dumps(self.data, indent=2, sort_keys=True) + "\n")


def write_private(path: Path, text: str) -> None:
    """Write atomically with mode 0600 from the start (never world-readable, even briefly)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    tmp.replace(path)


def load(path: Path) -> Secrets:
    data = json.loads(path.read_text()) if path.exists() else {}
    return Secrets(path, data)
