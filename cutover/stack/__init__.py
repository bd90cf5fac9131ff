"""A thin layer over the Pulumi Automation API: engine discovery, state settings,
stack operations with typed errors mapped to clear messages, and event streaming."""

from cutover.stack.engine import PULUMI_VERSION, find_engine
from cutover.stack.settings import StackSettings
from cutover.stack.workspace import ChangeSummary, StackHandle, open_stack

__all__ = [
    "PULUMI_VERSION",
    "ChangeSummary",
    "StackHandle",
    "StackSettings",
    "find_engine",
    "open_stack",
]
