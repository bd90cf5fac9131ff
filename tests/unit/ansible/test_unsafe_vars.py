"""Strings handed to Ansible arrive literally: never templated, in values or in keys.

Runs the real ansible-playbook (connection local) through the project's runner, with
hostile text as public and as secret variables: a Jinja expression that would create a
file, a zone-file directive, HTML and quotes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from cutover.ansible import varsfile
from cutover.ansible.runner import run_playbook

pytestmark = pytest.mark.security

PLAYBOOK = """\
- name: Write what we were given
  hosts: all
  gather_facts: false
  tasks:
    - name: Dump the variables as JSON
      ansible.builtin.copy:
        content: "{{ {'title': title, 'nested': nested, 'secret': secret} | to_json }}"
        dest: "{{ out }}"
        mode: "0600"
"""


def hostile(marker: Path) -> str:
    return (
        f"{{{{ lookup('pipe', 'touch {marker}') }}}}{{% raw %}}\n$INCLUDE /etc/bind/keys.conf"
        " <script>alert(1)</script> \"quoted\" 'single' Quảng Ngãi \\ {{ 7 * 7 }}"
    )


def test_variables_and_secrets_are_never_templated(tmp_path: Path) -> None:
    marker = tmp_path / "templated"
    text = hostile(marker)
    out = tmp_path / "out.json"
    (tmp_path / "play.yml").write_text(PLAYBOOK, encoding="utf-8")
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    inventory = {"all": {"hosts": {"local": local}}}
    result = run_playbook(
        tmp_path / "play.yml",
        private_data_dir=tmp_path / "run",
        inventory=inventory,
        extravars={"title": text, "nested": {text: [text, 7, True]}, "out": str(out)},
        secret_vars={"secret": text},
    )
    assert result.ok, result.summary()
    got = json.loads(out.read_text(encoding="utf-8"))
    assert got == {"title": text, "nested": {text: [text, 7, True]}, "secret": text}
    assert not marker.exists()


def test_the_file_keeps_types_and_marks_every_string() -> None:
    text = varsfile.dumps({"a": "x", "n": 3, "f": 1.5, "b": False, "z": None, "l": ["y", 2]})
    assert text.count("!unsafe") == 8  # six keys, "x" and "y": keys and strings only
    assert "3" in text and "false" in text and "null" in text
