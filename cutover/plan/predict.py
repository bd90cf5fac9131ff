"""The window a plan needs in a target environment, with its arithmetic.

A lab rehearsal's wall time says little about the real window: the lab's TTLs are
seconds, its mailboxes a handful. The prediction takes each step's cost from what fits
the target: a TTL wait lasts the TTL the target's zones give the record (or the plan's
``ttl:``), a fixed wait its duration, a step that moves data its rehearsed time scaled by
the target's count of that data (``scales_with:``), any other step its rehearsed time,
else its estimate, else its timeout. The window is the forward critical path plus the
time to undo everything from the plan's latest point (measured rollbacks where a
rehearsal rolled the step back), plus a margin; every term is shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cutover.inventory import Inventory
from cutover.inventory.model import SHARED
from cutover.inventory.zones import record_ttl, zones
from cutover.plan import graph
from cutover.plan.durations import format_duration
from cutover.plan.model import GateStep, PlaybookStep, StackStep, Step, WaitStep
from cutover.plan.validate import LoadedPlan

MARGIN = 0.25


@dataclass(frozen=True)
class Term:
    step: str
    seconds: float
    basis: str  # where the figure comes from, for people


@dataclass(frozen=True)
class Prediction:
    env: str
    forward_s: float
    path: tuple[str, ...]
    undo_s: float
    undo_terms: tuple[Term, ...]  # every step with an undo, latest first
    margin: float = MARGIN
    costs: tuple[Term, ...] = ()  # every step's, in the plan's order

    def cost(self, step: str) -> Term:
        return next(t for t in self.costs if t.step == step)

    @property
    def terms(self) -> tuple[Term, ...]:
        """The critical path's steps, in order."""
        return tuple(self.cost(s) for s in self.path)

    @property
    def window_s(self) -> float:
        return (self.forward_s + self.undo_s) * (1 + self.margin)

    def arithmetic(self) -> list[str]:
        d = format_duration
        lines = [f"forward, critical path in {self.env}: {d(self.forward_s)}"]
        lines += [f"  {t.step}: {d(t.seconds)} ({t.basis})" for t in self.terms]
        lines.append(f"undo from the latest point: {d(self.undo_s)}")
        lines += [f"  {t.step}: {d(t.seconds)} ({t.basis})" for t in self.undo_terms]
        lines.append(
            f"window = ({d(self.forward_s)} + {d(self.undo_s)}) x {1 + self.margin:g} "
            f"= {d(self.window_s)}"
        )
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "forward_s": round(self.forward_s, 1),
            "path": list(self.path),
            "terms": [t.__dict__ for t in self.terms],
            "undo_s": round(self.undo_s, 1),
            "undo_terms": [t.__dict__ for t in self.undo_terms],
            "margin": self.margin,
            "window_s": round(self.window_s, 1),
        }


@dataclass(frozen=True)
class Target:
    """What the prediction needs to know of the target environment."""

    env: str
    ttls: Mapping[str, int]  # wait step id -> the TTL it waits out there
    counts: Mapping[str, tuple[int, int]]  # mailboxes|pages|accounts -> (target, rehearsed)


def _volumes(inv: Inventory) -> dict[str, int]:
    return {
        "mailboxes": len(inv.mailboxes),
        "pages": sum(len(p) for p in inv.pages.values()),
        "accounts": len(inv.accounts),
    }


def target_of(plan: LoadedPlan, target: Inventory, rehearsed: Inventory | None) -> Target:
    """TTLs from the target's zones; volumes against those of the environment the
    history was rehearsed in (the lab), when given."""
    ttls = {}
    for sid, step in plan.steps.items():
        if isinstance(step, WaitStep) and step.ttl_of is not None:
            ttl = record_ttl(target, step.ttl_of.name, step.ttl_of.type)
            if ttl is not None:
                ttls[sid] = ttl
        elif isinstance(step, WaitStep) and step.until == "ttl-expired" and step.ttl is None:
            # the run waits the TTL its `after` step reports lowering: at most the longest
            # TTL of the merger's zones, which is what a window must allow for
            longest = longest_ttl(target)
            if longest is not None:
                ttls[sid] = longest
    counts: dict[str, tuple[int, int]] = {}
    if rehearsed is not None:
        there, here = _volumes(target), _volumes(rehearsed)
        counts = {kind: (n, here[kind]) for kind, n in there.items()}
    return Target(target.environment, ttls, counts)


def longest_ttl(inv: Inventory) -> int | None:
    """The longest TTL of any record of the merger's own zones (not the shared parent)."""
    own = [z for z in zones(inv) if z.owner != SHARED]
    ttls = [int(r["ttl"]) for z in own for r in z.records if r.get("ttl")]
    return max([*ttls, *(z.ttl for z in own)], default=None)


def _scaled(step: Step, seconds: float, basis: str, target: Target) -> tuple[float, str]:
    kind = step.scales_with if isinstance(step, PlaybookStep) else None
    if kind is None or kind not in target.counts or not target.counts[kind][1]:
        return seconds, basis
    n, m = target.counts[kind]
    return seconds * n / m, f"{basis} x {n}/{m} {kind}"


def _cost(plan: LoadedPlan, step: Step, target: Target, history: Mapping[str, float]) -> Term:
    if isinstance(step, WaitStep):
        if step.until == "ttl-expired":
            if step.ttl is not None:
                return Term(step.id, step.ttl, "the plan's old TTL")
            if step.id in target.ttls and step.ttl_of is not None:
                q = step.ttl_of
                return Term(
                    step.id, target.ttls[step.id], f"TTL of {q.name} {q.type} in {target.env}"
                )
            if step.id in target.ttls:
                basis = f"longest TTL of the merger zones in {target.env}"
                return Term(step.id, target.ttls[step.id], basis)
        if step.duration is not None:
            return Term(step.id, step.duration, "fixed wait")
    if isinstance(step, GateStep) and step.id not in history:
        return Term(step.id, step.estimate or 0.0, "approval, as estimated")
    if step.id in history and not isinstance(step, WaitStep):
        seconds, basis = _scaled(step, history[step.id], "rehearsed", target)
        return Term(step.id, seconds, basis)
    if step.estimate is not None:
        return Term(step.id, step.estimate, "plan estimate")
    return Term(step.id, plan.timeout(step), "its timeout (no rehearsal, no estimate)")


def _undoable(step: Step) -> bool:
    if isinstance(step, PlaybookStep):
        return step.rollback is not None
    return isinstance(step, StackStep) and step.rollback is not None


def predict(
    plan: LoadedPlan,
    target: Target,
    history: Mapping[str, float],
    undo_history: Mapping[str, float],
    margin: float = MARGIN,
) -> Prediction:
    costs = {sid: _cost(plan, step, target, history) for sid, step in plan.steps.items()}
    forward, path = graph.critical_path(plan.needs, {s: t.seconds for s, t in costs.items()})
    undo_terms = []
    for sid in reversed(plan.order()):
        step = plan.steps[sid]
        if not _undoable(step):
            continue
        if sid in undo_history:
            seconds, basis = _scaled(step, undo_history[sid], "rehearsed rollback", target)
        else:
            seconds, basis = costs[sid].seconds, "not rolled back in a rehearsal: its forward time"
        undo_terms.append(Term(sid, seconds, basis))
    return Prediction(
        env=target.env,
        forward_s=forward,
        path=tuple(path),
        undo_s=sum(t.seconds for t in undo_terms),
        undo_terms=tuple(undo_terms),
        margin=margin,
        costs=tuple(costs[s] for s in plan.order()),
    )
