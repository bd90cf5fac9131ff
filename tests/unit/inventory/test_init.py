"""`cutover init` (issue 18, part 3): a new merger's skeleton from the project's table of
the 63 former provinces loads as it is, its plans compose with the library, its lab takes
a /24 and a lab name no other merger uses, and bad requests change nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cutover.errors import ConfigError
from cutover.inventory import load, skeleton
from cutover.inventory.model import MERGED, PROVINCE_SERVICES, SHARED, Service
from cutover.plan.validate import load_plan

pytestmark = pytest.mark.discover

INVENTORIES = Path(__file__).resolve().parents[3] / "inventories"


@pytest.fixture
def inventories(tmp_path: Path) -> Path:
    copy = tmp_path / "inventories"
    shutil.copytree(INVENTORIES, copy)
    return copy


def test_the_table_has_the_63_provinces_each_unique() -> None:
    table = skeleton.provinces()
    assert len(table) == 63
    for attr in ("domain", "slug", "code"):
        values = [getattr(p, attr) for p in table.values()]
        assert len(set(values)) == 63, attr
    assert all(p.domain.endswith(".gov.vn") for p in table.values())
    # the two mergers kept by hand agree with the table
    for merger in ("quangngai-kontum", "cantho-haugiang-soctrang"):
        for p in load(INVENTORIES / merger, "lab").merger.provinces:
            row = table[p.id]
            assert (row.name, row.domain, row.slug, row.code) == (
                p.name, p.domain, p.slug, p.code
            )  # fmt: skip


@pytest.mark.parametrize(
    ("merger", "target", "absorbed"),
    [
        ("tuyenquang-hagiang", "tuyenquang", ["hagiang"]),
        ("laocai-yenbai", "laocai", ["yenbai"]),
        ("vinhlong-bentre-travinh", "vinhlong", ["bentre", "travinh"]),
    ],
)
def test_a_new_merger_loads_and_its_plans_compose(
    inventories: Path, merger: str, target: str, absorbed: list[str]
) -> None:
    written = skeleton.write(inventories, merger, target, absorbed)
    assert {p.relative_to(inventories / merger).as_posix() for p in written} == {
        "merger.yml", "lab/inventory.yml",
        "plans/cutover.yml", "plans/dns-mail.yml", "plans/portal-video.yml",
    }  # fmt: skip
    inv = load(inventories / merger, "lab")
    assert inv.target.id == target
    assert [p.id for p in inv.former] == absorbed
    for owner in [target, *absorbed, MERGED]:
        for service in PROVINCE_SERVICES:
            assert inv.hosts_for(owner, service), (owner, service)
    assert inv.hosts_for(SHARED, Service.RESOLVER) and inv.hosts_for(SHARED, Service.PARENT_DNS)
    # every province has the probe mailbox the verification sends to
    addresses = {m.address for m in inv.mailboxes}
    for p in inv.merger.provinces:
        assert f"probe@{p.domain}" in addresses
    for plan in ("cutover", "dns-mail", "portal-video"):
        loaded = load_plan(inventories / merger / "plans" / f"{plan}.yml")
        assert loaded.steps, plan
    # its lab shares no /24, no lab name and no bridge with another merger's
    others = [
        load(d, "lab") for d in sorted(inventories.iterdir())
        if d.name != merger and (d / "merger.yml").exists()
    ]  # fmt: skip
    assert others
    for other in others:
        assert not inv.network.overlaps(other.network), other.name
        assert inv.env.network.lab != other.env.network.lab
        assert inv.env.network.bridge != other.env.network.bridge


def test_two_new_mergers_get_two_ranges(inventories: Path) -> None:
    skeleton.write(inventories, "tuyenquang-hagiang", "tuyenquang", ["hagiang"])
    skeleton.write(inventories, "laocai-yenbai", "laocai", ["yenbai"])
    a = load(inventories / "tuyenquang-hagiang", "lab")
    b = load(inventories / "laocai-yenbai", "lab")
    assert not a.network.overlaps(b.network)


@pytest.mark.parametrize(
    ("merger", "target", "absorbed", "message"),
    [
        ("quangngai-kontum", "quangngai", ["kontum"], "exists already"),
        ("x-y", "tuyenqang", ["hagiang"], "not one of the 63 former provinces"),
        ("x-y", "tuyenquang", ["tuyenquang"], "named twice"),
        ("x-y", "tuyenquang", [], "no province to absorb"),
        ("X_Y", "tuyenquang", ["hagiang"], "is not a slug"),
        ("../x", "tuyenquang", ["hagiang"], "is not a slug"),
    ],
)
def test_a_bad_request_is_refused_and_writes_nothing(
    inventories: Path, merger: str, target: str, absorbed: list[str], message: str
) -> None:
    before = sorted(p.relative_to(inventories) for p in inventories.rglob("*"))
    with pytest.raises(ConfigError) as info:
        skeleton.write(inventories, merger, target, absorbed)
    assert message in info.value.message
    assert info.value.hint
    assert sorted(p.relative_to(inventories) for p in inventories.rglob("*")) == before
