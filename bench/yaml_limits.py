"""How long and how much memory the users' YAML loader spends refusing hostile files.

    .venv/bin/python bench/yaml_limits.py

Alias bombs of 7x7 and 9x9 anchors, a 10 MB file, a 200-level nesting and, for scale, the
real inventory and plan of a merger: wall time per load and the process's peak RSS."""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from cutover import yamlfile
from cutover.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def bomb(n: int) -> str:
    lines = ["a0: &a0 [" + ", ".join(["x"] * n) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * n) + "]" for i in range(1, n)]
    return "\n".join(lines) + "\n"


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="yaml-limits-"))
    cases = {
        "alias bomb 7x7": bomb(7),
        "alias bomb 9x9": bomb(9),
        "10 MB of comments": "# pad\n" * (10 * 1024 * 1024 // 6),
        "nesting 200 deep": "a: " + "[" * 200 + "]" * 200 + "\n",
    }
    for name, text in cases.items():
        path = folder / "case.yml"
        path.write_text(text, encoding="utf-8")
        _measure([(name, path)])
    merger = ROOT / "inventories" / "quangngai-kontum"
    _measure([("merger.yml (real)", merger / "merger.yml")])
    _measure([("plans/cutover.yml (real)", merger / "plans" / "cutover.yml")])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the whole process: {peak:.0f} MB")
    return 0


def _measure(files: list[tuple[str, Path]]) -> None:
    for name, path in files:
        started = time.perf_counter()
        try:
            yamlfile.load(path)
            outcome = "loaded"
        except ConfigError as exc:
            outcome = "refused: " + exc.message
        ms = 1000 * (time.perf_counter() - started)
        print(f"{name:28} {ms:8.1f} ms  {outcome}")


if __name__ == "__main__":
    sys.exit(main())
