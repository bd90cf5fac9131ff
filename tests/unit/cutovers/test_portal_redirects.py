"""The redirect map: rendered from the inventory's URL map for one or many former
provinces, quoted safely, sized for nginx's hash, refusing ambiguous entries."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from cutover.cutovers.portal import redirects
from cutover.errors import ConfigError
from cutover.inventory import load
from cutover.inventory import portal as plan

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module", params=["quangngai-kontum", "cantho-haugiang-soctrang"])
def inv(request):
    return load(ROOT / "inventories" / request.param, "lab")


def render_for(inv):
    info = plan.build(inv)
    return redirects.render(
        inv.url_map,
        {f["domain"]: f["names"] for f in info["former"]},
        {f["domain"]: f["landing"] for f in info["former"]},
    )


def entries(text: str) -> dict[str, str]:
    body = text.split('map "$cutover_old_portal$uri" $cutover_redirect {', 1)[1]
    return dict(re.findall(r'^    "([^"]+)" "([^"]+)";$', body, re.M))


def test_every_mapped_url_is_in_the_map(inv):
    rendered = render_for(inv)
    got = entries(rendered.text)
    assert rendered.entries == len(inv.url_map) == len(got)
    for old, new in inv.url_map.items():
        domain, path = plan.split(old)
        assert got[domain + path] == new


def test_every_former_province_has_names_and_a_landing_page(inv):
    info = plan.build(inv)
    assert len(info["former"]) == len(inv.merger.provinces) - 1  # 1 or 2 here: any count
    text = render_for(inv).text
    for p in inv.former:
        assert f'"www.{p.domain}" "{p.domain}";' in text
        assert f'"{p.domain}" "https://{inv.target.domain}/{p.slug}/";' in text
    assert "default $cutover_old_landing;" in text
    assert inv.target.domain not in info["old_names"]


def test_legacy_cms_urls_of_every_former_province_are_mapped():
    inv = load(ROOT / "inventories" / "cantho-haugiang-soctrang", "lab")
    got = entries(render_for(inv).text)
    assert got["haugiang.gov.vn/Pages/home.aspx"] == "https://cantho.gov.vn/hau-giang/"
    assert got["soctrang.gov.vn/Pages/home.aspx"] == "https://cantho.gov.vn/soc-trang/"


def test_unsafe_characters_are_encoded_not_interpolated():
    text = redirects.render(
        {'https://a.gov.vn/x y$"z.html': "https://b.gov.vn/$host"},
        {"a.gov.vn": ["a.gov.vn"]},
        {"a.gov.vn": "https://b.gov.vn/a/"},
    ).text
    assert '"a.gov.vn/x%20y%24%22z.html" "https://b.gov.vn/%24host";' in text


def test_entries_differing_only_by_case_are_refused_when_they_disagree():
    hosts = {"a.gov.vn": ["a.gov.vn"]}
    landing = {"a.gov.vn": "https://b.gov.vn/a/"}
    same = {
        "https://a.gov.vn/X.html": "https://b.gov.vn/1",
        "https://a.gov.vn/x.html": "https://b.gov.vn/1",
    }
    assert redirects.render(same, hosts, landing).entries == 1
    differ = {**same, "https://a.gov.vn/x.html": "https://b.gov.vn/2"}
    with pytest.raises(ConfigError, match="differ only by case"):
        redirects.render(differ, hosts, landing)


def test_queries_and_foreign_hosts_are_refused():
    hosts = {"a.gov.vn": ["a.gov.vn"]}
    with pytest.raises(ConfigError, match="query"):
        redirects.render({"https://a.gov.vn/p?id=1": "https://b.gov.vn/"}, hosts, {})
    with pytest.raises(ConfigError, match="no old portal"):
        redirects.render({"https://c.gov.vn/p": "https://b.gov.vn/"}, hosts, {})


@pytest.mark.parametrize(("entries_", "key", "size", "bucket"), [
    (1_000, 60, 2048, 128), (100_000, 60, 262144, 128), (10, 200, 2048, 256),
])  # fmt: skip
def test_hash_sizes_fit(entries_, key, size, bucket):
    assert redirects.hash_sizes(entries_, key) == (size, bucket)


def test_large_map_renders_quickly_and_completely():
    url_map = {
        f"https://a.gov.vn/tin-tuc/bai-{i}.html": f"https://b.gov.vn/a/{i}" for i in range(100_000)
    }
    rendered = redirects.render(
        url_map, {"a.gov.vn": ["a.gov.vn"]}, {"a.gov.vn": "https://b.gov.vn/a/"}
    )
    assert rendered.entries == 100_000
    assert "map_hash_max_size 262144;" in rendered.text


def test_nginx_accepts_the_rendered_map(tmp_path, inv):
    assert shutil.which("nginx"), "nginx is not installed: scripts/setup.sh installs it"
    (tmp_path / "map.conf").write_text(render_for(inv).text)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{ access_log off; include {tmp_path}/map.conf;\n"
        "server { listen 127.0.0.1:1; return 301 $cutover_redirect; } }\n"
    )
    result = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
