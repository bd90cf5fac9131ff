"""Variables files for ``ansible-playbook -e @file`` in which nothing is ever templated.

Ansible templates every string it finds in extra vars: an inventory value such as a room
title ``{{ lookup('pipe', 'id') }}`` would run a command on the controller. Every string
we hand to Ansible is data, so each one (keys too: Ansible templates keys) is written
with YAML's ``!unsafe`` tag, Ansible's documented way to say "never template this".
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

_Dumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Unsafe(str):
    __slots__ = ()


class _UnsafeDumper(_Dumper):  # type: ignore[misc,valid-type]  # CSafeDumper when built
    pass


def _represent(dumper: yaml.SafeDumper, value: _Unsafe) -> yaml.ScalarNode:
    # double quotes: every character is escaped as needed, nothing is read as a number
    return dumper.represent_scalar("!unsafe", str(value), style='"')


_UnsafeDumper.add_representer(_Unsafe, _represent)


def _mark(value: Any) -> Any:
    if isinstance(value, str):
        return _Unsafe(value)
    if isinstance(value, Mapping):
        return {_Unsafe(str(k)): _mark(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_mark(v) for v in value]
    return value


def dumps(variables: Mapping[str, Any]) -> str:
    """``variables`` as a YAML document in which every string is ``!unsafe``."""
    text: str = yaml.dump(
        _mark(dict(variables)),
        Dumper=_UnsafeDumper,
        allow_unicode=True,
        width=2**30,  # no folded lines: one value, one line
        sort_keys=False,
    )
    return text


def write(path: Path, variables: Mapping[str, Any], *, private: bool = False) -> Path:
    """Write ``variables`` to ``path`` (0600 when ``private``: secrets) and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(dumps(variables))
    return path
