"""The rehearsal report: facts, verdict, languages, escaping, and the JSON twin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cutover.report import (
    MessageAccount,
    ProbeSample,
    ProbeSeries,
    Rehearsal,
    StepTiming,
    html,
    write,
)
from cutover.report.render import duration


def sample(failures: int = 0, lost: tuple[str, ...] = ()) -> Rehearsal:
    samples = [ProbeSample(t_s=i * 0.25, ok=True, latency_ms=3.0) for i in range(400)]
    for i in range(failures):
        samples[100 + i] = ProbeSample(t_s=25 + i * 0.25, ok=False, latency_ms=0, detail="timeout")
    return Rehearsal(
        merger="quangngai-kontum",
        env="lab",
        run_id="20250628T220000-lab-ab12",
        state="succeeded",
        started_at="2025-06-28T22:00:00+07:00",
        wall_s=100.0,
        critical_path_s=80.0,
        steps=[
            StepTiming(
                "dns.lower-ttl",
                "playbook",
                "Nguyễn Văn A",
                "Phó Giám đốc Sở",
                "succeeded",
                10.0,
                0.0,
                12.0,
            ),
            StepTiming(
                "mail.switch-mx",
                "playbook",
                "Trần Thị B <b>",
                None,
                "rolled_back",
                20.0,
                12.0,
                30.0,
                60.0,
                70.0,
            ),
        ],
        probes=[ProbeSeries("dns", "www.kontum.gov.vn A", samples)],
        messages=MessageAccount(sent=40, found=40 - len(lost), lost=list(lost)),
    )


def test_clean_run_says_citizens_noticed_nothing() -> None:
    page = html(sample(), "en")
    assert "Citizens would not have noticed" in page
    assert 'id="timeline-chart"' in page and 'id="availability-chart"' in page
    assert page.count('class="actual"') == 2 and page.count('class="rollback"') == 1


def test_failures_and_losses_are_shown() -> None:
    page = html(sample(failures=3, lost=("<m1@lab>",)), "en")
    assert "Service was interrupted" in page
    assert page.count(">timeout<") == 3
    assert "&lt;m1@lab&gt;" not in page  # lost ids are counted, the JSON lists them
    assert ">1</td>" in page


def test_vietnamese_report() -> None:
    page = html(sample(), "vi")
    assert '<html lang="vi">' in page
    assert "Báo cáo diễn tập chuyển đổi" in page and "đã hoàn tác" in page


def test_user_text_is_escaped() -> None:
    assert "Trần Thị B &lt;b&gt;" in html(sample(), "en")


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown language"):
        html(sample(), "fr")


def test_json_twin_has_the_figures(tmp_path: Path) -> None:
    report = sample(failures=2, lost=("<x@lab>",))
    html_path, json_path = write(report, tmp_path, "vi")
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert html_path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert data["failed_probes"] == 2
    assert data["messages"]["lost"] == ["<x@lab>"]
    assert data["suggested_window_s"] == pytest.approx(150.0)


@pytest.mark.parametrize(
    ("seconds", "text"), [(None, "-"), (5.04, "5.0 s"), (125, "2 min 05 s"), (3725, "1 h 02 min")]
)
def test_duration(seconds: float | None, text: str) -> None:
    assert duration(seconds) == text


def test_the_time_axis_covers_the_run_and_cuts_longer_estimates() -> None:
    from cutover.report.render import timeline_svg

    report = sample()
    report.steps[0] = StepTiming(
        "mail.presync", "playbook", None, None, "succeeded", 600.0, 0.0, 5.0
    )
    svg = timeline_svg(report, "en")
    assert ">1 min 40 s</text>" in svg  # the last tick is the run's 100 s, not the 600 s estimate
    assert svg.count('class="planned cut"') == 1  # 600 s planned from 0 s: cut at 100 s
    assert svg.count('class="planned"') == 1  # the other step's 20 s estimate fits
