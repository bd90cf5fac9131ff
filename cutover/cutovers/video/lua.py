"""Read and write Prosody's data files: Lua tables as ``datamanager`` serializes them
(``return { ["key"] = value; ... };`` with strings, numbers, booleans and tables)."""

from __future__ import annotations

import re
from typing import Any

from cutover.errors import CutoverError

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>"(?:[^"\\]|\\.|\\\n)*")
      | (?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<sym>[{}\[\]=;,])
    )""",
    re.VERBOSE | re.DOTALL,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "'": "'", "\n": "\n"}


class LuaError(CutoverError):
    pass


def _unquote(text: str) -> str:
    out: list[str] = []
    i = 0
    body = text[1:-1]
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt.isdigit():
            digits = re.match(r"\d{1,3}", body[i + 1 :])
            assert digits is not None
            out.append(chr(int(digits.group())))
            i += 1 + len(digits.group())
        else:
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
    # Prosody writes bytes: a UTF-8 title arrives as \ddd escapes or raw bytes.
    raw = "".join(out)
    try:
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return raw


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        text = re.sub(r"--[^\n]*", "", text)  # comments (never inside Prosody's strings)
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            m = _TOKEN.match(text, pos)
            if not m:
                raise LuaError(
                    f"unexpected text in Prosody data at {pos}: {text[pos : pos + 20]!r}"
                )
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind)))
            pos = m.end()
        self.i = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.i] if self.i < len(self.tokens) else ("eof", "")

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if value is not None and tok[1] != value:
            raise LuaError(f"expected {value!r} in Prosody data, found {tok[1]!r}")
        self.i += 1
        return tok

    def value(self) -> Any:
        kind, text = self.take()
        if kind == "str":
            return _unquote(text)
        if kind == "num":
            return float(text) if any(c in text for c in ".eE") else int(text)
        if kind == "word" and text in ("true", "false", "nil"):
            return {"true": True, "false": False, "nil": None}[text]
        if text == "{":
            return self.table()
        raise LuaError(f"unexpected {text!r} in Prosody data")

    def table(self) -> dict[Any, Any] | list[Any]:
        result: dict[Any, Any] = {}
        index = 1
        while self.peek()[1] != "}":
            if self.peek()[1] == "[":
                self.take("[")
                key = self.value()
                self.take("]")
                self.take("=")
                result[key] = self.value()
            elif self.peek()[0] == "word" and self.tokens[self.i + 1][1] == "=":
                key = self.take()[1]
                self.take("=")
                result[key] = self.value()
            else:
                result[index] = self.value()
                index += 1
            if self.peek()[1] in (";", ","):
                self.take()
        self.take("}")
        if result and list(result) == list(range(1, len(result) + 1)):
            return list(result.values())
        return result


def loads(text: str) -> Any:
    """The value a Prosody data file returns."""
    parser = _Parser(text)
    parser.take("return")
    value = parser.value()
    if parser.peek()[1] == ";":
        parser.take()
    if parser.peek()[0] != "eof":
        raise LuaError("trailing text in Prosody data")
    return value


def quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _dump(value: Any, depth: int) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return quote(value)
    if value is None:
        return "nil"
    pad = "\t" * (depth + 1)
    if isinstance(value, list):
        items = [f"{pad}{_dump(v, depth + 1)};\n" for v in value]
    elif isinstance(value, dict):
        items = [
            f"{pad}[{_dump(k, depth + 1)}] = {_dump(v, depth + 1)};\n"
            for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))
        ]
    else:
        raise LuaError(f"cannot write {type(value).__name__} to Prosody data")
    if not items:
        return "{}"
    return "{\n" + "".join(items) + "\t" * depth + "}"


def dumps(value: Any) -> str:
    """A Prosody data file returning ``value``."""
    return f"return {_dump(value, 0)};\n"
