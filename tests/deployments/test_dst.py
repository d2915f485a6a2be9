"""The daily schedule across DST changes, as the Prefect server computes its runs: one run per local
day at the configured local time, on the change days too."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from prefect.client.schemas.actions import DeploymentScheduleCreate
from prefect.server.schemas.schedules import CronSchedule

from deployments.schedules import daily_schedule
from guildflow.settings import load_settings

# (zone, day the clocks change): spring forward and fall back in 2026 and 2027.
DST_CHANGES = [
    ("America/New_York", date(2026, 3, 8)),
    ("America/New_York", date(2026, 11, 1)),
    ("America/New_York", date(2027, 3, 14)),
    ("America/New_York", date(2027, 11, 7)),
    ("Europe/Berlin", date(2026, 3, 29)),
    ("Europe/Berlin", date(2026, 10, 25)),
    ("Europe/Berlin", date(2027, 3, 28)),
    ("Europe/Berlin", date(2027, 10, 31)),
]


def server_runs(cron: str, zone: str, first: date, last: date) -> list[datetime]:
    """The run times the server schedules from our schedule between two local days (inclusive), as
    `prefect deploy` / `guildflow serve` send it: client schedule -> API payload -> server schedule."""
    sent = DeploymentScheduleCreate.from_schedule(daily_schedule(load_settings(schedule_cron=cron, timezone=zone)))
    schedule = CronSchedule.model_validate(sent.schedule.model_dump())
    tz = ZoneInfo(zone)
    start = datetime.combine(first, time(0), tz)
    end = datetime.combine(last + timedelta(days=1), time(0), tz) - timedelta(seconds=1)
    return asyncio.run(schedule.get_dates(start=start, end=end))


def local_days(runs: list[datetime], zone: str) -> list[date]:
    return [run.astimezone(ZoneInfo(zone)).date() for run in runs]


@pytest.mark.parametrize(("zone", "change"), DST_CHANGES, ids=[f"{z}-{d}" for z, d in DST_CHANGES])
def test_one_run_per_local_day_at_20_local_across_the_change(guildflow_env, zone: str, change: date) -> None:
    tz = ZoneInfo(zone)
    before, after = change - timedelta(days=3), change + timedelta(days=3)
    noon = datetime.combine(before, time(12), tz), datetime.combine(after, time(12), tz)
    assert noon[0].utcoffset() != noon[1].utcoffset(), "the clocks do change within the window"

    runs = server_runs("0 20 * * *", zone, before, after)

    assert local_days(runs, zone) == [before + timedelta(days=n) for n in range(7)]
    assert all(run.astimezone(tz).time() == time(20) for run in runs)
    hours_between = sorted((later.timestamp() - earlier.timestamp()) / 3600 for earlier, later in zip(runs, runs[1:]))
    assert hours_between in ([23] + [24] * 5, [24] * 5 + [25])  # the wall clock, not a fixed 24 h


@pytest.mark.parametrize(("zone", "change"), DST_CHANGES, ids=[f"{z}-{d}" for z, d in DST_CHANGES])
def test_a_time_the_change_skips_or_repeats_still_runs_once_that_day(guildflow_env, zone: str, change: date) -> None:
    # 02:30 does not exist on a spring-forward day in either zone, and happens twice on Berlin's
    # fall-back day (New York repeats 01:00-02:00 instead).
    runs = server_runs("30 2 * * *", zone, change - timedelta(days=1), change + timedelta(days=1))
    assert local_days(runs, zone) == [change - timedelta(days=1), change, change + timedelta(days=1)]
