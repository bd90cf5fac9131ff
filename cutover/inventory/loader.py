"""Load and validate one environment of a merger's inventory.

``load(Path("inventories/quangngai-kontum"), "lab")`` reads ``merger.yml`` and
``lab/inventory.yml``, validates their shapes (pydantic), checks every cross-reference,
generates the bulk data from its seed, and returns an :class:`Inventory`. The first
problem found is raised as a :class:`~cutover.errors.ConfigError` naming the file, the
line and the fix; nothing is changed anywhere by loading.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from cutover.errors import ConfigError, Location
from cutover.inventory import checks
from cutover.inventory.model import EnvFile, MergerFile
from cutover.inventory.resolved import Inventory
from cutover.inventory.source import Source, load_yaml

ENVIRONMENTS = ("lab", "staging", "production")
M = TypeVar("M", bound=BaseModel)


def _validate(model: type[M], src: Source) -> M:
    if not isinstance(src.data, dict):
        raise src.error("the file must be a YAML mapping", hint="see inventories/README.md")
    try:
        return model.model_validate(src.data)
    except ValidationError as exc:
        errors = exc.errors()
        # a misspelt key is both unknown and a missing field: the unknown key is the cause
        extra = [e for e in errors if e["type"] == "extra_forbidden"]
        first = extra[0] if extra else errors[0]
        loc = tuple(first["loc"])
        where = ".".join(str(part) for part in loc) or "(top level)"
        hint = None
        if first["type"] == "extra_forbidden":
            missing = [
                str(e["loc"][-1])
                for e in errors
                if e["type"] == "missing" and tuple(e["loc"][:-1]) == loc[:-1]
            ]
            close = difflib.get_close_matches(str(loc[-1]), missing, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "remove it or check its spelling"
        elif first["type"] == "missing":
            hint = f"add {loc[-1]!r}"
        else:  # a value of the wrong shape: the message says which; say where to look
            hint = "fix this value (the schema is in cutover/inventory/model.py)"
        raise ConfigError(f"{where}: {first['msg']}", where=src.at(loc), hint=hint) from exc


def find_merger_dir(name_or_path: str, inventories: Path | None = None) -> Path:
    """A merger given by name (``quangngai-kontum``) or by path."""
    direct = Path(name_or_path)
    if (direct / "merger.yml").is_file():
        return direct
    base = inventories if inventories is not None else default_inventories()
    candidate = base / name_or_path
    if (candidate / "merger.yml").is_file():
        return candidate
    known = sorted(p.parent.name for p in base.glob("*/merger.yml"))
    raise ConfigError(
        f"no merger named {name_or_path!r}",
        where=Location(base),
        hint=f"known mergers: {', '.join(known) or 'none'}",
    )


def default_inventories() -> Path:
    return Path(__file__).resolve().parents[2] / "inventories"


def load(merger_dir: Path, environment: str) -> Inventory:
    if environment not in ENVIRONMENTS:
        raise ConfigError(
            f"unknown environment {environment!r}", hint=f"use one of {', '.join(ENVIRONMENTS)}"
        )
    merger_src = load_yaml(merger_dir / "merger.yml")
    env_src = load_yaml(merger_dir / environment / "inventory.yml")
    merger = _validate(MergerFile, merger_src)
    env = _validate(EnvFile, env_src)
    if merger.merger != merger_dir.name:
        raise merger_src.error(
            f"merger {merger.merger!r} does not match its folder {merger_dir.name!r}",
            ("merger",),
            hint="name the folder after the merger",
        )
    if env.environment != environment:
        raise env_src.error(
            f"environment {env.environment!r} in the {environment}/ folder",
            ("environment",),
            hint=f"set environment: {environment}",
        )
    if env.generate is not None and environment != "lab":
        raise env_src.error(
            f"generate: makes up data, which only the lab may do; {environment} holds the "
            "sites' real data",
            ("generate",),
            hint="list the mailboxes, pages and accounts in merger.yml and remove generate:",
        )
    return checks.resolve(merger, merger_src, env, env_src, merger_dir)
