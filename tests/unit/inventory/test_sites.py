"""The provinces' own sites (issue 16): as-is hosts are on their province's site, with
the SSH keys the site gives; outside the lab nothing else is accepted, and every refusal
is one error naming the file, the line and the fix."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from cutover.errors import ConfigError
from cutover.inventory import load
from cutover.provision import hosts_provisioned

pytestmark = pytest.mark.realsite

INVENTORIES = Path(__file__).resolve().parents[3] / "inventories"
MERGER = "quangngai-kontum"
MAIL_KONTUM = "services: [mail], address: 10.51.2.23"


def _copy(tmp_path: Path) -> tuple[Path, Path]:
    copy = tmp_path / MERGER
    shutil.copytree(INVENTORIES / MERGER, copy)
    return copy, copy / "production" / "inventory.yml"


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


CASES: dict[str, tuple[Callable[[Path], None], str, str]] = {
    # case: (edit of production/inventory.yml, message part, text of the cited line)
    "as-is host without a site": (
        lambda f: _edit(f, "  kontum:\n    network:", "  kontumdc:\n    network:"),
        "is kontum's as-is host: name the site it is on",
        "name: ns1-kontum",
    ),
    "unknown site": (
        lambda f: _edit(f, MAIL_KONTUM, "services: [mail], site: kontumx, address: 10.51.2.23"),
        "unknown site 'kontumx'",
        "name: mail-kontum",
    ),
    "built host on a site": (
        lambda f: _edit(
            f, "owner: merged, services: [mail],", "owner: merged, services: [mail], site: kontum,"
        ),
        "is built by the merged province",
        "name: mail-merged",
    ),
    "address outside its site": (
        lambda f: _edit(f, MAIL_KONTUM, "services: [mail], address: 10.51.1.23"),
        "address 10.51.1.23 is outside 10.51.2.0/24",
        "name: mail-kontum",
    ),
    "site without known_hosts": (
        lambda f: _edit(f, "    network: 10.51.2.0/24\n    known_hosts: known_hosts/kontum\n",
                        "    network: 10.51.2.0/24\n"),
        "trusted on first use",
        "  kontum:",
    ),
    "site overlapping the merged site": (
        lambda f: _edit(f, "network: 10.51.2.0/24", "network: 10.51.0.0/23"),
        "overlaps the merged site's 10.51.0.0/24",
        "network: 10.51.0.0/23",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bad_site_is_one_error_with_file_line_and_fix(case: str, tmp_path: Path) -> None:
    edit, message, cited = CASES[case]
    copy, env_file = _copy(tmp_path)
    edit(env_file)
    with pytest.raises(ConfigError) as info:
        load(copy, "production")
    err = info.value
    assert message in err.message, err.message
    assert err.where is not None and err.where.path == env_file
    assert err.where.line == _line_of(env_file, cited), (err.where, cited)
    assert err.hint


def test_a_host_the_site_gave_no_key_for_is_refused(tmp_path: Path) -> None:
    copy, env_file = _copy(tmp_path)
    known = copy / "production" / "known_hosts" / "kontum"
    _edit(known, "mail-kontum,mail.kontum.gov.vn,10.51.2.23 ", "other,other.example,10.9.9.9 ")
    with pytest.raises(ConfigError) as info:
        load(copy, "production")
    err = info.value
    assert "site 'kontum''s known_hosts has no key for it" in err.message
    assert err.where is not None and err.where.path == env_file
    assert err.where.line == _line_of(env_file, "name: mail-kontum")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("|1|c2FsdA==|aGFzaA== ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA", "hashed entry"),
        ("@cert-authority *.kontum.gov.vn ssh-ed25519 AAAAC3Nz", "are not host keys"),
        ("mail.kontum.gov.vn ssh-dss AAAAB3NzaC1kc3M=", "not a known_hosts line"),
        ("mail.kontum.gov.vn ssh-ed25519 not*base64", "not base64"),
    ],
)
def test_a_known_hosts_line_that_is_not_a_host_key_is_cited(
    line: str, message: str, tmp_path: Path
) -> None:
    copy, _ = _copy(tmp_path)
    known = copy / "production" / "known_hosts" / "kontum"
    lines = known.read_text().splitlines()
    known.write_text("\n".join([*lines[:4], line, *lines[4:]]) + "\n")
    with pytest.raises(ConfigError) as info:
        load(copy, "production")
    err = info.value
    assert message in err.message
    assert err.where is not None and err.where.path == known and err.where.line == 5
    assert err.hint is not None or "base64" in message


def test_as_is_hosts_get_the_keys_their_site_gave(tmp_path: Path) -> None:
    inv = load(INVENTORIES / MERGER, "production")
    known = INVENTORIES / MERGER / "production" / "known_hosts" / "kontum"
    line = next(x for x in known.read_text().splitlines() if x.startswith("mail-kontum,"))
    assert inv.site_host_keys["mail-kontum"] == (" ".join(line.split()[1:3]),)
    assert not any(inv.existing(h) for h in inv.built)
    assert {h.name for h in inv.hosts if inv.existing(h)} == set(inv.site_host_keys)


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_provisioning_outside_the_lab_touches_only_the_merged_province_hosts(
    environment: str,
) -> None:
    inv = load(INVENTORIES / MERGER, environment)
    only = hosts_provisioned(inv)
    assert only is not None
    assert set(only) == {h.name for h in inv.hosts if h.owner == "merged"}
    # the lab builds the twin of the as-is provinces too, so it provisions every host
    assert hosts_provisioned(load(INVENTORIES / MERGER, "lab")) is None
