"""Global options of one ``cutover`` invocation, shared with every sub-command."""

from __future__ import annotations

import typer

from cutover.output import Output


class State:
    def __init__(self, *, debug: bool, json_mode: bool) -> None:
        self.debug = debug
        self.out = Output(json_mode=json_mode)


def state(ctx: typer.Context) -> State:
    """The global options of this invocation (``ctx`` of any sub-command)."""
    obj = ctx.find_root().obj
    if not isinstance(obj, State):  # called outside the CLI, e.g. from a test
        obj = State(debug=False, json_mode=False)
        ctx.find_root().obj = obj
    return obj
