"""`cutover audit secrets RUN_DIR`: no generated secret in any file a run wrote."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cutover import paths
from cutover.audit.secrets_scan import UNREADABLE, Hit, lab_secret_items, scan_run
from cutover.context import state
from cutover.errors import AuditError, ConfigError, Location
from cutover.inventory import find_merger_dir
from cutover.journal import JOURNAL_FILE, Journal

audit_app = typer.Typer(help="Audits of what runs wrote.", no_args_is_help=True)


def _from_journal(run_dir: Path) -> tuple[str | None, str | None]:
    """The merger and environment a run folder's journal names (None when not a run)."""
    if not (run_dir / JOURNAL_FILE).is_file():
        return None, None
    journal = Journal.open(run_dir, read_only=True)
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
    run_dir: Annotated[
        Path | None, typer.Argument(metavar="RUN_DIR", help="A run's folder (or any).")
    ] = None,
    provisioning: Annotated[
        bool,
        typer.Option(
            "--provisioning", help="Scan the merger environment's provisioning runs instead."
        ),
    ] = False,
    merger: Annotated[
        str | None,
        typer.Option("--merger", help="Whose secrets (default: the run's merger)."),
    ] = None,
    env: Annotated[
        str | None, typer.Option("--env", help="Which environment (default: the run's).")
    ] = None,
) -> None:
    """Scan RUN_DIR (or, with --provisioning, the provisioning runs) for every secret the
    merger environment generated (TSIG keys, passwords, private keys); exit 1 naming file
    and offset of each hit, never the value. A file that cannot be read fails the audit."""
    if provisioning:
        if merger is None or env is None:
            raise ConfigError("--provisioning needs --merger and --env", hint="give both")
        run_dir = paths.state_dir() / "provision" / f"{find_merger_dir(merger).name}-{env}" / "runs"
    if run_dir is None:
        raise ConfigError("no folder to scan", hint="give RUN_DIR, or --provisioning")
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
    unreadable = [h for h in hits if h.label == UNREADABLE]
    found = [h for h in hits if h.label != UNREADABLE]
    if found:
        files = len({h.path for h in found})
        also = f" ({len(unreadable)} file(s) could not be read)" if unreadable else ""
        raise AuditError(
            f"{len(found)} secret value(s) found in {files} file(s) under {run_dir}{also}",
            hint="see the list above; find what wrote them and mask or move it",
        )
    if unreadable:
        raise AuditError(
            f"{len(unreadable)} file(s) under {run_dir} could not be read: not audited",
            hint="see the list above; make them readable to the auditor and audit again",
        )


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
