"""`cutover audit secrets RUN_DIR`: no generated secret in any file a run wrote."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cutover.audit.secrets_scan import Hit, lab_secret_items, scan_run
from cutover.context import state
from cutover.errors import AuditError, ConfigError, Location
from cutover.inventory import find_merger_dir
from cutover.journal import JOURNAL_FILE, Journal

audit_app = typer.Typer(help="Audits of what runs wrote.", no_args_is_help=True)


def _from_journal(run_dir: Path) -> tuple[str | None, str | None]:
    """The merger and environment a run folder's journal names (None when not a run)."""
    if not (run_dir / JOURNAL_FILE).is_file():
        return None, None
    journal = Journal.open(run_dir)
    try:
        meta = journal.meta()
    finally:
        journal.close()
    return meta.get("merger"), meta.get("env")


def _hit(hit: Hit) -> dict[str, object]:
    return {
        "path": str(hit.path),
        "member": hit.member,
        "offset": hit.offset,
        "secret": hit.label,
        "form": hit.form,
    }


@audit_app.command("secrets")
def secrets_command(
    ctx: typer.Context,
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="A run's folder (or any).")],
    merger: Annotated[
        str | None,
        typer.Option("--merger", help="Whose secrets (default: the run's merger)."),
    ] = None,
    env: Annotated[
        str | None, typer.Option("--env", help="Which environment (default: the run's).")
    ] = None,
) -> None:
    """Scan RUN_DIR for every secret the merger environment generated (TSIG keys,
    passwords, private keys); exit 1 naming file and offset of each hit, never the value."""
    if not run_dir.exists():
        raise ConfigError(f"no such folder {run_dir}", hint="give a run folder under .runs/")
    if merger is None or env is None:
        run_merger, run_env = _from_journal(run_dir)
        merger, env = merger or run_merger, env or run_env
    if merger is None or env is None:
        raise ConfigError(
            f"{run_dir} names no merger and environment",
            where=Location(run_dir),
            hint="give --merger and --env",
        )
    items = lab_secret_items(find_merger_dir(merger), env)
    if not items:
        raise ConfigError(
            f"no secrets generated for {merger} {env} to look for",
            hint="provision it first, or check --merger, --env and $CUTOVER_STATE_DIR",
        )
    hits = scan_run(run_dir, items)
    out = state(ctx).out
    out.result(
        {"run_dir": str(run_dir), "secrets": len(items), "hits": [_hit(h) for h in hits]},
        render="\n".join(h.describe() for h in hits)
        or f"no secret of {len(items)} found in {run_dir}",
    )
    if hits:
        files = len({h.path for h in hits})
        raise AuditError(
            f"{len(hits)} secret value(s) found in {files} file(s) under {run_dir}",
            hint="see the list above; find what wrote them and mask or move it",
        )


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
