"""How a deployed run behaves as part of its deployment's history: catch-up after an outage. Runs without a
deployment are left alone. (Pausing what keeps failing is bookkeeping.pauses.)"""

from __future__ import annotations

from datetime import datetime, timezone
from uuid import UUID
from zoneinfo import ZoneInfo

from prefect import get_client, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterDeploymentId,
    FlowRunFilterId,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType
from prefect.client.schemas.sorting import FlowRunSort
from prefect.runtime import flow_run as current_flow_run

from bookkeeping.filters import expected_start


@task(name="skip if superseded", cache_policy=NO_CACHE, persist_result=False)
def superseded_reason(zone: str) -> str | None:
    """Why this run should not run: a later scheduled run of the same deployment is already due
    (typically after a worker outage left several runs late). Every run collects everything since the
    last one that collected, so only the newest due run needs to work. None: run.

    Only runs the schedule made are superseded, and only by such runs: a run someone started by hand
    (perhaps with its own parameters) always runs."""
    with get_client(sync_client=True) as client:
        this = client.read_flow_run(UUID(current_flow_run.get_id()))
        if this.deployment_id is None or this.expected_start_time is None or not this.auto_scheduled:
            return None
        due_later = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                id=FlowRunFilterId(not_any_=[this.id]),
                deployment_id=FlowRunFilterDeploymentId(any_=[this.deployment_id]),
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED, StateType.PENDING])),
                expected_start_time=expected_start(after=this.expected_start_time, before=datetime.now(timezone.utc)),
            ),
            sort=FlowRunSort.EXPECTED_START_TIME_DESC,
            limit=50,
        )
    start = this.expected_start_time
    newest = next(
        (
            run
            for run in due_later
            if run.auto_scheduled and run.expected_start_time and run.expected_start_time > start
        ),
        None,
    )
    if newest is None or newest.expected_start_time is None:
        return None
    scheduled = newest.expected_start_time.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")
    return f"superseded by the later run {newest.name} scheduled for {scheduled}; its collection catches up everything"
