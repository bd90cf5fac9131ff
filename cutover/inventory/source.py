"""YAML files that remember where each value came from, so errors can cite file:line.

:mod:`cutover.yamlfile` reads the file (safely, with lines); here the lines it keeps are
flattened into a map from each value's path (``("hosts", 3, "address")``) to its line.
Pydantic and our own checks report paths; :meth:`Source.at` turns a path into a
:class:`~cutover.errors.Location`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cutover import yamlfile
from cutover.errors import ConfigError, Location
from cutover.yamlfile import LineDict, LineList

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


def _lines(value: Any, path: PathKey, lines: dict[PathKey, int]) -> None:
    """Flatten the lines a LineDict/LineList tree carries into ``path -> line``."""
    if isinstance(value, LineDict):
        lines[path] = value.line
        for key, item in value.items():
            _lines(item, (*path, key), lines)
            # Cite the key's line: for a nested block the value starts a line later.
            lines[(*path, key)] = value.key_lines[key]
    elif isinstance(value, LineList):
        lines[path] = value.line
        for index, item in enumerate(value):
            lines[(*path, index)] = value.item_lines[index]
            _lines(item, (*path, index), lines)


def load_yaml(path: Path) -> Source:
    """Load one YAML document with line numbers; a missing or broken file is a ConfigError."""
    data = yamlfile.load(path)
    if data is None:
        return Source(path, {}, {(): 1})
    lines: dict[PathKey, int] = {(): 1}
    _lines(data, (), lines)
    return Source(path, data, lines)
