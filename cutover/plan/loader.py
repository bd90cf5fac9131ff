"""YAML loading that remembers where every mapping, key and list item came from.

PyYAML's SafeLoader forgets positions once it has built Python objects; plan errors must
name the line, so mappings become :class:`LineDict` and lists :class:`LineList`, which
carry the line of the node itself, of each key, and of each item. Duplicate keys, which
SafeLoader silently overwrites, are refused: in a plan they are always a mistake.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from cutover.errors import ConfigError, Location


class LineDict(dict[str, Any]):
    """A mapping with ``line`` (where it starts) and ``key_lines`` (where each key is)."""

    line: int = 0
    key_lines: dict[str, int]


class LineList(list[Any]):
    """A list with ``line`` and ``item_lines``."""

    line: int = 0
    item_lines: list[int]


class _LineLoader(yaml.SafeLoader):
    path: Path

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        assert isinstance(node, MappingNode)
        self.flatten_mapping(node)
        result = LineDict()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                raise ConfigError(
                    f"key {key!r} is not a string",
                    where=Location(self.path, line),
                    hint="quote the key",
                )
            if key in result:
                raise ConfigError(
                    f"duplicate key '{key}' (first at line {result.key_lines[key]})",
                    where=Location(self.path, line),
                    hint="remove one of the two",
                )
            result[key] = self.construct_object(value_node, deep=True)
            result.key_lines[key] = line
        return result

    def construct_sequence(self, node: Node, deep: bool = False) -> list[Any]:
        assert isinstance(node, SequenceNode)
        result = LineList(self.construct_object(child, deep=True) for child in node.value)
        result.line = node.start_mark.line + 1
        result.item_lines = [child.start_mark.line + 1 for child in node.value]
        return result


_LineLoader.add_constructor("tag:yaml.org,2002:map", _LineLoader.construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _LineLoader.construct_sequence)


def load_yaml(path: Path) -> Any:
    """Parse ``path`` into LineDict/LineList trees; every failure is a ConfigError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(
            "plan file not found", where=Location(path), hint="check the path"
        ) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            "plan file is not UTF-8 text", where=Location(path), hint="save it as UTF-8"
        ) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read plan file: {exc.strerror}", where=Location(path)) from exc
    loader = _LineLoader(text)
    loader.path = path
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and "stream end" in (exc.problem or ""):
            mark = exc.context_mark  # "unclosed [ at line N" is more useful than "end of file"
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(
            f"YAML syntax error: {problem}",
            where=Location(path, line),
            hint="fix the indentation or quoting near this line",
        ) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"YAML error: {exc}", where=Location(path)) from exc
    finally:
        loader.dispose()


def line_of(root: Any, loc: tuple[int | str, ...]) -> int | None:
    """The best line for a path of keys/indices into a loaded tree (deepest known)."""
    node = root
    line: int | None = getattr(root, "line", None)
    for part in loc:
        if isinstance(node, LineDict) and isinstance(part, str) and part in node:
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line = node.item_lines[part]
            node = node[part]
        else:
            # pydantic adds union tags (e.g. the step kind) to locations: skip them
            continue
        inner = getattr(node, "line", None)
        if inner is not None and isinstance(node, LineDict) and not node:
            line = inner
    return line
