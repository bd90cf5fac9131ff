"""Hostile text in every free-text inventory field arrives on the lab's hosts literally.

One string holds a Jinja expression that would create a file on the controller, a Jinja
block tag, a zone-file directive, HTML with a script, quotes and a backslash. It is put
in the merger's title, each province's name, each room's title, each hand-kept mailbox's
name and a TXT record of each zone; the lab is provisioned from that inventory (its
as-is verification passing), and each value is read back with a real client: DNS
(dnspython at each province's server), HTTPS (the portal's page, the video index page,
parsed as HTML), XMPP (the room's title, as Prosody tells it) and IMAP (a seeded
message's To header and body). Nothing may be templated, and no file may be created."""

from __future__ import annotations

import email
import email.policy
import json
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import dns.message
import dns.query
import dns.rdatatype
import httpx
import pytest
from labkit import CutoverLab, needs_lab

from cutover.clients import imap
from cutover.inventory import load
from cutover.inventory.model import Service
from cutover.paths import cache_dir
from cutover.verify import context
from cutover.verify.video import session

pytestmark = [pytest.mark.integration, pytest.mark.security]

IDS = ["quangngai", "kontum"]
MARKER = cache_dir() / "literal-arrival" / "templated"


def hostile(marker: Path) -> str:
    return (
        f"{{{{ lookup('pipe', 'touch {marker}') }}}} {{% raw %}} $INCLUDE /etc/passwd "
        "<script>alert(1)</script> & \"q\" 'q' \\"
    )


class _Texts(HTMLParser):
    """The text of each element of a page, by tag."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: dict[str, list[str]] = {}
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self._open.append(tag)
        self.texts.setdefault(tag, []).append("")

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._open:
            self.texts[self._open[-1]][-1] += data


def texts(html: str) -> dict[str, list[str]]:
    parser = _Texts()
    parser.feed(html)
    return parser.texts


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CutoverLab, str]]:
    reason = needs_lab()
    if reason:
        pytest.fail(reason)
    kit = CutoverLab(tmp_path_factory.mktemp("literal"), IDS, prefix="la")
    # One fixed path, in the machine's cache: the hostile text (so the inventory, so the
    # snapshot key) is the same every run and a provisioned lab is restored; the test never
    # deletes it, so a templating bug found once keeps failing until someone looks.
    marker = MARKER
    marker.parent.mkdir(parents=True, exist_ok=True)  # where `touch` would succeed
    assert not marker.exists(), f"{marker}: an earlier run templated inventory text"
    text = hostile(marker)
    quoted = json.dumps(text)  # a JSON string is a YAML double-quoted scalar
    merger = kit.dir / "merger.yml"
    yaml_text = merger.read_text(encoding="utf-8")
    yaml_text = yaml_text.replace('title: "Test merger"', f"title: {quoted}")
    yaml_text = yaml_text.replace('name: "Quảng Ngãi"', f"name: {json.dumps('Quảng Ngãi ' + text)}")
    yaml_text = yaml_text.replace('name: "Kon Tum"', f"name: {json.dumps('Kon Tum ' + text)}")
    for pid in IDS:
        yaml_text = yaml_text.replace(f'name: "Probe {pid}"', f"name: {quoted}")
    yaml_text = yaml_text.replace('title: "Giao ban ', f"title: {json.dumps(text)[:-1]} ")
    yaml_text = yaml_text.replace(
        "    records:\n", f"    records:\n      - {{name: hostile, type: TXT, value: {quoted}}}\n"
    )
    merger.write_text(yaml_text, encoding="utf-8")
    try:
        kit.up_and_provision()
        yield kit, text
    finally:
        kit.cleanup()
    assert not marker.exists(), "a Jinja expression from the inventory ran on the controller"


@pytest.fixture(scope="module")
def ctx(lab: tuple[CutoverLab, str]) -> Iterator[object]:
    kit, _ = lab
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CUTOVER_STATE_DIR", str(kit.state))
        inv = load(kit.dir, "lab")
        yield context(inv)


def test_nothing_was_templated(lab: tuple[CutoverLab, str]) -> None:
    assert not MARKER.exists()


def test_txt_records_answer_the_text(lab: tuple[CutoverLab, str], ctx: object) -> None:
    _, text = lab
    inv = ctx.inv  # type: ignore[attr-defined]
    for zone in inv.merger.zones:
        server = inv.host(zone.ns[0])
        query = dns.message.make_query(f"hostile.{zone.name}", "TXT")
        answer = dns.query.udp(query, str(server.address), timeout=5)
        strings = [r.strings for rrset in answer.answer for r in rrset]
        assert strings == [(text.encode(),)], (zone.name, strings)


def test_portal_pages_show_the_province_name(lab: tuple[CutoverLab, str], ctx: object) -> None:
    _, text = lab
    inv = ctx.inv  # type: ignore[attr-defined]
    with httpx.Client(verify=ctx.tls(), timeout=10) as client:  # type: ignore[attr-defined]
        for province in inv.merger.provinces:
            host = inv.hosts_for(province.id, Service.PORTAL)[0]
            response = client.get(
                f"https://{host.address}/",
                headers={"Host": province.domain},
                extensions={"sni_hostname": province.domain},
            )
            assert response.status_code == 200, response.text[:300]
            assert "<script>" not in response.text
            header = texts(response.text)["header"]
            assert header == [f"Cổng thông tin điện tử {province.name}"]
            assert province.name.endswith(text)


def test_video_index_and_rooms_keep_their_titles(lab: tuple[CutoverLab, str], ctx: object) -> None:
    _, text = lab
    inv = ctx.inv  # type: ignore[attr-defined]
    with httpx.Client(verify=ctx.tls(), timeout=10) as client:  # type: ignore[attr-defined]
        for province in inv.merger.provinces:
            host = inv.hosts_for(province.id, Service.VIDEO)[0]
            web = f"meet.{province.domain}"
            response = client.get(
                f"https://{host.address}/", headers={"Host": web}, extensions={"sni_hostname": web}
            )
            assert response.status_code == 200, response.text[:300]
            assert "<script>alert" not in response.text
            rooms = [r for r in inv.rooms if r.province == province.id]
            items = texts(response.text)["li"]
            assert items == [f"{r.title} ({r.name}@conference.{province.domain})" for r in rooms]
            account = next(a for a in inv.accounts if a.province == province.id)
            password = ctx.secrets.xmpp(account.jid)["password"]  # type: ignore[attr-defined]
            room = f"{rooms[0].name}@conference.{province.domain}"
            ok, detail, title = session(
                ctx,  # type: ignore[arg-type]
                account.jid,
                password,
                str(host.address),
                5222,
                room,
            )
            assert ok, detail
            assert title == rooms[0].title and text in title


def test_mailbox_names_reach_the_messages(lab: tuple[CutoverLab, str], ctx: object) -> None:
    _, text = lab
    inv = ctx.inv  # type: ignore[attr-defined]
    for province in inv.merger.provinces:
        host = inv.hosts_for(province.id, Service.MAIL)[0]
        address = f"probe@{province.domain}"
        password = ctx.secrets.mailbox(address)["password"]  # type: ignore[attr-defined]
        tls = ctx.tls()  # type: ignore[attr-defined]
        with imap.logged_in(host.fqdn, str(host.address), address, password, tls) as session:
            session.select("INBOX", readonly=True)
            _, data = session.fetch("1", "(BODY.PEEK[])")
        raw = next(part[1] for part in data if isinstance(part, tuple))
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert message["To"].addresses[0].display_name == text
        assert message.get_content().startswith(f"Kính gửi {text},")
