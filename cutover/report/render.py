"""Render a rehearsal as JSON and as one self-contained HTML file (inline CSS and SVG
charts, no script, no external resource), in Vietnamese or English."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from cutover.report.i18n import LANGS, state_word, t
from cutover.report.model import ProbeSeries, Rehearsal, StepTiming

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


def _axis(span: float, height: int) -> str:
    parts = []
    for i in range(6):
        sec = span * i / 5
        x = _x(sec, span)
        parts.append(
            f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height - 14}" class="grid"/>'
            f'<text x="{x:.1f}" y="{height - 2}" class="tick">{escape(duration(sec))}</text>'
        )
    return "".join(parts)


def timeline_svg(report: Rehearsal, lang: str) -> str:
    span = _span(report)
    height = ROW_H * len(report.steps) + 24
    rows = []
    for i, step in enumerate(report.steps):
        y = i * ROW_H + 4
        rows.append(f'<text x="4" y="{y + 13}" class="label">{escape(step.id)}</text>')
        if step.start_s is not None and step.planned_s:
            end = min(step.start_s + step.planned_s, span)
            x0, x1 = _x(step.start_s, span), _x(end, span)
            cut = step.start_s + step.planned_s > span
            rows.append(
                f'<rect x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 1):.1f}" height="16" '
                f'class="planned{" cut" if cut else ""}"><title>{t("planned", lang)}: '
                f"{escape(duration(step.planned_s))}</title></rect>"
            )
            if cut:  # open end: the estimate runs past the chart
                rows.append(f'<text x="{x1 + 2:.1f}" y="{y + 13}" class="tick">…</text>')
        if step.start_s is not None:
            end = step.end_s if step.end_s is not None else step.start_s
            x0, x1 = _x(step.start_s, span), _x(end, span)
            color = COLORS.get(step.state, "#757575")
            rows.append(
                f'<rect x="{x0:.1f}" y="{y + 3}" width="{max(x1 - x0, 2):.1f}" height="10" '
                f'fill="{color}" class="actual"><title>{escape(step.id)}: '
                f"{escape(state_word(step.state, lang))}, {escape(duration(end - step.start_s))}"
                "</title></rect>"
            )
        if step.rollback_start_s is not None:
            end = step.rollback_end_s or step.rollback_start_s
            x0, x1 = _x(step.rollback_start_s, span), _x(end, span)
            rows.append(
                f'<rect x="{x0:.1f}" y="{y + 3}" width="{max(x1 - x0, 2):.1f}" height="10" '
                f'class="rollback"><title>{t("rollback", lang)}</title></rect>'
            )
    return (
        f'<svg id="timeline-chart" role="img" width="{LABEL_W + CHART_W + 20}" '
        f'height="{height}" viewBox="0 0 {LABEL_W + CHART_W + 20} {height}">'
        f"{_axis(span, height)}{''.join(rows)}</svg>"
    )


def _buckets(series: ProbeSeries, span: float) -> list[tuple[int, int]]:
    """(ok, failed) counts per time bucket."""
    counts = [[0, 0] for _ in range(BUCKETS)]
    for sample in series.samples:
        index = min(BUCKETS - 1, max(0, int(sample.t_s / span * BUCKETS)))
        counts[index][0 if sample.ok else 1] += 1
    return [(a, b) for a, b in counts]


def availability_svg(report: Rehearsal, lang: str) -> str:
    span = _span(report)
    height = ROW_H * max(1, len(report.probes)) + 24
    width = CHART_W / BUCKETS
    rows = []
    for i, series in enumerate(report.probes):
        y = i * ROW_H + 4
        failed = len(series.failures)
        rows.append(
            f'<text x="4" y="{y + 13}" class="label">{escape(series.service)} '
            f"({len(series.samples)}, {failed} ✗)</text>"
        )
        for b, (ok, bad) in enumerate(_buckets(series, span)):
            if not ok and not bad:
                continue
            color = "#c62828" if bad else "#43a047"
            x = LABEL_W + b * width
            rows.append(
                f'<rect x="{x:.2f}" y="{y + 2}" width="{width + 0.3:.2f}" height="14" '
                f'fill="{color}"/>'
            )
    title = escape(t("availability", lang))
    return (
        f'<svg id="availability-chart" role="img" aria-label="{title}" '
        f'width="{LABEL_W + CHART_W + 20}" height="{height}" '
        f'viewBox="0 0 {LABEL_W + CHART_W + 20} {height}">{_axis(span, height)}'
        f"{''.join(rows)}</svg>"
    )


CSS = """
body{font-family:'Noto Sans','DejaVu Sans',Arial,sans-serif;margin:24px;color:#212121}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:3px 8px;
text-align:left}.ok{color:#2e7d32;font-weight:bold}.bad{color:#c62828;font-weight:bold}
svg{background:#fafafa;border:1px solid #eee}.label{font-size:12px}.tick{font-size:10px;
fill:#616161}.grid{stroke:#e0e0e0}.planned{fill:none;stroke:#9e9e9e;stroke-dasharray:3 2}
.rollback{fill:#ef6c00;opacity:.6}.legend span{display:inline-block;margin-right:14px}
"""


def _arithmetic(report: Rehearsal, lang: str) -> str:
    if not report.prediction_lines:
        return ""
    lines = "\n".join(escape(line) for line in report.prediction_lines)
    return f"<details><summary>{t('arithmetic', lang)}</summary><pre>{lines}</pre></details>"


def html(report: Rehearsal, lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}")
    clean = report.failed_probes == 0 and not report.messages.lost
    verdict = t("verdict_ok" if clean else "verdict_bad", lang)
    facts = [
        (t("merger", lang), report.merger),
        (t("environment", lang), report.env),
        (t("run", lang), report.run_id),
        (t("result", lang), state_word(report.state, lang)),
        (t("started", lang), report.started_at),
        (t("wall", lang), duration(report.wall_s)),
        (t("critical", lang), duration(report.critical_path_s)),
        (
            t("window", lang),
            f"{duration(report.suggested_window_s)} ({t('margin', lang)} "
            f"{int(report.safety_margin * 100)}%)"
            if report.prediction is None
            else f"{duration(report.suggested_window_s)} ({t('predicted', lang)} "
            f"{report.prediction['env']}, {t('margin', lang)} "
            f"{int(report.prediction['margin'] * 100)}%)",
        ),
    ]
    if report.injected_failure:
        facts.append((t("injected", lang), report.injected_failure))
    fact_rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in facts)
    step_rows = "".join(_step_row(s, lang) for s in report.steps)
    probe_rows = "".join(
        f"<tr><td>{escape(p.service)}</td><td>{escape(p.target)}</td><td>{len(p.samples)}</td>"
        f'<td class="{"bad" if p.failures else "ok"}">{len(p.failures)}</td></tr>'
        for p in report.probes
    )
    failures = [
        f"<tr><td>{s.t_s:.2f} s</td><td>{escape(p.service)}</td><td>{escape(s.detail)}</td></tr>"
        for p in report.probes
        for s in p.failures
    ]
    failure_table = (
        f"<table><tr><th>{t('time', lang)}</th><th>{t('service', lang)}</th>"
        f"<th>{t('detail', lang)}</th></tr>{''.join(failures[:500])}</table>"
        if failures
        else f"<p>{t('none', lang)}</p>"
    )
    rollback_rows = "".join(
        f"<tr><td>{duration(e['t_s'])}</td><td>{escape(str(e.get('step') or ''))}</td>"
        f"<td>{escape(e['kind'])}</td></tr>"
        for e in report.rollbacks
    )
    rollbacks = f"<table>{rollback_rows}</table>" if rollback_rows else f"<p>{t('none', lang)}</p>"
    m = report.messages
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<title>{t("title", lang)}: {escape(report.merger)}</title><style>{CSS}</style></head>
<body><h1>{t("title", lang)}: {escape(report.merger)}</h1>
<p class="{"ok" if clean else "bad"}" id="verdict">{escape(verdict)}</p>
<table>{fact_rows}</table>
{_arithmetic(report, lang)}
<h2>{t("timeline", lang)}</h2>
<p class="legend"><span>▭ {t("planned", lang)}</span><span>▬ {t("actual", lang)}</span>
<span style="color:#ef6c00">▬ {t("rollback", lang)}</span></p>
{timeline_svg(report, lang)}
<table><tr><th>{t("step", lang)}</th><th>{t("owner", lang)}</th><th>{t("approver", lang)}</th>
<th>{t("state", lang)}</th><th>{t("planned", lang)}</th><th>{t("duration", lang)}</th></tr>
{step_rows}</table>
<h2>{t("availability", lang)}</h2>
{availability_svg(report, lang)}
<table><tr><th>{t("service", lang)}</th><th>{t("target", lang)}</th><th>{t("probes", lang)}</th>
<th>{t("failed_probes", lang)}</th></tr>{probe_rows}</table>
<h3>{t("failed_probes", lang)}</h3>{failure_table}
<h2>{t("messages", lang)}</h2>
<table id="messages"><tr><th>{t("sent", lang)}</th><td>{m.sent}</td></tr>
<tr><th>{t("found", lang)}</th><td>{m.found}</td></tr>
<tr><th>{t("lost", lang)}</th><td class="{"bad" if m.lost else "ok"}">{len(m.lost)}</td></tr>
<tr><th>{t("duplicated", lang)}</th><td>{len(m.duplicated)}</td></tr></table>
<h2>{t("rollbacks", lang)}</h2>{rollbacks}
</body></html>
"""


def _step_row(step: StepTiming, lang: str) -> str:
    took = (
        step.end_s - step.start_s if step.start_s is not None and step.end_s is not None else None
    )
    return (
        f"<tr><td>{escape(step.id)}</td><td>{escape(step.owner or '')}</td>"
        f"<td>{escape(step.approver or '')}</td><td>{escape(state_word(step.state, lang))}</td>"
        f"<td>{duration(step.planned_s)}</td><td>{duration(took)}</td></tr>"
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
