"""The `guildflow` command: run the pipeline, check the configuration, serve the deployments, apply
the automations."""

from __future__ import annotations

import atexit
import gc
from pathlib import Path
from typing import Annotated, Optional

import typer

from guildflow.bot.cli import bot
from guildflow.cleanup_cli import cleanup_command
from guildflow.cli_common import (
    connect_prefect,
    fail,
    finish_with_prefect,
    flow_outcome,
    require_prefect_server,
    settings_or_exit,
)
from guildflow.export_cli import export_app
from guildflow.job_cli import job_app
from guildflow.schedules_cli import schedules_app
from guildflow.summary_cli import summary_app

# Registered first, so it runs after every other exit handler (Prefect's included): the objects left are frozen,
# and the interpreter's last garbage collections skip them (over a second of a one-shot command on a busy machine).
atexit.register(gc.freeze)

app = typer.Typer(help="A Discord community's content and data chores as Prefect flows.", no_args_is_help=True)
run_app = typer.Typer(help="Run a pipeline once, now.", no_args_is_help=True)
app.add_typer(run_app, name="run")
automations_app = typer.Typer(help="Failure notifications on the Prefect server.", no_args_is_help=True)
app.add_typer(automations_app, name="automations")
app.add_typer(export_app, name="export")
app.add_typer(schedules_app, name="schedules")
app.add_typer(summary_app, name="summary")
app.command("cleanup")(cleanup_command)
app.add_typer(job_app, name="job")
sheet_app = typer.Typer(help="The sheet of posts.", no_args_is_help=True)
app.add_typer(sheet_app, name="sheet")
app.command("bot")(bot)


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
    from deployments.schedules import daily_parameters
    from flows.daily import daily_pipeline
    from tasks.report import REPORT_ARTIFACT_KEY

    state = daily_pipeline(**daily_parameters(settings), return_state=True)
    finish_with_prefect(state)
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
    results = [prefect_api_check(settings, say=lambda line: typer.echo(line, err=True)), *service_checks(settings)]
    finish_with_prefect()
    for result in results:
        failures += not result.ok
        mark = typer.style("ok  ", fg="green") if result.ok else typer.style("FAIL", fg="red")
        typer.echo(f"{mark} {result.service:<10} {result.backend}: {result.detail}")
    raise typer.Exit(1 if failures else 0)


@app.command()
def serve() -> None:
    """Run the daily pipeline on its schedule from this process, as the deployment daily-pipeline/served, until
    stopped (its schedule stays active after). Refuses while daily-pipeline/daily (deployed from prefect.yaml, run
    by a worker) is active on the same server: the pipeline would run twice a day."""
    settings = settings_or_exit()
    connect_prefect(settings)
    from prefect import serve as prefect_serve
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy

    from deployments.automations import DEPLOYMENT_TAG
    from deployments.schedules import DAILY_DEPLOYMENT, SERVED_DEPLOYMENT_NAME, daily_parameters, daily_schedule
    from flows.daily import daily_pipeline

    if _deployment_active(DAILY_DEPLOYMENT):
        fail(
            f"{DAILY_DEPLOYMENT} is deployed and active on this Prefect server (a worker runs it): serving here too "
            "would run the pipeline twice. Pause that deployment (its toggle in the UI), or keep the worker and do "
            "not serve",
            2,
        )
    prefect_serve(
        daily_pipeline.to_deployment(  # type: ignore[arg-type]  # outside an event loop: the deployment itself
            name=SERVED_DEPLOYMENT_NAME,
            description="The daily pipeline, served by `guildflow serve` (one run at a time).",
            schedules=[daily_schedule(settings)],
            parameters=daily_parameters(settings),
            concurrency_limit=ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE),
            tags=[DEPLOYMENT_TAG, "daily"],
        ),
        pause_on_shutdown=False,
    )


def _deployment_active(name: str) -> bool:
    from prefect import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            return not client.read_deployment_by_name(name).paused
        except ObjectNotFound:
            return False


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
        exported = export_worksheet(clients.sheet(settings), worksheet, path)
    except IntegrationError as error:
        fail(str(error))
    for note in exported.notes:
        typer.secho(note, fg="yellow", err=True)
    typer.echo(f"wrote {exported.rows} rows of {worksheet} to {path}")
