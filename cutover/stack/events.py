"""Turn Pulumi engine events into the project's progress events (plain dicts)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pulumi.automation import events as pe

Listener = Callable[[str, dict[str, Any]], None]


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def translate(event: pe.EngineEvent) -> tuple[str, dict[str, Any]] | None:
    """One progress event for a Pulumi engine event, or None for noise."""
    if event.resource_pre_event:
        meta = event.resource_pre_event.metadata
        return "resource.start", {
            "op": str(meta.op.value),
            "name": _name(meta.urn),
            "type": meta.type,
        }
    if event.res_outputs_event:
        meta = event.res_outputs_event.metadata
        return "resource.done", {
            "op": str(meta.op.value),
            "name": _name(meta.urn),
            "type": meta.type,
        }
    if event.res_op_failed_event:
        meta = event.res_op_failed_event.metadata
        return "resource.failed", {"op": str(meta.op.value), "name": _name(meta.urn)}
    if event.diagnostic_event and event.diagnostic_event.severity in ("error", "warning"):
        diag = event.diagnostic_event
        return "diagnostic", {"severity": diag.severity, "message": diag.message.strip()}
    if event.summary_event:
        changes = {str(k): v for k, v in (event.summary_event.resource_changes or {}).items()}
        return "summary", {"changes": changes}
    return None


def forwarder(listener: Listener | None) -> Callable[[pe.EngineEvent], None] | None:
    if listener is None:
        return None

    def on_event(event: pe.EngineEvent) -> None:
        translated = translate(event)
        if translated:
            listener(*translated)

    return on_event
