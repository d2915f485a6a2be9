"""One-off jobs on the Prefect server: schedule, list, show and cancel them. Used by the CLI and the Discord bot
alike, so nothing here prints.

A job (core.jobs.JobSpec) is one flow run of its action's deployment, created in a Scheduled state at its time with
the payload as parameters, and one run of the `reminder/jobs` deployment per reminder. Every run of a job carries
the tags `guildflow-job` and `job:<id>` (and `guild:<id>`, `action:<name>` to filter by), an idempotency key made
from the job id, and the job run carries the spec itself as a label: the Prefect database is the one record, so a
job survives restarts of the server and the workers, and asking for the same job twice makes one job: the same
id, or (a retried `--in 2h` command, whose time moved by the seconds in between) the same job but for a time
within 5 minutes of a pending one (core.jobs.DUPLICATE_WINDOW).

Overdue runs: a worker picks up Scheduled and Late runs whatever their time, so a job whose time passed while no
worker ran still runs once when one returns (what it posts says how late it is) and late reminders skip themselves
(core.jobs overdue policy). `prefect deploy --all` leaves these runs alone: it deletes only the runs Prefect's
scheduler made (auto-scheduled), never runs created through the API.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from prefect import get_client
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType, FlowRunFilterTags
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.client.schemas.responses import DeploymentResponse
from prefect.client.schemas.sorting import FlowRunSort
from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError
from prefect.states import Cancelled, Cancelling, Scheduled

from core.jobs import (
    ACTIONS,
    DUPLICATE_WINDOW,
    REMINDER_DEPLOYMENT,
    JobError,
    JobSpec,
    check_payload,
    follow_up_spec,
    format_duration,
)
from core.local_time import iso_utc

JOB_TAG = "guildflow-job"
ACTION_RUN_TAG = "job-action"
REMINDER_RUN_TAG = "job-reminder"
CONTENT_TAG = "job-content:"  # + JobSpec.content_key: the same job at another time
SPEC_LABEL = "guildflow.job"
PAGE = 200  # the most the Prefect API returns per request
UNFINISHED = [StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING, StateType.PAUSED, StateType.CANCELLING]
FINISHED = {StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED}


def job_tag(job_id: str) -> str:
    return f"job:{job_id}"


@dataclass(frozen=True)
class Reminder:
    at: datetime
    state: str  # the run's state name: Scheduled, Late, Completed, Skipped, Cancelled, ...
    message: str
    run_id: UUID
    pending: bool


@dataclass(frozen=True)
class Job:
    """A job as the Prefect server has it. `created`: this call made it (False: it existed already)."""

    spec: JobSpec
    run_id: UUID
    state: str
    state_type: StateType
    message: str
    reminders: tuple[Reminder, ...]
    created: bool = False

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def finished(self) -> bool:
        return self.state_type in FINISHED

    @property
    def reminders_left(self) -> tuple[Reminder, ...]:
        return tuple(reminder for reminder in self.reminders if reminder.pending)

    def outcome(self) -> str:
        """The state, and why when Prefect says: "Completed", "Cancelled: cancelled with guildflow job cancel"."""
        return f"{self.state}: {self.message}" if self.message and self.finished else self.state


def schedule_job(spec: JobSpec) -> Job:
    """Create the job's runs (those missing: a retry completes a half-made job), after checking its action's
    deployment takes its payload, and its follow-ups'. JobError when it cannot be made or has already finished."""
    with get_client(sync_client=True) as client:
        deployments = _Deployments(client)
        deployment = deployments.checked(spec)
        reminders = deployments.read(REMINDER_DEPLOYMENT, "reminders") if spec.reminders else None
        follow_up = spec.payload.get("then") if ACTIONS[spec.action].job_parameters else None
        chained = spec
        while follow_up is not None:  # every round of a chain fits its action, before anything is made
            chained = follow_up_spec(follow_up, chained)
            deployments.checked(chained)
            follow_up = chained.payload.get("then") if ACTIONS[chained.action].job_parameters else None
        spec, existing = _same_job(client, spec)
        if existing is not None and existing.state_type in FINISHED:
            outcome = _job_from_runs([existing])
            assert outcome is not None
            raise JobError(f"job {spec.id} exists already and has finished ({outcome.outcome()}): nothing to do")
        tags = _tags(spec)
        run = _create_run(
            client,
            deployment,
            spec.parameters(),
            spec.at,
            name=f"job {spec.id}: {spec.title()}"[:200],
            tags=[*tags, ACTION_RUN_TAG],
            key=f"guildflow-job-{spec.id}",
            labels={SPEC_LABEL: json.dumps(spec.to_json(), ensure_ascii=False)},
        )
        runs = [run]
        for offset, at in zip(spec.reminders, spec.reminder_times()):
            assert reminders is not None
            parameters = {
                "job_id": spec.id,
                "job_run_id": str(run.id),
                "title": spec.title(),
                "text": spec.reminder_text,
                "due_at": iso_utc(spec.at),
                "remind_at": iso_utc(at),
                "destinations": list(spec.destinations),
            }
            reminder = _create_run(
                client,
                reminders,
                parameters,
                at,
                name=f"reminder {format_duration(offset)} before job {spec.id}",
                tags=[*tags, REMINDER_RUN_TAG],
                key=f"guildflow-job-{spec.id}-reminder-{format_duration(offset)}",
            )
            runs.append(reminder)
    job = _job_from_runs(runs)  # an idempotent create returns the run that exists, as it is
    assert job is not None
    return Job(**{**job.__dict__, "created": existing is None})


def list_jobs(guild: str | None = None, action: str | None = None, include_finished: bool = False) -> list[Job]:
    """Jobs, soonest first: pending ones (with their pending reminders), or with include_finished every job with
    every reminder and its outcome. Reads runs by tag, a page of 200 per request: two or three requests per 200
    jobs, never one per job."""
    tags = [JOB_TAG, *([f"guild:{guild}"] if guild else []), *([f"action:{action}"] if action else [])]
    states = None if include_finished else UNFINISHED
    action_runs = _read_runs_paged([*tags, ACTION_RUN_TAG], states)
    reminder_runs = _read_runs_paged([*tags, REMINDER_RUN_TAG], None if include_finished else [StateType.SCHEDULED])
    by_job: dict[str, list[FlowRun]] = defaultdict(list)
    for run in [*action_runs, *reminder_runs]:
        by_job[_job_id_of(run)].append(run)
    jobs = [job for runs in by_job.values() if (job := _job_from_runs(runs)) is not None]
    return sorted(jobs, key=lambda job: job.spec.at)


def show_job(job_id: str, guild: str | None = None) -> Job:
    """The job with every reminder; JobError when there is none (in that guild, when given)."""
    with get_client(sync_client=True) as client:
        job = _job_from_runs(_read_runs(client, [job_tag(job_id.strip())]))
    if job is None or (guild is not None and job.spec.guild != guild):
        where = f" in guild {guild}" if guild else ""
        raise JobError(f"no job {job_id}{where}: `guildflow job list --all` lists them")
    return job


def cancel_job(job_id: str, guild: str | None = None) -> Job:
    """Cancel the job's run and its pending reminders (the job first: a reminder that starts meanwhile finds it
    cancelled and delivers nothing). JobError when it has finished already, saying how."""
    job = show_job(job_id, guild)
    if job.finished:
        raise JobError(f"job {job.id} has finished already ({job.outcome()}): nothing to cancel")
    with get_client(sync_client=True) as client:
        _cancel(client, job.run_id, job.state_type)
        for reminder in job.reminders_left:
            _cancel(client, reminder.run_id, StateType.SCHEDULED)
    return show_job(job_id, guild)


def job_run_state(run_id: UUID) -> StateType | None:
    """The state type of a job's run (None when it is gone): what a reminder checks before it is delivered."""
    with get_client(sync_client=True) as client:
        try:
            run = client.read_flow_run(run_id)
        except ObjectNotFound:
            return None
    return run.state.type if run.state else None


# --- parts ------------------------------------------------------------------------------------------------------


class _Deployments:
    """Deployments read once per call, by name."""

    def __init__(self, client: SyncPrefectClient) -> None:
        self.client = client
        self.known: dict[str, DeploymentResponse] = {}

    def read(self, name: str, purpose: str) -> DeploymentResponse:
        if name not in self.known:
            try:
                self.known[name] = self.client.read_deployment_by_name(name)
            except ObjectNotFound:
                raise JobError(
                    f"deployment {name} (for {purpose}) is not on the Prefect server: deploy it with "
                    "`prefect deploy --all` from the guildflow folder"
                ) from None
        return self.known[name]

    def checked(self, spec: JobSpec) -> DeploymentResponse:
        deployment = self.read(spec.deployment, f"action {spec.action}")
        check_payload(spec, deployment.parameter_openapi_schema or {}, deployment.parameters or {})
        return deployment


def _tags(spec: JobSpec) -> list[str]:
    guild = [f"guild:{spec.guild}"] if spec.guild else []
    return [JOB_TAG, job_tag(spec.id), f"action:{spec.action}", f"{CONTENT_TAG}{spec.content_key}", *guild]


def _same_job(client: SyncPrefectClient, spec: JobSpec) -> tuple[JobSpec, FlowRun | None]:
    """The job to make, and its action run if it exists: this one, or a pending one that is this one but for a time
    within DUPLICATE_WINDOW (a retried `--in` command). One request: the action runs of the same content."""
    runs = _read_runs(client, [f"{CONTENT_TAG}{spec.content_key}", ACTION_RUN_TAG])
    same = next((run for run in runs if _job_id_of(run) == spec.id), None)
    if same is not None:
        return spec, same
    for run in runs:
        if run.state_type in FINISHED or SPEC_LABEL not in run.labels:
            continue
        other = JobSpec.from_json(json.loads(str(run.labels[SPEC_LABEL])))
        if abs(other.at - spec.at) <= DUPLICATE_WINDOW:
            return other, run
    return spec, None


def _create_run(
    client: SyncPrefectClient,
    deployment: DeploymentResponse,
    parameters: dict[str, Any],
    at: datetime,
    *,
    name: str,
    tags: list[str],
    key: str,
    labels: dict[str, Any] | None = None,
) -> FlowRun:
    try:
        return client.create_flow_run_from_deployment(
            deployment.id,
            parameters=parameters,
            state=Scheduled(scheduled_time=at),
            name=name,
            tags=tags,
            idempotency_key=key,
            labels=labels,
        )
    except PrefectHTTPStatusError as error:
        if error.response.status_code in (409, 422):  # the server's check of the parameters against the schema
            detail = error.response.json().get("detail", error.response.text)
            raise JobError(f"{deployment.name}: the Prefect server refused the parameters: {detail}") from None
        raise


def _cancel(client: SyncPrefectClient, run_id: UUID, state_type: StateType) -> None:
    message = "cancelled with guildflow job cancel"
    # A run a worker has picked up is stopped by the worker (Cancelling); one not started is cancelled at once.
    started = state_type in (StateType.PENDING, StateType.RUNNING, StateType.CANCELLING)
    client.set_flow_run_state(run_id, Cancelling(message=message) if started else Cancelled(message=message))


def _read_runs(client: SyncPrefectClient, tags: list[str], states: list[StateType] | None = None) -> list[FlowRun]:
    return list(_pages(client, tags, states))


def _read_runs_paged(tags: list[str], states: list[StateType] | None) -> list[FlowRun]:
    with get_client(sync_client=True) as client:
        return list(_pages(client, tags, states))


def _pages(client: SyncPrefectClient, tags: list[str], states: list[StateType] | None) -> Iterator[FlowRun]:
    run_filter = FlowRunFilter(
        tags=FlowRunFilterTags(all_=tags),
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=states)) if states else None,
    )
    offset = 0
    while True:
        page = client.read_flow_runs(
            flow_run_filter=run_filter, sort=FlowRunSort.EXPECTED_START_TIME_ASC, limit=PAGE, offset=offset
        )
        yield from page
        if len(page) < PAGE:
            return
        offset += PAGE


def _job_id_of(run: FlowRun) -> str:
    return next((tag.removeprefix("job:") for tag in run.tags if tag.startswith("job:")), "")


def _job_from_runs(runs: list[FlowRun]) -> Job | None:
    """The job of one job's runs (its action run and reminder runs); None without its action run (a pending-only
    listing whose job has finished, or a job half-made by a call that failed before its action run)."""
    action = next((run for run in runs if ACTION_RUN_TAG in run.tags and SPEC_LABEL in (run.labels or {})), None)
    if action is None:
        return None
    spec = JobSpec.from_json(json.loads(str(action.labels[SPEC_LABEL])))
    reminders = sorted(
        (
            Reminder(
                at=run.expected_start_time or spec.at,
                state=_state_name(run),
                message=(run.state.message or "") if run.state else "",
                run_id=run.id,
                pending=run.state_type == StateType.SCHEDULED,
            )
            for run in runs
            if REMINDER_RUN_TAG in run.tags
        ),
        key=lambda reminder: reminder.at,
    )
    return Job(
        spec=spec,
        run_id=action.id,
        state=_state_name(action),
        state_type=action.state_type or StateType.SCHEDULED,
        message=(action.state.message or "") if action.state else "",
        reminders=tuple(reminders),
    )


def _state_name(run: FlowRun) -> str:
    return (run.state.name or run.state.type.value.title()) if run.state else "Unknown"
