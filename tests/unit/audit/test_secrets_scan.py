"""The secrets scanner: each form a leak takes is found (planted in files, archives and
SQLite), clean files and public halves of keys are not, and no report shows a value."""

from __future__ import annotations

import base64
import gzip
import io
import json
import secrets
import sqlite3
import tarfile
import urllib.parse
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from cutover import cli
from cutover.audit.secrets_scan import Secret, lab_secret_items, lab_secrets, scan_run
from cutover.secretstore import Secrets, ssha512

PASSWORD = secrets.token_urlsafe(18)
TSIG = base64.b64encode(secrets.token_bytes(32)).decode()


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def pem(key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey, fmt: str = "pem") -> str:
    if fmt == "openssh":
        encoding, form = serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH
    else:
        encoding, form = serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL
    return key.private_bytes(encoding, form, serialization.NoEncryption()).decode()


def scan(tmp_path: Path, *values: str) -> list:
    return scan_run(tmp_path, values or (PASSWORD, TSIG))


def test_clean_folder_has_no_hits(tmp_path: Path) -> None:
    (tmp_path / "log.txt").write_text("all good\n" * 1000)
    (tmp_path / "blob.bin").write_bytes(secrets.token_bytes(100_000))
    (tmp_path / "b64.txt").write_text(base64.b64encode(secrets.token_bytes(50_000)).decode())
    assert scan(tmp_path) == []


def test_plain_value_reports_file_and_offset_not_the_value(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    text = f"line one\ntask output: {{'password': '{PASSWORD}'}}\n"
    (tmp_path / "sub" / "stdout").write_text(text)
    hits = scan(tmp_path)
    assert [(h.path, h.offset, h.form) for h in hits] == [
        (tmp_path / "sub" / "stdout", text.index(PASSWORD), "plain")
    ]
    assert PASSWORD not in hits[0].describe() and PASSWORD not in hits[0].label


@pytest.mark.parametrize("shift", [0, 1, 2])
@pytest.mark.parametrize("urlsafe", [False, True])
def test_base64_inside_longer_base64_at_any_alignment(tmp_path: Path, shift, urlsafe) -> None:
    data = secrets.token_bytes(30 + shift) + PASSWORD.encode() + secrets.token_bytes(40)
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    (tmp_path / "payload.b64").write_bytes(encode(data))
    hits = scan(tmp_path)
    # the two alphabets agree unless the text holds + or /: either name is right then
    assert len(hits) == 1 and hits[0].form.startswith("base64"), hits


def test_tsig_key_decoded_raw_and_hex(tmp_path: Path) -> None:
    raw = base64.b64decode(TSIG)
    (tmp_path / "cache.bin").write_bytes(secrets.token_bytes(99) + raw + b"\0" * 10)
    (tmp_path / "debug.log").write_text(f"key bytes {raw.hex()}\n")
    forms = sorted((h.path.name, h.form) for h in scan(tmp_path))
    assert forms == [("cache.bin", "raw"), ("debug.log", "hex")]


def test_sqlite_cells_even_in_overflow_pages_and_the_wal(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "journal.sqlite")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE events (data TEXT)")
    # a cell far larger than a page: overflow pages may split the value on disk
    for pad in range(4090, 4100):
        db.execute("INSERT INTO events VALUES (?)", ("x" * pad + PASSWORD + "y" * 9000,))
    db.commit()
    hits = scan(tmp_path)  # still open: the rows are in the WAL, not yet in the database
    db.close()
    cells = {h.member for h in hits if h.member}
    assert len(cells) == 10 and all(m.startswith("events.data rowid ") for m in cells)


def test_tarball_and_gzip_members(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        content = f"secret {TSIG};\n".encode()
        info = tarfile.TarInfo("etc/bind/keys.conf")
        info.size = len(content)
        tar.addfile(info, io.BytesIO(content))
    (tmp_path / "backup.tgz").write_bytes(buffer.getvalue())
    (tmp_path / "events.jsonl.gz").write_bytes(gzip.compress(json.dumps(PASSWORD).encode()))
    found = sorted((h.path.name, h.member, h.form) for h in scan(tmp_path))
    assert found == [
        ("backup.tgz", "etc/bind/keys.conf", "plain"),
        ("events.jsonl.gz", "events.jsonl", "plain"),
    ]


@pytest.mark.parametrize("fmt", ["pem", "openssh"])
def test_private_key_copied_or_json_escaped_but_not_its_public_half(tmp_path: Path, fmt) -> None:
    key = ed25519.Ed25519PrivateKey.generate() if fmt == "openssh" else ec_key()
    text = pem(key, fmt)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "public.pem").write_bytes(public)
    if fmt == "openssh":
        ssh_public = key.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        (tmp_path / "id.pub").write_bytes(ssh_public)
    assert scan(tmp_path, text) == []  # the public half is no leak

    (tmp_path / "copy.key").write_text(text)
    (tmp_path / "event.json").write_text(json.dumps({"stdout": text}))
    names = {h.path.name for h in scan(tmp_path, text)}
    assert names == {"copy.key", "event.json"}


def test_secrets_of_a_merger_environment(tmp_path: Path) -> None:
    merger = tmp_path / "inventories" / "demo"
    (merger / "lab").mkdir(parents=True)
    (merger / "lab" / "inventory.yml").write_text("network: {lab: dm1}\n")
    state = tmp_path / "state"
    provision = state / "provision" / "demo-lab"
    (provision / "pki").mkdir(parents=True)
    store = Secrets(provision / "secrets.json", {})
    store.tsig("demo.gov.vn")
    store.mailbox("a@demo.gov.vn")
    store.xmpp("a@demo.gov.vn")
    store.save()
    (provision / "doveadm-password").write_text(PASSWORD + "\n")
    (provision / "pki" / "ca.key").write_text(pem(ec_key()))
    (state / "labs" / "dm1").mkdir(parents=True)
    (state / "labs" / "dm1" / "id_ed25519").write_text(
        pem(ed25519.Ed25519PrivateKey.generate(), "openssh")
    )
    (state / "pulumi-passphrase").write_text(secrets.token_urlsafe(24))

    items = lab_secret_items(merger, "lab", state=state)
    labels = sorted(s.label.split(" #")[0] for s in items)
    assert labels == [
        "doveadm-password",
        "mail a@demo.gov.vn",
        "mail a@demo.gov.vn",
        "private key ca.key",
        "private key id_ed25519",
        "pulumi-passphrase",
        "tsig demo.gov.vn",
        "xmpp a@demo.gov.vn",
        "xmpp a@demo.gov.vn",
        "xmpp a@demo.gov.vn",
    ]
    plain = lab_secrets(merger, "lab", state=state)
    assert PASSWORD in plain and store.data["tsig"]["demo.gov.vn"] in plain

    run = tmp_path / "run"
    run.mkdir()
    (run / "ok.log").write_text("nothing to see\n")
    assert scan_run(run, items) == [] and scan_run(run, plain) == []
    hashed = store.data["mail"]["a@demo.gov.vn"]["hash"]
    (run / "passwd").write_text(f"a@demo.gov.vn:{hashed}\n")
    assert [h.label for h in scan_run(run, items)] == ["mail a@demo.gov.vn #1"]


def test_hash_and_short_values(tmp_path: Path) -> None:
    hashed = ssha512(PASSWORD)
    (tmp_path / "f").write_text(f"x{hashed}x short")
    assert len(scan(tmp_path, hashed, "short")) == 1  # under 8 characters: not a secret
    assert Secret.text("t", "abc").forms == ()


def test_cli_exits_1_on_hits_and_0_when_clean(tmp_path: Path, monkeypatch, capsys) -> None:
    merger = tmp_path / "demo"
    (merger / "lab").mkdir(parents=True)
    (merger / "merger.yml").write_text("merger: demo\n")
    state = tmp_path / "state"
    store = Secrets(state / "provision" / "demo-lab" / "secrets.json", {})
    store.mailbox("a@demo.gov.vn")
    store.save()
    monkeypatch.setenv("CUTOVER_STATE_DIR", str(state))
    run = tmp_path / "run"
    run.mkdir()
    (run / "clean.log").write_text("ok\n")
    args = ["audit", "secrets", str(run), "--merger", str(merger), "--env", "lab"]
    assert cli.main(args) == 0
    password = store.data["mail"]["a@demo.gov.vn"]["password"]
    (run / "leak.log").write_text(f"pw={password}\n")
    assert cli.main(args) == 1
    captured = capsys.readouterr()
    assert password not in captured.out + captured.err
    assert f"{run / 'leak.log'}:3: mail a@demo.gov.vn #0 (plain)" in captured.out
    assert captured.err.strip().splitlines()[-1].startswith("error: 1 secret value(s) found")


@pytest.mark.security
def test_percent_encoded_and_utf16_forms(tmp_path: Path) -> None:
    odd = "p@ss/w0rd+&=?é " + secrets.token_hex(6)
    quoted = urllib.parse.quote(odd, safe="")
    (tmp_path / "url.log").write_text(f"GET /login?pw={quoted} 200\n")
    (tmp_path / "lower.log").write_text(f"pw={quoted.lower()}\n")
    (tmp_path / "form.log").write_text("pw=" + urllib.parse.quote_plus(odd))
    (tmp_path / "win.txt").write_bytes(("password: " + odd).encode("utf-16"))
    found = {(h.path.name, h.form) for h in scan(tmp_path, odd)}
    assert found == {
        ("url.log", "percent"),
        ("lower.log", "percent"),
        ("form.log", "percent"),
        ("win.txt", "utf-16"),
    }


@pytest.mark.security
def test_an_unreadable_file_is_reported_and_the_scan_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a-locked").write_text("whatever")
    (tmp_path / "b-leak").write_text(f"pw {PASSWORD}")
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "a-locked":
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    hits = scan(tmp_path)
    assert [(h.path.name, h.label) for h in hits] == [
        ("a-locked", "unreadable"),
        ("b-leak", hits[1].label),
    ]
    assert hits[1].form == "plain"


@pytest.mark.security
def test_cli_audits_the_provisioning_runs(tmp_path: Path, monkeypatch) -> None:
    merger = tmp_path / "demo"
    (merger / "lab").mkdir(parents=True)
    (merger / "merger.yml").write_text("merger: demo\n")
    state = tmp_path / "state"
    store = Secrets(state / "provision" / "demo-lab" / "secrets.json", {})
    store.mailbox("a@demo.gov.vn")
    store.save()
    monkeypatch.setenv("CUTOVER_STATE_DIR", str(state))
    events = state / "provision" / "demo-lab" / "runs" / "20260101T000000" / "job_events"
    events.mkdir(parents=True)
    (events / "1.json").write_text('{"event": "runner_on_ok"}')
    args = ["audit", "secrets", "--provisioning", "--merger", str(merger), "--env", "lab"]
    assert cli.main(args) == 0
    password = store.data["mail"]["a@demo.gov.vn"]["password"]
    (events / "2-partial.json").write_text(json.dumps({"res": {"password": password}}))
    assert cli.main(args) == 1
