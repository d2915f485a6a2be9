"""The `guildflow` command: run the pipeline, check the configuration, serve the deployments, apply
the automations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from guildflow.cli_common import connect_prefect, fail, flow_outcome, require_prefect_server, settings_or_exit
from guildflow.export_cli import export_app
from guildflow.schedules_cli import schedules_app

app = typer.Typer(help="A Discord community's content and data chores as Prefect flows.", no_args_is_help=True)
run_app = typer.Typer(help="Run a pipeline once, now.", no_args_is_help=True)
app.add_typer(run_app, name="run")
automations_app = typer.Typer(help="Failure notifications on the Prefect server.", no_args_is_help=True)
app.add_typer(automations_app, name="automations")
app.add_typer(export_app, name="export")
app.add_typer(schedules_app, name="schedules")
sheet_app = typer.Typer(help="The sheet of posts.", no_args_is_help=True)
app.add_typer(sheet_app, name="sheet")


@run_app.command("daily")
def run_daily(
    analysis_mode: Annotated[Optional[str], typer.Option(help="summary or keywords")] = None,
    collection_mode: Annotated[Optional[str], typer.Option(help="since-last, hours or days")] = None,
    lookback: Annotated[Optional[int], typer.Option(help="hours or days to look back")] = None,
) -> None:
    """Run the daily pipeline once; its report is printed as the run ends."""
    settings = settings_or_exit(
        analysis_mode=analysis_mode, collection_mode=collection_mode, collection_lookback=lookback
    )
    connect_prefect(settings)
    from core.report import PipelineFailed
    from flows.daily import daily_pipeline
    from tasks.report import REPORT_ARTIFACT_KEY

    state = daily_pipeline(
        analysis_mode=analysis_mode, collection_mode=collection_mode, lookback=lookback, return_state=True
    )
    outcome = flow_outcome(state)
    if isinstance(outcome, BaseException):
        message = str(outcome) if isinstance(outcome, PipelineFailed) else f"daily pipeline failed: {outcome}"
        typer.secho(message, fg="red", err=True)
        raise typer.Exit(1)
    if outcome is None:
        typer.secho(f"daily pipeline completed (report: the run's '{REPORT_ARTIFACT_KEY}' artifact)", fg="green")
        return
    typer.secho(f"daily pipeline completed in {outcome.runtime_seconds:.1f} s", fg="green")


@app.command()
def check() -> None:
    """Validate the configuration and check every service, writing nothing."""
    settings = settings_or_exit()
    from guildflow.checks import prefect_api_check, service_checks

    typer.echo(f"schedule: '{settings.schedule_cron}' in {settings.timezone}")
    failures = 0
    prefect = prefect_api_check(settings, say=lambda line: typer.echo(line, err=True))
    for result in [prefect, *service_checks(settings)]:
        failures += not result.ok
        mark = typer.style("ok  ", fg="green") if result.ok else typer.style("FAIL", fg="red")
        typer.echo(f"{mark} {result.service:<10} {result.backend}: {result.detail}")
    raise typer.Exit(1 if failures else 0)


@app.command()
def serve() -> None:
    """Serve the deployments here with their schedules until stopped (schedules stay active after)."""
    settings = settings_or_exit()
    from prefect import serve as prefect_serve

    from deployments.automations import DEPLOYMENT_TAG
    from deployments.schedules import daily_schedule
    from flows.daily import daily_pipeline

    prefect_serve(
        daily_pipeline.to_deployment(
            name="daily", schedules=[daily_schedule(settings)], tags=[DEPLOYMENT_TAG, "daily"]
        ),
        pause_on_shutdown=False,
    )


@automations_app.command("apply")
def apply_automations() -> None:
    """Create or update the notification blocks and automations on the server at PREFECT_API_URL;
    applying again changes nothing."""
    settings = settings_or_exit()
    require_prefect_server("automations")
    from deployments.automations import apply_automations as apply
    from guildflow.settings import ConfigurationError

    try:
        applied = apply(settings)
    except ConfigurationError as error:
        fail(str(error), 2)
    if not applied:
        typer.echo(
            "No notification target configured (GUILDFLOW_NOTIFY_DISCORD_WEBHOOK, GUILDFLOW_NOTIFY_EMAIL): "
            "nothing to apply. Automations applied before are left as they are."
        )
    for item in applied:
        typer.echo(f"{item.outcome:<9} {item.kind} '{item.name}'")


@sheet_app.command("export")
def export_sheet(
    worksheet: Annotated[str, typer.Argument(help="Posts or Archive")],
    path: Annotated[Path, typer.Argument(help="the file to write: .csv or .parquet")],
) -> None:
    """Write a worksheet of the configured sheet (SQLite or Google Sheets) to CSV or Parquet via pandas."""
    settings = settings_or_exit()
    from integrations.errors import IntegrationError
    from integrations.sheet_export import export_worksheet
    from tasks import clients

    try:
        rows = export_worksheet(clients.sheet(settings), worksheet, path)
    except IntegrationError as error:
        fail(str(error))
    typer.echo(f"wrote {rows} rows of {worksheet} to {path}")
