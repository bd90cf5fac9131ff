"""Host keys are always checked by cutover's playbook runs, whatever the environment says."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from cutover.ansible.runner import run_playbook

pytestmark = pytest.mark.security

PLAYBOOK = """\
- name: Say what Ansible was configured with
  hosts: all
  gather_facts: false
  tasks:
    - name: Write HOST_KEY_CHECKING as Ansible sees it
      ansible.builtin.copy:
        content: "{{ lookup('ansible.builtin.config', 'HOST_KEY_CHECKING') | to_json }}"
        dest: "{{ out }}"
        mode: "0600"
"""


def test_an_inherited_false_does_not_turn_checking_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANSIBLE_HOST_KEY_CHECKING", "False")
    (tmp_path / "play.yml").write_text(PLAYBOOK, encoding="utf-8")
    out = tmp_path / "out.json"
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    result = run_playbook(
        tmp_path / "play.yml",
        private_data_dir=tmp_path / "run",
        inventory={"all": {"hosts": {"local": local}}},
        extravars={"out": str(out)},
        envvars={"ANSIBLE_HOST_KEY_CHECKING": "False"},
    )
    assert result.ok, result.summary()
    assert json.loads(out.read_text(encoding="utf-8")) is True
