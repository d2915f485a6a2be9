"""`guildflow job`: one-off jobs with reminders, kept on the Prefect server (bookkeeping.jobs): schedule, list,
show, cancel. This module only reads options and prints; the Discord bot calls the same bookkeeping functions."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from core.errors import UserFacingError
from core.jobs import ACTIONS, describe_when, format_duration, format_remaining, job_spec
from guildflow.cli_common import fail, require_prefect_server

if TYPE_CHECKING:
    from bookkeeping.jobs import Job

job_app = typer.Typer(
    help="One-off jobs with reminders (post results in 2 hours, remind at 30, 5 and 1 minutes): "
    "schedule, list, show, cancel.",
    no_args_is_help=True,
)
GuildOption = Annotated[Optional[str], typer.Option("--guild", help="the guild id the job is for")]


@job_app.command("schedule")
def schedule(
    action: Annotated[str, typer.Argument(help=f"what to run: {', '.join(sorted(ACTIONS))}")],
    destinations: Annotated[
        list[str], typer.Option("--to", help="where to post (repeat): discord:<channel id>, webhook:<url>, ...")
    ],
    run_in: Annotated[Optional[str], typer.Option("--in", help="in a duration, e.g. 2h30m, 90m, 1d")] = None,
    at: Annotated[Optional[str], typer.Option("--at", help='at a local time, "YYYY-MM-DD HH:MM"')] = None,
    timezone_name: Annotated[str, typer.Option("--timezone", help="IANA zone of --at, e.g. Europe/Berlin")] = "UTC",
    payload: Annotated[Optional[str], typer.Option("--payload", help="the action's parameters, a JSON object")] = None,
    reminders: Annotated[str, typer.Option("--reminders", help="before the job, e.g. 30m,5m,1m")] = "",
    reminder_text: Annotated[str, typer.Option("--reminder-text", help="what reminders say")] = "",
    description: Annotated[str, typer.Option("--description", help="what the job is, for lists")] = "",
    guild: GuildOption = None,
) -> None:
    """Schedule a job: one run of the action at its time, and one reminder run per reminder. The same command
    again makes no second job. Everything is checked before anything is made."""
    try:
        spec = job_spec(
            action,
            now=datetime.now(timezone.utc),
            run_in=run_in,
            at=at,
            timezone_name=timezone_name,
            payload=_payload(payload),
            reminders=reminders,
            reminder_text=reminder_text,
            destinations=destinations,
            description=description,
            guild=guild,
        )
    except UserFacingError as error:
        fail(str(error), 2)
    require_prefect_server("jobs")
    from bookkeeping.jobs import schedule_job

    try:
        job = schedule_job(spec)
    except UserFacingError as error:
        fail(str(error))
    verb = "scheduled" if job.created else "already scheduled (nothing new made)"
    typer.secho(f"job {job.id} {verb}: {spec.title()}", fg="green")
    _print_job(job)


@job_app.command("list")
def list_(
    guild: GuildOption = None,
    action: Annotated[Optional[str], typer.Option("--action", help="only jobs of this action")] = None,
    include_finished: Annotated[bool, typer.Option("--all", help="finished jobs too, with their outcome")] = False,
) -> None:
    """Pending jobs, soonest first, with the time left, reminders left and destinations."""
    require_prefect_server("jobs")
    from bookkeeping.jobs import list_jobs

    jobs = list_jobs(guild=guild, action=action, include_finished=include_finished)
    if not jobs:
        typer.echo("no jobs" if include_finished else "no pending jobs")
    now = datetime.now(timezone.utc)
    for job in jobs:
        status = _status(job, now)
        reminders = ",".join(format_duration(job.spec.at - r.at) for r in job.reminders_left) or "none"
        to = ", ".join(job.spec.destinations) or "-"
        line = f"{job.id}  {job.spec.action}  {status}  reminders left: {reminders}  to: {to}  {job.spec.description}"
        typer.echo(line.rstrip())


@job_app.command("show")
def show(job_id: Annotated[str, typer.Argument(help="the job id")], guild: GuildOption = None) -> None:
    """A job: when it runs, its payload, destinations and every reminder with its state."""
    require_prefect_server("jobs")
    from bookkeeping.jobs import show_job

    try:
        job = show_job(job_id, guild)
    except UserFacingError as error:
        fail(str(error))
    typer.echo(f"job {job.id}: {job.spec.title()}  {job.outcome()}")
    _print_job(job)


@job_app.command("cancel")
def cancel(job_id: Annotated[str, typer.Argument(help="the job id")], guild: GuildOption = None) -> None:
    """Cancel a job and its pending reminders; a cancelled job's reminders never fire."""
    require_prefect_server("jobs")
    from bookkeeping.jobs import cancel_job

    try:
        job = cancel_job(job_id, guild)
    except UserFacingError as error:
        fail(str(error))
    typer.secho(f"job {job.id} cancelled, with its pending reminders: {job.spec.title()}", fg="green")


def _status(job: Job, now: datetime) -> str:
    from prefect.client.schemas.objects import StateType

    if job.finished:
        return job.outcome()
    if job.state_type in (StateType.PENDING, StateType.RUNNING, StateType.CANCELLING):
        return job.state.lower()
    return f"in {format_remaining(job.spec.at - now)}" if job.spec.at > now else "due, waiting for a worker"


def _payload(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        fail(
            f'--payload is not JSON ({error.msg} at character {error.pos}): give an object, e.g. \'{{"text": "hi"}}\'',
            2,
        )
    if not isinstance(value, dict):
        fail(f"--payload must be a JSON object of the action's parameters, not {type(value).__name__}", 2)
    return value


def _print_job(job: Job) -> None:
    spec, now = job.spec, datetime.now(timezone.utc)
    typer.echo(f"  runs {spec.action} at {describe_when(spec.at, spec.timezone, now)}")
    if spec.payload:
        typer.echo(f"  payload: {json.dumps(dict(spec.payload), ensure_ascii=False)}")
    typer.echo(f"  to: {', '.join(spec.destinations) or '-'}")
    if spec.guild:
        typer.echo(f"  guild: {spec.guild}")
    if not job.reminders:
        typer.echo("  reminders: none")
    for reminder in job.reminders:
        state = reminder.state + (f" ({reminder.message})" if reminder.message and not reminder.pending else "")
        before = format_duration(spec.at - reminder.at)
        typer.echo(f"  reminder {before} before, at {describe_when(reminder.at, spec.timezone, now)}: {state}")
