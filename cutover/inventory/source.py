"""YAML files that remember where each value came from, so errors can cite file:line.

PyYAML's composer keeps line marks on nodes; we build plain Python data from the node
tree and, alongside it, a map from each value's path (``("hosts", 3, "address")``) to
its line. Pydantic and our own checks report paths; :meth:`Source.at` turns a path into
a :class:`~cutover.errors.Location`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cutover.errors import ConfigError, Location

PathKey = tuple[str | int, ...]


@dataclass
class Source:
    """One loaded YAML file: its data and the line of every value in it."""

    path: Path
    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)

    def at(self, where: Sequence[str | int] = ()) -> Location:
        """The location of ``where``, or of its nearest ancestor that has a line."""
        key = tuple(where)
        while key and key not in self.lines:
            key = key[:-1]
        return Location(self.path, self.lines.get(key, 1))

    def error(
        self, message: str, where: Sequence[str | int] = (), hint: str | None = None
    ) -> ConfigError:
        return ConfigError(message, where=self.at(where), hint=hint)


def _build(node: yaml.Node, path: PathKey, lines: dict[PathKey, int], src: Path) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.SafeLoader(" ").construct_object(key_node)  # scalars only
            if not isinstance(key, str | int | bool) or isinstance(key, bool):
                raise ConfigError(
                    "mapping keys must be plain strings",
                    where=Location(src, key_node.start_mark.line + 1),
                    hint="write the key as a plain word",
                )
            key = str(key)
            if key in result:
                raise ConfigError(
                    f"duplicate key {key!r}",
                    where=Location(src, key_node.start_mark.line + 1),
                    hint="each key may appear once in a mapping",
                )
            result[key] = _build(value_node, (*path, key), lines, src)
            # Cite the key's line: for a nested block the value starts a line later.
            lines[(*path, key)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), lines, src) for i, item in enumerate(node.value)]
    return yaml.SafeLoader(" ").construct_object(node)


def load_yaml(path: Path) -> Source:
    """Load one YAML document with line numbers; a missing or broken file is a ConfigError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(
            "file not found", where=Location(path), hint="create it, or check the merger and --env"
        ) from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ConfigError(
            f"not valid YAML: {exc.problem}", where=Location(path, line), hint="fix the syntax"
        ) from exc
    if node is None:
        return Source(path, {}, {(): 1})
    lines: dict[PathKey, int] = {}
    return Source(path, _build(node, (), lines, path), lines)
