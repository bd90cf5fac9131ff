"""The package's structure: no import circle between modules or between the package's
parts, and the Pulumi program (stacks/, not a package, so outside import-linter's
contracts in pyproject.toml) never reaches the engine."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]


def _graph() -> grimp.ImportGraph:
    return grimp.build_graph("cutover", cache_dir=None)


def test_no_module_imports_itself_through_others() -> None:
    graph = _graph()
    circles = [
        (module, imported)
        for module in sorted(graph.modules)
        for imported in graph.find_modules_directly_imported_by(module)
        if graph.chain_exists(importer=imported, imported=module)
    ]
    assert circles == []


def test_no_two_parts_of_the_package_import_each_other() -> None:
    graph = _graph()
    parts = sorted({".".join(m.split(".")[:2]) for m in graph.modules} - {"cutover"})
    both_ways = [
        (a, b)
        for a in parts
        for b in parts
        if a < b
        and graph.chain_exists(importer=a, imported=b, as_packages=True)
        and graph.chain_exists(importer=b, imported=a, as_packages=True)
    ]
    assert both_ways == []


def test_the_pulumi_program_never_reaches_the_engine() -> None:
    graph = _graph()
    used: set[str] = set()
    for source in (ROOT / "stacks").glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cutover"):
                used.add(str(node.module))
            elif isinstance(node, ast.Import):
                used |= {a.name for a in node.names if a.name.startswith("cutover")}
    assert "cutover.stack.lab_provider" in used  # the program's lab hosts: it does read cutover
    reaching = sorted(
        m
        for m in used
        if m.startswith("cutover.engine")
        or graph.chain_exists(importer=m, imported="cutover.engine", as_packages=True)
    )
    assert reaching == []
