"""Rehearsal reports: a self-contained HTML file and JSON, in Vietnamese or English."""

from cutover.report.model import (
    MessageAccount,
    ProbeSample,
    ProbeSeries,
    Rehearsal,
    StepTiming,
    steps_from_journal,
)
from cutover.report.render import html, write

__all__ = [
    "MessageAccount",
    "ProbeSample",
    "ProbeSeries",
    "Rehearsal",
    "StepTiming",
    "html",
    "steps_from_journal",
    "write",
]
