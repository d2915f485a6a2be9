"""The steps of job flows that talk to the Prefect API: whether a reminder's job is still on, and scheduling a
job's follow-up."""

from __future__ import annotations

from uuid import UUID

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import StateType

from bookkeeping.jobs import job_run_state, schedule_job
from core.jobs import JobSpec
from tasks.policy import RETRY_DELAYS, retry_unless_permanent


@task(name="check the job is still on", retries=2, retry_delay_seconds=RETRY_DELAYS, cache_policy=NO_CACHE)
def job_called_off(job_run_id: str) -> str | None:
    """Why a reminder of this job must not be delivered: the job was cancelled (or deleted). None: deliver."""
    state = job_run_state(UUID(job_run_id))
    if state is None:
        return "skipped: its job is gone"
    if state in (StateType.CANCELLED, StateType.CANCELLING):
        return "skipped: its job was cancelled"
    return None


@task(
    name="schedule the next round",
    retries=2,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=retry_unless_permanent,
    cache_policy=NO_CACHE,
    task_run_name="schedule job {spec.id}",
)
def schedule_follow_up(spec: JobSpec) -> str:
    """Schedule the follow-up job (one job however often this runs: its id comes from its spec); its id."""
    return schedule_job(spec).id
