"""The schedules of playerData exports, kept on the Prefect server as schedules of the deployment
playerdata-export/scheduled: one interval schedule per channel + type + guild (its slug), with the export's
parameters. Their runs are recognised by those parameters.

Why a pause is recorded separately: Prefect keeps no reason with an inactive schedule, so each pause
writes one to a Prefect Variable named after the schedule, which `guildflow export status` shows.

Two Prefect 3.8.8 behaviours shape this module:
- changing or pausing any schedule deletes every future auto-scheduled run of the deployment; the scheduler
  re-creates them within its loop (60 s), so we ask the server to schedule them at once instead;
- updating a schedule without its parameters drops them (so does `prefect deployment schedule pause`):
  every update here sends them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from prefect import get_client
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.actions import DeploymentScheduleCreate
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterDeploymentId,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import DeploymentSchedule, FlowRun, StateType
from prefect.client.schemas.schedules import IntervalSchedule
from prefect.client.schemas.sorting import FlowRunSort
from prefect.exceptions import ObjectNotFound
from prefect.variables import Variable

from core.errors import UserFacingError
from core.playerdata_export import SLUG_PREFIX, ExportTarget, consecutive_failures
from tasks.operations import FAILED, OUTCOMES

FLOW_NAME, DEPLOYMENT_NAME = "playerdata-export", "scheduled"
DEPLOYMENT = f"{FLOW_NAME}/{DEPLOYMENT_NAME}"
NOT_STARTED = (StateType.SCHEDULED, StateType.PENDING)
RUNS_READ = 200  # the newest runs of the deployment (all schedules together) looked at; the API maximum
DISABLED = "disabled with `guildflow export disable` or `--every 0`"


class ExportScheduleError(UserFacingError):
    """The schedules cannot be read or changed; the message says what to do."""


@dataclass(frozen=True)
class ScheduleSet:
    slug: str
    replaced: bool  # a schedule with this slug existed and was replaced
    first_run_id: UUID
    first_run_name: str


@dataclass(frozen=True)
class ScheduleStatus:
    slug: str
    target: ExportTarget | None  # from the slug; None for a schedule someone else named playerdata-*
    active: bool
    paused_reason: str | None
    interval: timedelta | None
    last_run: FlowRun | None
    next_run: datetime | None
    consecutive_failures: int
    parameters_lost: bool  # its parameters no longer match its slug (updated without them, see above)


def export_deployment(client: SyncPrefectClient) -> Any:
    try:
        return client.read_deployment_by_name(DEPLOYMENT)
    except ObjectNotFound:
        raise ExportScheduleError(
            f"the deployment {DEPLOYMENT} is not on the Prefect server at {client.api_url}: deploy it first "
            "(`prefect deploy --name scheduled` in the project folder, with PREFECT_API_URL set)"
        ) from None


def set_schedule(target: ExportTarget, interval: timedelta) -> ScheduleSet:
    """Create or replace the target's schedule, then start a first run at once (a worker picks it up)."""
    with get_client(sync_client=True) as client:
        deployment = export_deployment(client)
        # Anchored one interval ahead: the first scheduled run follows the immediate one, not beside it.
        schedule = IntervalSchedule(interval=interval, anchor_date=datetime.now(timezone.utc) + interval)
        existing = _schedule(client, deployment.id, target.slug)
        if existing:
            client.update_deployment_schedule(
                deployment.id, existing.id, active=True, schedule=schedule, parameters=target.parameters
            )
        else:
            client.create_deployment_schedules(
                deployment.id,
                [
                    DeploymentScheduleCreate(
                        schedule=schedule, active=True, parameters=target.parameters, slug=target.slug
                    )
                ],
            )
        _clear_pause_reason(target.slug)
        _schedule_runs_now(client, deployment.id)
        first = client.create_flow_run_from_deployment(deployment.id, parameters=target.parameters)
    return ScheduleSet(target.slug, existing is not None, first.id, first.name)


def disable_schedule(target: ExportTarget) -> bool:
    """Pause the target's schedule; False when it has none."""
    with get_client(sync_client=True) as client:
        deployment = export_deployment(client)
        schedule = _schedule(client, deployment.id, target.slug)
        if schedule is None:
            return False
        pause_schedule(client, deployment.id, schedule, target, DISABLED)
    return True


def pause_schedule(
    client: SyncPrefectClient, deployment_id: UUID, schedule: DeploymentSchedule, target: ExportTarget, reason: str
) -> None:
    """Pause the target's schedule (as just read) with a reason; one paused already keeps its reason
    unless this is a disable."""
    if not schedule.active:
        if reason == DISABLED:
            _record_pause_reason(target.slug, reason)
        return
    client.update_deployment_schedule(deployment_id, schedule.id, active=False, parameters=target.parameters)
    _record_pause_reason(target.slug, reason)
    _schedule_runs_now(client, deployment_id)  # the other schedules' runs went with this change


def active_schedule(client: SyncPrefectClient, deployment_id: UUID, target: ExportTarget) -> DeploymentSchedule | None:
    schedule = _schedule(client, deployment_id, target.slug)
    return schedule if schedule is not None and schedule.active else None


def finished_runs(client: SyncPrefectClient, deployment_id: UUID, target: ExportTarget) -> list[FlowRun]:
    """The target's finished runs on the deployment, newest first."""
    return _runs_of(client, deployment_id, target, OUTCOMES, FlowRunSort.END_TIME_DESC)


def next_run(target: ExportTarget, deployment_id: UUID | None = None) -> datetime | None:
    """When the target's next scheduled run is due: the real scheduled run on the server, if any."""
    with get_client(sync_client=True) as client:
        if deployment_id is None:
            try:
                deployment_id = client.read_deployment_by_name(DEPLOYMENT).id
            except ObjectNotFound:
                return None
        now = datetime.now(timezone.utc)
        due = [
            run.expected_start_time
            for run in _runs_of(
                client, deployment_id, target, (StateType.SCHEDULED,), FlowRunSort.EXPECTED_START_TIME_ASC
            )
            if run.expected_start_time and run.expected_start_time > now
        ]
    return min(due, default=None)


def schedule_statuses() -> list[ScheduleStatus]:
    with get_client(sync_client=True) as client:
        deployment = export_deployment(client)
        schedules = [
            s for s in client.read_deployment_schedules(deployment.id) if (s.slug or "").startswith(SLUG_PREFIX)
        ]
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(deployment_id=FlowRunFilterDeploymentId(any_=[deployment.id])),
            sort=FlowRunSort.EXPECTED_START_TIME_DESC,
            limit=RUNS_READ,
        )
    now = datetime.now(timezone.utc)
    statuses = []
    for schedule in sorted(schedules, key=lambda s: s.slug or ""):
        target = ExportTarget.from_slug(schedule.slug)
        mine = [run for run in runs if target and ExportTarget.from_parameters(run.parameters) == target]
        started = [run for run in mine if run.state_type not in NOT_STARTED]
        finished = sorted(
            (run for run in mine if run.state_type in OUTCOMES),
            key=lambda run: run.end_time or run.expected_start_time or now,
            reverse=True,
        )
        due = [
            run.expected_start_time
            for run in mine
            if run.state_type == StateType.SCHEDULED and run.expected_start_time and run.expected_start_time > now
        ]
        statuses.append(
            ScheduleStatus(
                slug=schedule.slug or "",
                target=target,
                active=schedule.active,
                paused_reason=None if schedule.active else _pause_reason(schedule.slug or ""),
                interval=getattr(schedule.schedule, "interval", None),
                last_run=started[0] if started else None,
                next_run=min(due, default=None) if schedule.active else None,
                consecutive_failures=consecutive_failures(run.state_type in FAILED for run in finished),
                parameters_lost=target is not None and ExportTarget.from_parameters(schedule.parameters) != target,
            )
        )
    return statuses


def _schedule(client: SyncPrefectClient, deployment_id: UUID, slug: str) -> DeploymentSchedule | None:
    return next((s for s in client.read_deployment_schedules(deployment_id) if s.slug == slug), None)


def _runs_of(
    client: SyncPrefectClient,
    deployment_id: UUID,
    target: ExportTarget,
    states: tuple[StateType, ...],
    sort: FlowRunSort,
) -> list[FlowRun]:
    runs = client.read_flow_runs(
        flow_run_filter=FlowRunFilter(
            deployment_id=FlowRunFilterDeploymentId(any_=[deployment_id]),
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=list(states))),
        ),
        sort=sort,
        limit=RUNS_READ,
    )
    return [run for run in runs if ExportTarget.from_parameters(run.parameters) == target]


def _schedule_runs_now(client: SyncPrefectClient, deployment_id: UUID) -> None:
    """Have the server create the active schedules' next runs now rather than at its next loop."""
    client.request("POST", "/deployments/{id}/schedule", path_params={"id": deployment_id}, json={})


def _variable_name(slug: str) -> str:
    return f"guildflow-paused-{slug}"


def _record_pause_reason(slug: str, reason: str) -> None:
    at = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    Variable.set(_variable_name(slug), {"reason": reason[:4000], "at": at}, overwrite=True)


def _pause_reason(slug: str) -> str:
    recorded = Variable.get(_variable_name(slug), default=None)
    if not isinstance(recorded, dict):
        return "no reason recorded (paused in Prefect's UI or CLI?)"
    return f"{recorded.get('reason')} (since {recorded.get('at')})"


def _clear_pause_reason(slug: str) -> None:
    Variable.unset(_variable_name(slug))  # False, not an error, when there is none
