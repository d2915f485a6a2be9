"""The `guildflow` command: run the pipeline, check the configuration, serve the deployments."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from guildflow.settings import ConfigurationError, Settings, load_settings

app = typer.Typer(help="A Discord community's content and data chores as Prefect flows.", no_args_is_help=True)
run_app = typer.Typer(help="Run a pipeline once, now.", no_args_is_help=True)
app.add_typer(run_app, name="run")


def _settings_or_exit(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except ConfigurationError as error:
        typer.secho(str(error), fg="red", err=True)
        raise typer.Exit(2) from None


@run_app.command("daily")
def run_daily(
    analysis_mode: Annotated[Optional[str], typer.Option(help="summary or keywords")] = None,
    collection_mode: Annotated[Optional[str], typer.Option(help="since-last, hours or days")] = None,
    lookback: Annotated[Optional[int], typer.Option(help="hours or days to look back")] = None,
) -> None:
    """Run the daily pipeline once; its report is printed as the run ends."""
    _settings_or_exit(analysis_mode=analysis_mode, collection_mode=collection_mode, collection_lookback=lookback)
    from core.report import PipelineFailed
    from flows.daily import daily_pipeline

    state = daily_pipeline(
        analysis_mode=analysis_mode, collection_mode=collection_mode, lookback=lookback, return_state=True
    )
    outcome = state.result(raise_on_failure=False)
    if isinstance(outcome, BaseException):
        message = str(outcome) if isinstance(outcome, PipelineFailed) else f"daily pipeline failed: {outcome}"
        typer.secho(message, fg="red", err=True)
        raise typer.Exit(1)
    typer.secho(f"daily pipeline completed in {outcome.runtime_seconds:.1f} s", fg="green")


@app.command()
def check() -> None:
    """Validate the configuration and check every service, writing nothing."""
    settings = _settings_or_exit()
    from guildflow.checks import service_checks

    typer.echo(f"schedule: '{settings.schedule_cron}' in {settings.timezone}")
    failures = 0
    for result in service_checks(settings):
        failures += not result.ok
        mark = typer.style("ok  ", fg="green") if result.ok else typer.style("FAIL", fg="red")
        typer.echo(f"{mark} {result.service:<10} {result.backend}: {result.detail}")
    raise typer.Exit(1 if failures else 0)


@app.command()
def serve() -> None:
    """Serve the deployments here with their schedules until stopped (schedules stay active after)."""
    settings = _settings_or_exit()
    from prefect import serve as prefect_serve

    from deployments.schedules import daily_schedule
    from flows.daily import daily_pipeline

    prefect_serve(
        daily_pipeline.to_deployment(name="daily", schedules=[daily_schedule(settings)]),
        pause_on_shutdown=False,
    )
