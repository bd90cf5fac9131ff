"""Plan files: YAML read by :mod:`cutover.yamlfile`, which keeps every line.

Mappings are :class:`LineDict` and lists :class:`LineList`, carrying the line of the
node itself, of each key and of each item; duplicate keys, tags, merge keys and alias
bombs are refused there, with the file and line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cutover import yamlfile
from cutover.yamlfile import LineDict, LineList, line_of

__all__ = ["LineDict", "LineList", "line_of", "load_yaml"]


def load_yaml(path: Path) -> Any:
    """Parse ``path`` into LineDict/LineList trees; every failure is a ConfigError."""
    return yamlfile.load(path)
