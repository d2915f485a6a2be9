"""Item 6: the status of 500 schedules (`guildflow schedules status`) against the Prefect API, counted in requests.

Set up in bulk on the benchmark's Prefect server: one deployment holding SCHEDULES hourly schedules (one request),
the variable guildflow keeps per schedule, and RUNS_EACH runs per schedule from the hours before, made by the server
from the schedules; the runs of every FINISHED_EVERY-th schedule are then finished (a quarter of them failed), the
others wait as late runs (setting each run's state costs two requests, ~0.1 s each on this machine). The read costs
the same whatever the runs' states. Measured: bookkeeping.history.schedule_statuses, and as the baseline the same
status read one request per schedule per field (its record, its runs, its next run).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from statistics import median

import httpx
from prefect import flow, get_client
from prefect.client.schemas.actions import DeploymentScheduleCreate, VariableCreate
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterCreatedBy,
    FlowRunFilterExpectedStartTime,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType
from prefect.states import Completed, Failed, Running

from benchmarks.common import timed
from bookkeeping.history import schedule_statuses
from bookkeeping.schedules import PAGE, SCHEDULE_VARIABLE, ScheduleDefinition, _record, to_prefect_schedule
from core.schedule_spec import next_runs, parse_spec

SCHEDULES = 500
RUNS_EACH = 2
FINISHED_EVERY = 5
DEPLOYMENT_NAME = "status-benchmark"


@flow(name="schedules-benchmark")
def _benchmark_target(channel_id: str = "") -> str:
    return channel_id


@dataclass
class ScheduleStatusResult:
    schedules: int
    runs: int
    finished: int
    calls: int
    naive_calls: int
    seconds: float
    naive_seconds: float

    @property
    def target_calls(self) -> int:
        """Pages, not schedules: the records (variables) and the runs, 200 a page, plus the deployments, their
        flows and the client's CSRF token; a page that comes back full is followed by one more request."""
        return 3 + math.ceil((self.schedules + 1) / PAGE) + math.ceil((self.runs + 1) / PAGE)


@contextmanager
def counted_requests() -> Iterator[list[str]]:
    """Every HTTP request any httpx client sends while inside, as 'METHOD path'."""
    seen: list[str] = []
    send = httpx.Client.send

    def counting(self: httpx.Client, request: httpx.Request, **kwargs: object) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        return send(self, request, **kwargs)

    httpx.Client.send = counting  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        httpx.Client.send = send  # type: ignore[method-assign]


def run(repeats: int) -> ScheduleStatusResult:
    runs, finished = _set_up()
    measured = []
    for _ in range(repeats):
        with counted_requests() as requests:
            statuses, seconds = timed(schedule_statuses)
        assert len(statuses) == SCHEDULES and sum(s.stats.runs for s in statuses) == finished
        measured.append((len(requests), seconds))
    with counted_requests() as requests:
        _, naive_seconds = timed(_naive_statuses)
    return ScheduleStatusResult(
        schedules=SCHEDULES,
        runs=runs,
        finished=finished,
        calls=int(median(calls for calls, _ in measured)),
        naive_calls=len(requests),
        seconds=median(seconds for _, seconds in measured),
        naive_seconds=naive_seconds,
    )


def _set_up() -> tuple[int, int]:
    """The deployment, its schedules and their records, and their runs; returns how many runs, how many finished."""
    deployment_id = _benchmark_target.to_deployment(name=DEPLOYMENT_NAME).apply()
    deployment = f"{_benchmark_target.name}/{DEPLOYMENT_NAME}"
    start = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=RUNS_EACH)
    definitions = [
        ScheduleDefinition(
            f"bench-{index:04d}",
            deployment,
            parse_spec("every 60", anchor=start + timedelta(seconds=index)),
            {"channel_id": str(1_300_000_000_000_000_000 + index)},
        )
        for index in range(SCHEDULES)
    ]
    with get_client(sync_client=True) as client:
        client.create_deployment_schedules(
            deployment_id,
            [
                DeploymentScheduleCreate(
                    schedule=to_prefect_schedule(d.spec), active=True, parameters=dict(d.parameters), slug=d.slug
                )
                for d in definitions
            ],
        )
        for definition in definitions:
            client.create_variable(VariableCreate(name=SCHEDULE_VARIABLE + definition.slug, value=_record(definition)))
        span = timedelta(hours=RUNS_EACH)
        client.request(
            "POST",
            "/deployments/{id}/schedule",
            path_params={"id": deployment_id},
            json={
                "start_time": start.isoformat(),
                "end_time": (start + span - timedelta(seconds=1)).isoformat(),
                "min_time": span.total_seconds(),
                "max_runs": RUNS_EACH,
            },
        ).raise_for_status()
        made = FlowRunFilter(
            created_by=FlowRunFilterCreatedBy(type_=["SCHEDULE"]),
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
            expected_start_time=FlowRunFilterExpectedStartTime(before_=datetime.now(timezone.utc)),
        )
        late = []
        while page := client.read_flow_runs(flow_run_filter=made, limit=PAGE, offset=len(late)):
            late += page
        slugs = {d.slug: index for index, d in enumerate(definitions)}
        schedule_slugs = {s.id: s.slug for s in client.read_deployment(deployment_id).schedules}
        finished = [run for run in late if slugs[schedule_slugs[run.created_by.id]] % FINISHED_EVERY == 0]
        for index, flow_run in enumerate(finished):
            client.set_flow_run_state(flow_run.id, Running(), force=True)
            failed = Failed(message="Flow run encountered an exception: ValueError: benchmark")
            outcome = failed if index % 4 == 0 else Completed()
            client.set_flow_run_state(flow_run.id, outcome, force=True)
    return len(late), len(finished)


def _naive_statuses() -> list[tuple[str, int, datetime | None]]:
    """The same status as a script would read it: the schedules, then per schedule its record, its runs and its
    next run, each its own request."""
    now = datetime.now(timezone.utc)
    found = []
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(f"{_benchmark_target.name}/{DEPLOYMENT_NAME}")
        for schedule in deployment.schedules:
            record = client.read_variable_by_name(SCHEDULE_VARIABLE + (schedule.slug or ""))
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(created_by=FlowRunFilterCreatedBy(id_=[schedule.id])), limit=PAGE
            )
            upcoming = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    created_by=FlowRunFilterCreatedBy(id_=[schedule.id]),
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
                ),
                limit=1,
            )
            next_at = upcoming[0].expected_start_time if upcoming else None
            if next_at is None and record is not None:
                spec = parse_spec(record.value["schedule"]["when"], anchor=schedule.schedule.anchor_date)
                next_at = next_runs(spec, now, 1)[0]
            found.append((schedule.slug or "", len(runs), next_at))
    return found
