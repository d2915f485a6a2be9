"""Schedules of the deployments, from settings, for `guildflow serve` and `prefect deploy` alike."""

from __future__ import annotations

from pathlib import Path

from prefect.schedules import Cron, Schedule

from guildflow.settings import Settings, load_settings

DAILY_SCHEDULE_SLUG = "daily-pipeline-daily"


def daily_schedule(settings: Settings) -> Schedule:
    """The daily run at GUILDFLOW_SCHEDULE_CRON in GUILDFLOW_TIMEZONE; cron follows the local wall
    clock, so the run stays at the same local time across DST changes."""
    return Cron(settings.schedule_cron, timezone=settings.timezone, slug=DAILY_SCHEDULE_SLUG)


def schedule_settings() -> dict[str, str]:
    """Build step for prefect.yaml: the validated cron and time zone, so `prefect deploy` uses the
    same GUILDFLOW_* settings (and .env) as everything else, and a bad value stops the deploy."""
    settings = load_settings()
    return {"cron": settings.schedule_cron, "timezone": settings.timezone}


def project_directory() -> dict[str, str]:
    """Build step for prefect.yaml: the checkout being deployed, where workers run the flows."""
    return {"directory": str(Path.cwd())}
