"""How a deployed run behaves as part of its deployment's history: catch-up after an outage, and
pausing a deployment that keeps failing. Runs without a deployment are left alone by both."""

from __future__ import annotations

from datetime import datetime, timezone
from uuid import UUID
from zoneinfo import ZoneInfo

from prefect import Flow, get_client, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterDeploymentId,
    FlowRunFilterExpectedStartTime,
    FlowRunFilterId,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.client.schemas.sorting import FlowRunSort
from prefect.events import emit_event
from prefect.logging.loggers import flow_run_logger
from prefect.runtime import flow_run as current_flow_run
from prefect.states import State

from guildflow.settings import ConfigurationError, Settings, load_settings

AUTO_PAUSED_EVENT = "guildflow.deployment.auto-paused"
FAILED = (StateType.FAILED, StateType.CRASHED)
# Cancelled runs (superseded, or cancelled by hand) tried nothing: they neither fail nor succeed.
OUTCOMES = (StateType.COMPLETED, *FAILED)


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
                expected_start_time=FlowRunFilterExpectedStartTime(
                    after_=this.expected_start_time,
                    before_=datetime.now(timezone.utc),  # type: ignore[arg-type]  # typed as Prefect's DateTime
                ),
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


def pause_after_consecutive_failures(flow: Flow, flow_run: FlowRun, state: State) -> None:
    """on_failure/on_crashed hook: pause the run's deployment when its last GUILDFLOW_PAUSE_AFTER_FAILURES
    finished runs all failed. Prefect's own automation thresholds count failures within a time window,
    where a success in between does not reset the count; this counts consecutive ones."""
    threshold = _pause_threshold()
    if flow_run.deployment_id is None or threshold == 0:
        return
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment(flow_run.deployment_id)
        if deployment.paused:
            return
        latest = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                deployment_id=FlowRunFilterDeploymentId(any_=[deployment.id]),
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=list(OUTCOMES))),
            ),
            sort=FlowRunSort.END_TIME_DESC,
            limit=threshold,
        )
        if len(latest) < threshold or any(run.state_type not in FAILED for run in latest):
            return
        client.pause_deployment(deployment.id)
    flow_run_logger(flow_run, flow).warning(
        "Paused deployment %s/%s: its last %d finished runs failed (%s). Fix the cause, then resume it "
        "(the deployment's toggle in the UI); set GUILDFLOW_PAUSE_AFTER_FAILURES=0 to never pause.",
        flow.name,
        deployment.name,
        threshold,
        ", ".join(run.name for run in latest),
    )
    emit_event(
        event=AUTO_PAUSED_EVENT,
        resource={
            "prefect.resource.id": f"prefect.deployment.{deployment.id}",
            "prefect.resource.name": deployment.name,
        },
        related=[
            {
                "prefect.resource.id": f"prefect.flow-run.{flow_run.id}",
                "prefect.resource.role": "flow-run",
                "prefect.resource.name": flow_run.name,
            }
        ],
        payload={"flow": flow.name, "failures": threshold, "flow_runs": [run.name for run in latest]},
    )


def _pause_threshold() -> int:
    try:
        return load_settings().pause_after_failures
    except ConfigurationError:
        # The run may have failed on the configuration itself; that failure counts all the same.
        return Settings.model_fields["pause_after_failures"].default
