"""The inventory model: the real mergers load, generated data is deterministic, and every
kind of bad input is one ConfigError citing the right file and line."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from cutover.errors import ConfigError
from cutover.inventory import find_merger_dir, load
from cutover.inventory.model import MERGED, PROVINCE_SERVICES, SHARED

FIXTURES = Path(__file__).parent / "fixtures"
INVENTORIES = Path(__file__).resolve().parents[3] / "inventories"
MERGERS = ("quangngai-kontum", "cantho-haugiang-soctrang")
ERROR_CASES = sorted(p.name for p in FIXTURES.iterdir() if p.name != "valid")


@pytest.mark.parametrize("merger", MERGERS)
@pytest.mark.parametrize("environment", ["lab", "staging", "production"])
def test_real_inventories_load(merger, environment):
    inv = load(INVENTORIES / merger, environment)
    assert inv.name == merger
    for owner in [*(p.id for p in inv.merger.provinces), MERGED]:
        for service in PROVINCE_SERVICES:
            assert inv.hosts_for(owner, service), (owner, service)
    assert len({m.new_address for m in inv.mailboxes}) == len(inv.mailboxes)


@pytest.mark.parametrize(
    ("merger", "network", "bridge", "former"),
    [
        ("quangngai-kontum", "198.18.1.0/24", "cutlab-qnkt", 1),
        ("cantho-haugiang-soctrang", "198.18.2.0/24", "cutlab-cths", 2),
    ],
)
def test_lab_networks_and_provinces(merger, network, bridge, former):
    inv = load(INVENTORIES / merger, "lab")
    assert str(inv.network) == network
    assert inv.env.network.bridge == bridge
    assert len(inv.former) == former
    assert inv.hosts_for(SHARED, "parent_dns") and inv.hosts_for(SHARED, "resolver")


@pytest.mark.parametrize("merger", MERGERS)
def test_lab_mail_has_cross_province_collisions_resolved(merger):
    inv = load(INVENTORIES / merger, "lab")
    per_province = {p.id: 0 for p in inv.merger.provinces}
    for m in inv.mailboxes:
        per_province[m.province] += 1
    assert min(per_province.values()) >= 50
    generated = [old for old in inv.collisions if not old.startswith(("vanphong@", "sokhcn@"))]
    assert generated, "the lab data must contain local-part collisions between provinces"
    target = inv.target.domain
    for old, new in inv.collisions.items():
        assert new.endswith("@" + target)
        assert new.split("@")[0] != old.split("@")[0] or old.endswith("@" + target)


def test_generated_data_is_deterministic_and_scales(tmp_path):
    # the lab's generate: at a production site's size (only the lab generates)
    copy = tmp_path / "cantho-haugiang-soctrang"
    shutil.copytree(INVENTORIES / "cantho-haugiang-soctrang", copy)
    lab = copy / "lab" / "inventory.yml"
    text = re.sub(r"mailboxes_per_province: \d+", "mailboxes_per_province: 3000", lab.read_text())
    lab.write_text(text)
    a = load(copy, "lab")
    b = load(copy, "lab")
    assert a.mailboxes == b.mailboxes and a.url_map == b.url_map
    assert len(a.mailboxes) >= 3 * 3000


def test_url_map_targets_merged_portal():
    inv = load(INVENTORIES / "quangngai-kontum", "lab")
    assert (
        inv.url_map["https://kontum.gov.vn/Pages/home.aspx"] == "https://quangngai.gov.vn/kon-tum/"
    )
    assert all(new.startswith("https://quangngai.gov.vn/kon-tum/") for new in inv.url_map.values())


def test_former_rooms_are_prefixed_on_the_merged_server():
    inv = load(INVENTORIES / "cantho-haugiang-soctrang", "lab")
    names = {(r.province, r.new_name) for r in inv.rooms}
    assert ("haugiang", "hau-giang-giao-ban-ubnd") in names
    assert ("cantho", "giao-ban-ubnd") in names
    assert len({r.new_name for r in inv.rooms}) == len(inv.rooms)


def test_valid_fixture_loads():
    inv = load(FIXTURES / "valid", "lab")
    assert inv.collisions["vanphong@haugiang.gov.vn"] == "vanphong.hg@cantho.gov.vn"
    assert inv.collisions["vanphong@soctrang.gov.vn"] == "vanphong.st@cantho.gov.vn"


@pytest.mark.parametrize("case", ERROR_CASES)
def test_bad_inventory_is_one_error_with_file_and_line(case):
    expect = yaml.safe_load((FIXTURES / case / "expect.yml").read_text())
    with pytest.raises(ConfigError) as info:
        load(FIXTURES / case, "lab")
    err = info.value
    assert expect["message"] in err.message
    assert err.where is not None
    assert err.where.path == FIXTURES / case / expect["file"]
    assert err.where.line == expect["line"]
    assert err.hint, "every inventory error says how to fix it"


def test_unknown_merger_lists_known_ones():
    with pytest.raises(ConfigError) as info:
        find_merger_dir("no-such-merger", INVENTORIES)
    assert "quangngai-kontum" in (info.value.hint or "")


def test_unknown_environment():
    with pytest.raises(ConfigError):
        load(INVENTORIES / "quangngai-kontum", "prod")


def test_misspelt_key_is_named_with_the_field_it_should_be(tmp_path):
    """A typo makes a key unknown and a required field missing: the error names the typo
    (where the fix is) and suggests the field, not "address: Field required"."""
    merger = tmp_path / "valid"
    shutil.copytree(FIXTURES / "valid", merger)
    inv_file = merger / "lab" / "inventory.yml"
    lines = inv_file.read_text().splitlines(keepends=True)
    lines[5] = lines[5].replace("address:", "adress:")
    inv_file.write_text("".join(lines))
    with pytest.raises(ConfigError) as info:
        load(merger, "lab")
    err = info.value
    assert "adress: Extra inputs are not permitted" in err.message
    assert err.where is not None and err.where.line == 6
    assert err.hint == "did you mean 'address'?"


@pytest.mark.parametrize("merger", MERGERS)
@pytest.mark.parametrize("environment", ["staging", "production"])
def test_only_the_lab_makes_up_data(merger, environment, tmp_path):
    """Staging and production hold the sites' real data: a generate: there is refused at
    its line, and without it nothing is generated."""
    inv = load(INVENTORIES / merger, environment)
    assert not any(m.generated for m in inv.mailboxes)
    copy = tmp_path / merger
    shutil.copytree(INVENTORIES / merger, copy)
    env_file = copy / environment / "inventory.yml"
    lines = env_file.read_text().splitlines()
    env_file.write_text("\n".join([*lines, "generate:", "  seed: 1", ""]))
    with pytest.raises(ConfigError) as info:
        load(copy, environment)
    err = info.value
    assert "only the lab may" in err.message
    assert err.where is not None and err.where.path == env_file
    assert err.where.line == len(lines) + 1
