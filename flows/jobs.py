"""The flows made for one-off jobs (bookkeeping.jobs): post-message, a job's message, and reminder, one reminder
before a job. Both are deployed from prefect.yaml as <flow>/jobs; jobs create their runs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from prefect import flow, get_run_logger
from prefect.states import Completed, State

from core.delivery import Destination
from core.jobs import JobSpec, follow_up_spec, job_message, reminder_message, reminder_skip_reason
from core.parameters import OptionalObject, OptionalText
from guildflow.logs import hide_tracebacks_of_user_errors
from guildflow.settings import load_settings
from tasks.deliver import deliver_everywhere, raise_if_any_failed
from tasks.jobs import job_called_off, schedule_follow_up

hide_tracebacks_of_user_errors()


@flow(name="post-message", log_prints=True, persist_result=False)
def post_message(
    destinations: list[str],
    text: str,
    title: str = "",
    then: OptionalObject = None,
    job_id: str = "",
    due_at: OptionalText = None,
    guild: OptionalText = None,
) -> list[str]:
    """Post a message (Markdown; an embed or plain Markdown as each destination says) to the destinations.
    Run as a job, it says how late it is when it runs late, and then schedules its follow-up job (`then`).

    Args:
        destinations: Where to post: discord:<channel id>[:embed|:markdown], webhook:<url>, email:<address>,
            file:<folder>.
        text: The message, in Markdown.
        title: Its title.
        then: The next job, e.g. {"action": "post-message", "in": "24h", "payload": {"text": "round 2 opens"}},
            its `in` counted from this job's time.
        job_id: The job this run is (set by guildflow job schedule).
        due_at: When the job was due, ISO 8601 UTC (set by guildflow job schedule).
        guild: The guild the job is for (set by guildflow job schedule); its follow-up's too.
    """
    settings = load_settings()
    now = datetime.now(timezone.utc)
    due = datetime.fromisoformat(due_at) if due_at else now
    grace = timedelta(seconds=settings.reminder_grace_seconds)
    message = job_message(title, text, due, now, grace)
    targets = [Destination.parse(destination) for destination in destinations]
    outcomes = deliver_everywhere(settings, targets, message)
    if then is not None:
        this_job = JobSpec(action="post-message", at=due, destinations=tuple(destinations), guild=guild)
        schedule_follow_up(follow_up_spec(then, this_job))
    raise_if_any_failed(outcomes)
    return [outcome.summary() for outcome in outcomes]


@flow(name="reminder", log_prints=True, persist_result=False)
def reminder(
    job_id: str,
    job_run_id: str,
    title: str,
    due_at: str,
    remind_at: str,
    destinations: list[str],
    text: str = "",
) -> State:
    """Remind the destinations that a job runs soon. Skipped (Completed, named Skipped, with the reason) when its
    moment passed by more than GUILDFLOW_REMINDER_GRACE_SECONDS or its job was cancelled.

    Args:
        job_id: The job it reminds of.
        job_run_id: The flow run of that job.
        title: The job's description (or action), said when there is no text.
        due_at: When the job runs, ISO 8601 UTC.
        remind_at: When this reminder is due, ISO 8601 UTC.
        destinations: Where to post it.
        text: What to say.
    """
    settings = load_settings()
    now = datetime.now(timezone.utc)
    grace = timedelta(seconds=settings.reminder_grace_seconds)
    reason = reminder_skip_reason(datetime.fromisoformat(remind_at), now, grace) or job_called_off(job_run_id)
    if reason:
        get_run_logger().info(f"reminder of job {job_id} {reason}")
        return Completed(name="Skipped", message=reason)
    message = reminder_message(title, text, datetime.fromisoformat(due_at), now)
    outcomes = deliver_everywhere(settings, [Destination.parse(destination) for destination in destinations], message)
    raise_if_any_failed(outcomes)
    return Completed(message=f"reminded {len(outcomes)} destination(s) of job {job_id}")
