"""Find secret values in what a run wrote: logs, journal, artifacts, report.

:func:`lab_secrets` collects every secret a merger environment's provisioning and lab
generated (TSIG keys, mailbox and XMPP passwords and their hashes, the doveadm password,
the Pulumi passphrase, private keys of the lab CA, the sites and the lab's SSH key);
:func:`scan_run` looks for them under a folder, binary-safe, inside SQLite databases
(cells, including what is still in the WAL), tarballs, gzip and zip members, and in the
forms a leak takes: plain, base64 (at any alignment inside a longer base64 text, both
alphabets), hex and raw bytes of binary keys, and any PEM line that carries private key
bits. A :class:`Hit` says where and which secret by label, never the value itself.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import gzip
import hashlib
import io
import re
import shutil
import sqlite3
import tarfile
import tempfile
import urllib.parse
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from cutover import paths
from cutover import secretstore as secretlib

# Shorter values would match ordinary text; the project never generates such secrets.
MIN_SECRET_LEN = 8
# Indexing: a form is found through one of its first _STEP grams of _GRAM bytes, looked up
# every _STEP positions of a token, so the Python loop runs len/_STEP times per token.
_GRAM = 12
_STEP = 8
_INDEXED = _GRAM + _STEP - 1  # shorter forms are searched with bytes.find instead
_TOKEN = re.compile(rb"[A-Za-z0-9+/=_\-]{%d,}" % _INDEXED)
_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----\s*(.*?)\s*-----END \1-----", re.DOTALL)
_ARCHIVES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
_MAX_DEPTH = 3  # archives inside archives: deep enough for artifacts, bounded for bombs


@dataclass(frozen=True)
class Secret:
    """One secret as the byte patterns that would betray it. ``label`` names where it came
    from (``tsig kontum.gov.vn``), never what it is."""

    label: str
    forms: tuple[tuple[str, bytes], ...]

    @classmethod
    def text(cls, label: str, value: str) -> Secret:
        raw = value.encode()
        forms: list[tuple[str, bytes]] = [("plain", raw), *_base64_forms(raw)]
        # as a URL or form field carries it, and as Windows tools and some logs write text
        percent = urllib.parse.quote(value, safe="")
        forms += [("percent", percent.encode()), ("percent", percent.lower().encode())]
        forms.append(("percent", urllib.parse.quote_plus(value, safe="").encode()))
        forms += [("utf-16", value.encode("utf-16-le")), ("utf-16", value.encode("utf-16-be"))]
        decoded = _as_base64(value)
        if decoded is not None:  # a base64 key (TSIG): its bytes may leak decoded
            forms += [("raw", decoded), ("hex", decoded.hex().encode())]
        return cls(label, _dedupe(forms))

    @classmethod
    def private_key(cls, label: str, pem: str) -> Secret:
        """Every PEM block's private bits: the key's raw secret bytes (raw, hex, base64)
        and each body line that carries at least 8 of them (copied or JSON-escaped, a
        leaked key file shows those lines verbatim)."""
        forms: list[tuple[str, bytes]] = []
        for match in _PEM.finditer(pem):
            lines = [line.strip() for line in match.group(2).splitlines() if ":" not in line]
            lines = [line for line in lines if line]
            try:
                blob = base64.b64decode("".join(lines))
            except binascii.Error:
                continue
            secret = _private_bytes(match.group(0))
            offset = blob.find(secret) if secret else -1
            if secret and offset >= 0:
                forms += [("raw", secret), ("hex", secret.hex().encode())]
                forms += _base64_forms(secret)
            position = 0
            for line in lines:
                width = len(line) * 3 // 4
                start, end = position, position + width
                position = end
                overlap = min(end, offset + len(secret)) - max(start, offset) if secret else 0
                # without the key's numbers (unknown format) every line counts
                if (offset < 0 or overlap >= 8) and len(line) >= MIN_SECRET_LEN:
                    forms.append(("pem-line", line.encode()))
        return cls(label, _dedupe(forms))


@dataclass(frozen=True)
class Hit:
    """A secret found: in ``path`` (inside ``member`` of it, when an archive member or a
    SQLite cell) at byte ``offset``, in ``form``."""

    path: Path
    offset: int
    label: str
    form: str
    member: str | None = None

    def describe(self) -> str:
        inside = f" [{self.member}]" if self.member else ""
        return f"{self.path}{inside}:{self.offset}: {self.label} ({self.form})"


def _dedupe(forms: Iterable[tuple[str, bytes]]) -> tuple[tuple[str, bytes], ...]:
    seen: dict[bytes, str] = {}
    for name, pattern in forms:
        if len(pattern) >= MIN_SECRET_LEN:
            seen.setdefault(pattern, name)
    return tuple((name, pattern) for pattern, name in seen.items())


def _base64_forms(raw: bytes) -> list[tuple[str, bytes]]:
    """``raw`` base64-encoded as it shows inside any longer base64 text: for each of the
    three byte alignments, the characters that depend on ``raw`` alone."""
    forms: list[tuple[str, bytes]] = []
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw)
        first = -(-8 * shift // 6)  # the first character holding no byte of the prefix
        last = 8 * (shift + len(raw)) // 6  # characters past this touch what follows
        core = encoded[first:last]
        forms.append(("base64", core))
        forms.append(("base64url", core.replace(b"+", b"-").replace(b"/", b"_")))
    return forms


def _as_base64(value: str) -> bytes | None:
    """The bytes of a base64 key of at least 16 bytes (TSIG secrets), else None."""
    if len(value) < 24 or len(value) % 4:
        return None
    try:
        decoded = base64.b64decode(value, validate=True)
    except binascii.Error:
        return None
    return decoded if len(decoded) >= 16 else None


def _private_bytes(pem: str) -> bytes | None:
    """The secret scalar of a PEM private key (EC, Ed25519/X25519/Ed448, RSA's d, DSA's
    x), as stored in the file; None when the key cannot be read (encrypted, unknown)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x25519

    data = pem.encode()
    try:
        if "OPENSSH" in pem:
            key: object = serialization.load_ssh_private_key(data, password=None)
        else:
            key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, binascii.Error):
        return None
    if isinstance(key, ed25519.Ed25519PrivateKey | x25519.X25519PrivateKey | ed448.Ed448PrivateKey):
        return key.private_bytes_raw()
    number: int | None = None
    size = 0
    if isinstance(key, ec.EllipticCurvePrivateKey):
        number, size = key.private_numbers().private_value, (key.key_size + 7) // 8
    elif isinstance(key, rsa.RSAPrivateKey):
        number = key.private_numbers().d
    elif isinstance(key, dsa.DSAPrivateKey):
        number = key.private_numbers().x
    if number is None:
        return None
    return number.to_bytes(max(size, (number.bit_length() + 7) // 8), "big")


class Matcher:
    """All forms of all secrets, indexed for one pass over each file's bytes."""

    def __init__(self, secrets: Iterable[Secret]) -> None:
        self._grams: dict[bytes, list[tuple[int, bytes, str, str]]] = {}
        self._short: list[tuple[bytes, str, str]] = []
        self._token_cache: dict[bytes, list[tuple[int, str, str]]] = {}
        self.count = 0
        for secret in secrets:
            self.count += 1
            for form, pattern in secret.forms:
                if len(pattern) >= _INDEXED and _TOKEN.fullmatch(pattern):
                    for lead in range(_STEP):
                        gram = pattern[lead : lead + _GRAM]
                        self._grams.setdefault(gram, []).append((lead, pattern, secret.label, form))
                else:  # short, or bytes outside the token alphabet (raw keys)
                    self._short.append((pattern, secret.label, form))

    def _in_token(self, token: bytes) -> list[tuple[int, str, str]]:
        cached = self._token_cache.get(token)
        if cached is not None:
            return cached
        found: set[tuple[int, str, str]] = set()
        grams = self._grams
        for i in range(0, len(token) - _GRAM + 1, _STEP):
            for lead, pattern, label, form in grams.get(token[i : i + _GRAM], ()):
                start = i - lead
                if start >= 0 and token.startswith(pattern, start):
                    found.add((start, label, form))
        result = sorted(found)
        if len(self._token_cache) < 200_000:  # logs repeat their lines: remember tokens
            self._token_cache[token] = result
        return result

    def find(self, data: bytes) -> Iterator[tuple[int, str, str]]:
        """(offset, label, form) of every secret form in ``data``."""
        if self._grams:
            for match in _TOKEN.finditer(data):
                for start, label, form in self._in_token(match.group()):
                    yield match.start() + start, label, form
        for pattern, label, form in self._short:
            at = data.find(pattern)
            while at >= 0:
                yield at, label, form
                at = data.find(pattern, at + 1)


def _hits(matcher: Matcher, data: bytes, path: Path, member: str | None) -> list[Hit]:
    seen: set[tuple[int, str]] = set()
    hits: list[Hit] = []
    for offset, label, form in matcher.find(data):
        if (offset, label) in seen:  # one hit per place, in its first (best) form
            continue
        seen.add((offset, label))
        hits.append(Hit(path, offset, label, form, member))
    return hits


def _sqlite_cells(path: Path) -> Iterator[tuple[str, bytes]]:
    """(where, bytes) of every text and blob cell, read from a private copy of the
    database and its WAL (opening the original could checkpoint or block it)."""
    with tempfile.TemporaryDirectory(prefix="cutover-audit-") as tmp:
        copy = Path(tmp) / "db.sqlite"
        shutil.copyfile(path, copy)
        for suffix in ("-wal",):
            side = path.with_name(path.name + suffix)
            if side.is_file():
                shutil.copyfile(side, copy.with_name(copy.name + suffix))
        db = sqlite3.connect(copy)
        try:
            tables = [
                row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
            for table in tables:
                quoted = '"' + table.replace('"', '""') + '"'
                cursor = db.execute(f"SELECT rowid, * FROM {quoted}")  # noqa: S608 -- names from the db
                columns = [d[0] for d in cursor.description][1:]
                for row in cursor:
                    for column, cell in zip(columns, row[1:], strict=True):
                        if isinstance(cell, str):
                            yield f"{table}.{column} rowid {row[0]}", cell.encode()
                        elif isinstance(cell, bytes):
                            yield f"{table}.{column} rowid {row[0]}", cell
        finally:
            db.close()


def _members(name: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    """(member name, bytes) of an archive or compressed file; nothing for other files."""
    lower = name.lower()
    with contextlib.suppress(tarfile.TarError, zipfile.BadZipFile, OSError, EOFError):
        if lower.endswith(_ARCHIVES):
            with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                for member in tar:
                    handle = tar.extractfile(member) if member.isfile() else None
                    if handle is not None:
                        yield member.name, handle.read()
        elif lower.endswith(".gz"):
            yield name.removesuffix(".gz"), gzip.decompress(data)
        elif lower.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for info in archive.infolist():
                    if not info.is_dir():
                        yield info.filename, archive.read(info)


def _scan_bytes(
    matcher: Matcher, data: bytes, path: Path, member: str | None, depth: int
) -> list[Hit]:
    hits = _hits(matcher, data, path, member)
    if depth >= _MAX_DEPTH:
        return hits
    for name, content in _members(member or path.name, data):
        inner = f"{member}/{name}" if member else name
        hits += _scan_bytes(matcher, content, path, inner, depth + 1)
    return hits


UNREADABLE = "unreadable"  # a Hit's label when the file could not be read at all


def scan_file(path: Path, matcher: Matcher) -> list[Hit]:
    """The secrets in ``path``; a file that cannot be read is itself a finding (what it
    holds is unknown), and the scan goes on with the next one."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return [Hit(path, 0, UNREADABLE, f"not read: {exc.strerror}")]
    hits = _scan_bytes(matcher, data, path, None, 0)
    if data.startswith(b"SQLite format 3\0"):
        with contextlib.suppress(sqlite3.Error, OSError):
            for where, cell in _sqlite_cells(path):
                hits += _hits(matcher, cell, path, where)
    return hits


def scan_run(run_dir: Path, secret_values: Iterable[str | Secret]) -> list[Hit]:
    """Every place under ``run_dir`` (recursively; symlinks are not followed) where one
    of ``secret_values`` appears. Plain strings holding a PEM private key are treated as
    keys; other strings are labelled by a short hash, never by their value."""
    secrets = list(_as_secrets(secret_values))
    matcher = Matcher(secrets)
    if not matcher.count:
        return []
    hits: list[Hit] = []
    files = [run_dir] if run_dir.is_file() else sorted(run_dir.rglob("*"))
    for path in files:
        if path.is_symlink() or not path.is_file():
            continue
        hits += scan_file(path, matcher)
    return hits


def _as_secrets(values: Iterable[str | Secret]) -> Iterator[Secret]:
    for value in values:
        if isinstance(value, Secret):
            yield value
            continue
        if len(value) < MIN_SECRET_LEN:
            continue
        tag = hashlib.sha256(value.encode()).hexdigest()[:8]  # tells secrets apart, safely
        if "PRIVATE KEY-----" in value:
            yield Secret.private_key(f"private key {tag}", value)
        else:
            yield Secret.text(f"secret {tag}", value)


def lab_secret_items(merger_dir: Path, env: str, *, state: Path | None = None) -> list[Secret]:
    """Every secret generated for ``env`` of the merger in ``merger_dir``, labelled:
    provisioning (``<state>/provision/<merger>-<env>/``: secrets.json, doveadm-password,
    pki/*.key), the lab's SSH key (``<state>/labs/<lab>/``) and the Pulumi passphrase."""
    root = state if state is not None else paths.state_dir()
    found: list[Secret] = []
    provision = root / "provision" / f"{merger_dir.name}-{env}"
    store = secretlib.load(provision / "secrets.json")
    for kind in ("tsig", "mail", "xmpp"):
        for name, entry in sorted(store.data.get(kind, {}).items()):
            values = [entry] if isinstance(entry, str) else []
            if isinstance(entry, dict):
                values = [
                    str(entry[k])
                    for k in ("password", "hash", "stored_key", "server_key")
                    if k in entry
                ]
            for i, value in enumerate(values):
                if len(value) >= MIN_SECRET_LEN:
                    found.append(Secret.text(f"{kind} {name} #{i}", _hash_body(value)))
    for name in ("doveadm-password",):
        _text_file(found, provision / name, name)
    _text_file(found, root / "pulumi-passphrase", "pulumi-passphrase")
    keys = sorted((provision / "pki").glob("*.key"))
    lab = _lab_name(merger_dir, env)
    if lab:
        keys.append(root / "labs" / lab / "id_ed25519")
    for key in keys:
        if key.is_file():
            found.append(Secret.private_key(f"private key {key.name}", key.read_text()))
    return found


def _hash_body(value: str) -> str:
    """``{SSHA512}base64``: the base64 is the secret part (the scheme prefix is public)."""
    return value.split("}", 1)[1] if value.startswith("{") and "}" in value else value


def _text_file(found: list[Secret], path: Path, label: str) -> None:
    if path.is_file():
        value = path.read_text(encoding="utf-8").strip()
        if len(value) >= MIN_SECRET_LEN:
            found.append(Secret.text(label, value))


def _lab_name(merger_dir: Path, env: str) -> str | None:
    """The lab's name from the environment's inventory (``network.lab``), read as plain
    YAML: the audit must work even on an inventory that no longer validates."""
    try:
        data = yaml.safe_load((merger_dir / env / "inventory.yml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    network = data.get("network") if isinstance(data, dict) else None
    lab = network.get("lab") if isinstance(network, dict) else None
    return str(lab) if lab else None


def lab_secrets(merger_dir: Path, env: str, *, state: Path | None = None) -> list[str]:
    """The same secrets as :func:`lab_secret_items`, as plain values (private keys as
    their PEM text) for :func:`scan_run`. Never print them."""
    root = state if state is not None else paths.state_dir()
    values: list[str] = []
    provision = root / "provision" / f"{merger_dir.name}-{env}"
    values += [_hash_body(v) for v in secretlib.load(provision / "secrets.json").values()]
    for path in (provision / "doveadm-password", root / "pulumi-passphrase"):
        if path.is_file():
            values.append(path.read_text(encoding="utf-8").strip())
    keys = sorted((provision / "pki").glob("*.key"))
    lab = _lab_name(merger_dir, env)
    if lab:
        keys.append(root / "labs" / lab / "id_ed25519")
    values += [key.read_text(encoding="utf-8") for key in keys if key.is_file()]
    return [v for v in values if len(v) >= MIN_SECRET_LEN]
