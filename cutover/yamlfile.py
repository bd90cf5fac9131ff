"""The one YAML loader for users' files (inventories and plans): data only, with lines.

Inventories and plans are data written by people, often exported from other tools; they
must never be code, and a hostile or broken file must cost a clear one-line error, not
minutes, gigabytes or a traceback. So, beyond PyYAML's safe loader:

- a size limit and a line-length limit, checked before parsing;
- UTF-8 only; any other encoding is named in the error (Vietnamese Windows exports are
  usually Windows-1258) with the command that converts it;
- no control characters (nor the bidirectional overrides that make text read other
  than it is), raw or escaped, except tab and newline;
- no tags at all (``!!python/...``, ``!!str``, ``!custom``): a tag asks the loader to
  interpret text, and we never do; no ``<<`` merge keys (they hide which keys a mapping
  has, and overwrite silently);
- aliases are expanded into copies (nothing shared between two places of a plan), within
  a small budget of nodes, and an alias may not contain itself;
- nesting is bounded (PyYAML composes recursively).

Mappings become :class:`LineDict` and lists :class:`LineList`: plain dicts and lists that
also carry the line of the node, of each key and of each item, so that every later check
(pydantic's or ours) can cite file:line. Every failure is a :class:`ConfigError`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.error import Mark
from yaml.events import AliasEvent, CollectionStartEvent, ScalarEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from cutover.errors import ConfigError, Location

MAX_BYTES = 4 * 1024 * 1024  # hand-kept files; generated data is made at load (generate:)
MAX_LINE = 10_000  # characters; the longest real value is a DKIM key (~400)
ALIAS_BUDGET = 10_000  # nodes copied through aliases, in a whole file
MAX_DEPTH = 50  # nested mappings and lists

# C0 and C1 controls but tab and newline (CR is allowed raw: Windows line ends), DEL,
# Unicode line and paragraph separators, bidirectional embeddings/overrides/isolates,
# and a BOM anywhere but at the start.
_OTHERS = "\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff"
# every character that breaks a line or changes how text reads: one-line text holds none
UNPRINTABLE = re.compile(f"[\x00-\x1f{_OTHERS}]")
_CONTROL = re.compile(f"[\x00-\x08\x0b-\x1f{_OTHERS}]")  # values: tab and newline allowed
_RAW_CONTROL = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f{_OTHERS}]")  # files: CR too
_MERGE = "tag:yaml.org,2002:merge"


class LineDict(dict[str, Any]):
    """A mapping with ``line`` (where it starts) and ``key_lines`` (where each key is)."""

    line: int = 0
    key_lines: dict[str, int]


class LineList(list[Any]):
    """A list with ``line`` and ``item_lines``."""

    line: int = 0
    item_lines: list[int]


class _Refused(Exception):
    """Raised inside the loader; turned into a ConfigError with the file's path."""

    def __init__(self, message: str, line: int | None, hint: str) -> None:
        super().__init__(message)
        self.message, self.line, self.hint = message, line, hint


class _AliasRef(Node):
    """Where an alias is used (the composer would hand back the anchored node itself,
    whose line is the anchor's)."""

    def __init__(self, target: Node, mark: Mark | Any) -> None:
        super().__init__(target.tag, target.value, mark, mark)
        self.target = target


def _shown_tag(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")


class _Composer(yaml.SafeLoader):
    """SafeLoader's composer, refusing tags and deep nesting, and marking alias uses."""

    depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]  # PyYAML is untyped here
        line = event.start_mark.line + 1
        if isinstance(event, AliasEvent):
            self.get_event()  # type: ignore[no-untyped-call]  # as above
            if event.anchor not in self.anchors:
                raise _Refused(
                    f"alias *{event.anchor} has no anchor before it",
                    line,
                    f"define &{event.anchor} above, or write the value out",
                )
            return _AliasRef(self.anchors[event.anchor], event.start_mark)
        tag = event.tag if isinstance(event, ScalarEvent | CollectionStartEvent) else None
        if tag is not None:
            raise _Refused(
                f"YAML tag {_shown_tag(tag)} is not allowed",
                line,
                "remove the tag: these files hold plain strings, numbers, lists and mappings",
            )
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _Refused(
                    f"nested more than {MAX_DEPTH} levels deep", line, "flatten the structure"
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _Builder:
    """Plain data from the node tree: aliases copied within budget, cycles refused."""

    def __init__(self, loader: _Composer) -> None:
        self.loader = loader
        self.copied = 0
        self.active: set[int] = set()

    def build(self, node: Node, alias_line: int | None = None) -> Any:
        if isinstance(node, _AliasRef):
            outer = alias_line if alias_line is not None else node.start_mark.line + 1
            return self.build(node.target, outer)
        line = node.start_mark.line + 1
        if alias_line is not None:
            self.copied += 1
            if self.copied > ALIAS_BUDGET:
                raise _Refused(
                    f"aliases expand to more than {ALIAS_BUDGET} values",
                    alias_line,
                    "write the values out, or use fewer aliases",
                )
        if isinstance(node, ScalarNode):
            value = self.loader.construct_object(node)
            if isinstance(value, str):
                _check_text(value, line)
            return value
        if id(node) in self.active:
            raise _Refused(
                "an alias refers to the mapping or list that contains it",
                alias_line or line,
                "an alias may only name a value defined outside itself",
            )
        self.active.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return self._mapping(node, line, alias_line)
            assert isinstance(node, SequenceNode)
            result = LineList(self.build(child, alias_line) for child in node.value)
            result.line = line
            result.item_lines = [child.start_mark.line + 1 for child in node.value]
            return result
        finally:
            self.active.discard(id(node))

    def _mapping(self, node: MappingNode, line: int, alias_line: int | None) -> LineDict:
        result = LineDict()
        result.line = line
        result.key_lines = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if isinstance(key_node, ScalarNode) and key_node.tag == _MERGE:
                raise _Refused(
                    "merge keys (<<) are not supported", key_line, "write the keys out in full"
                )
            key = self.build(key_node, alias_line)
            if not isinstance(key, str):
                raise _Refused("mapping keys must be plain strings", key_line, "quote the key")
            if key in result:
                raise _Refused(
                    f"duplicate key {key!r} (first at line {result.key_lines[key]})",
                    key_line,
                    "each key may appear once in a mapping: remove one",
                )
            result[key] = self.build(value_node, alias_line)
            result.key_lines[key] = key_line
        return result


def _check_text(value: str, line: int) -> None:
    found = _CONTROL.search(value)
    if found:
        raise _Refused(
            f"a value holds the control character U+{ord(found.group()):04X}",
            line,
            "remove it: values are plain text (tab and newline are allowed)",
        )


def _decode(raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _Refused(
            "file is UTF-16 text, not UTF-8", None, "convert it: iconv -f UTF-16 -t UTF-8"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        try:
            raw.decode("cp1258")
            source = "Windows-1258 (Vietnamese)"
            command = "iconv -f CP1258 -t UTF-8"
        except UnicodeDecodeError:
            source = "an 8-bit encoding"
            command = "iconv -f <its encoding> -t UTF-8"
        raise _Refused(
            f"file is not UTF-8 (byte 0x{raw[exc.start]:02X}); it looks like {source}",
            line,
            f"convert it to UTF-8: {command}",
        ) from exc


def _check_raw(text: str) -> None:
    for number, line in enumerate(text.splitlines(), start=1):
        if len(line) > MAX_LINE:
            raise _Refused(
                f"line is {len(line)} characters long, over the limit of {MAX_LINE}",
                number,
                "break the value up, or keep generated data out of hand-kept files",
            )
    found = _RAW_CONTROL.search(text)
    if found:
        raise _Refused(
            f"file holds the control character U+{ord(found.group()):04X}",
            text.count("\n", 0, found.start()) + 1,
            "remove it: files are plain text (tab and newline are allowed)",
        )


def _read(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError as exc:
        raise ConfigError(
            "file not found", where=Location(path), hint="create it, or check the path and --env"
        ) from exc
    except IsADirectoryError as exc:
        raise ConfigError(
            "is a folder, not a file", where=Location(path), hint="name the YAML file"
        ) from exc
    except OSError as exc:
        raise ConfigError(
            f"cannot read: {exc.strerror}", where=Location(path), hint="check its permissions"
        ) from exc
    if len(raw) > MAX_BYTES:
        raise ConfigError(
            f"file is over the size limit of {MAX_BYTES // (1024 * 1024)} MB",
            where=Location(path),
            hint="hand-kept files stay small: generated data belongs under generate:",
        )
    return raw


def load(path: Path) -> Any:
    """The data of the one YAML document in ``path`` (None when it is empty), as
    LineDict/LineList trees; every failure is a ConfigError naming the file and line."""
    raw = _read(path)
    loader: _Composer | None = None
    try:
        text = _decode(raw)
        _check_raw(text)
        loader = _Composer(text)
        node = loader.get_single_node()
        return None if node is None else _Builder(loader).build(node)
    except _Refused as exc:
        raise ConfigError(exc.message, where=Location(path, exc.line), hint=exc.hint) from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and "stream end" in (exc.problem or ""):
            mark = exc.context_mark  # "unclosed [ at line N" is more useful than "end of file"
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(
            f"not valid YAML: {problem}",
            where=Location(path, mark.line + 1 if mark else None),
            hint="fix the indentation or quoting near this line",
        ) from exc
    except yaml.YAMLError as exc:  # ReaderError and the like: no mark
        raise ConfigError(
            f"not valid YAML: {exc}", where=Location(path), hint="fix the file"
        ) from exc
    except RecursionError as exc:
        raise ConfigError(
            "nested too deeply to read", where=Location(path), hint="flatten the structure"
        ) from exc
    finally:
        if loader is not None:
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
