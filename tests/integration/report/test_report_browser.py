"""The HTML report rendered by a real browser (headless Chromium): both charts draw.

The screenshot is kept in test-artifacts/ for people to look at."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import ARTIFACTS, count_color, screenshot

from cutover.report import MessageAccount, ProbeSample, ProbeSeries, Rehearsal, StepTiming, write

pytestmark = pytest.mark.integration


def report(failing: bool) -> Rehearsal:
    samples = [ProbeSample(t_s=i * 0.5, ok=not (failing and 40 <= i < 60), latency_ms=4.0)
               for i in range(240)]  # fmt: skip
    return Rehearsal(
        merger="cantho-haugiang-soctrang",
        env="lab",
        run_id="r-browser",
        state="succeeded",
        started_at="2025-06-28T22:00:00+07:00",
        wall_s=120.0,
        critical_path_s=90.0,
        steps=[
            StepTiming(
                "dns.snapshot", "playbook", "Lê Văn C", "Giám đốc Sở", "succeeded", 15, 0, 14
            ),
            StepTiming(
                "mail.presync", "playbook", "Phạm Thị D", "Giám đốc Sở", "succeeded", 50, 14, 70
            ),
            StepTiming(
                "portal.switch", "playbook", "Võ Văn E", "Giám đốc Sở", "succeeded", 30, 70, 115
            ),
        ],
        probes=[
            ProbeSeries("dns", "cantho.gov.vn SOA", samples),
            ProbeSeries("https", "https://haugiang.gov.vn/", samples),
        ],
        messages=MessageAccount(sent=20, found=20),
    )


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_charts_render_in_chromium(lang: str, tmp_path: Path) -> None:
    html_path, _ = write(report(failing=True), tmp_path / "report", lang)
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"report-{lang}.png"
    image = screenshot(html_path, shot, tmp_path)
    assert image.size == (1000, 1500)
    # The timeline's succeeded bars and the availability chart's green and red buckets
    # are drawn in their own colours: count their pixels on the rendered page.
    assert count_color(image, (0x2E, 0x7D, 0x32)) > 500, "no succeeded step bars drawn"
    assert count_color(image, (0x43, 0xA0, 0x47)) > 2000, "no available buckets drawn"
    assert count_color(image, (0xC6, 0x28, 0x28)) > 100, "failed probes are not drawn"
