"""Fault-injection tests: real conditions (full and read-only filesystems, bad input on a
real lab), never mocks. ``labkit`` lives in tests/integration; put it on sys.path."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
