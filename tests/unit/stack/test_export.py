"""A staging or production stack's exported inventory is written where provisioning and
runs read it, with the stack's own host keys beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from cutover import provision
from cutover.errors import StackError
from cutover.inventory import find_merger_dir, load
from cutover.stack.export import write_inventory


class FakeHandle:
    name = "quangngai-kontum-production"

    def __init__(self, outputs: dict[str, Any]) -> None:
        self._outputs = outputs

    def outputs(self) -> dict[str, Any]:
        return self._outputs


def test_the_exported_inventory_is_what_provisioning_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUTOVER_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("CUTOVER_SSH_KEY", str(tmp_path / "operator-key"))
    inv = load(find_merger_dir("quangngai-kontum"), "production")
    hosts = {h.name: {"address": f"10.99.0.{i}", "owner": h.owner} for i, h in
             enumerate(inv.hosts, start=10)}  # fmt: skip
    known = [f"10.99.0.10,{inv.hosts[0].name},{inv.hosts[0].fqdn} ssh-ed25519 AAAAC3Nz"]
    with pytest.raises(StackError, match="exports no hosts"):
        write_inventory(FakeHandle({}), inv)  # type: ignore[arg-type]
    written = write_inventory(FakeHandle({"hosts": hosts, "known_hosts": known}), inv)  # type: ignore[arg-type]
    assert provision.ansible_inventory(inv) == written
    assert written.with_suffix(".known_hosts").read_text() == known[0] + "\n"
    text = written.read_text()
    assert "{{" not in text  # no placeholder left for Ansible to template
    data = yaml.safe_load(text)
    found = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, dict) and "ansible_host" in value:
                    found[key] = value
                walk(value)

    walk(data)
    assert {name: v["ansible_host"] for name, v in found.items()} == {
        n: h["address"] for n, h in hosts.items()
    }
    assert str(tmp_path / "operator-key") in text
    assert str(written.with_suffix(".known_hosts")) in text
