"""Schedules and parameters of the deployments, from settings, for `guildflow serve` and `prefect deploy` alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect.schedules import Cron, Schedule

from guildflow.settings import Settings, load_settings

DAILY_SCHEDULE_SLUG = "daily-pipeline-daily"
DAILY_DEPLOYMENT = "daily-pipeline/daily"  # prefect.yaml's, run by a worker
SERVED_DEPLOYMENT_NAME = "served"  # `guildflow serve`'s: daily-pipeline/served


def daily_schedule(settings: Settings) -> Schedule:
    """The daily run at GUILDFLOW_SCHEDULE_CRON in GUILDFLOW_TIMEZONE; cron follows the local wall
    clock, so the run stays at the same local time across DST changes."""
    return Cron(settings.schedule_cron, timezone=settings.timezone, slug=DAILY_SCHEDULE_SLUG)


def daily_parameters(settings: Settings) -> dict[str, Any]:
    """The daily deployment's parameters: the settings' values, so Prefect's run form shows them as defaults."""
    return {
        "analysis_mode": settings.analysis_mode,
        "collection_mode": settings.collection_mode,
        "lookback": settings.collection_lookback,
    }


def deployment_settings() -> dict[str, Any]:
    """Build step for prefect.yaml: the validated schedule and parameters, so `prefect deploy` uses the same
    GUILDFLOW_* settings (and .env) as everything else, and a bad value stops the deploy."""
    settings = load_settings()
    return {"cron": settings.schedule_cron, "timezone": settings.timezone, **daily_parameters(settings)}


def project_directory() -> dict[str, str]:
    """Build step for prefect.yaml: the checkout being deployed, where workers run the flows."""
    return {"directory": str(Path.cwd())}
