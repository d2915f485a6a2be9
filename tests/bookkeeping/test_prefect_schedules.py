"""Each kind of spec becomes a Prefect schedule that Prefect's own server code runs exactly at next_runs (the
scheduler's date computation, across the DST changes of 2026 and 2027 in two zones and month ends over a leap and
a non-leap February), and is read back from it."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest
from prefect.server.schemas import schedules as server_schedules

from bookkeeping.schedules import spec_from_prefect, to_prefect_schedule
from core.schedule_spec import ScheduleSpec, next_runs, spec_from_words

ANCHOR = datetime(2026, 3, 1, 0, 7, tzinfo=timezone.utc)
SPECS = [
    ("every", "30", ANCHOR),
    ("every", "1440", ANCHOR),
    ("every", "2880", ANCHOR),
    ("every", "10080", ANCHOR),
    ("daily", "02:30", None),
    ("daily", "09:00", None),
    ("weekly", "sun,mon 02:30", None),
    ("weekly", "sat,sun 01:30", None),
    ("monthly", "31 02:30", None),
    ("monthly", "30 08:00", None),
    ("monthly", "29 00:00", None),
    ("monthly", "15 03:00", None),
    ("cron", "*/30 * * * *", None),
    ("cron", "15 1-3 * * *", None),
    ("cron", "0 9 1,15 * mon", None),
    ("once", "2027-12-24 18:00", None),
]
STARTS = [
    datetime(2026, 3, 7, tzinfo=timezone.utc),
    datetime(2026, 3, 27, tzinfo=timezone.utc),
    datetime(2026, 10, 24, tzinfo=timezone.utc),
    datetime(2026, 10, 31, 22, tzinfo=timezone.utc),
    datetime(2027, 1, 25, tzinfo=timezone.utc),
    datetime(2027, 3, 12, tzinfo=timezone.utc),
    datetime(2027, 10, 30, tzinfo=timezone.utc),
    datetime(2027, 11, 6, tzinfo=timezone.utc),
    datetime(2028, 1, 25, 5, 3, tzinfo=timezone.utc),
]


def server_dates(spec: ScheduleSpec, start: datetime, count: int) -> list[datetime]:
    """The dates Prefect's scheduler service makes runs for, from the schedule guildflow gives it."""
    schedule = to_prefect_schedule(spec)
    server_class = getattr(server_schedules, type(schedule).__name__)
    server_schedule = server_class.model_validate(schedule.model_dump())
    dates = asyncio.run(server_schedule.get_dates(n=count, start=start))
    return [date.astimezone(timezone.utc) for date in dates]


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
@pytest.mark.parametrize(("kind", "when", "anchor"), SPECS)
def test_prefect_runs_a_spec_at_its_next_runs(kind: str, when: str, anchor: datetime | None, zone: str) -> None:
    spec = spec_from_words(kind, when, zone, anchor=anchor)
    for start in STARTS:
        assert next_runs(spec, start, 12) == server_dates(spec, start, 12), (spec.text, zone, start)


@pytest.mark.parametrize(("kind", "when", "anchor"), SPECS)
def test_a_prefect_schedule_reads_back_as_its_spec(kind: str, when: str, anchor: datetime | None) -> None:
    spec = spec_from_words(kind, when, "Europe/Berlin", anchor=anchor)
    read_back = spec_from_prefect(to_prefect_schedule(spec))
    assert read_back is not None
    assert next_runs(read_back, STARTS[0], 5) == next_runs(spec, STARTS[0], 5)  # Prefect's own datetime type too
    if kind == "every":  # Prefect holds an every in UTC: the zone is only how guildflow shows its times
        assert read_back == ScheduleSpec(spec.kind, spec.when, "UTC", spec.anchor)
    elif kind in ("daily", "weekly"):  # Prefect holds them as cron
        assert read_back.kind == "cron" and read_back.cron == spec.cron and read_back.timezone == spec.timezone
    else:
        assert read_back == spec
