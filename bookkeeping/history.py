"""Run history of schedules and what it says (core.run_stats), read in batches: the status of any number of
schedules costs the few requests that list them (bookkeeping.schedules) plus one request per PAGE runs of
theirs in the history window, never a request per schedule.

A schedule's runs are those Prefect's scheduler made from it (see bookkeeping.schedules). Stats cover the last
HISTORY_DAYS days and at most MAX_RUNS_READ runs (the newest); the next run is computed from the schedule's spec
(what the server will schedule, core.schedule_spec.next_runs), or is a run whose time has come that no worker has
started yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from uuid import UUID

from prefect import get_client
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterCreatedBy,
    FlowRunFilterDeploymentId,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.client.schemas.sorting import FlowRunSort

from bookkeeping.filters import expected_start
from bookkeeping.schedules import PAGE, Schedule, read_all, read_schedule
from core.run_stats import FINISHED_STATES, RunRecord, RunStats, run_stats
from core.schedule_spec import next_runs

HISTORY_DAYS = 30
MAX_RUNS_READ = 5000  # 25 pages


@dataclass(frozen=True)
class ScheduleStatus:
    schedule: Schedule
    stats: RunStats
    next_run: datetime | None  # None: paused, or nothing left to run (a `once` that ran)
    history_truncated: bool = False  # more runs in the window than MAX_RUNS_READ: stats of the newest only


def schedule_statuses(
    target: str | None = None, guild: str | None = None, channel: str | None = None
) -> list[ScheduleStatus]:
    """Every schedule (filtered as bookkeeping.schedules.read_schedules does) with its stats and next run."""
    now = datetime.now(timezone.utc)
    with get_client(sync_client=True) as client:
        schedules = read_all(client, target, guild, channel)
        runs, truncated = _runs_of_schedules(client, [schedule.id for schedule in schedules], now)
    statuses = []
    for schedule in schedules:
        stats = run_stats(runs.get(schedule.id, []))
        statuses.append(ScheduleStatus(schedule, stats, next_run(schedule, now, stats), truncated))
    return statuses


def next_run(schedule: Schedule, now: datetime, stats: RunStats | None = None) -> datetime | None:
    """When the schedule runs next: a run of it that is due and not started (stats.due), else its next slot."""
    if not schedule.runs_now:
        return None
    upcoming = next_runs(schedule.definition.spec, now, 1)
    if stats is not None and stats.due is not None and stats.due.expected_start is not None:
        upcoming.append(stats.due.expected_start)
    return min(upcoming, default=None)


def next_run_of(slug: str) -> datetime | None:
    """When the schedule with this slug runs next; None when there is none, or it is paused."""
    schedule = read_schedule(slug)
    return next_run(schedule, datetime.now(timezone.utc)) if schedule is not None else None


def finished_runs_of_schedule(client: SyncPrefectClient, schedule_id: UUID, limit: int) -> list[RunRecord]:
    """The schedule's newest finished runs, newest first."""
    return _finished(client, FlowRunFilter(created_by=FlowRunFilterCreatedBy(id_=[schedule_id])), limit)


def finished_runs_by_hand(client: SyncPrefectClient, deployment_id: UUID, limit: int) -> list[RunRecord]:
    """The deployment's newest finished runs that no schedule made (by hand, the UI, an automation), newest first."""
    return _finished(
        client,
        FlowRunFilter(
            deployment_id=FlowRunFilterDeploymentId(any_=[deployment_id]),
            created_by=FlowRunFilterCreatedBy(is_null_=True),
        ),
        limit,
    )


def record(run: FlowRun) -> RunRecord:
    return RunRecord(
        name=run.name,
        state=run.state_type.value if run.state_type else "",
        state_name=run.state_name or "",
        expected_start=run.expected_start_time,
        start=run.start_time,
        end=run.end_time,
        message=(run.state.message or "") if run.state else "",
    )


def _finished(client: SyncPrefectClient, runs: FlowRunFilter, limit: int) -> list[RunRecord]:
    runs.state = FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType(s) for s in FINISHED_STATES]))
    return [
        record(run) for run in client.read_flow_runs(flow_run_filter=runs, sort=FlowRunSort.END_TIME_DESC, limit=limit)
    ]


def _runs_of_schedules(
    client: SyncPrefectClient, schedule_ids: list[UUID], now: datetime
) -> tuple[dict[UUID, list[RunRecord]], bool]:
    """The runs the schedules made whose time has come within the history window, by schedule; and whether the
    window held more than MAX_RUNS_READ of them."""
    if not schedule_ids:
        return {}, False
    wanted = FlowRunFilter(
        created_by=FlowRunFilterCreatedBy(id_=schedule_ids),
        expected_start_time=expected_start(after=now - timedelta(days=HISTORY_DAYS), before=now),
    )
    by_schedule: dict[UUID, list[RunRecord]] = {}
    read = 0
    while read < MAX_RUNS_READ:
        page = client.read_flow_runs(
            flow_run_filter=wanted, sort=FlowRunSort.EXPECTED_START_TIME_DESC, limit=PAGE, offset=read
        )
        for run in page:
            if run.created_by is not None and run.created_by.id is not None:
                by_schedule.setdefault(run.created_by.id, []).append(record(run))
        read += len(page)
        if len(page) < PAGE:
            return by_schedule, False
    return by_schedule, True
