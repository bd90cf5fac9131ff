"""Where the CLI's words go: a rich console for people, JSON lines for machines.

Library code never prints; it reports events to an :class:`Output`, which the CLI builds
from ``--json`` and hands down.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from rich.console import Console
from rich.markup import escape
from rich.text import Text


def markup(template: str, **values: Any) -> Text:
    """Styled text from one of our own rich-markup templates, ``{name}`` fields filled
    with ``values`` escaped: plan, inventory and Ansible text is never markup."""
    return Text.from_markup(template.format(**{k: escape(str(v)) for k, v in values.items()}))


@dataclass
class Output:
    json_mode: bool = False
    stream: TextIO = field(default_factory=lambda: sys.stdout)
    console: Console = field(init=False)

    def __post_init__(self) -> None:
        # markup off: a string printed (a message, a table cell) is shown as it is, so
        # an owner "[/b]" or a file "[red].yml" can neither break nor restyle the output;
        # styles come only from Text built by :func:`markup`.
        self.console = Console(file=self.stream, highlight=False, soft_wrap=True, markup=False)

    def event(self, kind: str, **data: Any) -> None:
        """A machine-readable event; shown to people only through ``message``/renderers."""
        if self.json_mode:
            record = {"ts": datetime.now(UTC).isoformat(), "event": kind, **data}
            self.stream.write(json.dumps(record, default=str, ensure_ascii=False) + "\n")
            self.stream.flush()

    def message(self, text: str | Text, **data: Any) -> None:
        """A line for people; in JSON mode, an event of kind ``message``."""
        if self.json_mode:
            self.event("message", text=str(text), **data)
        else:
            self.console.print(text)

    def warning(self, text: str, **data: Any) -> None:
        """Something the user should know that does not stop the command: on stderr, so
        a result on stdout stays clean (in JSON mode, an event of kind ``warning``)."""
        if self.json_mode:
            self.event("warning", text=text, **data)
        else:
            Console(file=sys.stderr, highlight=False, soft_wrap=True, markup=False).print(
                f"warning: {text}"
            )

    def result(self, data: Any, render: Any = None) -> None:
        """The final result of a command: JSON in JSON mode, else ``render`` (a rich
        renderable) or a plain dump."""
        if self.json_mode:
            self.stream.write(json.dumps(data, default=str, ensure_ascii=False, indent=2) + "\n")
        elif render is not None:
            self.console.print(render)
        else:
            self.console.print(data)
