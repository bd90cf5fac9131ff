"""The plan model: what a plan file may say, as pydantic models (and so JSON Schema).

Only the shape is checked here. Cross-step rules (references, cycles, rollbacks, windows,
files) are in :mod:`cutover.plan.validate`, which can point at the offending line.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
)

from cutover.plan.durations import PATTERN, parse_duration

DEFAULT_TZ = "Asia/Ho_Chi_Minh"
STEP_ID = r"^[a-z0-9][a-z0-9._-]*$"

Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    WithJsonSchema(
        {
            "anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": PATTERN}],
            "description": "seconds, or a duration such as 30s, 5m, 1h30m",
        }
    ),
]
Scalar = str | int | float | bool
ProbeSpec = Annotated[
    dict[str, Any],
    WithJsonSchema(
        {
            "type": "object",
            "description": (
                "one probe: exactly one of command, tcp, dns, http (plus that kind's options)"
            ),
            "minProperties": 1,
        }
    ),
]

# Default timeouts by kind: generous, because a timeout aborts (and rolls back) the run.
DEFAULT_TIMEOUT = {"playbook": 1800.0, "stack": 1800.0, "check": 300.0, "gate": 14400.0}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Window(_Strict):
    """When the cutover may run; naive times are in ``tz``."""

    start: datetime
    end: datetime
    tz: str = DEFAULT_TZ

    @field_validator("tz")
    @classmethod
    def _known_tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as {DEFAULT_TZ})"
            ) from exc
        return value

    def aware(self, moment: datetime) -> datetime:
        return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(self.tz))

    @property
    def starts(self) -> datetime:
        return self.aware(self.start)

    @property
    def ends(self) -> datetime:
        return self.aware(self.end)

    @property
    def length(self) -> timedelta:
        return self.ends - self.starts


class Policy(_Strict):
    on_window_overrun: Literal["hold", "rollback"] = Field(
        "hold", description="what to do when a step would end after the window"
    )
    max_parallel: int = Field(4, ge=1, le=64, description="steps running at once")


class Defaults(_Strict):
    owner: str | None = None
    approver: str | None = None
    timeout: Duration | None = None
    retries: int = Field(0, ge=0, le=20)


class SecretRef(_Strict):
    env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="environment variable")


class Notify(_Strict):
    webhook: str = Field(pattern=r"^https?://", description="URL that receives state changes")


class StepBase(_Strict):
    id: str = Field(pattern=STEP_ID, max_length=80)
    needs: list[str] = Field(default_factory=list)
    description: str | None = None
    owner: str | None = Field(None, description="the person who does the step")
    approver: str | None = Field(None, description="the authority who answers for it")
    timeout: Duration | None = None
    estimate: Duration | None = Field(None, description="expected duration, for windows/ETA")
    retries: int | None = Field(None, ge=0, le=20)
    retry_delay: Duration = 5.0
    idempotent: bool = Field(False, description="safe to re-run if caught mid-flight")
    rehearsal_only: bool = Field(
        False, description="a rehearsal hook: not part of a live run's graph at all"
    )
    point_of_no_return: str | None = Field(
        None, min_length=3, description="why this step cannot be rolled back"
    )

    @property
    def mutating(self) -> bool:
        return False

    @property
    def has_rollback(self) -> bool:
        return False


class PlaybookStep(StepBase):
    kind: Literal["playbook"]
    playbook: str = Field(min_length=1)
    verify: str | None = None
    rollback: str | None = None
    verify_rollback: str | None = None
    read_only: bool = Field(False, description="the playbook changes nothing")
    vars: dict[str, Any] = Field(default_factory=dict)
    inventory: str | None = None
    limit: str | None = None
    tags: list[str] = Field(default_factory=list)
    scales_with: Literal["mailboxes", "pages", "accounts"] | None = Field(
        None,
        description="the data its cost follows: a window prediction scales its rehearsed "
        "time by the target environment's count of it",
    )

    @property
    def mutating(self) -> bool:
        return not self.read_only

    @property
    def has_rollback(self) -> bool:
        return self.rollback is not None


class StackStep(StepBase):
    kind: Literal["stack"]
    stack: str = Field(min_length=1, description="stack name, e.g. production")
    config: dict[str, Scalar] = Field(min_length=1)
    adapter: str = "pulumi"
    rollback: Literal["previous-config"] | None = None

    @property
    def mutating(self) -> bool:
        return True

    @property
    def has_rollback(self) -> bool:
        return self.rollback is not None


class CheckStep(StepBase):
    kind: Literal["check"]
    probes: list[ProbeSpec] = Field(min_length=1)
    interval: Duration = Field(5.0, description="pause between failed attempts")


class GateStep(StepBase):
    kind: Literal["gate"]
    message: str | None = None


class TtlOf(_Strict):
    name: str = Field(min_length=1)
    type: str = "A"
    server: str | None = Field(
        None, description="an address, or a host name of the plan's merger inventory"
    )
    port: int = 53


class WaitStep(StepBase):
    kind: Literal["wait"]
    duration: Duration | None = None
    until: Literal["ttl-expired"] | None = None
    after: str | None = Field(None, description="the step that lowered the TTL")
    ttl: Duration | None = None
    ttl_of: TtlOf | None = None


Step = Annotated[
    PlaybookStep | StackStep | CheckStep | GateStep | WaitStep, Field(discriminator="kind")
]
KINDS = ("playbook", "stack", "check", "gate", "wait")


class Plan(_Strict):
    """A cutover plan. Paths are relative to the plan file."""

    version: Literal[1] = 1
    name: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    merger: str | None = Field(
        None, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=60, description="a merger's name"
    )
    description: str | None = None
    window: Window | None = None
    policy: Policy = Field(default_factory=Policy)  # type: ignore[arg-type]
    defaults: Defaults = Field(default_factory=Defaults)  # type: ignore[arg-type]
    playbook_dir: str = "."
    inventory: str | None = None
    pulumi_project: str | None = Field(None, description="Pulumi.yaml whose config keys apply")
    vars: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, SecretRef] = Field(default_factory=dict)
    notify: Notify | None = None
    steps: list[Step] = Field(min_length=1)
