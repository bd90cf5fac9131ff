"""The standard plan library (``cutover/plans/``) and a merger's plan that extends it.

A merger's plan states its own facts (name, window, people, vars, extra steps, a few
overridable fields of a library step); the library states the rest. Composition works on
the LineDict trees, before pydantic sees anything, and records where each part came from
so that an error points at the file and line that holds the fault: the merger's file for
what the merger wrote, the library's file for a library step. Strings are copied as they
are: nothing is templated.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cutover import paths
from cutover.errors import ConfigError, Location
from cutover.plan.loader import LineDict, LineList, line_of, load_yaml

LIBRARY_DIR = paths.PACKAGE_DIR / "plans"

# The library's own: the same for every merger, so a merger's plan may not restate them.
LIBRARY_ONLY = ("policy", "playbook_dir")
LIBRARY_KEYS = ("version", "description", "vars", "steps", *LIBRARY_ONLY)
MERGER_KEYS = (
    "version", "extends", "name", "merger", "description", "window", "defaults", "owners",
    "approvers", "vars", "inventory", "pulumi_project", "secrets", "notify", "steps",
)  # fmt: skip
# What a merger may change of a library step: its own timing, targeting and words; never
# what the step does (playbooks, rollbacks, needs, kind, flags).
OVERRIDABLE = (
    "description", "estimate", "timeout", "retries", "retry_delay", "limit", "tags", "vars",
    "message", "duration", "ttl", "ttl_of",
)  # fmt: skip
PEOPLE = {"owners": "owner", "approvers": "approver"}


@dataclass(frozen=True)
class Origin:
    """A node of a file's tree: the file, its whole tree, and the node's path in it."""

    path: Path
    root: Any = field(repr=False)
    loc: tuple[int | str, ...] = ()

    def node(self) -> Any:
        node = self.root
        for part in self.loc:
            node = node[part]
        return node

    def at(self, *fields: int | str) -> Location:
        return Location(self.path, line_of(self.root, (*self.loc, *fields)))


@dataclass
class StepOrigin:
    """Where a composed step's fields come from: layers, most specific first (a merger's
    override, then the library step), and fields placed from elsewhere (the owner from
    the merger's `owners:`)."""

    layers: list[Origin]
    placed: dict[str, Origin] = field(default_factory=dict)

    def at(self, *fields: int | str) -> Location:
        if fields and isinstance(fields[0], str) and fields[0] in self.placed:
            return self.placed[fields[0]].at(*fields[1:])
        for layer in self.layers:
            node = layer.node()
            if fields and isinstance(node, dict) and fields[0] in node:
                return layer.at(*fields)
        return self.layers[-1].at(*fields)


@dataclass
class Provenance:
    """How a composed plan was made: the merger's file, the library file it extends, and
    the origin of each top-level key and each step."""

    merger: Origin
    library: Origin
    steps: list[StepOrigin]

    @property
    def files(self) -> list[Path]:
        return [self.merger.path, self.library.path]

    def top(self, *fields: int | str) -> Location:
        """A top-level field: where the merger states it, else the library, else the
        merger's file (where it should be added)."""
        if (
            len(fields) >= 2
            and fields[0] == "steps"
            and isinstance(fields[1], int)
            and fields[1] < len(self.steps)
        ):
            return self.steps[fields[1]].at(*fields[2:])
        for origin in (self.merger, self.library):
            if fields and fields[0] in origin.root:
                if fields[0] == "vars" and len(fields) > 1 and fields[1] not in origin.root["vars"]:
                    continue
                return origin.at(*fields)
        return self.merger.at(*fields[:1])


def library_names() -> list[str]:
    return sorted(p.stem for p in LIBRARY_DIR.glob("*.yml"))


def library_path(tree: Any, path: Path) -> Path | None:
    """The library file a plan's tree extends (checked: a known name), or None."""
    if not isinstance(tree, LineDict) or "extends" not in tree:
        return None
    name = tree["extends"]
    names = library_names()
    if not isinstance(name, str) or name not in names:
        close = difflib.get_close_matches(str(name), names, n=1)
        raise ConfigError(
            f"extends: unknown library plan {name!r}",
            where=Location(path, line_of(tree, ("extends",))),
            hint=(f"did you mean '{close[0]}'? " if close else "")
            + "use one of: "
            + ", ".join(names),
        )
    return LIBRARY_DIR / f"{name}.yml"


def sources(path: Path) -> list[Path]:
    """The files a plan is made of: itself and the library plan it extends, if it does
    (for a digest; a file that does not load is just itself)."""
    try:
        library = library_path(load_yaml(path), path)
    except ConfigError:
        return [path]
    return [path] if library is None else [path, library]


def _copy(node: LineDict, keys: list[str] | None = None) -> LineDict:
    out = LineDict()
    out.line = node.line
    out.key_lines = {}
    for key in node if keys is None else keys:
        out[key] = node[key]
        out.key_lines[key] = node.key_lines[key]
    return out


def _refuse_keys(
    tree: LineDict, path: Path, allowed: tuple[str, ...], what: str, why: dict[str, str], fix: str
) -> None:
    """One error for the first top-level key ``what`` may not state: ``why`` (by key) says
    why and ``fix`` how, else the allowed keys are listed."""
    for key in tree:
        if key in allowed:
            continue
        close = difflib.get_close_matches(key, allowed, n=1)
        listed = (
            (f"did you mean '{close[0]}'? " if close else "") + "allowed: " + ", ".join(allowed)
        )
        raise ConfigError(
            f"{what} may not state '{key}'" + (f": {why[key]}" if key in why else ""),
            where=Location(path, tree.key_lines[key]),
            hint=fix if key in why else listed,
        )


def _load_library(path: Path) -> LineDict:
    tree = load_yaml(path)
    if not isinstance(tree, LineDict) or not isinstance(tree.get("steps"), LineList):
        raise ConfigError(
            "a library plan must be a mapping with `steps:`",
            where=Location(path, getattr(tree, "line", 1)),
            hint="restore the file from the package",
        )
    why = {
        key: "a library plan names no merger, window or people"
        for key in ("name", "merger", "window", "defaults", "owners", "approvers")
    }
    _refuse_keys(tree, path, LIBRARY_KEYS, "a library plan", why, "remove it")
    for index, step in enumerate(tree["steps"]):
        for key in ("owner", "approver"):
            if isinstance(step, LineDict) and key in step:
                raise ConfigError(
                    f"library step {step.get('id')!r} names its {key}",
                    where=Location(path, line_of(tree, ("steps", index, key))),
                    hint=f"remove it: a merger's plan names people (`{key}s:`)",
                )
    return tree


def _mapping_of_people(tree: LineDict, key: str, path: Path) -> LineDict:
    people = tree.get(key, LineDict())
    if not isinstance(people, LineDict):
        raise ConfigError(
            f"`{key}:` must map a step family or step id to a person",
            where=Location(path, line_of(tree, (key,))),
            hint=f"e.g. `{key}: {{mail: Name (unit)}}`",
        )
    for who, person in people.items():
        if not isinstance(person, str) or not person.strip():
            raise ConfigError(
                f"{key}: '{who}' must name a person",
                where=Location(path, line_of(tree, (key, who))),
                hint="write the name and unit as text",
            )
    return people


def compose(tree: LineDict, path: Path, library: Path) -> tuple[LineDict, Provenance]:
    """The plan ``tree`` (from ``path``) extending the library plan at ``library``: a tree
    for the plan model, with where each part came from."""
    why = dict.fromkeys(LIBRARY_ONLY, "it is the library's, the same for every merger")
    fix = "remove it; change it in the library, for every merger"
    _refuse_keys(tree, path, MERGER_KEYS, "a plan that extends a library plan", why, fix)
    base = _load_library(library)
    merger, lib = Origin(path, tree), Origin(library, base)
    composed = _copy(base, [k for k in base if k != "steps"])
    for key in tree:
        if key not in ("extends", "owners", "approvers", "steps", "vars"):
            composed[key] = tree[key]
            composed.key_lines[key] = tree.key_lines[key]
    if "vars" in tree:
        composed["vars"] = _merged(base.get("vars"), tree["vars"], path, ("vars",), tree)
        composed.key_lines["vars"] = tree.key_lines["vars"]

    steps = LineList()
    steps.line = base["steps"].line
    steps.item_lines = []
    origins: list[StepOrigin] = []
    by_id: dict[str, int] = {}
    for index, step in enumerate(base["steps"]):
        steps.append(_copy(step) if isinstance(step, LineDict) else step)
        steps.item_lines.append(base["steps"].item_lines[index])
        origins.append(StepOrigin([Origin(library, base, ("steps", index))]))
        if isinstance(step, LineDict) and isinstance(step.get("id"), str):
            by_id.setdefault(step["id"], index)

    own = tree.get("steps", LineList())
    if not isinstance(own, LineList):
        raise ConfigError(
            "`steps:` of a plan that extends a library plan must be a list",
            where=Location(path, line_of(tree, ("steps",))),
            hint="list overrides (`- id: <library step>`) and steps of its own",
        )
    for index, entry in enumerate(own):
        loc: tuple[int | str, ...] = ("steps", index)
        here = Origin(path, tree, loc)
        sid = entry.get("id") if isinstance(entry, LineDict) else None
        if not isinstance(sid, str):
            steps.append(entry)
            steps.item_lines.append(own.item_lines[index])
            origins.append(StepOrigin([here]))  # a step of its own: the model says what is wrong
            continue
        if "kind" in entry:
            if sid in by_id:
                raise ConfigError(
                    f"step '{sid}' is already a step of library plan '{library.stem}' "
                    f"({lib.at('steps', by_id[sid])})",
                    where=here.at("kind"),
                    hint="to change it, remove `kind:` and state only the fields to override; "
                    "to add a step, give it another id",
                )
            steps.append(entry)
            steps.item_lines.append(own.item_lines[index])
            by_id[sid] = len(steps) - 1
            origins.append(StepOrigin([here]))
            continue
        if sid not in by_id or by_id[sid] >= len(base["steps"]):
            close = difflib.get_close_matches(sid, list(by_id), n=1)
            raise ConfigError(
                f"step '{sid}' overrides no step of library plan '{library.stem}'",
                where=here.at("id"),
                hint=(f"did you mean '{close[0]}'? " if close else "")
                + "a step of its own needs `kind:`",
            )
        for key in entry:
            if key != "id" and key not in OVERRIDABLE:
                raise ConfigError(
                    f"step '{sid}': '{key}' of a library step may not be overridden",
                    where=here.at(key),
                    hint="allowed: "
                    + ", ".join(OVERRIDABLE)
                    + ("; name people in `owners:`/`approvers:`" if key in PEOPLE.values() else ""),
                )
        target = steps[by_id[sid]]
        for key in entry:
            if key == "id":
                continue
            value = entry[key]
            if key == "vars":
                value = _merged(target.get("vars"), value, path, (*loc, "vars"), tree)
            target[key] = value
            target.key_lines[key] = entry.key_lines[key]
        origins[by_id[sid]].layers.insert(0, here)

    for key, field_name in PEOPLE.items():
        people = _mapping_of_people(tree, key, path)
        families = {str(s["id"]).split(".", 1)[0] for s in steps if isinstance(s, LineDict)
                    and isinstance(s.get("id"), str)}  # fmt: skip
        for who in people:
            if who not in by_id and who not in families:
                close = difflib.get_close_matches(who, [*families, *by_id], n=1)
                raise ConfigError(
                    f"{key}: '{who}' is neither a step family nor a step id of the plan",
                    where=Location(path, line_of(tree, (key, who))),
                    hint=(f"did you mean '{close[0]}'? " if close else "")
                    + "families: "
                    + ", ".join(sorted(families)),
                )
        for index, step in enumerate(steps):
            if not isinstance(step, LineDict) or field_name in step:
                continue  # a step of its own that names its person keeps it
            sid = str(step.get("id"))
            family = sid.split(".", 1)[0]
            # the most specific wins: the step's own id, then its family (then defaults)
            chosen = next((k for k in (sid, family) if k in people), None)
            if chosen is None:
                continue
            step[field_name] = people[chosen]
            step.key_lines[field_name] = people.key_lines[chosen]
            origins[index].placed[field_name] = Origin(path, tree, (key, chosen))
    composed["steps"] = steps
    composed.key_lines["steps"] = tree.key_lines.get("steps", base.key_lines["steps"])
    return composed, Provenance(merger, lib, origins)


def _merged(
    base: Any, over: Any, path: Path, loc: tuple[int | str, ...], tree: LineDict
) -> LineDict:
    if not isinstance(over, LineDict):
        raise ConfigError(
            "vars must be a mapping",
            where=Location(path, line_of(tree, loc)),
            hint="write `vars: {name: value}`",
        )
    out = _copy(base) if isinstance(base, LineDict) else _copy(over, [])
    for key in over:
        out[key] = over[key]
        out.key_lines[key] = over.key_lines[key]
    out.line = over.line
    return out
