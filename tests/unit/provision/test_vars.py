"""The provisioning variables built from an inventory, and the secrets behind them."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from pathlib import Path

import pytest

from cutover import secretstore as secretlib
from cutover.inventory import find_merger_dir, load
from cutover.provision import vars as varslib

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests/unit/inventory/fixtures"


@pytest.fixture(scope="module")
def qnkt():
    return load(find_merger_dir("quangngai-kontum", ROOT / "inventories"), "lab")


@pytest.fixture
def built(qnkt, tmp_path):
    sec = secretlib.load(tmp_path / "secrets.json")
    public, secret = varslib.build(qnkt, sec, str(tmp_path / "pki"))
    return qnkt, sec, public, secret


def test_zones_have_soa_ns_glue_and_apex(built):
    _, _, public, _ = built
    zones = {z["name"]: z for z in public["cutover_dns"]["zones"]}
    qn = zones["quangngai.gov.vn"]
    assert qn["primary"] == "ns1-quangngai"
    assert qn["secondaries"] == ["ns2-quangngai"]
    assert qn["secondary_addresses"] == ["198.18.1.12"]
    records = {(r["name"], r["type"], r["value"]) for r in qn["records"]}
    assert ("@", "NS", "ns1.quangngai.gov.vn.") in records
    assert ("ns1", "A", "198.18.1.11") in records
    assert ("@", "A", "198.18.1.14") in records  # the portal at the bare domain
    assert ("www", "CNAME", "portal.quangngai.gov.vn.") in records
    assert ("ns1.ttdl", "A", "198.18.1.101") in records  # merged hosts live in the zone
    # The parent delegates each province with glue, and only the shared hosts are its own.
    gov = zones["gov.vn"]
    grecords = {(r["name"], r["type"], r["value"]) for r in gov["records"]}
    assert ("kontum", "NS", "ns2.kontum.gov.vn.") in grecords
    assert ("ns2.kontum", "A", "198.18.1.22") in grecords
    assert ("resolver.lab", "A", "198.18.1.3") in grecords
    assert not any(n.startswith("mail.") for n, _, _ in grecords)


def test_sites_per_host(built):
    qnkt, _, public, _ = built
    mail = public["cutover_mail"]
    kontum = [m["address"] for m in mail["mail-kontum"]["mailboxes"]]
    assert "probe@kontum.gov.vn" in kontum
    assert all(a.endswith("@kontum.gov.vn") for a in kontum)
    merged = [m["address"] for m in mail["mail-merged"]["mailboxes"]]
    assert len(merged) == len(set(merged)) == len(qnkt.mailboxes)
    assert "probe.kt@quangngai.gov.vn" in merged
    assert not any(m["seed"] for m in mail["mail-merged"]["mailboxes"])  # filled by the cutover
    portal = public["cutover_portal"]["portal-merged"]
    assert "/kon-tum/" in portal["pages"]
    assert {f["path"] for f in portal["files"]} >= {"index.html", "kon-tum/index.html"}
    video = public["cutover_video"]["video-kontum"]
    assert video["muc"] == "conference.kontum.gov.vn"
    assert video["data_dir"] == "kontum%2egov%2evn"
    assert any(f["path"].endswith("/persistent.dat") for f in video["room_files"])


def test_no_secret_in_public_vars(built):
    _, sec, public, secret = built
    text = json.dumps(public)
    values = list(sec.values())
    assert values
    assert not [v for v in values if v in text]
    assert set(secret) == {"cutover_tsig", "cutover_mail_hashes", "cutover_xmpp_creds"}
    assert not any("password" in c for c in secret["cutover_xmpp_creds"].values())


def test_secrets_are_stable_private_and_hashed(built, tmp_path):
    qnkt, sec, _, secret = built
    sec.save()
    path = tmp_path / "secrets.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = secretlib.load(path)
    _, secret2 = varslib.build(qnkt, again, str(tmp_path / "pki"))
    assert secret2 == secret  # a second provision gets the same keys and hashes
    box = again.mailbox("probe@kontum.gov.vn")
    raw = base64.b64decode(box["hash"].removeprefix("{SSHA512}"))
    digest, salt = raw[:64], raw[64:]
    assert hashlib.sha512(box["password"].encode() + salt).digest() == digest


def test_scram_keys_as_prosody_stores_them():
    import hmac

    cred = secretlib.scram_sha1("pencil", "salt", 4096)
    salted = hashlib.pbkdf2_hmac("sha1", b"pencil", b"salt", 4096)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha1).digest()
    assert cred["stored_key"] == hashlib.sha1(client_key).hexdigest()
    assert cred["server_key"] == hmac.new(salted, b"Server Key", hashlib.sha1).hexdigest()


def test_prosody_encoding():
    assert varslib.prosody_encode("conference.kon-tum.gov.vn") == (
        "conference%2ekon%2dtum%2egov%2evn"
    )


@pytest.mark.parametrize(
    "case", ["missing-host-for-service", "duplicate-mailbox", "zone-without-ns", "url-map-nowhere"]
)
def test_bad_inventory_provisions_nothing(case, tmp_path, monkeypatch):
    """`cutover provision` with a bad inventory exits 2 with file:line before any run."""
    from typer.testing import CliRunner

    from cutover.cli import app

    called = []
    import cutover.provision as provmod

    monkeypatch.setattr(provmod, "run_playbook", lambda *a, **k: called.append(a))
    monkeypatch.setenv("CUTOVER_STATE_DIR", str(tmp_path / "state"))
    expect = (FIXTURES / case / "expect.yml").read_text()
    result = CliRunner().invoke(app, ["provision", str(FIXTURES / case), "--env", "lab"])
    assert result.exit_code != 0
    assert called == []
    assert not (tmp_path / "state" / "provision").exists()  # not even secrets were made
    assert isinstance(result.exception, Exception)
    text = getattr(result.exception, "one_line", lambda: str(result.exception))()
    file_line = [ln for ln in expect.splitlines() if ln.startswith(("file:", "line:"))]
    assert f"{file_line[0].split(': ')[1]}:{file_line[1].split(': ')[1]}" in text
