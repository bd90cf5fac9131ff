"""A page rendered by a real browser (headless Chromium, installed by scripts/setup.sh),
as a screenshot kept in test-artifacts/ for people to look at, and its pixels counted."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from PIL import Image

from cutover.paths import project_root

ARTIFACTS = project_root() / "test-artifacts"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def chromium() -> str:
    found = shutil.which("chromium")
    assert found, "chromium is not installed: scripts/setup.sh installs it"
    return found


def screenshot(
    page: Path, out: Path, tmp: Path, size: tuple[int, int] = (1000, 1500)
) -> Image.Image:
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp / 'profile'}",
         f"--screenshot={out}", f"--window-size={size[0]},{size[1]}", page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return Image.open(out).convert("RGB")


def count_color(image: Image.Image, rgb: tuple[int, int, int], tolerance: int = 12) -> int:
    return sum(
        1
        for pixel in image.getdata()
        if all(abs(a - b) <= tolerance for a, b in zip(pixel, rgb, strict=True))
    )
