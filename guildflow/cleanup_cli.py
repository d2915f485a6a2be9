"""`guildflow cleanup`: the cleanup flow, now (its deployment runs it daily once its schedule is resumed)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from guildflow.cli_common import connect_prefect, fail, finish_with_prefect, flow_outcome, settings_or_exit


def cleanup_command(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="list what would be deleted; delete nothing")] = False,
    retention_days: Annotated[
        Optional[int], typer.Option("--retention-days", help="default: GUILDFLOW_RETENTION_DAYS", min=1, max=3650)
    ] = None,
) -> None:
    """Delete summary files, playerData copies beyond their keep count, and guildflow's flow runs and artifacts,
    older than the retention, and expired cache records. Never a cursor or a ledger entry."""
    settings = settings_or_exit(retention_days=retention_days)
    connect_prefect(settings)
    from flows.cleanup import cleanup

    state = cleanup(retention_days=settings.retention_days, dry_run=dry_run, return_state=True)
    finish_with_prefect(state)
    outcome = flow_outcome(state)
    if isinstance(outcome, BaseException):
        fail(f"cleanup failed: {outcome}")
    if outcome is None:
        typer.secho("cleanup done (see the run's 'cleanup' artifact)", fg="green")
        return
    for kind, items in outcome.deleted.items():
        for item in items:
            typer.echo(f"{kind}: {item}")
    typer.secho(outcome.summary(), fg="yellow" if dry_run else "green")
