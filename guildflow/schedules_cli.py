"""`guildflow schedules`: every schedule guildflow keeps on the Prefect server, whatever it schedules: list, status
(with stats from the run history), pause, resume, remove, export to a file and import from one. Feature commands
(`guildflow export schedule ...`) make schedules with the options and printing defined here."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional
from zoneinfo import ZoneInfo

import typer

from core.schedule_spec import ScheduleSpec, ScheduleSpecError, spec_from_words
from guildflow.cli_common import fail, require_prefect_server

if TYPE_CHECKING:
    from bookkeeping.history import ScheduleStatus
    from bookkeeping.schedules import Schedule, ScheduleDefinition
    from guildflow.settings import Settings

schedules_app = typer.Typer(
    help="Every schedule on the Prefect server: list, status, pause, resume, remove, export, import.",
    no_args_is_help=True,
)

# The options that say when a schedule runs; a feature command takes them all and passes them to spec_from_options.
EveryOption = Annotated[Optional[int], typer.Option("--every", help="every N minutes (1 to 10080); runs at once")]
DailyOption = Annotated[Optional[str], typer.Option("--daily", help="every day at HH:MM local time")]
WeeklyOption = Annotated[
    Optional[tuple[str, str]], typer.Option("--weekly", help="DAYS HH:MM: on those weekdays, e.g. mon,wed,fri 10:00")
]
MonthlyOption = Annotated[
    Optional[tuple[str, str]],
    typer.Option("--monthly", help="DAY HH:MM: that day of each month (29-31: or the month's last day)"),
]
CronOption = Annotated[
    Optional[str], typer.Option("--cron", help='a cron expression on local time, e.g. "0 */6 * * *"')
]
OnceOption = Annotated[Optional[str], typer.Option("--once", help='one run at a local time, "YYYY-MM-DD HH:MM"')]
TimezoneOption = Annotated[str, typer.Option("--timezone", help="IANA time zone of the times, e.g. Europe/Berlin")]
TargetOption = Annotated[Optional[str], typer.Option("--target", help="only schedules of this flow")]
GuildFilter = Annotated[Optional[str], typer.Option("--guild", help="only schedules for this guild id")]
ChannelFilter = Annotated[Optional[str], typer.Option("--channel", help="only schedules for this channel id")]
DeploymentOption = Annotated[
    Optional[str], typer.Option("--deployment", help="the whole deployment, FLOW/NAME, instead of one schedule")
]
PauseAfterOption = Annotated[
    Optional[int],
    typer.Option("--pause-after-failures", help="this schedule's own threshold (0: never pauses)", min=0, max=50),
]
AnywayOption = Annotated[
    bool, typer.Option("--anyway", help="make it even though this machine's settings say its runs would fail")
]
WHEN_OPTIONS = "--every, --daily, --weekly, --monthly, --cron or --once"


def spec_from_options(
    every: int | None,
    daily: str | None,
    weekly: tuple[str, str] | None,
    monthly: tuple[str, str] | None,
    cron: str | None,
    once: str | None,
    timezone_name: str,
) -> ScheduleSpec:
    """The spec of exactly one of the when options; exits with the problem otherwise."""
    given = {
        "every": None if every is None else str(every),
        "daily": daily,
        "weekly": " ".join(weekly) if weekly else None,
        "monthly": " ".join(monthly) if monthly else None,
        "cron": cron,
        "once": once,
    }
    chosen = {kind: words for kind, words in given.items() if words is not None}
    if len(chosen) != 1:
        fail(f"say when with exactly one of {WHEN_OPTIONS}", 2)
    [(kind, words)] = chosen.items()
    try:
        return spec_from_words(kind, words, timezone_name, now=datetime.now(timezone.utc))
    except ScheduleSpecError as error:
        fail(str(error), 2)


def check_workable(settings: Settings, definition: ScheduleDefinition, anyway: bool) -> None:
    """Stop before making a schedule whose every run would fail for want of a setting (a Discord channel with
    neither a bot token nor a webhook, say); with --anyway only warn: the worker's settings may differ."""
    from core.delivery import Destination
    from tasks.clients import destination_problem

    destinations = [Destination.parse(destination) for destination in definition.destinations]
    problems = [problem for destination in destinations if (problem := destination_problem(settings, destination))]
    if not problems:
        return
    if anyway:
        typer.secho(f"warning: {'; '.join(problems)}: its runs fail until the worker has that", fg="yellow", err=True)
        return
    fail(
        f"every run of this schedule would fail here: {'; '.join(problems)}. Set it (where the worker runs, too), "
        "or pass --anyway if the worker has it already",
        2,
    )


def when(moment: datetime | None, zone: str = "UTC") -> str:
    """A moment for people: in the schedule's zone, and in UTC when that differs."""
    if moment is None:
        return "?"
    utc = moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    if zone == "UTC":
        return utc
    return f"{moment.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} {zone} ({utc})"


def print_status(status: ScheduleStatus, details: str) -> None:
    """One schedule's status, as `schedules status` and feature status commands print it."""
    from core.run_stats import failure_summary

    schedule, stats = status.schedule, status.stats
    head, colon, rest = schedule.state().partition(":")
    typer.echo(f"{schedule.slug}  {typer.style(head, fg='green' if schedule.runs_now else 'yellow')}{colon}{rest}")
    typer.echo(f"  {details}")
    spec = schedule.definition.spec
    typer.echo(f"  {spec.describe()}  consecutive failures {stats.consecutive_failures}")
    last = stats.last_run
    if last is None:
        typer.echo("  last run: none yet")
    else:
        line = f"  last run: {last.state_name} {when(last.when, spec.timezone)} ({last.name})"
        typer.echo(line + (f": {failure_summary(last.message)}" if last.failed else ""))
    if status.next_run is None:
        typer.echo("  next run: none scheduled")
    else:
        late = stats.due is not None and status.next_run == stats.due.expected_start
        typer.echo(
            f"  next run: {when(status.next_run, spec.timezone)}" + (" (due, waiting for a worker)" if late else "")
        )
    typer.echo(f"  {_stats_line(status)}")
    for problem in schedule.problems:
        typer.secho(f"  {problem}", fg="red")


def _stats_line(status: ScheduleStatus) -> str:
    from bookkeeping.history import HISTORY_DAYS

    stats = status.stats
    window = f"last {HISTORY_DAYS} days" + (" (newest runs only)" if status.history_truncated else "")
    if not stats.runs:
        return f"{window}: no finished runs"
    rate = f"{stats.success_rate:.0%} succeeded" if stats.success_rate is not None else ""
    duration = f", {stats.average_seconds:.1f} s on average" if stats.average_seconds is not None else ""
    return f"{window}: {stats.runs} runs, {stats.failures} failed, {rate}{duration}"


def _generic_details(schedule: Schedule) -> str:
    definition = schedule.definition
    parts = [f"target {definition.target}"]
    parts += [f"guild {definition.guild}"] if definition.guild else []
    parts += [f"channel {definition.channel}"] if definition.channel else []
    if definition.destinations:
        parts.append("to " + ", ".join(definition.destinations))
    if definition.pause_after_failures is not None:
        parts.append(f"pauses after {definition.pause_after_failures} failures")
    return "  ".join(parts)


@schedules_app.command("list")
def list_schedules(target: TargetOption = None, guild: GuildFilter = None, channel: ChannelFilter = None) -> None:
    """Every schedule: slug, state, when, what for."""
    require_prefect_server("schedules")
    from bookkeeping.schedules import read_schedules

    schedules = read_schedules(target, guild, channel)
    if not schedules:
        typer.echo("no schedules" + (" match" if target or guild or channel else ""))
        return
    for schedule in schedules:
        state = schedule.state()
        typer.echo(f"{schedule.slug}  {state}")
        typer.echo(f"  {schedule.definition.spec.describe()}  {_generic_details(schedule)}")


@schedules_app.command("status")
def status(
    slug: Annotated[Optional[str], typer.Argument(help="one schedule (default: all)")] = None,
    target: TargetOption = None,
    guild: GuildFilter = None,
    channel: ChannelFilter = None,
) -> None:
    """State, last run (and why it failed), next run, and stats from the run history."""
    require_prefect_server("schedules")
    from bookkeeping.history import schedule_statuses

    statuses = [s for s in schedule_statuses(target, guild, channel) if slug is None or s.schedule.slug == slug]
    if slug is not None and not statuses:
        fail(f"no schedule {slug!r} (`guildflow schedules list` shows them)")
    if not statuses:
        typer.echo("no schedules")
    for one in statuses:
        print_status(one, _generic_details(one.schedule))


@schedules_app.command("pause")
def pause(
    slug: Annotated[Optional[str], typer.Argument(help="the schedule")] = None,
    reason: Annotated[str, typer.Option("--reason", help="why (shown by status)")] = "paused by hand",
    deployment: DeploymentOption = None,
) -> None:
    """Pause a schedule (or with --deployment, every schedule of a deployment), keeping the reason."""
    require_prefect_server("schedules")
    from bookkeeping.schedules import ScheduleError, pause_deployment

    _one_of(slug, deployment)
    if slug is not None:
        pause_one(slug, reason)
        return
    assert deployment is not None
    try:
        pause_deployment(deployment, reason)
    except ScheduleError as error:
        fail(str(error))
    typer.secho(f"paused deployment {deployment}: {reason}", fg="green")


@schedules_app.command("resume")
def resume(
    slug: Annotated[Optional[str], typer.Argument(help="the schedule")] = None, deployment: DeploymentOption = None
) -> None:
    """Resume a paused schedule (its parameters as guildflow recorded them), or with --deployment a deployment."""
    require_prefect_server("schedules")
    from bookkeeping.schedules import ScheduleError, resume_deployment

    _one_of(slug, deployment)
    if slug is not None:
        resume_one(slug)
        return
    assert deployment is not None
    try:
        resumed = resume_deployment(deployment)
    except ScheduleError as error:
        fail(str(error))
    typer.secho(f"resumed deployment {deployment}" if resumed else f"{deployment} was not paused", fg="green")


@schedules_app.command("remove")
def remove(
    slug: Annotated[str, typer.Argument(help="the schedule")],
    yes: Annotated[bool, typer.Option("--yes", help="really remove it (pause keeps it)")] = False,
) -> None:
    """Delete a schedule (its past runs stay in Prefect's history). Needs --yes; `pause` keeps it."""
    require_prefect_server("schedules")
    remove_one(slug, yes, "guildflow schedules pause")


@schedules_app.command("export")
def export(file: Annotated[Path, typer.Argument(help="the JSON file to write")]) -> None:
    """Write every schedule (definition and state) to a JSON file that `schedules import` reads."""
    require_prefect_server("schedules")
    from bookkeeping.transfer import export_schedules

    schedules = export_schedules(file)
    typer.secho(f"wrote {len(schedules)} schedule(s) to {file}", fg="green")


@schedules_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="a file written by `guildflow schedules export`")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="show what would change; change nothing")] = False,
) -> None:
    """Create or replace the file's schedules (after checking all of them; one bad entry changes nothing).
    Schedules that are not in the file are left as they are."""
    require_prefect_server("schedules")
    from bookkeeping.schedules import ScheduleError
    from bookkeeping.transfer import TransferError, apply_import, plan_import, read_document

    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"cannot read {file}: {getattr(error, 'strerror', None) or error}", 2)
    try:
        plan = plan_import(read_document(text, str(file)), str(file))
    except TransferError as error:
        fail(str(error), 2)
    for change in plan:
        entry = change.entry
        state = "active" if entry.active else f"paused: {entry.pause.describe() if entry.pause else ''}"
        typer.echo(f"{change.action:<9} {entry.definition.slug}  {entry.definition.spec.describe()}  {state}")
    changes = sum(change.action != "unchanged" for change in plan)
    if dry_run:
        typer.secho(f"dry run: {changes} schedule(s) would change; nothing was changed", fg="yellow")
        return
    try:
        apply_import(plan)
    except ScheduleError as error:
        fail(f"{error} (the schedules listed before it were imported)")
    typer.secho(f"imported {changes} changed schedule(s) of {len(plan)}", fg="green")


# --- one schedule, for `guildflow schedules` and the feature commands that are sugar over it ---------------------


def pause_one(slug: str, reason: str) -> None:
    from bookkeeping.schedules import ScheduleError, pause_schedule

    try:
        pause_schedule(slug, reason)
    except ScheduleError as error:
        fail(str(error))
    typer.secho(f"paused schedule {slug}: {reason}", fg="green")


def resume_one(slug: str) -> None:
    from bookkeeping.schedules import ScheduleError, resume_schedule

    try:
        resume_schedule(slug)
    except ScheduleError as error:
        fail(str(error))
    typer.secho(f"resumed schedule {slug}", fg="green")


def remove_one(slug: str, yes: bool, pause_command: str) -> None:
    """Remove it when --yes was given; otherwise say how (and how to pause instead)."""
    from bookkeeping.schedules import ScheduleError, remove_schedule

    if not yes:
        fail(f"removing {slug} deletes it: pass --yes (or pause it: `{pause_command} {slug}`)", 2)
    try:
        removed = remove_schedule(slug)
    except ScheduleError as error:
        fail(str(error))
    typer.secho(f"removed schedule {slug} ({removed.definition.spec.describe()})", fg="green")


def _one_of(slug: str | None, deployment: str | None) -> None:
    if (slug is None) == (deployment is None):
        fail("give a schedule's slug, or --deployment FLOW/NAME", 2)
