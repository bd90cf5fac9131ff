"""Render a rehearsal as JSON and as one self-contained HTML file (inline CSS and SVG
charts, no script, no external resource), in Vietnamese or English. The charts' geometry
is computed here; the markup is in templates/ (Jinja2, autoescaped)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from cutover.report.i18n import LANGS, TEXT, state_word, t
from cutover.report.model import ProbeSeries, Rehearsal

COLORS = {
    "succeeded": "#2e7d32",
    "failed": "#c62828",
    "rolled_back": "#ef6c00",
    "rollback_failed": "#6a1b9a",
    "rollback_blocked": "#6a1b9a",
    "held": "#f9a825",
    "kept": "#1565c0",
}
LABEL_W, CHART_W, ROW_H = 230, 700, 22
BUCKETS = 350


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def _span(report: Rehearsal) -> float:
    """The time axis covers what happened: a plan's estimates (minutes of presync for a
    lab's seconds) would otherwise squeeze every real bar into a sliver. A planned bar
    that goes beyond is cut at the edge and marked open."""
    ends = [report.wall_s]
    for s in report.steps:
        ends += [x for x in (s.end_s, s.rollback_end_s) if x is not None]
    return max(max(ends), 1.0)


def _x(seconds: float, span: float) -> float:
    return LABEL_W + CHART_W * max(0.0, seconds) / span


@dataclass(frozen=True)
class Bar:
    x: float
    w: float
    title: str = ""
    color: str = ""
    cut: bool = False


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Row:
    y: int
    label: str
    planned: Bar | None = None
    actual: Bar | None = None
    rollback: Bar | None = None
    bars: tuple[Bar, ...] = ()


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    ticks: tuple[Tick, ...]
    rows: tuple[Row, ...]
    title: str = ""


def _ticks(span: float) -> tuple[Tick, ...]:
    return tuple(Tick(_x(span * i / 5, span), duration(span * i / 5)) for i in range(6))


def _bar(start: float, end: float, span: float, least: float, **kw: Any) -> Bar:
    x0, x1 = _x(start, span), _x(end, span)
    return Bar(x0, max(x1 - x0, least), **kw)


def timeline_chart(report: Rehearsal, lang: str) -> Chart:
    span = _span(report)
    rows = []
    for i, step in enumerate(report.steps):
        planned = actual = rollback = None
        if step.start_s is not None and step.planned_s:
            end = min(step.start_s + step.planned_s, span)
            planned = _bar(
                step.start_s,
                end,
                span,
                1,
                title=f"{t('planned', lang)}: {duration(step.planned_s)}",
                cut=step.start_s + step.planned_s > span,  # open end: past the chart
            )
        if step.start_s is not None:
            end = step.end_s if step.end_s is not None else step.start_s
            took = duration(end - step.start_s)
            actual = _bar(
                step.start_s,
                end,
                span,
                2,
                title=f"{step.id}: {state_word(step.state, lang)}, {took}",
                color=COLORS.get(step.state, "#757575"),
            )
        if step.rollback_start_s is not None:
            end = step.rollback_end_s or step.rollback_start_s
            rollback = _bar(step.rollback_start_s, end, span, 2, title=t("rollback", lang))
        rows.append(Row(i * ROW_H + 4, step.id, planned, actual, rollback))
    height = ROW_H * len(report.steps) + 24
    return Chart(LABEL_W + CHART_W + 20, height, _ticks(span), tuple(rows))


def _buckets(series: ProbeSeries, span: float) -> list[tuple[int, int]]:
    """(ok, failed) counts per time bucket."""
    counts = [[0, 0] for _ in range(BUCKETS)]
    for sample in series.samples:
        index = min(BUCKETS - 1, max(0, int(sample.t_s / span * BUCKETS)))
        counts[index][0 if sample.ok else 1] += 1
    return [(a, b) for a, b in counts]


def availability_chart(report: Rehearsal, lang: str) -> Chart:
    span = _span(report)
    width = CHART_W / BUCKETS
    rows = []
    for i, series in enumerate(report.probes):
        bars = tuple(
            Bar(LABEL_W + b * width, width + 0.3, color="#c62828" if bad else "#43a047")
            for b, (ok, bad) in enumerate(_buckets(series, span))
            if ok or bad
        )
        label = f"{series.service} ({len(series.samples)}, {len(series.failures)} ✗)"
        rows.append(Row(i * ROW_H + 4, label, bars=bars))
    height = ROW_H * max(1, len(report.probes)) + 24
    return Chart(LABEL_W + CHART_W + 20, height, _ticks(span), tuple(rows), t("availability", lang))


# Markup comes from templates only, with every value escaped (autoescape): a step id,
# an owner's name or a probe's error text is shown as text, never read as markup.
_ENV = Environment(
    loader=PackageLoader("cutover.report", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


def timeline_svg(report: Rehearsal, lang: str) -> str:
    return str(_ENV.get_template("charts.html.j2").module.timeline(timeline_chart(report, lang)))  # type: ignore[attr-defined]


def html(report: Rehearsal, lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}")
    clean = report.failed_probes == 0 and not report.messages.lost
    if report.prediction is None:
        window = (
            f"{duration(report.suggested_window_s)} ({t('margin', lang)} "
            f"{int(report.safety_margin * 100)}%)"
        )
    else:
        window = (
            f"{duration(report.suggested_window_s)} ({t('predicted', lang)} "
            f"{report.prediction['env']}, {t('margin', lang)} "
            f"{int(report.prediction['margin'] * 100)}%)"
        )
    facts = [
        (t("merger", lang), report.merger),
        (t("environment", lang), report.env),
        (t("run", lang), report.run_id),
        (t("result", lang), state_word(report.state, lang)),
        (t("started", lang), report.started_at),
        (t("wall", lang), duration(report.wall_s)),
        (t("critical", lang), duration(report.critical_path_s)),
        (t("window", lang), window),
    ]
    if report.injected_failure:
        facts.append((t("injected", lang), report.injected_failure))
    steps = [
        {
            "id": s.id,
            "owner": s.owner or "",
            "approver": s.approver or "",
            "state": state_word(s.state, lang),
            "planned": duration(s.planned_s),
            "took": duration(
                s.end_s - s.start_s if s.start_s is not None and s.end_s is not None else None
            ),
        }
        for s in report.steps
    ]
    failures = [
        {"t_s": s.t_s, "service": p.service, "detail": s.detail}
        for p in report.probes
        for s in p.failures
    ][:500]
    rollbacks = [
        {"t": duration(e["t_s"]), "step": str(e.get("step") or ""), "kind": e["kind"]}
        for e in report.rollbacks
    ]
    return _ENV.get_template("report.html.j2").render(
        lang=lang,
        t={key: t(key, lang) for key in TEXT},
        r=report,
        clean=clean,
        verdict=t("verdict_ok" if clean else "verdict_bad", lang),
        facts=facts,
        steps=steps,
        failures=failures,
        rollbacks=rollbacks,
        timeline_chart=timeline_chart(report, lang),
        availability_chart=availability_chart(report, lang),
    )


def write(report: Rehearsal, folder: Path, lang: str) -> tuple[Path, Path]:
    """``report.html`` and ``report.json`` in ``folder``; returns both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    html_path, json_path = folder / "report.html", folder / "report.json"
    html_path.write_text(html(report, lang), encoding="utf-8")
    json_path.write_text(
        json.dumps(report.to_dict(), indent=2, ensure_ascii=False, default=str) + "\n",
        encoding="utf-8",
    )
    return html_path, json_path
