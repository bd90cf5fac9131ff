"""The provinces' own sites: their hosts' SSH host keys as each site gives them.

A site's ``known_hosts`` file is OpenSSH's format: ``PATTERNS KEYTYPE BASE64 [COMMENT]``,
patterns separated by commas (a name, an FQDN, an address, ``[host]:port``). Hashed
entries (``|1|...``) cannot be matched to a host without trying every name, so they are
refused with the way to write the file unhashed; ``@cert-authority`` and ``@revoked``
lines are refused too (the hosts' own keys are asked for). The file is data: nothing in
it is run or templated.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

from cutover.errors import ConfigError, Location

KEY_TYPES = (
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)


def read_known_hosts(path: Path) -> dict[str, list[str]]:
    """Pattern (lower case, without ``[]:port``) -> the ``KEYTYPE BASE64`` keys given for it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(
            f"known_hosts file {path} does not exist",
            where=Location(path),
            hint="ask the site for its hosts' SSH host keys and keep them in that file",
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read known_hosts file {path}: {exc}", where=Location(path)
        ) from exc
    keys: dict[str, list[str]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = Location(path, number)
        fields = line.split()
        if fields[0].startswith("@"):
            raise ConfigError(
                f"{fields[0]} lines are not host keys", where=where,
                hint="list each host's own key: PATTERNS KEYTYPE BASE64",
            )  # fmt: skip
        if fields[0].startswith("|1|"):
            raise ConfigError(
                "a hashed entry names no host that can be checked", where=where,
                hint="write the file unhashed (names and addresses in clear)",
            )  # fmt: skip
        if len(fields) < 3 or fields[1] not in KEY_TYPES:
            raise ConfigError(
                "not a known_hosts line (PATTERNS KEYTYPE BASE64)", where=where,
                hint=f"KEYTYPE is one of {', '.join(KEY_TYPES)}",
            )  # fmt: skip
        try:
            base64.b64decode(fields[2], validate=True)
        except binascii.Error as exc:
            raise ConfigError(
                "the key is not base64", where=where, hint="copy the line as the site gave it"
            ) from exc
        key = f"{fields[1]} {fields[2]}"
        for pattern in fields[0].split(","):
            name = pattern.lower()
            if name.startswith("[") and "]:" in name:
                name = name[1 : name.index("]:")]
            keys.setdefault(name, [])
            if key not in keys[name]:
                keys[name].append(key)
    return keys
