"""Loading a plan file into a checked :class:`LoadedPlan`, or one ConfigError with a line.

Shape errors come from pydantic and are translated into sentences about the plan (which
step, which field, what to write instead); graph and safety rules are checked here.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NoReturn

import yaml
from pydantic import ValidationError

from cutover import paths
from cutover.errors import ConfigError, Location
from cutover.plan import graph
from cutover.plan.durations import format_duration
from cutover.plan.library import Provenance, compose, library_path
from cutover.plan.loader import LineDict, line_of, load_yaml
from cutover.plan.model import (
    DEFAULT_TIMEOUT,
    KINDS,
    CheckStep,
    GateStep,
    Plan,
    PlaybookStep,
    StackStep,
    Step,
    StepBase,
    WaitStep,
)
from cutover.probes import parse_probe

_CONFIG_KEY = re.compile(r"^(?:[A-Za-z][\w-]*:)?[A-Za-z_][\w-]*(?:\.[\w-]+|\[\d+\])*$")


@dataclass
class LoadedPlan:
    """A validated plan with its file, the line map, and effective per-step settings.

    A plan that extends a library plan is the composed one: ``tree`` is the composed tree
    (each node keeps the lines of the file it came from) and ``origin`` says which file.
    """

    path: Path
    model: Plan
    tree: Any = field(repr=False)
    steps: dict[str, Step] = field(default_factory=dict)
    origin: Provenance | None = field(default=None, repr=False)

    @property
    def files(self) -> list[Path]:
        """The files the plan is made of: its own, and the library plan it extends."""
        return self.origin.files if self.origin else [self.path]

    @property
    def name(self) -> str:
        return self.model.name or self.path.stem

    @property
    def base(self) -> Path:
        return self.path.parent

    def live(self) -> LoadedPlan:
        """The plan as a live run executes it: rehearsal-only steps are not in its graph
        (whatever needed one needs what it needed), so no flag can reach them."""
        dropped = {sid for sid, step in self.steps.items() if step.rehearsal_only}
        if not dropped:
            return self

        def needs(of: list[str]) -> list[str]:
            out: list[str] = []
            for dep in of:
                for need in needs(self.steps[dep].needs) if dep in dropped else [dep]:
                    if need not in out:
                        out.append(need)
            return out

        steps: dict[str, Step] = {
            sid: step.model_copy(update={"needs": needs(step.needs)})
            for sid, step in self.steps.items()
            if sid not in dropped
        }
        return replace(self, steps=steps)

    @property
    def needs(self) -> dict[str, list[str]]:
        return {sid: list(step.needs) for sid, step in self.steps.items()}

    def order(self) -> list[str]:
        return graph.topo_order(self.needs)

    def where(self, step_id: str, *fields: str | int) -> Location:
        index = [s.id for s in self.model.steps].index(step_id)
        return self.where_top("steps", index, *fields)

    def where_top(self, *fields: str | int) -> Location:
        """The file and line of a path into the plan (from its top)."""
        if self.origin is not None:
            return self.origin.top(*fields)
        return Location(self.path, line_of(self.tree, fields))

    def owner(self, step: StepBase) -> str | None:
        return step.owner or self.model.defaults.owner

    def approver(self, step: StepBase) -> str | None:
        return step.approver or self.model.defaults.approver

    def retries(self, step: StepBase) -> int:
        return step.retries if step.retries is not None else self.model.defaults.retries

    def timeout(self, step: Step) -> float:
        if step.timeout is not None:
            return step.timeout
        if self.model.defaults.timeout is not None:
            return self.model.defaults.timeout
        if isinstance(step, WaitStep):
            # a wait is as long as it says, plus slack for the DNS query
            return (step.duration or step.ttl or 86400.0) + 60.0
        return DEFAULT_TIMEOUT[step.kind]

    def expected(self, step: Step, history: Mapping[str, float] | None = None) -> float:
        """Seconds the step is expected to take: rehearsal history, estimate, or worst case."""
        if history and step.id in history:
            return history[step.id]
        if step.estimate is not None:
            return step.estimate
        if isinstance(step, WaitStep) and (step.duration is not None or step.ttl is not None):
            return step.duration if step.duration is not None else step.ttl or 0.0
        if isinstance(step, GateStep):
            return 0.0  # people approve in the window; give an estimate to plan for it
        return self.timeout(step)

    def critical_path(self, history: Mapping[str, float] | None = None) -> tuple[float, list[str]]:
        weights = {sid: self.expected(step, history) for sid, step in self.steps.items()}
        return graph.critical_path(self.needs, weights)

    def playbook_path(self, relative: str) -> Path:
        # playbook_dir is relative to the file that states it: the library's, if extended
        base = self.origin.library.path.parent if self.origin else self.base
        return (base / self.model.playbook_dir / relative).resolve()

    def inventory_for(self, step: PlaybookStep) -> Path | None:
        chosen = step.inventory or self.model.inventory
        return (self.base / chosen).resolve() if chosen else None

    def wait_after(self, step: WaitStep) -> str | None:
        if step.after:
            return step.after
        return step.needs[0] if len(step.needs) == 1 else None


def load_plan(path: Path) -> LoadedPlan:
    """Read, parse and check ``path``; ConfigError (file, line, fix) on any problem."""
    tree = load_yaml(path)
    if tree is None:
        raise ConfigError("plan file is empty", where=Location(path, 1), hint="start with `steps:`")
    if not isinstance(tree, LineDict):
        raise ConfigError(
            "a plan must be a mapping (with `steps:`), not a "
            + ("list" if isinstance(tree, list) else type(tree).__name__),
            where=Location(path, getattr(tree, "line", 1)),
            hint="see `cutover plan schema`",
        )
    origin: Provenance | None = None
    library = library_path(tree, path)
    if library is not None:
        tree, origin = compose(tree, path, library)

    def locate(loc: tuple[int | str, ...]) -> Location:
        if origin is not None:
            return origin.top(*loc)
        return Location(path, line_of(tree, loc))

    try:
        model = Plan.model_validate(tree)
    except ValidationError as exc:
        raise _translate(exc, tree, locate) from None
    plan = LoadedPlan(path=path, model=model, tree=tree, origin=origin)
    _check(plan)
    return plan


# --- pydantic errors in plan words -------------------------------------------------


def _step_label(tree: Any, loc: Sequence[int | str]) -> tuple[str, list[str]]:
    """("step 'id'" or "the plan", remaining field path without union tags)."""
    rest = [str(p) for p in loc]
    if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
        steps = tree.get("steps")
        item = steps[loc[1]] if isinstance(steps, list) and loc[1] < len(steps) else None
        sid = item.get("id") if isinstance(item, dict) else None
        label = f"step '{sid}'" if isinstance(sid, str) else f"step #{loc[1] + 1}"
        rest = [str(p) for p in loc[2:]]
        if rest and rest[0] in KINDS:
            rest = rest[1:]
        return label, rest
    return "the plan", rest


def _allowed_fields(tree: Any, loc: Sequence[int | str]) -> list[str]:
    from cutover.plan import model as m

    classes: dict[str, Any] = {
        "playbook": m.PlaybookStep,
        "stack": m.StackStep,
        "check": m.CheckStep,
        "gate": m.GateStep,
        "wait": m.WaitStep,
    }
    if len(loc) == 1:
        return list(m.Plan.model_fields)
    if loc[0] == "steps" and len(loc) >= 3 and loc[2] in classes:
        cls = classes[str(loc[2])]
        if len(loc) == 4:
            return [f for f in cls.model_fields if f != "kind"] + ["kind"]
        if loc[3] == "ttl_of":
            return list(m.TtlOf.model_fields)
    if loc[0] in ("window", "policy", "defaults", "notify"):
        return list(getattr(m, str(loc[0]).capitalize()).model_fields)
    return []


def _data_loc(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """``loc`` without pydantic's union tags, so it walks the YAML tree (a step's kind
    tag 'playbook' would otherwise be taken for its `playbook:` key)."""
    if len(loc) >= 3 and loc[0] == "steps" and loc[2] in KINDS:
        loc = (*loc[:2], *loc[3:])
    return tuple(p for p in loc if not (isinstance(p, str) and "[" in p))


def _translate(
    exc: ValidationError, tree: Any, locate: Callable[[tuple[int | str, ...]], Location]
) -> ConfigError:
    def place(error: Any) -> tuple[str, int]:
        where = locate(_data_loc(tuple(error["loc"])))
        return str(where.path), where.line or 0

    errors = sorted(exc.errors(), key=place)
    first = errors[0]
    loc = tuple(first["loc"])
    kind = first["type"]
    tag_error = kind in ("union_tag_invalid", "union_tag_not_found")
    where = locate(_data_loc(loc) + (("kind",) if tag_error else ()))
    label, rest = _step_label(tree, loc)
    name = ".".join(rest)
    msg = str(first["msg"]).removeprefix("Value error, ")
    hint: str | None = None
    if kind == "extra_forbidden":
        allowed = _allowed_fields(tree, loc)
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        text = f"{label} has unknown field '{loc[-1]}'"
        hint = f"did you mean '{close[0]}'?" if close else None
        if not hint and allowed:
            hint = "allowed: " + ", ".join(allowed)
    elif kind == "missing":
        text = f"{label} is missing required field '{name}'"
        hint = f"add `{rest[-1]}:` to {label}; `cutover plan schema` lists every field"
    elif kind == "union_tag_invalid":
        got = first.get("ctx", {}).get("tag")
        text = f"{label} has unknown kind '{got}'"
        hint = "use one of " + ", ".join(KINDS)
    elif kind == "union_tag_not_found":
        text = f"{label} has no kind"
        hint = "add `kind:` with one of " + ", ".join(KINDS)
    elif rest and rest[-1] == "id" and kind == "string_pattern_mismatch":
        text = f"{label}: id {first['input']!r} is not valid"
        hint = "use lower-case letters, digits, '.', '-' and '_', starting with a letter or digit"
    elif kind in ("model_type", "model_attributes_type", "dict_type") and not rest:
        text = f"{label} must be a mapping"
        hint = "write it as `key: value` lines, a step as `- id: ...` with `kind:` under it"
    else:
        subject = f"field '{name}' of {label}" if name else label
        if label == "the plan":
            subject = f"field '{name}'"
        text = f"{subject}: {msg}"
        shown = first.get("input")
        if shown is not None and not isinstance(shown, dict | list) and repr(shown) not in msg:
            text += f" (got {shown!r})"
        if kind == "too_short":  # an empty list or mapping where the plan needs content
            hint = f"give `{rest[-1]}:` at least one entry" if rest else None
    if hint is None:  # every error says where to look, even the unforeseen ones
        hint = "see `cutover plan schema` for the allowed fields and values"
    if len(errors) > 1:
        text += f" [and {len(errors) - 1} more problem(s)]"
    return ConfigError(text, where=where, hint=hint)


# --- graph and safety rules ---------------------------------------------------------


def _fail(
    plan: LoadedPlan, step: str | None, fields: tuple[str | int, ...], text: str, hint: str
) -> NoReturn:
    where = plan.where(step, *fields) if step else plan.where_top(*fields)
    raise ConfigError(text, where=where, hint=hint)


def _check(plan: LoadedPlan) -> None:
    model = plan.model
    for index, step in enumerate(model.steps):
        if step.id in plan.steps:
            raise ConfigError(
                f"duplicate step id '{step.id}'",
                where=plan.where_top("steps", index, "id"),
                hint="give every step its own id",
            )
        plan.steps[step.id] = step
    for sid, step in plan.steps.items():
        _check_needs(plan, sid, step)
    cycle = graph.find_cycle(plan.needs)
    if cycle:
        _fail(
            plan,
            cycle[0],
            ("needs",),
            "dependency cycle: " + " -> ".join(cycle),
            "remove one of these needs",
        )
    _check_paths(plan)
    pulumi_keys = _pulumi_config_keys(plan)
    for sid, step in plan.steps.items():
        _check_people(plan, sid, step)
        _check_rollback(plan, sid, step)
        if isinstance(step, PlaybookStep):
            _check_playbook(plan, sid, step)
        elif isinstance(step, StackStep):
            _check_stack(plan, sid, step, pulumi_keys)
        elif isinstance(step, CheckStep):
            _check_probes(plan, sid, step)
        elif isinstance(step, WaitStep):
            _check_wait(plan, sid, step)
    _check_window(plan)


def _check_needs(plan: LoadedPlan, sid: str, step: StepBase) -> None:
    seen: set[str] = set()
    for index, dep in enumerate(step.needs):
        where = plan.where(sid, "needs", index)
        if dep == sid:
            raise ConfigError(
                f"step '{sid}' needs itself", where=where, hint="remove it from needs"
            )
        if dep in seen:
            raise ConfigError(
                f"step '{sid}' lists '{dep}' twice in needs", where=where, hint="list it once"
            )
        seen.add(dep)
        if dep not in plan.steps:
            close = difflib.get_close_matches(dep, list(plan.steps), n=1)
            raise ConfigError(
                f"step '{sid}' needs unknown step '{dep}'",
                where=where,
                hint=f"did you mean '{close[0]}'?" if close else "add that step or fix the id",
            )


def _check_people(plan: LoadedPlan, sid: str, step: StepBase) -> None:
    for role, person in (("owner", plan.owner(step)), ("approver", plan.approver(step))):
        if person:
            continue
        why = "a responsible person" if role == "owner" else "an authority"
        if plan.origin is not None:
            # a library step names no people: the merger's plan must, so point there
            family = sid.split(".", 1)[0]
            raise ConfigError(
                f"step '{sid}' has no {role}",
                where=plan.where_top("defaults"),
                hint=f"set `{role}:` in `defaults:`, or `{role}s: {{{family}: ...}}` "
                f"(every task needs {why})",
            )
        _fail(
            plan,
            sid,
            ("id",),
            f"step '{sid}' has no {role}",
            f"set `{role}:` on the step or in `defaults:` (every task needs {why})",
        )


def _check_rollback(plan: LoadedPlan, sid: str, step: Step) -> None:
    if step.rehearsal_only and step.mutating:
        _fail(
            plan,
            sid,
            ("rehearsal_only",),
            f"rehearsal-only step '{sid}' changes things: a live run would differ from its "
            "rehearsals by more than a hook",
            "make it read_only, or not rehearsal_only",
        )
    rollback = step.has_rollback
    if rollback and step.point_of_no_return:
        _fail(
            plan,
            sid,
            ("point_of_no_return",),
            f"step '{sid}' has both a rollback and a point_of_no_return",
            "keep the rollback, or remove it and keep the reason",
        )
    if isinstance(step, PlaybookStep) and step.read_only and (rollback or step.point_of_no_return):
        _fail(
            plan,
            sid,
            ("read_only",),
            f"step '{sid}' is read_only but declares a rollback or point_of_no_return",
            "a read-only playbook changes nothing: remove read_only or the rollback",
        )
    if step.mutating and not rollback and not step.point_of_no_return:
        fix = (
            "add `rollback: previous-config`"
            if isinstance(step, StackStep)
            else "add `rollback: <playbook>` (or `read_only: true` if it changes nothing)"
        )
        _fail(
            plan,
            sid,
            ("id",),
            f"step '{sid}' changes things but has no rollback",
            f"{fix}, or `point_of_no_return: <reason>`",
        )
    if not step.mutating and step.point_of_no_return and not isinstance(step, PlaybookStep):
        _fail(
            plan,
            sid,
            ("point_of_no_return",),
            f"step '{sid}' ({step.kind}) changes nothing, so it cannot be a point of no return",
            "remove point_of_no_return",
        )


def allowed_roots(plan: LoadedPlan) -> list[Path]:
    """Where a plan's files may be: its own folder, its merger's folder (the one holding
    merger.yml, for ``<merger>/plans/*.yml``), and the project (the playbooks)."""
    base = plan.base.resolve()
    roots = [base, paths.project_root(), paths.PACKAGE_DIR.parent]
    roots += [d for d in (base, base.parent) if (d / "merger.yml").is_file()]
    return roots


def _confine(
    plan: LoadedPlan, sid: str | None, field_name: str, written: str, target: Path
) -> None:
    """Refuse a path (absolute, ``..``, or through a symlink) that leaves the plan's folder
    and the project, before anything is read from it."""
    if any(target.is_relative_to(root) for root in allowed_roots(plan)):
        return
    label = f"step '{sid}': {field_name}" if sid else field_name
    _fail(
        plan,
        sid,
        (field_name,),
        f"{label} '{written}' leads outside the plan's folder and the project ({target})",
        "keep playbooks and inventories in the plan's folder or the project",
    )


def _check_paths(plan: LoadedPlan) -> None:
    model = plan.model
    _confine(plan, None, "playbook_dir", model.playbook_dir, plan.playbook_path("."))
    if model.inventory:
        _confine(plan, None, "inventory", model.inventory, (plan.base / model.inventory).resolve())
    if model.pulumi_project:
        target = (plan.base / model.pulumi_project).resolve()
        _confine(plan, None, "pulumi_project", model.pulumi_project, target)


def _check_playbook(plan: LoadedPlan, sid: str, step: PlaybookStep) -> None:
    if step.inventory:
        target = (plan.base / step.inventory).resolve()
        _confine(plan, sid, "inventory", step.inventory, target)
    for name in ("playbook", "verify", "rollback", "verify_rollback"):
        relative = getattr(step, name)
        if relative is None:
            continue
        target = plan.playbook_path(relative)
        _confine(plan, sid, name, relative, target)
        if not target.is_file():
            _fail(
                plan,
                sid,
                (name,),
                f"step '{sid}': {name} playbook '{relative}' not found (looked at {target})",
                "paths are relative to the plan file and its playbook_dir",
            )
        try:
            plays = yaml.safe_load(target.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            _fail(
                plan,
                sid,
                (name,),
                f"step '{sid}': {name} playbook '{relative}' is not valid YAML ({exc})",
                "run ansible-lint on it",
            )
        if not isinstance(plays, list):
            _fail(
                plan,
                sid,
                (name,),
                f"step '{sid}': {name} '{relative}' is not a playbook (a list of plays)",
                "point at a playbook, not a task file or vars file",
            )
    if step.verify_rollback and not step.rollback:
        _fail(
            plan,
            sid,
            ("verify_rollback",),
            f"step '{sid}' has verify_rollback but no rollback",
            "add the rollback playbook or remove verify_rollback",
        )
    inventory = plan.inventory_for(step)
    if inventory is not None and not inventory.exists():
        field_name = ("inventory",) if step.inventory else ()
        if field_name:
            _fail(plan, sid, field_name, f"inventory {inventory} not found", "fix the path")
        _fail(plan, None, ("inventory",), f"inventory {inventory} not found", "fix the path")


def _pulumi_config_keys(plan: LoadedPlan) -> tuple[Path, str, set[str]] | None:
    """(Pulumi.yaml, project name, declared keys), from pulumi_project or the nearest one."""
    if not any(isinstance(s, StackStep) for s in plan.steps.values()):
        return None
    if plan.model.pulumi_project:
        candidate = (plan.base / plan.model.pulumi_project).resolve()
        found = candidate / "Pulumi.yaml" if candidate.is_dir() else candidate
        if not found.is_file():
            _fail(
                plan,
                None,
                ("pulumi_project",),
                f"Pulumi project file {found} not found",
                "point pulumi_project at a Pulumi.yaml or its folder",
            )
    else:
        found = next(
            (
                d / "Pulumi.yaml"
                for d in [plan.base.resolve(), *plan.base.resolve().parents]
                if (d / "Pulumi.yaml").is_file()
            ),
            Path(),
        )
        if found == Path():
            return None
    try:
        project = yaml.safe_load(found.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {found}: {exc}", where=Location(found)) from exc
    name = str(project.get("name", ""))
    keys = {_qualify(str(k), name) for k in (project.get("config") or {})}
    return found, name, keys


def _qualify(key: str, project: str) -> str:
    top = re.split(r"[.\[]", key, maxsplit=1)[0]
    return top if ":" in top else f"{project}:{top}"


def _check_stack(
    plan: LoadedPlan, sid: str, step: StackStep, pulumi: tuple[Path, str, set[str]] | None
) -> None:
    for key in step.config:
        if not _CONFIG_KEY.match(key):
            _fail(
                plan,
                sid,
                ("config", key),
                f"step '{sid}': '{key}' is not a Pulumi config key",
                "write `namespace:key` or `key`, with `.sub` for structured values",
            )
        if pulumi is not None:
            found, project, declared = pulumi
            if _qualify(key, project) not in declared:
                _fail(
                    plan,
                    sid,
                    ("config", key),
                    f"step '{sid}': config key '{key}' is not declared in {found}",
                    "declare it under `config:` in Pulumi.yaml, or fix the spelling",
                )


def _check_probes(plan: LoadedPlan, sid: str, step: CheckStep) -> None:
    for index, spec in enumerate(step.probes):
        try:
            parse_probe(spec)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(p) for p in error["loc"])
            _fail(
                plan,
                sid,
                ("probes", index),
                f"step '{sid}', probe {index + 1}: {where}: {error['msg']}",
                "see `cutover plan schema` for probe kinds",
            )
        except ValueError as exc:
            _fail(
                plan,
                sid,
                ("probes", index),
                f"step '{sid}', probe {index + 1}: {exc}",
                "write e.g. `- tcp: host:port`",
            )


def _check_wait(plan: LoadedPlan, sid: str, step: WaitStep) -> None:
    if (step.duration is None) == (step.until is None):
        _fail(
            plan,
            sid,
            ("id",),
            f"wait step '{sid}' needs exactly one of `duration` or `until`",
            "e.g. `duration: 5m` or `until: ttl-expired`",
        )
    if step.until is None:
        for name in ("after", "ttl", "ttl_of"):
            if getattr(step, name) is not None:
                _fail(
                    plan,
                    sid,
                    (name,),
                    f"wait step '{sid}': `{name}` only applies to `until: ttl-expired`",
                    "remove it",
                )
        return
    if step.ttl is not None and step.ttl_of is not None:
        _fail(
            plan,
            sid,
            ("until",),
            f"wait step '{sid}' has both `ttl` and `ttl_of`",
            "keep one: the old TTL (`ttl: 3600`), the record to read it from (`ttl_of:`), or"
            " neither (the TTL the `after` step reports)",
        )
    after = plan.wait_after(step)
    if after is None:
        _fail(
            plan,
            sid,
            ("until",),
            f"wait step '{sid}' does not say which step lowered the TTL",
            "set `after: <step id>` (it must also be in needs)",
        )
    assert after is not None
    if after not in plan.steps:
        _fail(plan, sid, ("after",), f"wait step '{sid}': after unknown step '{after}'", "fix it")
    if plan.steps[after].rehearsal_only:
        _fail(
            plan,
            sid,
            ("after",),
            f"wait step '{sid}' waits after rehearsal-only step '{after}'",
            "a live run has no such step: wait after the step that lowered the TTL",
        )
    if step.ttl is None and step.ttl_of is None and plan.steps[after].kind != "playbook":
        _fail(
            plan,
            sid,
            ("after",),
            f"wait step '{sid}' takes the TTL '{after}' reports, but only a playbook reports one",
            "wait after the playbook step that lowered the TTL, or give `ttl:`",
        )
    if after not in graph.ancestors(plan.needs, sid):
        _fail(
            plan,
            sid,
            ("after",),
            f"wait step '{sid}' waits after '{after}' but does not depend on it",
            f"add '{after}' to needs",
        )


def _check_window(plan: LoadedPlan) -> None:
    window = plan.model.window
    if window is None:
        return
    if window.ends <= window.starts:
        _fail(plan, None, ("window", "end"), "window ends before it starts", "fix start or end")
    total, path = plan.critical_path()
    if total > window.length.total_seconds():
        _fail(
            plan,
            None,
            ("window",),
            f"window of {format_duration(window.length.total_seconds())} cannot hold the plan: "
            f"critical path {' -> '.join(path)} takes {format_duration(total)}",
            "widen the window, or set `estimate:` on steps (timeouts count where none is given)",
        )
