"""The users' YAML loader: data only, bounded, every refusal one ConfigError with a line.

The fuzz tests (hypothesis) feed both loaders, and the whole inventory and plan loading
behind them, with arbitrary bytes, arbitrary text and mutated copies of the real files:
nothing but the project's ConfigError may ever come out."""

from __future__ import annotations

import shutil
import tempfile
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cutover import yamlfile
from cutover.errors import ConfigError
from cutover.inventory import load
from cutover.inventory.source import load_yaml as load_inventory_yaml
from cutover.plan import load_plan

pytestmark = pytest.mark.security

ROOT = Path(__file__).resolve().parents[3]
MERGER = ROOT / "inventories" / "quangngai-kontum"


def refused(tmp_path: Path, content: str | bytes) -> ConfigError:
    path = tmp_path / "file.yml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        yamlfile.load(path)
    error = caught.value
    assert error.where is not None and error.where.path == path
    assert error.hint, error.one_line()
    assert "\n" not in error.one_line()
    return error


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("a: 1\nb: !!python/object/apply:os.system [id]\n", 2, "tag !!python/object/apply"),
        ("a: 1\nb: !!str 3\n", 2, "tag !!str"),
        ("a: !custom {x: 1}\n", 1, "tag !custom"),
        ("a: 1\nb: !!map {x: 1}\n", 2, "tag !!map"),
        ("- ! x\n", 1, "tag !"),
        ("base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n", 3, "merge keys"),
        ("a: &x [1, *x]\n", 1, "contains it"),
        ("a: &x\n  b: *x\n", 2, "contains it"),
        ("a: *nothing\n", 1, "no anchor"),
        ("a: 1\na: 2\n", 2, "duplicate key 'a' (first at line 1)"),
        ("a: 1\n? [x]\n: 2\n", 2, "mapping keys must be plain strings"),
        ('a: 1\nb: "x\\ey"\n', 2, "U+001B"),
        ('a: "\\u202e"\n', 1, "U+202E"),
        ('a: "one\\rtwo"\n', 1, "U+000D"),
        ("a: 1\nb: x\x07y\n", 2, "U+0007"),
        ("a: 1\nb: [1, 2\n", 2, "not valid YAML"),
    ],
)
def test_refused_with_line(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    error = refused(tmp_path, text)
    assert error.where is not None and error.where.line == line, error.one_line()
    assert fragment in error.one_line(), error.one_line()


def bomb(levels: int) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_at_the_alias_that_exceeds_the_budget(tmp_path: Path) -> None:
    error = refused(tmp_path, bomb(9))
    assert "aliases expand to more than" in error.message
    assert error.where is not None and error.where.line is not None and error.where.line > 1


def test_a_few_aliases_are_copies_not_shared(tmp_path: Path) -> None:
    path = tmp_path / "ok.yml"
    path.write_text("a: &x {k: [1, 2]}\nb: *x\n", encoding="utf-8")
    data = yamlfile.load(path)
    assert data == {"a": {"k": [1, 2]}, "b": {"k": [1, 2]}}
    assert data["a"] is not data["b"] and data["a"]["k"] is not data["b"]["k"]
    assert data.key_lines == {"a": 1, "b": 2}


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    error = refused(tmp_path, "a: " + "[" * 500 + "]" * 500 + "\n")
    assert "nested more than" in error.message and error.where.line == 1  # type: ignore[union-attr]


def test_windows_1258_is_named_with_the_command_that_converts_it(tmp_path: Path) -> None:
    # Windows-1258 writes most Vietnamese letters as a base letter and a combining mark
    text = unicodedata.normalize("NFD", 'merger: x\ntitle: "Kon Tum sáp vào Quảng Ngãi"\n')
    error = refused(tmp_path, text.encode("cp1258"))
    assert "Windows-1258" in error.message and "iconv -f CP1258" in (error.hint or "")
    assert error.where is not None and error.where.line == 2


def test_utf16_is_named(tmp_path: Path) -> None:
    error = refused(tmp_path, "a: 1\n".encode("utf-16"))
    assert "UTF-16" in error.message


def test_size_and_line_limits(tmp_path: Path) -> None:
    big = "# padding\n" * (yamlfile.MAX_BYTES // 10 + 1)
    assert "size limit" in refused(tmp_path, big).message
    long = "a: 1\nb: " + "x" * (yamlfile.MAX_LINE + 1) + "\n"
    error = refused(tmp_path, long)
    assert "characters long" in error.message and error.where.line == 2  # type: ignore[union-attr]


def test_utf8_bom_and_crlf_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "ok.yml"
    path.write_bytes('\ufeffname: "Quảng Ngãi"\r\nlist:\r\n  - a\r\n'.encode())
    data = yamlfile.load(path)
    assert data == {"name": "Quảng Ngãi", "list": ["a"]}
    assert data["list"].item_lines == [3]


def test_a_directory_and_a_missing_file(tmp_path: Path) -> None:
    for path in (tmp_path, tmp_path / "missing.yml"):
        with pytest.raises(ConfigError) as caught:
            yamlfile.load(path)
        assert caught.value.where is not None and caught.value.hint


# --- fuzz ---------------------------------------------------------------------------

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# a whole inventory load generates its data: fewer examples, the same variety of faults
FUZZ_LOAD = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="yamlfuzz-") as name:
        yield Path(name)


def only_config_errors(call: Any) -> None:
    try:
        call()
    except ConfigError as exc:
        assert exc.one_line() and "\n" not in str(exc.where)


@FUZZ
@given(content=st.one_of(st.binary(max_size=400), st.text(max_size=400)))
def test_fuzz_raw_content(scratch: Path, content: bytes | str) -> None:
    path = scratch / "raw.yml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode("utf-8", "surrogatepass"))
    only_config_errors(lambda: yamlfile.load(path))
    only_config_errors(lambda: load_inventory_yaml(path))
    only_config_errors(lambda: load_plan(path))


YAML_PIECES = st.sampled_from(
    [
        "a:",
        " b:",
        "  - ",
        "- ",
        "&x ",
        "*x",
        "<<: ",
        "!!python/name:os.system ",
        "!t ",
        "[",
        "]",
        "{",
        "}",
        ",",
        ": ",
        "'",
        '"',
        "\\u202e",
        "\\x00",
        "\n",
        "  ",
        "#",
        "? ",
        "|",
        ">-",
        "---",
        "...",
        "%YAML 1.1\n",
        "~",
        "1e400",
        "0x1F",
        "2025-07-01",
        "Quảng Ngãi",
        "{{ lookup('pipe', 'id') }}",
        "$INCLUDE /etc/passwd",
        "<b>",
        "[/b]",
    ]
)


@FUZZ
@given(pieces=st.lists(YAML_PIECES, max_size=40))
def test_fuzz_yaml_shaped_text(scratch: Path, pieces: list[str]) -> None:
    path = scratch / "shaped.yml"
    path.write_text("".join(pieces), encoding="utf-8")
    only_config_errors(lambda: load_inventory_yaml(path))
    only_config_errors(lambda: load_plan(path))


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.sampled_from(["@", "quangngai", "kontum", "merged", "TXT", "MX", "10 mail.x.", "-1"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def mutate(data: Any, choices: list[int], replacement: Any) -> Any:
    """``data`` with the subtree that ``choices`` walks to replaced (or a key dropped)."""
    if not choices or not isinstance(data, dict | list) or not data:
        return replacement
    index = choices[0] % len(data)
    if isinstance(data, dict):
        key = list(data)[index]
        if len(choices) == 1 and choices[0] % 7 == 0:
            return {k: v for k, v in data.items() if k != key}
        return {**data, key: mutate(data[key], choices[1:], replacement)}
    return [*data[:index], mutate(data[index], choices[1:], replacement), *data[index + 1 :]]


@pytest.fixture(scope="module")
def merger_copy(scratch: Path) -> Path:
    target = scratch / MERGER.name
    shutil.copytree(MERGER, target)
    return target


def plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


@FUZZ_LOAD
@given(
    which=st.sampled_from(["merger.yml", "lab/inventory.yml"]),
    choices=st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=6),
    replacement=VALUES,
)
def test_fuzz_inventory_mutations(
    merger_copy: Path, which: str, choices: list[int], replacement: Any
) -> None:
    original = plain(yamlfile.load(MERGER / which))
    path = merger_copy / which
    try:
        path.write_text(yaml.safe_dump(mutate(original, choices, replacement)), encoding="utf-8")
        only_config_errors(lambda: load(merger_copy, "lab"))
    finally:
        shutil.copy(MERGER / which, path)


@FUZZ_LOAD
@given(
    choices=st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=6),
    replacement=VALUES,
)
def test_fuzz_plan_mutations(merger_copy: Path, choices: list[int], replacement: Any) -> None:
    original = plain(yamlfile.load(MERGER / "plans" / "cutover.yml"))
    path = merger_copy / "plans" / "fuzzed.yml"
    path.write_text(yaml.safe_dump(mutate(original, choices, replacement)), encoding="utf-8")
    only_config_errors(lambda: load_plan(path))
